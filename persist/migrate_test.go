package persist

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-chat/parley/engine"
)

// schema1Rows are the rows of a data directory written before schema 2:
// open, snoozed and closed tickets, assigned or not, on both channels, one
// of them still in the JSON format of the first rows.
func schema1Rows() []engine.TicketRow {
	until := at(999)
	rows := []engine.TicketRow{
		rowOf("a-open", engine.ChannelWebchat, "ag-a", engine.StatusOpen, 10, 3),
		rowOf("b-snoozed", engine.ChannelSMS, "", engine.StatusSnoozed, 11, 4),
		rowOf("c-closed", engine.ChannelWebchat, "ag-a", engine.StatusClosed, 12, 5),
		rowOf("d-closed", engine.ChannelSMS, "ag-b", engine.StatusClosed, 13, 6),
		rowOf("e-closed", engine.ChannelWebchat, "", engine.StatusClosed, 12, 7),
		rowOf("f-json", engine.ChannelWebchat, "ag-b", engine.StatusClosed, 9, 8),
		rowOf("g-open", engine.ChannelWebchat, "", engine.StatusOpen, 14, 9),
	}
	rows[1].SnoozedUntil = &until
	return rows
}

// writeSchema1 writes rows the way the code before schema 2 did: every row
// under x/row/<id>, no schema version.
func writeSchema1(t *testing.T, fs vfs.FS, dir string, rows []engine.TicketRow) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{FS: fs, Logger: pebbleLogger{quiet}})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	for _, r := range rows {
		v := appendRow(nil, &r)
		if strings.HasSuffix(r.ID, "json") {
			if v, err = encodeRecord(rowRecord{r, r.Version}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Set(key(oldRowPrefix, r.ID), v, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkSchema2 checks that a store lists exactly rows, as schema 2 keeps
// them, with nothing left of schema 1.
func checkSchema2(t *testing.T, s *Store, rows []engine.TicketRow) {
	t.Helper()
	var active, closed []engine.TicketRow
	for _, r := range rows {
		if r.Status == engine.StatusClosed {
			closed = append(closed, r)
		} else {
			active = append(active, r)
		}
	}
	newestFirst(closed)
	var got []engine.TicketRow
	if err := s.ActiveRows(func(r engine.TicketRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	byID := func(a, b engine.TicketRow) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(got, byID)
	slices.SortFunc(active, byID)
	if !reflect.DeepEqual(got, active) {
		t.Fatalf("active rows after the migration:\n got %+v\nwant %+v", got, active)
	}
	if got := pageAll(t, s, ClosedQuery{Limit: 2}); !reflect.DeepEqual(got, closed) {
		t.Fatalf("closed rows after the migration: %v, want %v", ids(got), ids(closed))
	}
	if got := pageAll(t, s, ClosedQuery{Assignee: "ag-b", Limit: 2}); !reflect.DeepEqual(ids(got), []string{"d-closed", "f-json"}) {
		t.Fatalf("closed rows of ag-b after the migration: %v", ids(got))
	}
	if n := s.ClosedCount(); n != len(closed) {
		t.Fatalf("ClosedCount = %d, want %d", n, len(closed))
	}
	if v, _, err := s.Meta(schemaMeta); v != strconv.Itoa(Schema) || err != nil {
		t.Fatalf("schema %q, %v", v, err)
	}
	left := 0
	if err := s.scan([]byte(oldRowPrefix), nil, false, func(_, _ []byte) (bool, error) { left++; return true, nil }); err != nil || left != 0 {
		t.Fatalf("%d rows left under %s (%v)", left, oldRowPrefix, err)
	}
}

// A data directory written before schema 2 opens: its rows move once to the
// new layout, and opening it again changes nothing.
func TestMigrateSchema1(t *testing.T) {
	fs, rows := vfs.NewMem(), schema1Rows()
	writeSchema1(t, fs, "db", rows)
	for i := 0; i < 2; i++ {
		s := openOn(t, fs, "db")
		checkSchema2(t, s, rows)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A migration cut short after its first batch (each batch is atomic) goes
// on at the next start: every row ends up moved exactly once.
func TestMigrateResumesAfterCrash(t *testing.T) {
	fs, rows := vfs.NewMem(), schema1Rows()
	writeSchema1(t, fs, "db", rows)
	defer func(n int) { migrateRowsBatch = n }(migrateRowsBatch)
	migrateRowsBatch = 3
	s, err := openDB(Options{Dir: "db", FS: fs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.loadClosedCount(); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.migrateRowBatch(nil); n != 3 || err != nil {
		t.Fatalf("first batch moved %d rows, %v", n, err)
	}
	if err := s.Close(); err != nil { // the process dies here
		t.Fatal(err)
	}
	checkSchema2(t, openOn(t, fs, "db"), rows)
}

// A data directory of a later schema is refused, not misread.
func TestNewerSchemaRefused(t *testing.T) {
	fs := vfs.NewMem()
	s := openOn(t, fs, "db")
	if err := s.PutMeta(schemaMeta, strconv.Itoa(Schema+1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(Options{Dir: "db", FS: fs, Logger: quiet}); err == nil {
		s.Close()
		t.Fatal("a directory of a later schema opened")
	}
}

// A data directory of schema 2 has profiles with phone numbers but no
// index of them: opening it indexes each number once, and a number that
// is already indexed keeps the profile it points at.
func TestMigrateIndexesPhones(t *testing.T) {
	fs := vfs.NewMem()
	s := openOn(t, fs, "db")
	for i, id := range []string{"a", "b", "c", "tel:+46700000003"} {
		p := engine.Profile{ID: id, Name: id}
		if i != 2 {
			p.Phone = fmt.Sprintf("+4670000000%d", i)
		}
		if err := s.PutProfile(p); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AddProfileEvent(id, engine.ProfileEvent{ID: "e1", Name: "Placed Order", At: time.Now()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// As schema 2 left it: no index, and one number pointing elsewhere.
	for _, n := range []string{"+46700000000", "+46700000001", "+46700000003"} {
		if err := s.db.Delete(key(phonePrefix, n), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Set(key(phonePrefix, "+46700000001"), []byte("elsewhere"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta(schemaMeta, "2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openOn(t, fs, "db")
	defer s.Close()
	for n, want := range map[string]string{"+46700000000": "a", "+46700000001": "elsewhere", "+46700000003": "tel:+46700000003"} {
		if id, found, err := s.ProfileByPhone(n); err != nil || !found || id != want {
			t.Errorf("%s finds %q %v %v, want %q", n, id, found, err, want)
		}
	}
	if _, found, _ := s.ProfileByPhone("+46700000002"); found {
		t.Error("a profile without a number was indexed")
	}
}
