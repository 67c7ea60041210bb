package engine_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-chat/parley/engine"
)

func TestMacroValidate(t *testing.T) {
	ok := engine.Macro{Name: "Shipping", Body: "Hi {{first_name}}, your order ships today."}
	tests := []struct {
		name  string
		edit  func(m *engine.Macro)
		field string
	}{
		{"valid", func(m *engine.Macro) {}, ""},
		{"no placeholder", func(m *engine.Macro) { m.Body = "Thanks for waiting!" }, ""},
		{"every placeholder", func(m *engine.Macro) {
			m.Body = "{{first_name}} {{last_name}} {{name}} {{email}} {{agent_name}} {{ticket_id}}"
		}, ""},
		{"spaces inside the braces", func(m *engine.Macro) { m.Body = "Hi {{ first_name }} and {{\tname\t}}" }, ""},
		{"single braces are text", func(m *engine.Macro) { m.Body = "Use {code} or } or {} or a lone }}" }, ""},
		{"name 200 runes", func(m *engine.Macro) { m.Name = strings.Repeat("ö", 200) }, ""},
		{"body 4000 runes", func(m *engine.Macro) { m.Body = strings.Repeat("ö", 4000) }, ""},
		{"no name", func(m *engine.Macro) { m.Name = " \t" }, "name"},
		{"name too long", func(m *engine.Macro) { m.Name = strings.Repeat("n", 201) }, "name"},
		{"name not UTF-8", func(m *engine.Macro) { m.Name = "\xff" }, "name"},
		{"no body", func(m *engine.Macro) { m.Body = "\n" }, "body"},
		{"body too long", func(m *engine.Macro) { m.Body = strings.Repeat("b", 4001) }, "body"},
		{"body not UTF-8", func(m *engine.Macro) { m.Body = "Hi \xff" }, "body"},
		{"unknown placeholder", func(m *engine.Macro) { m.Body = "Order {{order_id}} ships" }, "body"},
		{"placeholder in capitals", func(m *engine.Macro) { m.Body = "Hi {{First_Name}}" }, "body"},
		{"empty placeholder", func(m *engine.Macro) { m.Body = "Hi {{}}" }, "body"},
		{"not closed", func(m *engine.Macro) { m.Body = "Hi {{first_name}, welcome" }, "body"},
		{"never closed", func(m *engine.Macro) { m.Body = "Hi {{first_name" }, "body"},
		{"broken by a line", func(m *engine.Macro) { m.Body = "Hi {{first_\nname}}" }, "body"},
		{"triple braces", func(m *engine.Macro) { m.Body = "Hi {{{first_name}}}" }, "body"},
		{"dangling opener", func(m *engine.Macro) { m.Body = "Hi {{" }, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			wantField(t, m.Validate(), tt.field)
		})
	}
}

// A refused placeholder is quoted in the message, as the admin wrote it, so
// that it can be found in the body.
func TestPlaceholderErrorsNameThePlaceholder(t *testing.T) {
	for body, want := range map[string]string{
		"Order {{order_id}} ships":          "{{order_id}} is not a known placeholder",
		"Order {{ order_id }} ships":        "{{ order_id }} is not a known placeholder",
		"Hi {{first_name}, welcome":         `"{{first_name}" is not a well-formed placeholder`,
		"Hi {{first_name":                   `"{{first_name" is not a well-formed placeholder`,
		"Hi {{" + strings.Repeat("é", 80):   `"{{` + strings.Repeat("é", 32) + `" is not`,
		"Hi {{first_name}} {{Last_Name}} ?": "{{Last_Name}} is not a known placeholder",
	} {
		err := engine.CheckPlaceholders("body", body)
		var e *engine.Error
		if !errors.As(err, &e) || e.Field != "body" || !strings.Contains(e.Message, want) {
			t.Errorf("CheckPlaceholders(%q) = %v, want a message with %s", body, err, want)
		}
		if e != nil && !strings.Contains(e.Message, "{{first_name}}, {{last_name}}, {{name}}, {{email}}, {{agent_name}} or {{ticket_id}}") {
			t.Errorf("CheckPlaceholders(%q) = %v, want the known placeholders listed", body, err)
		}
	}
}

func TestMacroValues(t *testing.T) {
	v := engine.MacroValues{Name: "  Ada   King Lovelace ", Email: "ada@example.com", AgentName: "Ana", TicketID: "t1"}
	for p, want := range map[string]string{
		"first_name": "Ada", "last_name": "King Lovelace", "name": "Ada   King Lovelace",
		"email": "ada@example.com", "agent_name": "Ana", "ticket_id": "t1", "order_id": "",
	} {
		if got := v.Value(p); got != want {
			t.Errorf("Value(%q) = %q, want %q", p, got, want)
		}
	}
	one := engine.MacroValues{Name: "Ada"}
	if one.Value("first_name") != "Ada" || one.Value("last_name") != "" {
		t.Errorf("a one-word name: first %q last %q", one.Value("first_name"), one.Value("last_name"))
	}
}

func TestFillPlaceholders(t *testing.T) {
	full := engine.MacroValues{Name: "Ada Lovelace", Email: "ada@example.com", AgentName: "Ana", TicketID: "t1"}
	tests := []struct {
		name, text string
		v          engine.MacroValues
		want       string // the filled text; or, with missing, part of the message
		missing    bool
	}{
		{"no placeholder", "Thanks { for } waiting", full, "Thanks { for } waiting", false},
		{"first name", "Hi {{first_name}}!", full, "Hi Ada!", false},
		{"spaces inside", "Hi {{ first_name }}!", full, "Hi Ada!", false},
		{"all of them", "{{name}} ({{email}}): {{last_name}}, {{first_name}}. {{agent_name}} on {{ticket_id}}", full,
			"Ada Lovelace (ada@example.com): Lovelace, Ada. Ana on t1", false},
		{"twice", "{{first_name}}{{first_name}}", full, "AdaAda", false},
		{"values are not read as placeholders", "Hi {{name}}", engine.MacroValues{Name: "{{email}} {{"}, "Hi {{email}} {{", false},
		{"no name", "Hi {{first_name}},", engine.MacroValues{AgentName: "Ana"}, "{{first_name}} has no value", true},
		{"one-word name", "Dear {{first_name}} {{last_name}}", engine.MacroValues{Name: "Ada"}, "{{last_name}} has no value", true},
		{"each missing once", "{{email}} {{name}} {{email}}", engine.MacroValues{}, "{{email}}, {{name}} have no value", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := engine.FillPlaceholders("text", tt.text, tt.v)
			if !tt.missing {
				if err != nil || got != tt.want {
					t.Fatalf("FillPlaceholders = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			wantField(t, err, "text")
			if !strings.Contains(err.Error(), tt.want) || got != "" {
				t.Fatalf("FillPlaceholders = %q, %v; want a refusal with %q", got, err, tt.want)
			}
		})
	}
	if _, err := engine.FillPlaceholders("macro", "Order {{order_id}}", full); err == nil || !strings.Contains(err.Error(), "{{order_id}}") {
		t.Fatalf("filling an unknown placeholder: %v", err)
	}
}

func TestSortMacros(t *testing.T) {
	ms := []engine.Macro{
		{ID: "4", Name: "shipping"}, {ID: "1", Name: "Returns"}, {ID: "3", Name: "Shipping"},
		{ID: "2", Name: "Shipping"}, {ID: "5", Name: "apology"},
	}
	engine.SortMacros(ms)
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	if want := []string{"5", "1", "2", "3", "4"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("SortMacros = %v, want %v", ids, want)
	}
}
