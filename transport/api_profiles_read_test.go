package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// addEvents posts n events to a profile, three per instant (so that paging
// must order by id within a time), and returns their ids newest first.
func addEvents(t *testing.T, h *harness, store, profile string, n int) []string {
	t.Helper()
	base := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("ev-%03d", i)
		at := base.Add(time.Duration(i/3) * time.Minute).Format(time.RFC3339)
		code, body, _ := h.do("POST", profilePath(profile)+"/events", store, map[string]any{"id": id, "name": "Viewed", "at": at})
		if code != http.StatusCreated {
			t.Fatalf("event %d: %d %v", i, code, body)
		}
		ids[n-1-i] = id
	}
	return ids
}

func eventIDs(p map[string]any) []string {
	var out []string
	for _, e := range p["events"].([]any) {
		out = append(out, e.(map[string]any)["id"].(string))
	}
	return out
}

// Paging through a profile's events with events_next_cursor lists every
// event exactly once, newest first; the default page is 20.
func TestProfileEventPaging(t *testing.T) {
	h := start(t, Config{APIRate: 1000, APIBurst: 1000})
	store, agent := storeToken(t, h), agentToken(t, h)
	want := addEvents(t, h, store, "cust_pages", 47)

	_, first, _ := h.do("GET", profilePath("cust_pages"), agent, nil)
	if got := eventIDs(first); len(got) != 20 || fmt.Sprint(got) != fmt.Sprint(want[:20]) || first["events_next_cursor"] == nil {
		t.Fatalf("default page %v (cursor %v), want %v", got, first["events_next_cursor"], want[:20])
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		path := profilePath("cust_pages") + "?events_limit=10"
		if cursor != "" {
			path += "&events_cursor=" + url.QueryEscape(cursor)
		}
		code, p, _ := h.do("GET", path, agent, nil)
		if code != http.StatusOK {
			t.Fatalf("page %d: %d %v", pages, code, p)
		}
		got = append(got, eventIDs(p)...)
		if pages == 0 { // a newer event added between pages does not shift them
			addEventAt(t, h, store, "cust_pages", "late", time.Now())
		}
		next, _ := p["events_next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged\n%v\nwant\n%v", got, want)
	}
	_, all, _ := h.do("GET", profilePath("cust_pages")+"?events_limit=100", agent, nil)
	if ids := eventIDs(all); len(ids) != 48 || ids[0] != "late" || all["events_next_cursor"] != nil {
		t.Fatalf("one page of 100: %d events from %v, cursor %v", len(ids), ids[:1], all["events_next_cursor"])
	}
}

func addEventAt(t *testing.T, h *harness, store, profile, id string, at time.Time) {
	t.Helper()
	body := map[string]any{"id": id, "name": "Placed Order", "at": at.UTC().Format(time.RFC3339Nano)}
	if code, e, _ := h.do("POST", profilePath(profile)+"/events", store, body); code != http.StatusCreated {
		t.Fatalf("event %s: %d %v", id, code, e)
	}
}

// The ticket view carries the profile summary (H4): the store's values and
// the first page of events, newest first, with the cursor of the next.
func TestTicketViewCarriesTheProfile(t *testing.T) {
	h := start(t, Config{APIRate: 1000, APIBurst: 1000})
	store, agent := storeToken(t, h), agentToken(t, h)
	if code, body, _ := h.do("PUT", profilePath("cust_view"), store, map[string]any{"name": "Ada Lovelace", "phone": "+46701234567"}); code != 200 {
		t.Fatalf("PUT: %d %v", code, body)
	}
	want := addEvents(t, h, store, "cust_view", 23)
	_, id := ticketFromShopper(t, h, "cust_view")
	code, view, _ := h.do("GET", "/api/v1/tickets/"+id, agent, nil)
	if code != http.StatusOK {
		t.Fatalf("view: %d %v", code, view)
	}
	p := view["profile"].(map[string]any)
	wantProfile(t, "the ticket's profile", p, "cust_view", "Ada Lovelace", "", "+46701234567")
	if got := eventIDs(p); fmt.Sprint(got) != fmt.Sprint(want[:20]) {
		t.Fatalf("the ticket's profile events %v, want %v", got, want[:20])
	}
	cursor, _ := p["events_next_cursor"].(string)
	_, rest, _ := h.do("GET", profilePath("cust_view")+"?events_cursor="+url.QueryEscape(cursor), agent, nil)
	if got := eventIDs(rest); fmt.Sprint(got) != fmt.Sprint(want[20:]) {
		t.Fatalf("the next page %v, want %v", got, want[20:])
	}
	if _, ok := view["ticket"].(map[string]any); !ok || view["events"] == nil {
		t.Fatalf("the view's shape: %v", view)
	}
}

func tokenWithEmail(t *testing.T, profile, name, email string) string {
	t.Helper()
	tok, err := identity.Mint(testSecret, engine.Visitor{ProfileID: profile, Name: name, Email: email}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A chat start records the identity token's name and e-mail in the profile
// before the store has called the profile API; the store's values replace
// them and are never replaced by a later token.
func TestTokenClaimsFillTheProfile(t *testing.T) {
	h := start(t, Config{})
	store, agent := storeToken(t, h), agentToken(t, h)
	c, _ := h.hello(tokenWithEmail(t, "cust_claims", "Ada Lovelace", "ada@example.com"))
	conv := startChat(t, c)
	_, p, _ := h.do("GET", profilePath("cust_claims"), agent, nil)
	wantProfile(t, "after the first chat", p, "cust_claims", "Ada Lovelace", "ada@example.com", "")
	if pr, err := h.sys.Profile(t.Context(), "cust_claims"); err != nil || pr.Email != "ada@example.com" {
		t.Fatalf("the profile macros read: %+v, %v", pr, err)
	}

	code, p, _ := h.do("PUT", profilePath("cust_claims"), store, map[string]any{"name": "Augusta Ada King"})
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %v", code, p)
	}
	wantProfile(t, "the store's name", p, "cust_claims", "Augusta Ada King", "ada@example.com", "")
	c.send(frame{"type": "chat.end", "conversation": conv})
	c.readType("event")

	c2, _ := h.hello(tokenWithEmail(t, "cust_claims", "Ada L.", "ada@new.example.com"))
	startChat(t, c2)
	_, p, _ = h.do("GET", profilePath("cust_claims"), agent, nil)
	wantProfile(t, "after a newer token", p, "cust_claims", "Augusta Ada King", "ada@new.example.com", "")

	if code, p, _ = h.do("PUT", profilePath("cust_claims"), store, map[string]any{"email": "countess@example.com"}); code != 200 {
		t.Fatalf("PUT email: %d %v", code, p)
	}
	c3, _ := h.hello(tokenWithEmail(t, "cust_claims", "Ada L.", "ada@other.example.com"))
	startChat(t, c3) // the open chat: its start records the claims all the same
	_, p, _ = h.do("GET", profilePath("cust_claims"), agent, nil)
	wantProfile(t, "after the store's e-mail", p, "cust_claims", "Augusta Ada King", "countess@example.com", "")
}

// Concurrent upserts of one profile, with events and a chat start among
// them: each answer is one whole write (its name goes with its e-mail), the
// profile ends as one of them, the store's name beats the token's, and every
// event is stored once.
func TestConcurrentProfileWrites(t *testing.T) {
	h := start(t, Config{APIRate: 1000, APIBurst: 1000})
	store := storeToken(t, h)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			body := map[string]any{"name": fmt.Sprintf("Name %d", i), "email": fmt.Sprintf("user%d@example.com", i)}
			code, p, err := apiCall(h, "PUT", profilePath("cust_race"), store, body)
			switch {
			case err != nil:
				errs <- err
			case code != http.StatusOK || p["name"] != body["name"] || p["email"] != body["email"]:
				errs <- fmt.Errorf("PUT %d answered %d %v", i, code, p)
			}
		}()
		go func() {
			defer wg.Done()
			code, e, err := apiCall(h, "POST", profilePath("cust_race")+"/events", store, map[string]any{"id": fmt.Sprintf("e%d", i%4), "name": "Viewed"})
			if err == nil && code != http.StatusCreated && code != http.StatusOK {
				err = fmt.Errorf("event %d: %d %v", i, code, e)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	c, _ := h.hello(tokenWithEmail(t, "cust_race", "Token Name", "token@example.com"))
	startChat(t, c)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, p, _ := h.do("GET", profilePath("cust_race"), adminToken, nil)
	var i int
	if _, err := fmt.Sscanf(fmt.Sprint(p["name"]), "Name %d", &i); err != nil || p["email"] != fmt.Sprintf("user%d@example.com", i) {
		t.Fatalf("the profile after concurrent upserts: %v", p)
	}
	if ids := eventIDs(p); len(ids) != 4 {
		t.Fatalf("events %v, want e0 to e3 once each", ids)
	}
}

// apiCall is h.do for goroutines: it returns an error instead of failing.
func apiCall(h *harness, method, path, bearer string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, h.ts.URL+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: %q: %w", method, path, raw, err)
	}
	return resp.StatusCode, out, nil
}
