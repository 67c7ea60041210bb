package persist

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parley-chat/parley/engine"
)

// Inbox rows are rewritten with every message, so they are stored in
// protobuf wire format after the byte recordRowV2 (rows written as JSON
// after recordV1 still decode):
//
//	message Row {
//	  string id = 1;
//	  string channel = 2;
//	  string status = 3;
//	  string profile_id = 4;
//	  string profile_name = 5;
//	  string preview = 6;
//	  bool unread = 7;
//	  optional AgentRef assignee = 8;
//	  optional int64 updated_at_unix_nano = 9;
//	  optional int64 waiting_since_unix_nano = 10;  // absent = not waiting
//	  optional int64 snoozed_until_unix_nano = 11;  // absent = not snoozed
//	  uint64 version = 12;
//	  optional int64 alerted_at_unix_nano = 13;     // the last waiting alert of the current wait
//	}
const recordRowV2 = 2

// rowRecord is the earlier JSON form of a row (after recordV1): a TicketRow
// with its Version, which engine keeps out of JSON.
type rowRecord struct {
	engine.TicketRow
	V uint64 `json:"version"`
}

// Field numbers of Row.
const (
	fRowID protowire.Number = iota + 1
	fRowChannel
	fRowStatus
	fRowProfileID
	fRowProfileName
	fRowPreview
	fRowUnread
	fRowAssignee
	fRowUpdatedAt
	fRowWaitingSince
	fRowSnoozedUntil
	fRowVersion
	fRowAlertedAt
)

// appendRow appends the stored form of r to b.
func appendRow(b []byte, r *engine.TicketRow) []byte {
	b = append(b, recordRowV2)
	b = appendString(b, fRowID, r.ID)
	b = appendString(b, fRowChannel, string(r.Channel))
	b = appendString(b, fRowStatus, string(r.Status))
	b = appendString(b, fRowProfileID, r.Profile.ID)
	b = appendString(b, fRowProfileName, r.Profile.Name)
	b = appendString(b, fRowPreview, r.Preview)
	if r.Unread {
		b = appendVarint(b, fRowUnread, 1)
	}
	if r.Assignee != nil {
		b = appendPair(b, fRowAssignee, r.Assignee.ID, r.Assignee.Name)
	}
	b = appendTime(b, fRowUpdatedAt, r.UpdatedAt)
	b = appendTimePtr(b, fRowWaitingSince, r.WaitingSince)
	b = appendTimePtr(b, fRowSnoozedUntil, r.SnoozedUntil)
	b = appendTimePtr(b, fRowAlertedAt, r.AlertedAt)
	return appendVarint(b, fRowVersion, r.Version)
}

// appendTimePtr writes a present time even when it is the zero instant of
// Unix time: presence is the meaning.
func appendTimePtr(b []byte, n protowire.Number, t *time.Time) []byte {
	if t == nil {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(t.UnixNano()))
}

// decodeRow parses a stored inbox row of either format.
func decodeRow(b []byte) (engine.TicketRow, error) {
	if len(b) > 0 && b[0] == recordV1 {
		var rec rowRecord
		if err := decodeRecord(b, &rec); err != nil {
			return engine.TicketRow{}, err
		}
		rec.TicketRow.Version = rec.V
		return rec.TicketRow, nil
	}
	if len(b) == 0 || b[0] != recordRowV2 {
		return engine.TicketRow{}, fmt.Errorf("%w: unknown row format", errCorrupt)
	}
	var row engine.TicketRow
	r := reader{b: b[1:]}
	for {
		num, ok := r.next()
		if !ok {
			break
		}
		switch num {
		case fRowID:
			row.ID = r.str()
		case fRowChannel:
			row.Channel = engine.Channel(r.str())
		case fRowStatus:
			row.Status = engine.TicketStatus(r.str())
		case fRowProfileID:
			row.Profile.ID = r.str()
		case fRowProfileName:
			row.Profile.Name = r.str()
		case fRowPreview:
			row.Preview = r.str()
		case fRowUnread:
			row.Unread = r.varint() != 0
		case fRowAssignee:
			id, name := r.pair()
			row.Assignee = &engine.AgentRef{ID: id, Name: name}
		case fRowUpdatedAt:
			row.UpdatedAt = r.time()
		case fRowWaitingSince:
			t := r.time()
			row.WaitingSince = &t
		case fRowSnoozedUntil:
			t := r.time()
			row.SnoozedUntil = &t
		case fRowVersion:
			row.Version = r.varint()
		case fRowAlertedAt:
			t := r.time()
			row.AlertedAt = &t
		default:
			r.skip(num)
		}
	}
	if r.err != nil {
		return engine.TicketRow{}, r.err
	}
	return row, nil
}
