package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func str(s string) *string { return &s }

func TestProfileUpdateNormalize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		u     ProfileUpdate
		field string // "" when valid
		want  ProfileUpdate
	}{
		{"nothing", ProfileUpdate{}, "", ProfileUpdate{}},
		{"trimmed", ProfileUpdate{Name: str("  Ada Lovelace "), Email: str(" ada@example.com ")}, "",
			ProfileUpdate{Name: str("Ada Lovelace"), Email: str("ada@example.com")}},
		{"cleared", ProfileUpdate{Name: str(""), Email: str(""), Phone: str("")}, "",
			ProfileUpdate{Name: str(""), Email: str(""), Phone: str("")}},
		{"name of 200", ProfileUpdate{Name: str(strings.Repeat("å", 200))}, "", ProfileUpdate{Name: str(strings.Repeat("å", 200))}},
		{"name of 201", ProfileUpdate{Name: str(strings.Repeat("å", 201))}, "name", ProfileUpdate{}},
		{"name with a newline", ProfileUpdate{Name: str("Ada\nLovelace")}, "name", ProfileUpdate{}},
		{"name with a line separator", ProfileUpdate{Name: str("Ada\u2028Lovelace")}, "name", ProfileUpdate{}},
		{"phone with spaces", ProfileUpdate{Phone: str("+46 70 123 45 67")}, "", ProfileUpdate{Phone: str("+46701234567")}},
		{"phone with dashes and parentheses", ProfileUpdate{Phone: str("+1 (415) 555-0100")}, "", ProfileUpdate{Phone: str("+14155550100")}},
		{"phone without plus", ProfileUpdate{Phone: str("0701234567")}, "phone", ProfileUpdate{}},
		{"phone with 00", ProfileUpdate{Phone: str("0046701234567")}, "phone", ProfileUpdate{}},
		{"phone with letters", ProfileUpdate{Phone: str("+46 70 CALL ME")}, "phone", ProfileUpdate{}},
		{"phone with dots", ProfileUpdate{Phone: str("+46.70.123.45.67")}, "phone", ProfileUpdate{}},
		{"phone too long", ProfileUpdate{Phone: str("+1234567890123456")}, "phone", ProfileUpdate{}},
		{"phone too short", ProfileUpdate{Phone: str("+123456")}, "phone", ProfileUpdate{}},
		{"phone with a zero country code", ProfileUpdate{Phone: str("+0701234567")}, "phone", ProfileUpdate{}},
		{"phone only a plus", ProfileUpdate{Phone: str("+")}, "phone", ProfileUpdate{}},
		{"email with a display name", ProfileUpdate{Email: str("Ada <ada@example.com>")}, "email", ProfileUpdate{}},
		{"email without a domain dot", ProfileUpdate{Email: str("ada@localhost")}, "email", ProfileUpdate{}},
		{"email without at", ProfileUpdate{Email: str("ada.example.com")}, "email", ProfileUpdate{}},
		{"email with two ats", ProfileUpdate{Email: str("ada@x@example.com")}, "email", ProfileUpdate{}},
		{"email too long", ProfileUpdate{Email: str(strings.Repeat("a", 250) + "@x.se")}, "email", ProfileUpdate{}},
		{"email plus tag", ProfileUpdate{Email: str("ada+shop@mail.example.com")}, "", ProfileUpdate{Email: str("ada+shop@mail.example.com")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.u.Normalize()
			if tc.field != "" {
				if e, ok := err.(*Error); !ok || e.Code != CodeInvalid || e.Field != tc.field {
					t.Fatalf("Normalize = %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct{ got, want *string }{{got.Name, tc.want.Name}, {got.Email, tc.want.Email}, {got.Phone, tc.want.Phone}} {
				if (f.got == nil) != (f.want == nil) || f.got != nil && *f.got != *f.want {
					t.Errorf("Normalize = %s, want %s", toJSON(got), toJSON(tc.want))
				}
			}
		})
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestProfileClaimNeverReplacesTheStore(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := Visitor{ProfileID: "p1", Name: "Token Name", Email: "token@example.com"}
	for _, tc := range []struct {
		name      string
		p         Profile
		v         Visitor
		wantName  string
		wantEmail string
		changed   bool
	}{
		{"a new profile takes both", Profile{ID: "p1"}, tok, "Token Name", "token@example.com", true},
		{"the store's values stay", Profile{ID: "p1", Name: "Store", NameFrom: FromStore, Email: "s@example.com", EmailFrom: FromStore},
			tok, "Store", "s@example.com", false},
		{"only the field the store left empty", Profile{ID: "p1", Name: "Store", NameFrom: FromStore}, tok, "Store", "token@example.com", true},
		{"a newer token replaces an older one", Profile{ID: "p1", Name: "Old", NameFrom: FromToken, Email: "old@example.com", EmailFrom: FromToken},
			tok, "Token Name", "token@example.com", true},
		{"an empty claim changes nothing", Profile{ID: "p1", Name: "Old", NameFrom: FromToken}, Visitor{ProfileID: "p1"}, "Old", "", false},
		{"an invalid e-mail claim is left out", Profile{ID: "p1"}, Visitor{ProfileID: "p1", Name: "N", Email: "not-an-address"}, "N", "", true},
		{"a name with control characters is left out", Profile{ID: "p1"}, Visitor{ProfileID: "p1", Name: "a\x00b"}, "", "", false},
		{"the same claim again changes nothing", Profile{ID: "p1", Name: "Token Name", NameFrom: FromToken, Email: "token@example.com", EmailFrom: FromToken},
			tok, "Token Name", "token@example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := tc.p.Claim(tc.v, t0)
			if got.Name != tc.wantName || got.Email != tc.wantEmail || changed != tc.changed {
				t.Fatalf("Claim = %+v, %v; want name %q, email %q, changed %v", got, changed, tc.wantName, tc.wantEmail, tc.changed)
			}
			if changed != got.UpdatedAt.Equal(t0) {
				t.Errorf("UpdatedAt %v with changed %v", got.UpdatedAt, changed)
			}
		})
	}
}

func TestProfileApplyMarksTheStoresFields(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := Profile{ID: "p1", Name: "Token Name", NameFrom: FromToken, Email: "t@example.com", EmailFrom: FromToken}
	next, changed := p.Apply(ProfileUpdate{Name: str("Token Name")}, t0)
	if !changed || next.NameFrom != FromStore || next.EmailFrom != FromToken || next.Email != "t@example.com" {
		t.Fatalf("Apply = %+v, %v", next, changed)
	}
	if again, changed := next.Apply(ProfileUpdate{Name: str("Token Name")}, t0.Add(time.Hour)); changed || !again.UpdatedAt.Equal(t0) {
		t.Fatalf("the same update again: %+v, %v", again, changed)
	}
	if after, _ := next.Claim(Visitor{ProfileID: "p1", Name: "Someone Else"}, t0); after.Name != "Token Name" {
		t.Fatalf("a claim replaced the store's name: %+v", after)
	}
}

func TestProfileEventNormalize(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	nested := func(n int) map[string]any {
		var v any = "leaf"
		for i := 0; i < n-1; i++ {
			v = []any{v}
		}
		return map[string]any{"k": v}
	}
	many := map[string]any{}
	for i := 0; i <= MaxPropertyKeys; i++ {
		many["k"+strings.Repeat("x", i)] = i
	}
	ok := ProfileEvent{ID: "e1", Name: "Placed Order", At: now}
	for _, tc := range []struct {
		name  string
		edit  func(e *ProfileEvent)
		field string
	}{
		{"valid", func(*ProfileEvent) {}, ""},
		{"name required", func(e *ProfileEvent) { e.Name = "  " }, "name"},
		{"name too long", func(e *ProfileEvent) { e.Name = strings.Repeat("x", 201) }, "name"},
		{"id with a control character", func(e *ProfileEvent) { e.ID = "e\x01" }, "id"},
		{"id too long", func(e *ProfileEvent) { e.ID = strings.Repeat("e", 129) }, "id"},
		{"a day ahead", func(e *ProfileEvent) { e.At = now.Add(24 * time.Hour) }, ""},
		{"more than a day ahead", func(e *ProfileEvent) { e.At = now.Add(24*time.Hour + time.Second) }, "at"},
		{"before 1970", func(e *ProfileEvent) { e.At = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }, "at"},
		{"nested 5 deep", func(e *ProfileEvent) { e.Properties = nested(5) }, ""},
		{"nested 6 deep", func(e *ProfileEvent) { e.Properties = nested(6) }, "properties"},
		{"too many keys", func(e *ProfileEvent) { e.Properties = many }, "properties"},
		{"an empty key", func(e *ProfileEvent) { e.Properties = map[string]any{"": 1} }, "properties"},
		{"too large", func(e *ProfileEvent) { e.Properties = map[string]any{"note": strings.Repeat("x", MaxPropertiesBytes)} }, "properties"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ok
			tc.edit(&e)
			_, err := e.Normalize(now)
			if tc.field == "" && err != nil {
				t.Fatalf("Normalize = %v", err)
			}
			if tc.field != "" {
				if e, ok := err.(*Error); !ok || e.Field != tc.field {
					t.Fatalf("Normalize = %v, want invalid %s", err, tc.field)
				}
			}
		})
	}
}

func TestDepthStopsCounting(t *testing.T) {
	var v any = 1
	for i := 0; i < 10000; i++ {
		v = []any{v}
	}
	if d := depth(v, MaxPropertyDepth); d != MaxPropertyDepth+1 {
		t.Fatalf("depth = %d, want %d", d, MaxPropertyDepth+1)
	}
	if d := depth(map[string]any{"a": []any{1, map[string]any{}}, "b": 2}, MaxPropertyDepth); d != 3 {
		t.Fatalf("depth = %d, want 3", d)
	}
}
