package engine

import (
	"crypto/rand"
	"encoding/binary"
	"hash/fnv"
	"time"
	"unicode/utf8"
)

// crockford is the alphabet of ids: sortable, no ambiguous letters.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a random 128-bit id that sorts by creation time: 48 bits of
// Unix milliseconds then 80 random bits, as 26 lower-case Crockford base-32
// characters. Ids are never node-local counters, so they stay unique when
// Parley runs on more than one node.
func NewID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	_, _ = rand.Read(b[6:]) // crypto/rand never fails on supported platforms
	return encode(b)
}

func encode(b [16]byte) string {
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	// 128 bits into 26 five-bit groups: the first group holds the top 3 bits.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s looks like an id Parley generated or accepts:
// 1 to 64 characters of [0-9A-Za-z_-]. Ids end up in storage keys, logs and
// URLs, so anything else is refused at the edge.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Partition maps an id to one of n partitions. Every placement decision (a
// cluster node, a lock shard) goes through this one function.
func Partition(id string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

// MaxProfileIDBytes bounds a profile id.
const MaxProfileIDBytes = 128

// ValidProfileID reports whether s can be a profile id: the store's own id
// of its customer, opaque to Parley (PROTOCOL conventions), so any UTF-8 text
// of 1 to MaxProfileIDBytes bytes without control characters or line
// separators ("cust_42", "ada@example.com", "gid://shopify/Customer/7").
// Storage keys length-prefix every id, and URLs escape it, so no character
// of an id can reach into another's.
func ValidProfileID(s string) bool {
	if len(s) == 0 || len(s) > MaxProfileIDBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r <= 0x9f || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
