package persist

import (
	"encoding/binary"
	"time"

	"github.com/parley-chat/parley/engine"
)

// Key layout. Every variable part (an id, a party, a client id, a channel, a
// hash) is written as a uvarint length followed by its bytes, so one stream's
// prefix can never be a prefix of another stream's keys, whatever bytes an id
// holds: "ab" and "ab/e" are told apart by their lengths, not by a separator
// that callers promise not to use.
//
//	c/<id>/e/<seq:8 BE>                conversation event
//	t/<id>/e/<seq:8 BE>                ticket event
//	s/c/<id>/snap                      snapshot of a conversation and its ticket
//	x/active/<id>                      inbox row of an open or snoozed ticket
//	x/closed/<channel>/<assignee>/<at:8 BE><id>
//	                                   a closed ticket in one of its views (rows.go)
//	x/closedat/<id>                    → at:8 BE of a closed ticket's view keys
//	x/count/closed/<shard:2 BE>        → number of closed tickets of a stream shard:8 BE
//	x/row/<id>                         inbox row, before schema 2 (migrate.go)
//	x/cid/<id>/<party>/<client id>     idempotency key → seq:8 BE
//	x/open/<profile>/<channel>         open conversation id of a profile
//	x/phone/<E.164>                    → id of the profile with this phone number
//	x/smsstop/<E.164>                  a number that texted STOP (SMS opt-out)
//	p/<id>/profile                     profile (without events)
//	p/<id>/ev/<at:8 BE><event id>      profile event; at is unix nanos, sign bit flipped
//	p/<id>/eid/<event id>              → at:8 BE of the profile's event with this id
//	cfg/settings, cfg/faq/<id>, cfg/agent/<id>, cfg/token/<hash> → agent id, cfg/meta/<key>
//	cfg/macro/<id>                     macro
//	cfg/webhook/<id>                   webhook endpoint, with its secret
//	q/e/<key>, q/d/<at:8 BE><key>, q/f/<key>   the outbox (outbox.go)
//	u/<name>/meta, u/<name>/d/<i:4 BE>  uploaded image and its bytes in chunks (upload.go)
//
// A time in a key is Unix nanoseconds with the sign bit flipped, so that keys
// sort like times; an id after it is the key's last part and is written as
// is, without its length, so that keys with the same time sort by id.
const (
	convPrefix     = "c/"
	ticketPrefix   = "t/"
	snapPrefix     = "s/c/"
	activePrefix   = "x/active/"
	closedPrefix   = "x/closed/"
	closedAtPrefix = "x/closedat/"
	countPrefix    = "x/count/closed/"
	oldRowPrefix   = "x/row/"
	cidPrefix      = "x/cid/"
	openPrefix     = "x/open/"
	phonePrefix    = "x/phone/"
	smsStopPrefix  = "x/smsstop/"
	profilePrefix  = "p/"
	settingsKey    = "cfg/settings"
	faqPrefix      = "cfg/faq/"
	macroPrefix    = "cfg/macro/"
	webhookPrefix  = "cfg/webhook/"
	agentPrefix    = "cfg/agent/"
	tokenPrefix    = "cfg/token/"
	metaPrefix     = "cfg/meta/"
	uploadPrefix   = "u/"
)

// part appends one length-prefixed variable part.
func part(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func key(prefix string, parts ...string) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p) + binary.MaxVarintLen64
	}
	return appendKey(make([]byte, 0, n+16), prefix, parts...)
}

// appendKey appends the key of prefix and parts to b.
func appendKey(b []byte, prefix string, parts ...string) []byte {
	b = append(b, prefix...)
	for _, p := range parts {
		b = part(b, p)
	}
	return b
}

// streamPrefix is the prefix of every event key of one stream ("c/" or "t/"),
// with room for the seq that seqKey appends.
func streamPrefix(kind, id string) []byte {
	b := make([]byte, 0, len(kind)+binary.MaxVarintLen64+len(id)+len("/e/")+8)
	return appendStreamPrefix(b, kind, id)
}

func appendStreamPrefix(b []byte, kind, id string) []byte {
	return append(appendKey(b, kind, id), "/e/"...)
}

// seqKey appends the big-endian seq to a stream prefix.
func seqKey(prefix []byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(prefix, seq)
}

func snapKey(id string) []byte { return append(key(snapPrefix, id), "/snap"...) }

func cidKey(id string, from engine.Party, clientID string) []byte {
	return key(cidPrefix, id, string(from), clientID)
}

func appendCIDKey(b []byte, id string, from engine.Party, clientID string) []byte {
	return appendKey(b, cidPrefix, id, string(from), clientID)
}

func openKey(profileID string, ch engine.Channel) []byte {
	return key(openPrefix, profileID, string(ch))
}

func profileKey(id string) []byte { return append(key(profilePrefix, id), "/profile"...) }
func profileEventPrefix(id string) []byte {
	return append(key(profilePrefix, id), "/ev/"...)
}

// profileEventIDKey is the index entry that finds a profile's event by its id.
func profileEventIDKey(profileID, eventID string) []byte {
	return part(append(key(profilePrefix, profileID), "/eid/"...), eventID)
}

func profileEventKey(profileID string, at time.Time, eventID string) []byte {
	b := profileEventPrefix(profileID)
	b = binary.BigEndian.AppendUint64(b, sortableNanos(at))
	return append(b, eventID...)
}

// sortableNanos maps a time to a uint64 that sorts like the time, negative
// Unix times included. The zero time.Time is out of UnixNano's range and sorts
// as the earliest time representable.
func sortableNanos(t time.Time) uint64 {
	return uint64(t.UnixNano()) ^ 1<<63
}

// upperBound returns the smallest key greater than every key with prefix p.
func upperBound(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

func beUint64(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}
