package persist

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-chat/parley/engine"
)

func TestSettings(t *testing.T) {
	s := memStore(t)
	if _, found, err := s.Settings(); found || err != nil {
		t.Fatalf("Settings on a new store = %v, %v", found, err)
	}
	want := engine.DefaultSettings()
	want.OfficeHours.Weekly["mon"] = [][2]string{{"09:00", "17:00"}}
	want.AI.LLM = &engine.LLMSettings{BaseURL: "https://llm.test", Model: "m", APIKey: "secret"}
	if err := s.PutSettings(want); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Settings()
	if err != nil || !found || !reflect.DeepEqual(got, want) {
		t.Fatalf("Settings = %+v, %v, %v; want %+v", got, found, err, want)
	}
}

func TestFAQs(t *testing.T) {
	s := memStore(t)
	for i, f := range engine.SampleFAQs() {
		f.ID = string(rune('c' - i))
		f.UpdatedAt = t0
		if err := s.PutFAQ(f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FAQs()
	if err != nil || len(got) != 3 || got[0].Position != 1 || got[2].Position != 3 {
		t.Fatalf("FAQs = %+v, %v", got, err)
	}
	if err := s.DeleteFAQ(got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFAQ(got[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteFAQ = %v", err)
	}
	if got, _ := s.FAQs(); len(got) != 2 {
		t.Fatalf("%d FAQs after delete", len(got))
	}
}

// Macros are kept under cfg/macro/<id> as FAQs are, listed by name, and a
// store opened again has them as they were written (C5).
func TestMacros(t *testing.T) {
	fs := vfs.NewMem()
	s := openOn(t, fs, "db")
	for _, m := range []engine.Macro{
		{ID: "m2", Name: "shipping", Body: "Hi {{first_name}}, it ships today.", UpdatedAt: t0},
		{ID: "m1", Name: "Returns", Body: "Returns are free.", UpdatedAt: t0},
		{ID: "m3", Name: "Apology", Body: "Sorry, {{name}}!", UpdatedAt: t0},
	} {
		if err := s.PutMacro(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutMacro(engine.Macro{Name: "No id"}); err == nil {
		t.Fatal("a macro without an id was stored")
	}
	edited := engine.Macro{ID: "m1", Name: "Returns", Body: "Returns are free within 30 days.", UpdatedAt: t0.Add(time.Hour)}
	if err := s.PutMacro(edited); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMacro("m3"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMacro("m3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteMacro = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openOn(t, fs, "db")
	got, err := s.Macros()
	if err != nil || len(got) != 2 || got[0] != edited || got[1].ID != "m2" {
		t.Fatalf("Macros after reopening = %+v, %v", got, err)
	}
	if faqs, err := s.FAQs(); err != nil || len(faqs) != 0 {
		t.Fatalf("macros showed up as FAQs: %+v, %v", faqs, err)
	}
}

func TestAgents(t *testing.T) {
	s := memStore(t)
	a := engine.Agent{ID: "ag1", Name: "Bo", Role: engine.RoleAgent, CreatedAt: t0, TokenHash: "h1"}
	if err := s.PutAgent(a); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAgent(engine.Agent{ID: "ag2", Name: "Cy", Role: engine.RoleAdmin, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Agents()
	if err != nil || len(all) != 2 || !reflect.DeepEqual(all[0], a) {
		t.Fatalf("Agents = %+v, %v", all, err)
	}
	if got, err := s.AgentByTokenHash("h1"); err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("AgentByTokenHash(h1) = %+v, %v", got, err)
	}
	// A new token replaces the old one: the old hash no longer authenticates.
	a.TokenHash = "h2"
	if err := s.PutAgent(a); err != nil {
		t.Fatal(err)
	}
	for hash, want := range map[string]error{"h1": ErrNotFound, "h2": nil, "": ErrNotFound, "nope": ErrNotFound} {
		if _, err := s.AgentByTokenHash(hash); !errors.Is(err, want) {
			t.Fatalf("AgentByTokenHash(%q) = %v, want %v", hash, err, want)
		}
	}
}

func TestMeta(t *testing.T) {
	s := memStore(t)
	if _, found, err := s.Meta("install_id"); found || err != nil {
		t.Fatalf("Meta = %v, %v", found, err)
	}
	if err := s.PutMeta("install_id", "i-1"); err != nil {
		t.Fatal(err)
	}
	if v, found, err := s.Meta("install_id"); v != "i-1" || !found || err != nil {
		t.Fatalf("Meta = %q, %v, %v", v, found, err)
	}
}

func TestProfiles(t *testing.T) {
	s := memStore(t)
	if _, err := s.Profile("p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Profile = %v", err)
	}
	p := engine.Profile{ID: "p1", Name: "Ann", Email: "ann@x.test", UpdatedAt: t0,
		Events: []engine.ProfileEvent{{ID: "e0"}}}
	if err := s.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	p.Events = nil
	if got, err := s.Profile("p1"); err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("Profile = %+v, %v", got, err)
	}
	for i := 0; i < 5; i++ {
		e := engine.ProfileEvent{ID: string(rune('a' + i)), Name: "viewed", At: t0.Add(time.Duration(i) * time.Minute),
			Properties: map[string]any{"sku": "x", "n": float64(i)}}
		if _, _, err := s.AddProfileEvent("p1", e, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Another profile whose id extends p1's stays out of p1's events.
	_, _, _ = s.AddProfileEvent("p1/ev/", engine.ProfileEvent{ID: "z", At: t0.Add(time.Hour)}, nil)
	got, err := s.ProfileEvents("p1", 3)
	if err != nil || len(got) != 3 || got[0].ID != "e" || got[2].ID != "c" || got[0].Properties["n"] != json.Number("4") {
		t.Fatalf("ProfileEvents = %+v, %v", got, err)
	}
	if all, _ := s.ProfileEvents("p1", 0); len(all) != 5 {
		t.Fatalf("%d events, want 5", len(all))
	}
}

// TestReopen writes to a real directory, closes, reopens and reads the same.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	evs := script("p1", 30)
	for i := 0; i < len(evs); i += 3 {
		c := Commit{Conversation: "c1", Events: evs[i:min(i+3, len(evs))]}
		if i == 12 {
			sc, st := replay("c1", evs[:i+3], nil)
			c.Snapshot = &Snapshot{Conversation: *sc, Ticket: *st}
		}
		mustAppend(t, s, c)
	}
	if err := s.PutMeta("k", "v"); err != nil {
		t.Fatal(err)
	}
	wantC, wantT, _ := s.Load("c1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openOn(t, vfs.Default, dir)
	gotC, gotT, err := s.Load("c1")
	if err != nil || !reflect.DeepEqual(gotC, wantC) || !reflect.DeepEqual(gotT, wantT) {
		t.Fatalf("Load after reopen = %+v %+v %v", gotC, gotT, err)
	}
	if refC, _ := replay("c1", evs, nil); !reflect.DeepEqual(gotC, refC) {
		t.Fatalf("Load after reopen differs from replay")
	}
	if v, _, _ := s.Meta("k"); v != "v" {
		t.Fatalf("meta after reopen = %q", v)
	}
	// The next append continues the stream read from disk.
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{message(31, engine.PartyShopper, "new", "hi")}})
}

func TestCheckpoint(t *testing.T) {
	fs := vfs.NewMem()
	s := openOn(t, fs, "db")
	mustAppend(t, s, Commit{Conversation: "c1", Events: script("p1", 5)})
	if err := s.Checkpoint("backup"); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint("backup"); err == nil {
		t.Fatal("Checkpoint into an existing directory succeeded")
	}
	mustAppend(t, s, Commit{Conversation: "c1", Events: []engine.Event{message(6, engine.PartyShopper, "x", "after")}})
	b := openOn(t, fs, "backup")
	if last, err := b.LastSeq("c1"); last != 5 || err != nil {
		t.Fatalf("checkpoint holds %d events, %v", last, err)
	}
	if err := b.Append(context.Background(), Commit{Conversation: "c1", Events: script("p1", 1)}); err == nil {
		t.Fatal("fork accepted in the checkpoint")
	}
}
