package transport

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
)

func TestBackupRefusals(t *testing.T) {
	h := start(t, Config{})
	_, ag, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Ana", "email": "ana@example.com", "role": "agent"})
	agentTok, _ := ag["token"].(string)
	_, st, _ := h.do("POST", "/api/v1/agents", adminToken, map[string]any{"name": "Shop", "role": "store"})
	storeTok, _ := st["token"].(string)
	if agentTok == "" || storeTok == "" {
		t.Fatalf("agents: %v %v", ag, st)
	}
	existing := t.TempDir()
	fresh := filepath.Join(t.TempDir(), "backup")
	for _, tc := range []struct {
		name, bearer string
		body         any
		status       int
		code, field  string
	}{
		{"no token", "", map[string]any{"dir": fresh}, 401, "unauthorized", ""},
		{"shopper token", token(t, "p1", "Ada"), map[string]any{"dir": fresh}, 401, "unauthorized", ""},
		{"agent", agentTok, map[string]any{"dir": fresh}, 403, "forbidden", ""},
		{"store", storeTok, map[string]any{"dir": fresh}, 403, "forbidden", ""},
		{"no body", adminToken, nil, 400, "invalid", ""},
		{"malformed", adminToken, `{"dir":`, 400, "invalid", ""},
		{"dir missing", adminToken, map[string]any{}, 400, "invalid", "dir"},
		{"dir empty", adminToken, map[string]any{"dir": ""}, 400, "invalid", "dir"},
		{"dir not a string", adminToken, map[string]any{"dir": 7}, 400, "invalid", "dir"},
		{"relative", adminToken, map[string]any{"dir": "backups/today"}, 400, "invalid", "dir"},
		{"dot relative", adminToken, map[string]any{"dir": "./backup"}, 400, "invalid", "dir"},
		{"existing", adminToken, map[string]any{"dir": existing}, 400, "invalid", "dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := h.do("POST", "/api/v1/backup", tc.bearer, tc.body)
			code, field := errCode(body)
			if status != tc.status || code != tc.code || field != tc.field {
				t.Fatalf("%d %v; want %d %s naming %q", status, body, tc.status, tc.code, tc.field)
			}
		})
	}
	// None of the refusals wrote anything.
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("a refused backup created %s: %v", fresh, err)
	}
	if entries, err := os.ReadDir(existing); err != nil || len(entries) != 0 {
		t.Fatalf("a refused backup wrote into the existing directory: %v %v", entries, err)
	}
}

func TestBackupHoldsAcknowledgedMessages(t *testing.T) {
	h := start(t, Config{})
	c, conv := ticketFromShopper(t, h, "cust_backup")
	ack, _ := sendMessage(t, c, "second", "Where is my parcel?")
	seq := num(ack["seq"])

	dir := filepath.Join(t.TempDir(), "nested", "backup")
	status, body, _ := h.do("POST", "/api/v1/backup", adminToken, map[string]any{"dir": dir + "/"})
	if status != 200 || body["dir"] != dir {
		t.Fatalf("backup: %d %v; want 200 naming %s", status, body, dir)
	}
	if _, ok := body["took_ms"]; !ok {
		t.Fatalf("backup answer without took_ms: %v", body)
	}
	// The server keeps serving after a backup.
	if ack, _ := sendMessage(t, c, "third", "after the backup"); num(ack["seq"]) != seq+1 {
		t.Fatalf("message after the backup: %v", ack)
	}
	// A second backup into the same directory is refused.
	status, body, _ = h.do("POST", "/api/v1/backup", adminToken, map[string]any{"dir": dir})
	if code, field := errCode(body); status != 400 || code != "invalid" || field != "dir" {
		t.Fatalf("backup into an existing dir: %d %v", status, body)
	}

	store, err := persist.Open(persist.Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("open the checkpoint: %v", err)
	}
	defer store.Close()
	var got []engine.Event
	if err := store.Events(conv, 0, 0, func(e engine.Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	found := map[string]uint64{}
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i+1, e.Seq)
		}
		if e.Kind == engine.KindMessage {
			found[e.ClientID] = e.Seq
		}
	}
	if found["second"] != seq || found["first"] == 0 {
		t.Fatalf("checkpoint messages %v; want first, and second at seq %d", found, seq)
	}
	if _, ok := found["third"]; ok {
		t.Fatalf("the checkpoint holds a message sent after it was taken")
	}
}
