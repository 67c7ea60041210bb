package transport

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeFrame decodes a client frame into f. The frames a chat sends all the
// time (message.send, read, typing, chat.start) are flat objects of plain
// strings; those are read directly, with no reflection and no allocation but
// the strings. Anything else — an escape, a number, a nested object, a key
// spelt differently (encoding/json matches keys case-insensitively), a
// field this reader does not know — goes to encoding/json, so the result is
// always exactly what json.Unmarshal gives (FuzzDecodeFrame checks it).
func decodeFrame(data []byte, f *inFrame) error {
	if decodeFlatFrame(data, f) {
		return nil
	}
	*f = inFrame{}
	return json.Unmarshal(data, f)
}

// decodeFlatFrame reads {"key":"value",...} with keys among type,
// client_id, text, conversation and faq and values without escapes; it
// reports false, having perhaps written part of f, for anything else.
func decodeFlatFrame(data []byte, f *inFrame) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		key, next, ok := plainString(data, i)
		if !ok {
			return false
		}
		i = skipSpace(data, next)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		val, next, ok := plainString(data, skipSpace(data, i+1))
		if !ok {
			return false
		}
		switch string(key) {
		case "type":
			f.Type = string(val)
		case "client_id":
			f.ClientID = string(val)
		case "text":
			f.Text = string(val)
		case "conversation":
			f.Conversation = string(val)
		case "faq":
			f.FAQ = string(val)
		default:
			return false
		}
		i = skipSpace(data, next)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// plainString reads a JSON string at data[i] that has no escape and no
// control character, and returns its contents and the index after it.
func plainString(data []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			s = data[i+1 : j]
			// encoding/json replaces invalid UTF-8 with U+FFFD: leave those to it.
			return s, j + 1, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
