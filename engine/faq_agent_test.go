package engine_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-chat/parley/engine"
)

// wantField checks that err is an invalid-input *engine.Error naming field,
// or nil when field is empty.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.CodeInvalid || e.Field != field {
		t.Fatalf("err = %v, want invalid %q", err, field)
	}
}

func TestFAQValidate(t *testing.T) {
	ok := engine.FAQ{Question: "Where is my order?", Answer: "On its way.", Published: true, Position: 1, Kind: engine.KindFAQ}
	tests := []struct {
		name  string
		edit  func(f *engine.FAQ)
		field string
	}{
		{"valid faq", func(f *engine.FAQ) {}, ""},
		{"valid article", func(f *engine.FAQ) { f.Kind = engine.KindArticle }, ""},
		{"unpublished", func(f *engine.FAQ) { f.Published = false }, ""},
		{"position 0", func(f *engine.FAQ) { f.Position = 0 }, ""},
		{"no question", func(f *engine.FAQ) { f.Question = "  \n" }, "question"},
		{"question 500 runes", func(f *engine.FAQ) { f.Question = strings.Repeat("ö", 500) }, ""},
		{"question too long", func(f *engine.FAQ) { f.Question = strings.Repeat("q", 501) }, "question"},
		{"no answer", func(f *engine.FAQ) { f.Answer = "" }, "answer"},
		{"answer too long", func(f *engine.FAQ) { f.Answer = strings.Repeat("a", 20001) }, "answer"},
		{"no kind", func(f *engine.FAQ) { f.Kind = "" }, "kind"},
		{"unknown kind", func(f *engine.FAQ) { f.Kind = "macro" }, "kind"},
		{"negative position", func(f *engine.FAQ) { f.Position = -1 }, "position"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok
			tt.edit(&f)
			wantField(t, f.Validate(), tt.field)
		})
	}
	for i, f := range engine.SampleFAQs() {
		if err := f.Validate(); err != nil {
			t.Errorf("SampleFAQs()[%d]: %v", i, err)
		}
	}
}

func TestPublishedFAQs(t *testing.T) {
	all := []engine.FAQ{
		{ID: "f5", Question: "Zebra?", Published: true, Position: 2, Kind: engine.KindFAQ},
		{ID: "f1", Question: "Hidden draft", Published: false, Position: 0, Kind: engine.KindFAQ},
		{ID: "a1", Question: "Article for the AI", Published: true, Position: 0, Kind: engine.KindArticle},
		{ID: "f3", Question: "Apple?", Published: true, Position: 2, Kind: engine.KindFAQ},
		{ID: "f2", Question: "First!", Published: true, Position: 1, Kind: engine.KindFAQ},
		{ID: "f4b", Question: "Apple?", Published: true, Position: 2, Kind: engine.KindFAQ},
		{ID: "x", Question: "No kind", Published: true, Position: 0, Kind: ""},
	}
	in := append([]engine.FAQ(nil), all...)
	var ids []string
	for _, f := range engine.PublishedFAQs(in) {
		ids = append(ids, f.ID)
	}
	want := []string{"f2", "f3", "f4b", "f5"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("PublishedFAQs = %v, want %v", ids, want)
	}
	if !reflect.DeepEqual(in, all) {
		t.Errorf("PublishedFAQs reordered its argument")
	}
	if got := engine.PublishedFAQs(nil); len(got) != 0 {
		t.Errorf("PublishedFAQs(nil) = %v", got)
	}
	if got := engine.PublishedFAQs([]engine.FAQ{{ID: "a", Published: true, Kind: engine.KindArticle}}); len(got) != 0 {
		t.Errorf("an article was shown to shoppers: %v", got)
	}
}

func TestAgentValidate(t *testing.T) {
	ok := engine.Agent{Name: "Ana", Email: "ana@example.com", Role: engine.RoleAgent}
	tests := []struct {
		name  string
		edit  func(a *engine.Agent)
		field string
	}{
		{"valid", func(a *engine.Agent) {}, ""},
		{"admin", func(a *engine.Agent) { a.Role = engine.RoleAdmin }, ""},
		{"store", func(a *engine.Agent) { a.Role = engine.RoleStore }, ""},
		{"no email", func(a *engine.Agent) { a.Email = "" }, ""},
		{"no name", func(a *engine.Agent) { a.Name = " " }, "name"},
		{"name at limit", func(a *engine.Agent) { a.Name = strings.Repeat("Å", engine.MaxNameRunes) }, ""},
		{"name too long", func(a *engine.Agent) { a.Name = strings.Repeat("n", engine.MaxNameRunes+1) }, "name"},
		{"bad email", func(a *engine.Agent) { a.Email = "ana" }, "email"},
		{"email with space", func(a *engine.Agent) { a.Email = "ana @example.com" }, "email"},
		{"no role", func(a *engine.Agent) { a.Role = "" }, "role"},
		{"unknown role", func(a *engine.Agent) { a.Role = "root" }, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.edit(&a)
			wantField(t, a.Validate(), tt.field)
		})
	}
	if r := ok.Ref(); r.ID != ok.ID || r.Name != "Ana" {
		t.Errorf("Ref() = %+v", r)
	}
}

func TestRoleCan(t *testing.T) {
	roles := []engine.Role{engine.RoleAdmin, engine.RoleAgent, engine.RoleStore}
	want := map[[2]engine.Role]bool{
		{engine.RoleAdmin, engine.RoleAdmin}: true,
		{engine.RoleAdmin, engine.RoleAgent}: true,
		{engine.RoleAdmin, engine.RoleStore}: true,
		{engine.RoleAgent, engine.RoleAgent}: true,
		{engine.RoleStore, engine.RoleStore}: true,
		// Everything else is refused: an agent is not an admin and cannot
		// write profiles; the store's backend cannot read tickets.
	}
	for _, have := range roles {
		for _, w := range roles {
			if got := have.Can(w); got != want[[2]engine.Role{have, w}] {
				t.Errorf("%s.Can(%s) = %t", have, w, got)
			}
		}
	}
	for _, have := range []engine.Role{"", "root", "Admin"} {
		for _, w := range roles {
			if have.Can(w) {
				t.Errorf("%q.Can(%s) = true", have, w)
			}
		}
	}
}

// TestErrorString checks that an invalid-input error names its field once:
// the string ends up in logs and in error frames.
func TestErrorString(t *testing.T) {
	err := engine.Invalid("webchat.login_mode", "must be %q or %q", "all", "logged_in")
	if err.Field != "webchat.login_mode" || err.Code != engine.CodeInvalid {
		t.Fatalf("Invalid() = %+v", err)
	}
	want := `invalid: webchat.login_mode: must be "all" or "logged_in"`
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := engine.Errorf(engine.CodeConflict, "already %s", "started").Error(); got != "conflict: already started" {
		t.Errorf("Errorf().Error() = %q", got)
	}
	if engine.ErrorCode(nil) != "" || engine.ErrorCode(errors.New("x")) != engine.CodeInternal ||
		engine.ErrorCode(fmt.Errorf("wrapped: %w", engine.ErrClosed)) != engine.CodeClosed {
		t.Errorf("ErrorCode does not classify nil, plain and wrapped errors")
	}
}
