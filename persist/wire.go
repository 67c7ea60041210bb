package persist

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf wire format, written and read by hand with protowire so that
// the package needs no code generation: the primitives that the event codec
// (event_codec.go) and the inbox row codec (row_codec.go) share. Absent
// fields are zero values, as in proto3; times are Unix nanoseconds and decode
// in UTC.

func appendVarint(b []byte, n protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendTime(b []byte, n protowire.Number, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(t.UnixNano()))
}

// appendPair writes a nested message of two string fields (Attachment,
// AgentRef). It is written even when both are empty: presence matters.
func appendPair(b []byte, n protowire.Number, s1, s2 string) []byte {
	size := 0
	if s1 != "" {
		size += protowire.SizeTag(1) + protowire.SizeBytes(len(s1))
	}
	if s2 != "" {
		size += protowire.SizeTag(2) + protowire.SizeBytes(len(s2))
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = appendString(b, 1, s1)
	return appendString(b, 2, s2)
}

// reader walks the fields of one message. The first error sticks; every
// method returns a zero value after it.
type reader struct {
	b   []byte
	err error
	typ protowire.Type
}

// next reads the next tag; false at the end or on error.
func (r *reader) next() (protowire.Number, bool) {
	if r.err != nil || len(r.b) == 0 {
		return 0, false
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		r.err = fmt.Errorf("%w: %v", errCorrupt, protowire.ParseError(n))
		return 0, false
	}
	r.b, r.typ = r.b[n:], typ
	return num, true
}

func (r *reader) want(t protowire.Type) bool {
	if r.err == nil && r.typ != t {
		r.err = fmt.Errorf("%w: wire type %d, want %d", errCorrupt, r.typ, t)
	}
	return r.err == nil
}

func (r *reader) consumed(n int) bool {
	if n < 0 {
		r.err = fmt.Errorf("%w: %v", errCorrupt, protowire.ParseError(n))
		return false
	}
	return true
}

func (r *reader) varint() uint64 {
	if !r.want(protowire.VarintType) {
		return 0
	}
	v, n := protowire.ConsumeVarint(r.b)
	if !r.consumed(n) {
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	if !r.want(protowire.BytesType) {
		return nil
	}
	v, n := protowire.ConsumeBytes(r.b)
	if !r.consumed(n) {
		return nil
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) time() time.Time {
	v := r.varint()
	if r.err != nil {
		return time.Time{}
	}
	return time.Unix(0, int64(v)).UTC()
}

// pair reads a nested message of two string fields.
func (r *reader) pair() (string, string) {
	sub := reader{b: r.bytes()}
	var s1, s2 string
	for {
		num, ok := sub.next()
		if !ok {
			break
		}
		switch num {
		case 1:
			s1 = sub.str()
		case 2:
			s2 = sub.str()
		default:
			sub.skip(num)
		}
	}
	if r.err == nil {
		r.err = sub.err
	}
	return s1, s2
}

func (r *reader) skip(num protowire.Number) {
	n := protowire.ConsumeFieldValue(num, r.typ, r.b)
	if r.consumed(n) {
		r.b = r.b[n:]
	}
}
