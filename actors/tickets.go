package actors

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

// closedTickets answers a page of closed tickets from storage: one range scan
// of the index that q's filters name, never a pass over the history.
func (s *System) closedTickets(ctx context.Context, q TicketQuery, after *cursor) ([]engine.TicketRow, string, error) {
	if s.closed.Load() {
		return nil, "", errUnavailable
	}
	if ctx.Err() != nil {
		return nil, "", engine.Errorf(engine.CodeUnavailable, "request cancelled")
	}
	if q.Assignee == Unassigned {
		return nil, "", engine.Invalid("assignee", "none lists open and snoozed tickets only")
	}
	pq := persist.ClosedQuery{Channel: q.Channel, Assignee: q.Assignee, Limit: q.Limit + 1}
	if after != nil {
		pq.After = &persist.RowPosition{UnixNano: after.at, ID: after.id}
	}
	rows, err := s.store.ClosedRows(pq)
	if err != nil {
		s.log.Error("closed tickets unreadable", slog.Any("err", err))
		return nil, "", engine.Errorf(engine.CodeInternal, "could not read the closed tickets")
	}
	rows, next := page(rows, q.Limit)
	return rows, next, nil
}

// page cuts rows, which run one past the page when there is a next one, to
// limit, with the cursor of the next page ("" if none).
func page(rows []engine.TicketRow, limit int) ([]engine.TicketRow, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	return rows[:limit], encodeCursor(rows[limit-1])
}

// A cursor is the position of the last row of the previous page (activity
// time and id), so paging stays stable while rows change.
type cursor struct {
	at int64
	id string
}

func encodeCursor(r engine.TicketRow) string {
	raw := strconv.FormatInt(r.UpdatedAt.UnixNano(), 10) + "." + r.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	bad := engine.Invalid("cursor", "is not a cursor from a previous page")
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !engine.ValidID(id) {
		return nil, bad
	}
	return &cursor{at: n, id: id}, nil
}
