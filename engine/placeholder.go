package engine

import (
	"strings"
	"unicode/utf8"
)

// The placeholders a macro may hold, written {{first_name}} or, with spaces
// inside the braces, {{ first_name }}.
const (
	PlaceholderFirstName = "first_name" // the first word of the customer's name
	PlaceholderLastName  = "last_name"  // the customer's name after its first word
	PlaceholderName      = "name"       // the customer's whole name
	PlaceholderEmail     = "email"      // the customer's e-mail address
	PlaceholderAgentName = "agent_name" // the name of the agent who replies
	PlaceholderTicketID  = "ticket_id"  // the id of the ticket replied to
)

// placeholders lists every placeholder, in the order error messages name them.
var placeholders = []string{
	PlaceholderFirstName, PlaceholderLastName, PlaceholderName,
	PlaceholderEmail, PlaceholderAgentName, PlaceholderTicketID,
}

// knownList is the placeholders as error messages list them.
var knownList = func() string {
	out := make([]string, len(placeholders))
	for i, p := range placeholders {
		out[i] = "{{" + p + "}}"
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}()

// maxPlaceholderBytes bounds what the parser reads between {{ and }}: no
// known name with its spaces is near it, and an error message quoting a
// broken placeholder stays short.
const maxPlaceholderBytes = 64

// MacroValues is what the placeholders of a reply are filled with: the
// ticket's customer, the agent replying and the ticket.
type MacroValues struct {
	Name      string // the customer's whole name, as the profile has it
	Email     string
	AgentName string
	TicketID  string
}

// Value returns what placeholder p stands for; "" when it has no value, or
// when p is not a placeholder. {{first_name}} is the first word of the name
// and {{last_name}} the words after it, so that a one-word name ("Ada") has
// a first name and no last name.
func (v MacroValues) Value(p string) string {
	switch p {
	case PlaceholderFirstName, PlaceholderLastName:
		words := strings.Fields(v.Name)
		if len(words) == 0 {
			return ""
		}
		if p == PlaceholderFirstName {
			return words[0]
		}
		return strings.Join(words[1:], " ")
	case PlaceholderName:
		return strings.TrimSpace(v.Name)
	case PlaceholderEmail:
		return strings.TrimSpace(v.Email)
	case PlaceholderAgentName:
		return strings.TrimSpace(v.AgentName)
	case PlaceholderTicketID:
		return v.TicketID
	}
	return ""
}

// CheckPlaceholders checks that every placeholder of text is known and well
// formed; an error names field and quotes the first placeholder at fault. A
// text may hold {{ only as the start of a placeholder.
func CheckPlaceholders(field, text string) error {
	return scanPlaceholders(field, text, func(_, _, _ string) {})
}

// FillPlaceholders returns text with each placeholder replaced by its value
// in v. Values are put in as they are and never read as placeholders
// themselves: a customer named "{{email}}" is greeted by that name.
//
// A placeholder with no value (a profile without a name or e-mail, a
// one-word name's {{last_name}}) refuses the whole text, naming field and
// every such placeholder, instead of leaving a gap or putting in a stand-in
// word. A message cannot be taken back once the customer has it, and no
// stand-in fits every sentence an admin may write ("Hi there," reads well,
// "Dear Mr there" and "we wrote to there" do not), whereas a refusal costs
// the agent one edit, and the agent is the one who knows what to write.
func FillPlaceholders(field, text string, v MacroValues) (string, error) {
	var b strings.Builder
	var missing []string
	err := scanPlaceholders(field, text, func(literal, _, p string) {
		b.WriteString(literal)
		if p == "" {
			return
		}
		val := v.Value(p)
		if val == "" {
			missing = appendOnce(missing, "{{"+p+"}}")
		}
		b.WriteString(val)
	})
	switch {
	case err != nil:
		return "", err
	case len(missing) == 1:
		return "", Invalid(field, "%s has no value for this ticket; write the reply without it", missing[0])
	case len(missing) > 1:
		return "", Invalid(field, "%s have no value for this ticket; write the reply without them", strings.Join(missing, ", "))
	}
	return b.String(), nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// scanPlaceholders calls fn for each run of literal text and the placeholder
// after it, as written (raw) and by name ("" after the last run), in order:
// the literals and raws together are text. It stops at the first
// placeholder that is unknown or malformed.
func scanPlaceholders(field, text string, fn func(literal, raw, name string)) error {
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			fn(text, "", "")
			return nil
		}
		raw, name, ok := placeholderAt(text[i:])
		if !ok {
			return Invalid(field, "%q is not a well-formed placeholder: each {{ must open one of %s", raw, knownList)
		}
		if !knownPlaceholder(name) {
			return Invalid(field, "%s is not a known placeholder: use %s", raw, knownList)
		}
		fn(text[:i], raw, name)
		text = text[i+len(raw):]
	}
}

// placeholderAt reads the placeholder at the start of s, which starts with
// "{{": raw is its text as written and name what is inside its braces without
// the spaces around it. When ok is false there is none, and raw is the text
// that was read, to quote in an error: a placeholder ends at its first "}}"
// and holds no brace or line break.
func placeholderAt(s string) (raw, name string, ok bool) {
	j := 2
	for j < len(s) && j < 2+maxPlaceholderBytes {
		switch s[j] {
		case '}':
			if strings.HasPrefix(s[j:], "}}") {
				return s[:j+2], strings.TrimSpace(s[2:j]), true
			}
			return s[:j+1], "", false
		case '{', '\n', '\r':
			return clipBytes(s, j+1), "", false
		}
		j++
	}
	return clipBytes(s, j), "", false
}

// clipBytes returns s up to n bytes, without cutting a character in two.
func clipBytes(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func knownPlaceholder(name string) bool {
	for _, p := range placeholders {
		if name == p {
			return true
		}
	}
	return false
}
