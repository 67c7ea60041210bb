package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// decodeFrame decodes a client frame into f. The frames a chat sends all the
// time (message.send, read, typing, chat.start, and hello with its resume)
// are objects of plain strings, small whole numbers and at most the resume
// object; those are read directly, with no reflection and no allocation but
// the strings. Anything else — an escape, a null, a fraction, a key spelt
// differently (encoding/json matches keys case-insensitively), a field this
// reader does not know — goes to encoding/json, so the result is always
// exactly what strictUnmarshal gives (FuzzDecodeFrame checks it). A field
// that no frame has is refused, never ignored: a client that misspells
// "token" must hear so, not become an anonymous visitor.
func decodeFrame(data []byte, f *inFrame) error {
	if decodeFlatFrame(data, f) {
		return nil
	}
	*f = inFrame{}
	return strictUnmarshal(data, f)
}

// strictUnmarshal is json.Unmarshal that refuses unknown fields.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("json: data after the frame's object")
	}
	return nil
}

// decodeFlatFrame reads a frame of the simple shape decodeFrame describes;
// it reports false, having perhaps written part of f, for anything else.
func decodeFlatFrame(data []byte, f *inFrame) bool {
	i, ok := readObject(data, skipSpace(data, 0), func(key []byte, i int) (int, bool) {
		switch string(key) {
		case "type":
			return readString(data, i, &f.Type)
		case "client_id":
			return readString(data, i, &f.ClientID)
		case "text":
			return readString(data, i, &f.Text)
		case "conversation":
			return readString(data, i, &f.Conversation)
		case "faq":
			return readString(data, i, &f.FAQ)
		case "token":
			f.Token = new(string)
			return readString(data, i, f.Token)
		case "seq":
			f.Seq = new(uint64)
			return readUint(data, i, f.Seq)
		case "resume":
			if f.Resume != nil {
				return 0, false // a repeated object merges into the first: encoding/json's rule
			}
			f.Resume = new(resumeRef)
			return readObject(data, i, func(key []byte, i int) (int, bool) {
				switch string(key) {
				case "conversation":
					return readString(data, i, &f.Resume.Conversation)
				case "after":
					return readUint(data, i, &f.Resume.After)
				}
				return 0, false
			})
		}
		return 0, false
	})
	return ok && skipSpace(data, i) == len(data)
}

// readObject reads the object at data[i], handing each key to member, which
// reads the value at the index it is given and returns the index after it.
// It returns the index after the object.
func readObject(data []byte, i int, member func(key []byte, i int) (int, bool)) (int, bool) {
	if i >= len(data) || data[i] != '{' {
		return 0, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		key, next, ok := plainString(data, i)
		if !ok {
			return 0, false
		}
		i = skipSpace(data, next)
		if i >= len(data) || data[i] != ':' {
			return 0, false
		}
		if i, ok = member(key, skipSpace(data, i+1)); !ok {
			return 0, false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return 0, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

func readString(data []byte, i int, dst *string) (int, bool) {
	s, next, ok := plainString(data, i)
	if ok {
		*dst = string(s)
	}
	return next, ok
}

// readUint reads a whole number of at most 19 digits, so that it cannot
// overflow; a sign, a fraction, an exponent or a leading zero is left to
// encoding/json.
func readUint(data []byte, i int, dst *uint64) (int, bool) {
	j, n := i, uint64(0)
	for ; j < len(data) && j-i < 20 && '0' <= data[j] && data[j] <= '9'; j++ {
		n = n*10 + uint64(data[j]-'0')
	}
	switch digits := j - i; {
	case digits == 0 || digits > 19, digits > 1 && data[i] == '0':
		return 0, false
	}
	*dst = n
	return j, true
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
