package persist

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// An event is idempotent by its id: the second add stores nothing and
// answers the first one, whatever the repeat carries.
func TestProfileEventIdempotentByID(t *testing.T) {
	s := memStore(t)
	first := engine.ProfileEvent{ID: "order-1", Name: "Placed Order", At: t0, Properties: map[string]any{"total": json.Number("42.50")}}
	create := &engine.Profile{ID: "cust", UpdatedAt: t0}
	got, added, err := s.AddProfileEvent("cust", first, create)
	if err != nil || !added || got.ID != "order-1" {
		t.Fatalf("first add = %+v, %v, %v", got, added, err)
	}
	if p, err := s.Profile("cust"); err != nil || p.ID != "cust" || !p.UpdatedAt.Equal(t0) {
		t.Fatalf("the profile its first event created: %+v, %v", p, err)
	}
	repeat := engine.ProfileEvent{ID: "order-1", Name: "Something Else", At: t0.Add(time.Hour)}
	got, added, err = s.AddProfileEvent("cust", repeat, &engine.Profile{ID: "cust", Name: "Overwritten?"})
	if err != nil || added || got.Name != "Placed Order" || !got.At.Equal(t0) {
		t.Fatalf("repeat = %+v, %v, %v; want the stored event", got, added, err)
	}
	if p, _ := s.Profile("cust"); p.Name != "" {
		t.Fatalf("a repeat wrote its profile: %+v", p)
	}
	all, err := s.ProfileEvents("cust", 0)
	if err != nil || len(all) != 1 || all[0].Properties["total"] != json.Number("42.50") {
		t.Fatalf("events = %+v, %v", all, err)
	}
	// The same id under another profile is another event.
	if _, added, err := s.AddProfileEvent("other", first, nil); err != nil || !added {
		t.Fatalf("same id, other profile: %v, %v", added, err)
	}
	if e, found, err := s.ProfileEvent("cust", "order-1"); err != nil || !found || e.Name != "Placed Order" {
		t.Fatalf("ProfileEvent = %+v, %v, %v", e, found, err)
	}
	if _, found, err := s.ProfileEvent("cust", "order-2"); err != nil || found {
		t.Fatalf("ProfileEvent of an unknown id = %v, %v", found, err)
	}
}

// Numbers in properties come back exactly as they were sent.
func TestProfileEventNumbersKeepTheirDigits(t *testing.T) {
	s := memStore(t)
	props := map[string]any{"order_id": json.Number("12345678901234567"), "total": json.Number("19.90"),
		"lines": []any{map[string]any{"qty": json.Number("1e3")}}}
	if _, _, err := s.AddProfileEvent("p", engine.ProfileEvent{ID: "e", Name: "n", At: t0, Properties: props}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.ProfileEvents("p", 1)
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	b, _ := json.Marshal(got[0].Properties)
	if want := `{"lines":[{"qty":1e3}],"order_id":12345678901234567,"total":19.90}`; string(b) != want {
		t.Fatalf("properties %s, want %s", b, want)
	}
}

// Paging by the last event's position lists every event once, newest first,
// events at the same instant and ids that extend one another included, and
// an event added meanwhile ahead of the position does not shift the pages.
func TestProfileEventPagesListEveryEventOnce(t *testing.T) {
	s := memStore(t)
	var want []string
	for i := 0; i < 23; i++ {
		at := t0.Add(time.Duration(i/3) * time.Second) // three events per instant
		id := fmt.Sprintf("e%d", i)
		if i%3 == 2 {
			id = fmt.Sprintf("e%d", i-1) + "x" // extends its neighbour's id
		}
		if _, _, err := s.AddProfileEvent("p", engine.ProfileEvent{ID: id, Name: "n", At: at}, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	// Noise: another profile whose key could run into p's.
	_, _, _ = s.AddProfileEvent("p/ev/", engine.ProfileEvent{ID: "z", Name: "n", At: t0.Add(time.Hour)}, nil)
	var got []string
	var after *EventPosition
	for page := 0; ; page++ {
		evs, err := s.ProfileEventPage("p", after, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got = append(got, e.ID)
		}
		if page == 0 {
			_, _, _ = s.AddProfileEvent("p", engine.ProfileEvent{ID: "late", Name: "n", At: t0.Add(time.Minute)}, nil)
		}
		if len(evs) < 5 {
			break
		}
		last := evs[len(evs)-1]
		after = &EventPosition{UnixNano: last.At.UnixNano(), ID: last.ID}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d events, want %d: %v", len(got), len(want), got)
	}
	seen := map[string]bool{}
	for i, id := range got {
		if seen[id] {
			t.Fatalf("%s listed twice: %v", id, got)
		}
		seen[id] = true
		if i > 0 {
			prev, _, _ := s.ProfileEvent("p", got[i-1])
			cur, _, _ := s.ProfileEvent("p", id)
			if cur.At.After(prev.At) || cur.At.Equal(prev.At) && cur.ID > prev.ID {
				t.Fatalf("not newest first at %d: %v", i, got)
			}
		}
	}
}

// Concurrent adds of one id store one event, and exactly one add says so.
func TestProfileEventConcurrentRepeats(t *testing.T) {
	s := memStore(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.AddProfileEvent("p", engine.ProfileEvent{ID: "same", Name: "n", At: t0.Add(time.Duration(i) * time.Second)}, nil)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				added++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if all, _ := s.ProfileEvents("p", 0); added != 1 || len(all) != 1 {
		t.Fatalf("%d adds reported, %d events stored; want 1 and 1", added, len(all))
	}
}
