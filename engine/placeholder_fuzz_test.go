package engine

import (
	"errors"
	"strings"
	"testing"
)

// FuzzPlaceholders checks the placeholder parser on arbitrary text. It never
// panics and a refusal is an invalid "body" naming what it refused. An
// accepted text is cut exactly: its literal runs and placeholders, put back
// together, are the text; no literal run holds "{{"; each placeholder is a
// known name between "{{" and "}}" with only spaces around it, and writing
// the placeholders back without those spaces reads the same. Filled with
// every value known, it is never refused and keeps no "{{", and a text
// without "{{" comes back as it was; CheckPlaceholders and FillPlaceholders
// refuse the same texts with the same message.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{
		"Hi {{first_name}}, your order ships today.",
		"{{ name }} <{{email}}> — {{agent_name}} on ticket {{ticket_id}}",
		"{{last_name}}{{first_name}}", "Use {code} or }} alone", "{{order_id}}", "{{first_name}",
		"{{{first_name}}}", "{{", "}}{{", "{{\tname\t}}", "{{ first_name\n}}", "{{é}}", "{{}}", "\xff{{name}}",
		"{{" + strings.Repeat("é", 40) + "}}",
	} {
		f.Add(s)
	}
	full := MacroValues{Name: "Ada King Lovelace", Email: "ada@example.com", AgentName: "Ana", TicketID: "t1"}
	f.Fuzz(func(t *testing.T, text string) {
		var whole, plain strings.Builder
		var names []string
		err := scanPlaceholders("body", text, func(literal, raw, name string) {
			if strings.Contains(literal, "{{") {
				t.Fatalf("%q: literal run %q holds {{", text, literal)
			}
			whole.WriteString(literal + raw)
			plain.WriteString(literal)
			if name != "" {
				if inner := strings.TrimSuffix(strings.TrimPrefix(raw, "{{"), "}}"); strings.TrimSpace(inner) != name || !knownPlaceholder(name) {
					t.Fatalf("%q: placeholder %q read as %q", text, raw, name)
				}
				plain.WriteString("{{" + name + "}}")
				names = append(names, name)
			}
		})
		out, fillErr := FillPlaceholders("body", text, full)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalid || e.Field != "body" {
				t.Fatalf("%q refused with %v: not an invalid body", text, err)
			}
			if fillErr == nil || fillErr.Error() != err.Error() || CheckPlaceholders("body", text).Error() != err.Error() {
				t.Fatalf("%q: scan %v, fill %v, check %v", text, err, fillErr, CheckPlaceholders("body", text))
			}
			return
		}
		if whole.String() != text {
			t.Fatalf("%q cut and put back together is %q", text, whole.String())
		}
		var again []string
		if err := scanPlaceholders("body", plain.String(), func(_, _, name string) {
			if name != "" {
				again = append(again, name)
			}
		}); err != nil || strings.Join(again, ",") != strings.Join(names, ",") {
			t.Fatalf("%q written plainly as %q reads %v, %v; want %v", text, plain.String(), again, err, names)
		}
		if fillErr != nil || strings.Contains(out, "{{") {
			t.Fatalf("%q filled: %q, %v", text, out, fillErr)
		}
		if !strings.Contains(text, "{{") && out != text {
			t.Fatalf("%q without placeholders filled as %q", text, out)
		}
	})
}
