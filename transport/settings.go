package transport

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/parley-chat/parley/engine"
)

// mask is what engine.Settings.Masked shows for a secret; a PUT that sends
// it back keeps the stored secret.
const mask = "********"

func (s *Server) getSettings(w http.ResponseWriter, _ *http.Request, _ engine.Agent) {
	writeJSON(w, http.StatusOK, s.admin.Settings().Masked())
}

// putSettings replaces each top-level section the body gives; the others
// stay. Unknown fields at any depth are refused by name, and an invalid
// result changes nothing.
func (s *Server) putSettings(w http.ResponseWriter, r *http.Request, _ engine.Agent) {
	var sections map[string]json.RawMessage
	if err := decode(r, &sections); err != nil {
		s.writeError(w, r, err)
		return
	}
	if sections == nil {
		s.writeError(w, r, engine.Errorf(engine.CodeInvalid, "the body must be a JSON object"))
		return
	}
	cur := s.admin.Settings()
	next, err := applySections(cur, sections)
	if err == nil {
		err = next.Validate()
	}
	if err == nil {
		err = s.admin.PutSettings(r.Context(), next)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.admin.Settings().Masked())
}

// applySections decodes each given section into a fresh value of its type
// and puts it in place of cur's.
func applySections(cur engine.Settings, sections map[string]json.RawMessage) (engine.Settings, error) {
	next := cur
	dst := reflect.ValueOf(&next).Elem()
	fields := jsonFields(dst.Type())
	names := make([]string, 0, len(sections))
	for name := range sections {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		i, ok := fields[name]
		if !ok {
			return cur, engine.Invalid(name, "is not a settings section")
		}
		f := dst.Field(i)
		if err := unknownField(sections[name], f.Type(), name); err != nil {
			return cur, err
		}
		fresh := reflect.New(f.Type())
		dec := json.NewDecoder(bytes.NewReader(sections[name]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(fresh.Interface()); err != nil {
			return cur, jsonError(err, name)
		}
		f.Set(fresh.Elem())
	}
	keepSecrets(&next, cur)
	return next, nil
}

// keepSecrets restores secrets a client sent back masked.
func keepSecrets(next *engine.Settings, cur engine.Settings) {
	if l := next.AI.LLM; l != nil && l.APIKey == mask && cur.AI.LLM != nil {
		l.APIKey = cur.AI.LLM.APIKey
	}
	if z := next.AI.Zendesk; z != nil && z.APIToken == mask && cur.AI.Zendesk != nil {
		z.APIToken = cur.AI.Zendesk.APIToken
	}
	if g := next.AI.Gorgias; g != nil && g.APIKey == mask && cur.AI.Gorgias != nil {
		g.APIKey = cur.AI.Gorgias.APIKey
	}
	if p := &next.Notifications.Email.SMTP.Password; *p == mask {
		*p = cur.Notifications.Email.SMTP.Password
	}
	if p := &next.SMS.AuthToken; *p == mask {
		*p = cur.SMS.AuthToken
	}
}

// jsonFields maps a struct's JSON names to field indexes.
func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = i
	}
	return out
}

// unknownField finds the first object key, at any depth, that t has no
// field for, and names it by its dotted path. Type errors are left to the
// decoder.
func unknownField(raw json.RawMessage, t reflect.Type, at string) error {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return walkUnknown(v, t, at)
}

func walkUnknown(v any, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		switch t.Kind() {
		case reflect.Struct:
			fields := jsonFields(t)
			for _, k := range keys {
				i, ok := fields[k]
				if !ok {
					return engine.Invalid(at+"."+k, "is not a known field")
				}
				if err := walkUnknown(x[k], t.Field(i).Type, at+"."+k); err != nil {
					return err
				}
			}
		case reflect.Map:
			for _, k := range keys {
				if err := walkUnknown(x[k], t.Elem(), at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, e := range x {
				if err := walkUnknown(e, t.Elem(), at); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
