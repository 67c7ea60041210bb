package engine

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a macro. Its body is sent as a message, so it holds no more than
// a message does.
const (
	MaxMacroNameRunes = MaxNameRunes
	MaxMacroBodyRunes = MaxTextRunes
)

// Macro is a saved reply an agent sends to a customer in one step (H5, C5):
// a name to pick it by and a body with placeholders, which are filled in for
// the ticket it answers (FillPlaceholders).
type Macro struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a macro as written by an admin, naming the field at fault.
// A body whose placeholders are not all known and well formed is refused
// here, at save, so that no agent finds out in front of a customer.
func (m Macro) Validate() error {
	switch {
	case !utf8.ValidString(m.Name):
		return Invalid("name", "is not valid UTF-8")
	case strings.TrimSpace(m.Name) == "":
		return Invalid("name", "is required")
	case utf8.RuneCountInString(m.Name) > MaxMacroNameRunes:
		return Invalid("name", "is longer than %d characters", MaxMacroNameRunes)
	case !utf8.ValidString(m.Body):
		return Invalid("body", "is not valid UTF-8")
	case strings.TrimSpace(m.Body) == "":
		return Invalid("body", "is required")
	case utf8.RuneCountInString(m.Body) > MaxMacroBodyRunes:
		return Invalid("body", "is longer than %d characters", MaxMacroBodyRunes)
	}
	return CheckPlaceholders("body", m.Body)
}

// SortMacros orders macros as agents pick them: by name without regard to
// case, then by name, then by id, so that the order is the same every time.
func SortMacros(macros []Macro) {
	sort.SliceStable(macros, func(i, j int) bool {
		a, b := macros[i], macros[j]
		if la, lb := strings.ToLower(a.Name), strings.ToLower(b.Name); la != lb {
			return la < lb
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
}
