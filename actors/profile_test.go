package actors

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parley-chat/parley/engine"
)

func ptr(s string) *string { return &s }

// A chat start records the token's claims; the store's values replace them
// and are never replaced by a later claim; the profile survives a restart.
func TestProfileClaimsAndTheStoresValues(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	h.startChat(ada)
	p, err := h.sys.Profile(ctx, ada.ProfileID)
	if err != nil || p.Name != ada.Name || p.Email != ada.Email || p.NameFrom != engine.FromToken {
		t.Fatalf("profile after a chat start: %+v, %v", p, err)
	}
	if _, _, err := h.sys.UpsertProfile(ctx, ada.ProfileID, engine.ProfileUpdate{Name: ptr("Augusta Ada King")}); err != nil {
		t.Fatal(err)
	}
	h.restart()
	h.startChat(engine.Visitor{ProfileID: ada.ProfileID, Name: "Ada L.", Email: "ada@new.example.com"})
	p, err = h.sys.Profile(ctx, ada.ProfileID)
	if err != nil || p.Name != "Augusta Ada King" || p.Email != "ada@new.example.com" {
		t.Fatalf("profile after the store's name and a newer token: %+v, %v", p, err)
	}
}

// Concurrent chat starts, upserts and events of one profile: whatever their
// order, the store's name wins over the token's, each upsert's answer is a
// profile that some order of the writes produced, and every event is stored.
func TestProfileWritesDoNotInterleave(t *testing.T) {
	h := start(t, Config{})
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		id := fmt.Sprintf("race-%d", round)
		v := engine.Visitor{ProfileID: id, Name: "Token Name", Email: "token@example.com"}
		var wg sync.WaitGroup
		run := func(f func() error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f(); err != nil {
					t.Error(err)
				}
			}()
		}
		run(func() error { _, _, err := h.sys.StartChat(ctx, v); return err })
		for i := 0; i < 4; i++ {
			run(func() error {
				p, _, err := h.sys.UpsertProfile(ctx, id, engine.ProfileUpdate{Name: ptr("Store Name"), Phone: ptr(fmt.Sprintf("+4670000000%d", i))})
				if err == nil && (p.Name != "Store Name" || p.Phone != fmt.Sprintf("+4670000000%d", i)) {
					err = fmt.Errorf("upsert %d answered %+v", i, p)
				}
				return err
			})
			run(func() error {
				_, added, err := h.sys.AddProfileEvent(ctx, id, engine.ProfileEvent{ID: fmt.Sprintf("e%d", i), Name: "Viewed"})
				if err == nil && !added {
					err = fmt.Errorf("event e%d not added", i)
				}
				return err
			})
		}
		wg.Wait()
		p, err := h.sys.Profile(ctx, id)
		if err != nil || p.Name != "Store Name" || p.NameFrom != engine.FromStore || p.Email != "token@example.com" || len(p.Events) != 4 {
			t.Fatalf("round %d: %+v, %v", round, p, err)
		}
	}
}
