package persist

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/parley-chat/parley/engine"
)

// ConflictError is an append whose first seq is not the stream's next seq: a
// gap or a fork. Nothing of the commit was written.
type ConflictError struct {
	Stream    string // "c/<id>" or "t/<id>"
	Want, Got uint64 // Want = stored last+1, Got = the seq offered
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("persist: conflict on %s: want seq %d, got %d", e.Stream, e.Want, e.Got)
}

// DuplicateError is a message whose (party, client_id) is already stored in
// the conversation. Nothing of the commit was written; Seq is the seq of the
// stored message, so the caller can acknowledge the repeat with it.
type DuplicateError struct {
	Conversation, ClientID string
	Seq                    uint64
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("persist: duplicate client_id %q in %s (seq %d)", e.ClientID, e.Conversation, e.Seq)
}

// Commit is one atomic, durable write for one conversation id (a conversation
// and its ticket share the id). No commit spans two conversations.
type Commit struct {
	Conversation string
	// Events have consecutive seqs; Events[0].Seq must be the stored last
	// seq + 1 (1 for a new stream), else *ConflictError.
	Events []engine.Event
	// TicketEvents follow the same rule on the ticket stream.
	TicketEvents []engine.TicketEvent
	// Row, when non-nil, replaces the conversation's inbox row. A closed row
	// moves the ticket from the active rows to the closed ones (rows.go).
	Row *engine.TicketRow
	// Open, when non-nil, sets or clears a profile's open conversation.
	Open *OpenPointer
	// Snapshot, when non-nil, replaces the conversation's snapshot. It must
	// not be ahead of the streams as they stand after this commit.
	Snapshot *Snapshot
	// Outbox holds the calls to other systems that the commit's events owe
	// (outbox.go): stored with them, delivered after.
	Outbox []OutboxEntry
}

// OpenPointer points a profile's channel at its open conversation.
// Conversation is Commit.Conversation to set the pointer, or "" to clear it;
// a clear is skipped when the pointer has meanwhile moved to another
// conversation.
type OpenPointer struct {
	ProfileID    string
	Channel      engine.Channel
	Conversation string
}

// Snapshot is the state of a conversation and its ticket after
// Conversation.LastSeq and Ticket.LastSeq.
type Snapshot struct {
	Conversation engine.Conversation
	Ticket       engine.Ticket
}

// Append writes c atomically and returns nil only once it is fsync'd.
//
// The seq checks and the idempotency checks run under the stream's lock
// together with handing the batch to Pebble's commit pipeline; the wait for
// the fsync happens outside the lock, so appends to many streams share one
// fsync (group commit) and one stream can queue its next commit before the
// last one is on disk. ctx is honoured until the batch is handed to Pebble;
// after that Append waits for the fsync whatever ctx says, so that its answer
// is never ambiguous.
func (s *Store) Append(ctx context.Context, c Commit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := c.validate(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	if err := c.write(b); err != nil {
		b.Close()
		return err
	}
	conv, err := s.checkAndApply(ctx, b, &c)
	if err != nil {
		b.Close()
		return err
	}
	err = b.SyncWait()
	b.Close()
	if conv != nil {
		conv.synced(c.Events[len(c.Events)-1].Seq, err == nil)
	}
	if err != nil {
		return fmt.Errorf("persist: sync %s: %w", c.Conversation, err)
	}
	return nil
}

// validate refuses commits that are malformed whatever is stored.
func (c *Commit) validate() error {
	if c.Conversation == "" {
		return errors.New("persist: commit without conversation id")
	}
	conv := streamID{kindConv, c.Conversation}
	for i := 1; i < len(c.Events); i++ {
		if want := c.Events[0].Seq + uint64(i); c.Events[i].Seq != want {
			return &ConflictError{Stream: conv.String(), Want: want, Got: c.Events[i].Seq}
		}
	}
	tick := streamID{kindTicket, c.Conversation}
	for i := 1; i < len(c.TicketEvents); i++ {
		if want := c.TicketEvents[0].Seq + uint64(i); c.TicketEvents[i].Seq != want {
			return &ConflictError{Stream: tick.String(), Want: want, Got: c.TicketEvents[i].Seq}
		}
	}
	if c.Row != nil && c.Row.ID != c.Conversation {
		return fmt.Errorf("persist: row %q in commit of %q", c.Row.ID, c.Conversation)
	}
	if p := c.Open; p != nil && (p.ProfileID == "" || p.Conversation != "" && p.Conversation != c.Conversation) {
		return fmt.Errorf("persist: open pointer %+v in commit of %q", *p, c.Conversation)
	}
	if sn := c.Snapshot; sn != nil && sn.Conversation.ID != c.Conversation {
		return fmt.Errorf("persist: snapshot of %q in commit of %q", sn.Conversation.ID, c.Conversation)
	}
	return nil
}

// write puts everything of c that needs no stored state into b. Keys and
// values are built in two scratch buffers: the batch copies what it is given.
func (c *Commit) write(b *pebble.Batch) error {
	buf := make([]byte, 0, 512)
	kb := make([]byte, 0, 128)
	if len(c.Events) > 0 {
		kb = appendStreamPrefix(kb[:0], convPrefix, c.Conversation)
		prefix := len(kb)
		for i := range c.Events {
			e := &c.Events[i]
			buf = appendEvent(buf[:0], e)
			if err := b.Set(seqKey(kb[:prefix], e.Seq), buf, nil); err != nil {
				return err
			}
			if e.Kind == engine.KindMessage && e.ClientID != "" {
				k := appendCIDKey(kb[prefix:prefix], c.Conversation, e.From, e.ClientID)
				if err := b.Set(k, seqKey(buf[:0], e.Seq), nil); err != nil {
					return err
				}
			}
		}
	}
	if len(c.TicketEvents) > 0 {
		kb = appendStreamPrefix(kb[:0], ticketPrefix, c.Conversation)
		prefix := len(kb)
		for i := range c.TicketEvents {
			buf = appendTicketEvent(buf[:0], &c.TicketEvents[i])
			if err := b.Set(seqKey(kb[:prefix], c.TicketEvents[i].Seq), buf, nil); err != nil {
				return err
			}
		}
	}
	if c.Row != nil && c.Row.Status != engine.StatusClosed { // a closed row needs stored state: closeRowLocked
		buf = appendRow(buf[:0], c.Row)
		if err := b.Set(appendKey(kb[:0], activePrefix, c.Conversation), buf, nil); err != nil {
			return err
		}
	}
	if c.Snapshot != nil {
		if err := setRecord(b, snapKey(c.Conversation), c.Snapshot); err != nil {
			return err
		}
	}
	return writeOutbox(b, c.Outbox)
}

func setRecord(b *pebble.Batch, k []byte, v any) error {
	val, err := encodeRecord(v)
	if err != nil {
		return err
	}
	return b.Set(k, val, nil)
}

// checkAndApply runs the checks that depend on stored state and hands b to
// Pebble, all under the stream's lock (and the profile's, for a pointer).
// When c has conversation events, it returns the conversation's stream with
// this append counted pending: the caller reports its fsync with synced.
func (s *Store) checkAndApply(ctx context.Context, b *pebble.Batch, c *Commit) (*streamState, error) {
	shard := partition(c.Conversation)
	sh := &s.streams[shard]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err // gave up while queued behind other appends
	}
	// The ticket's stream first: reading one stream in may evict another,
	// and the conversation's must stay cached once counted pending.
	tick, err := s.streamLocked(sh, streamID{kindTicket, c.Conversation})
	if err != nil {
		return nil, err
	}
	conv, err := s.streamLocked(sh, streamID{kindConv, c.Conversation})
	if err != nil {
		return nil, err
	}
	convLast, err := conv.next(len(c.Events), func(i int) uint64 { return c.Events[i].Seq })
	if err != nil {
		return nil, err
	}
	tickLast, err := tick.next(len(c.TicketEvents), func(i int) uint64 { return c.TicketEvents[i].Seq })
	if err != nil {
		return nil, err
	}
	added, err := s.checkDuplicates(conv, c)
	if err != nil {
		return nil, err
	}
	if sn := c.Snapshot; sn != nil && (sn.Conversation.LastSeq > convLast || sn.Ticket.LastSeq > tickLast) {
		return nil, fmt.Errorf("persist: snapshot of %s at %d/%d is ahead of the log (%d/%d)",
			c.Conversation, sn.Conversation.LastSeq, sn.Ticket.LastSeq, convLast, tickLast)
	}
	closing, err := s.closeRowLocked(b, shard, c.Row)
	if err != nil {
		return nil, err
	}
	if c.Open != nil {
		pm := &s.profiles[partition(c.Open.ProfileID)]
		pm.Lock()
		defer pm.Unlock()
		if err := s.writePointer(b, c); err != nil {
			return nil, err
		}
	}
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		return nil, fmt.Errorf("persist: write %s: %w", c.Conversation, err)
	}
	conv.last, tick.last = convLast, tickLast
	for _, h := range added {
		conv.cids.add(h)
	}
	if closing {
		sh.closed++
		s.closedCount.Add(1)
	}
	if len(c.Events) == 0 {
		return nil, nil
	}
	conv.pending.Add(1)
	return conv, nil
}

// closeRowLocked adds to b the move of a closed row into the closed views
// and, when it closes the ticket for the first time, the shard's new count
// of closed tickets. It does nothing for another row. The caller holds the
// lock of the shard and adds one to its count once b is applied.
func (s *Store) closeRowLocked(b *pebble.Batch, shard int, r *engine.TicketRow) (first bool, err error) {
	if r == nil || r.Status != engine.StatusClosed {
		return false, nil
	}
	if first, err = s.closeRow(b, r); err != nil || !first {
		return false, err
	}
	n := binary.BigEndian.AppendUint64(nil, s.streams[shard].closed+1)
	return true, b.Set(countKey(shard), n, nil)
}

// checkDuplicates refuses a commit carrying a message whose client id is
// stored already, or repeated within the commit. It returns the hashes of the
// commit's client ids, to remember once the commit is applied.
func (s *Store) checkDuplicates(conv *streamState, c *Commit) ([]uint64, error) {
	var added []uint64
	var from []int // index in c.Events of each added hash
	for i := range c.Events {
		e := &c.Events[i]
		if e.Kind != engine.KindMessage || e.ClientID == "" {
			continue
		}
		if err := s.loadClientIDs(conv); err != nil {
			return nil, err
		}
		k := cidKey(c.Conversation, e.From, e.ClientID)
		h := s.cidHash(k, len(conv.cidPrefix))
		for j, prev := range added {
			if p := &c.Events[from[j]]; prev == h && p.From == e.From && p.ClientID == e.ClientID {
				return nil, &DuplicateError{Conversation: c.Conversation, ClientID: e.ClientID, Seq: p.Seq}
			}
		}
		added, from = append(added, h), append(from, i)
		if !conv.cids.mayContain(h) {
			continue // the filter is exact for absence: no read needed
		}
		v, found, err := s.get(k)
		if err != nil {
			return nil, err
		}
		if found {
			seq, _ := beUint64(v)
			return nil, &DuplicateError{Conversation: c.Conversation, ClientID: e.ClientID, Seq: seq}
		}
	}
	return added, nil
}

// writePointer adds the open-pointer change to b; the caller holds the
// profile's lock so that a clear cannot race a set by another conversation.
func (s *Store) writePointer(b *pebble.Batch, c *Commit) error {
	k := openKey(c.Open.ProfileID, c.Open.Channel)
	if c.Open.Conversation != "" {
		return b.Set(k, []byte(c.Open.Conversation), nil)
	}
	cur, found, err := s.get(k)
	if err != nil || !found || string(cur) != c.Conversation {
		return err
	}
	return b.Delete(k, nil)
}
