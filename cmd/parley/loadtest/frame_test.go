package loadtest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
	"github.com/parley-chat/parley/transport/wsclient"
)

var benchFrameSamples = []string{
	`{"type":"ack","client_id":"m12","conversation":"01JD8Z3K4Q5R6S7T8V9W0XYZAB","seq":7}`,
	`{"type":"event","conversation":"01JD8Z3K4Q5R6S7T8V9W0XYZAB","seq":8,"at":"2026-11-25T10:00:00.123Z","event":{"kind":"message","from":"agent","author":"Ana","text":"Hi! <b>","attachments":[],"client_id":"a0-x-1"}}`,
	`{"type":"event","conversation":"c1","seq":1,"at":"2026-11-25T10:00:00Z","event":{"kind":"started","welcome":"Hej"}}`,
	`{"type":"event","conversation":"c1","seq":9,"at":"2026-11-25T10:00:00Z","event":{"kind":"message","from":"shopper","author":"","text":"a \"quoted\" text","attachments":[],"client_id":"m9"}}`,
	`{"type":"event","conversation":"c1","seq":9,"at":"2026-11-25T10:00:00Z","event":{"kind":"message","from":"shopper","author":"","text":"x","attachments":[{"url":"https://x/y","content_type":"image/png"}],"client_id":"m9"}}`,
	`{"type":"ack","conversation":"c1","client_id":"m1","seq":3}`,
	`{"type":"ack","client_id":"m\u0031","conversation":"c1","seq":3}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":3,"extra":true}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":03}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":99999999999999999999}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":3} `,
	`{"type":"welcome","conversation":{"id":"c1","last_seq":4}}`,
	`{"type":"welcome","conversation":null}`,
	`{"type":"error","code":"rate_limited","message":"slow down","client_id":"m4"}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":`,
	`not json`,
	`{"type":"event","conversation":"c1","seq":1,"at":"2026-11-25T10:00:00Z","event":{"kind":"started","welcome":"Hej \u00e5 v\u00e4lkommen"}}`,
	`{"type":"event","conversation":"c1","seq":1,"at":"2026-11-25T10:00:00Z","event":{"kind":"started","welcome":"Hej","channel":"webchat"}}`,
	`{"type":"event","conversation":"c1","seq":1,"at":"2026-11-25T10:00:00Z","event":{"kind":"started","welcome":"Hej"},"Seq":2}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":{"id":"01JD8Z3K4Q5R6S7T8V9W0XYZAB","status":"open","last_seq":12}}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null}`,
	`{"type":"welcome","visitor":{"logged_in":false,"profile_id":null,"name":null},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Var \u00e4r min order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Var är min order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":{"id":"c1","status":"open","last_seq":12,"seq":3}}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":{"id":"c1","status":"open","last_seq":12}}}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null,"Seq":4}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"Conversation":{"id":"c1","status":"open","last_seq":1}}`,
	`{"type":"event","conversation":"c1","seq":3,"at":"2026-12-06T16:48:23.91865813Z","event":{"kind":"message","from":"ai","author":"AI assistant","text":"You can follow your parcel from the link in your shipping confirmation e-mail. Orders ship within 1–2 business days.","attachments":[],"client_id":"ai-2"}}`,
	`{"type":"event","conversation":"c1","seq":3,"at":"2026-12-06T16:48:23Z","event":{"kind":"message","from":"ai","author":"AI assistant","text":"Start from My orders \u2192 Return, \"free\"\n\/\\ \b\f\r\t","attachments":[],"client_id":"ai-2"}}`,
	`{"type":"event","conversation":"c1","seq":3,"at":"2026-12-06T16:48:23Z","event":{"kind":"message","from":"ai","author":"Åsa \u00d6","text":"ok","attachments":[],"client_id":"ai-2"}}`,
	"{\"type\":\"event\",\"conversation\":\"c1\",\"seq\":3,\"at\":\"t\",\"event\":{\"kind\":\"message\",\"from\":\"ai\",\"author\":\"\xff\xfe\",\"text\":\"not UTF-8 \xc3\",\"attachments\":[],\"client_id\":\"ai-2\"}}",
	"{\"type\":\"event\",\"conversation\":\"c1\",\"seq\":3,\"at\":\"t\",\"event\":{\"kind\":\"message\",\"from\":\"ai\",\"author\":\"\",\"text\":\"a control \x01 character\",\"attachments\":[],\"client_id\":\"ai-2\"}}",
	`{"type":"event","conversation":"c1","seq":3,"at":"t","event":{"kind":"message","from":"ai","author":"","text":"a bad \x escape","attachments":[],"client_id":"ai-2"}}`,
	`{"type":"event","conversation":"c1","seq":3,"at":"t","event":{"kind":"message","from":"ai","author":"","text":"a short \u12 escape","attachments":[],"client_id":"ai-2"}}`,
	`{"type":"event","conversation":"c1","seq":3,"at":"t","event":{"kind":"message","from":"ai","author":"","text":"ends in an escape \`,
	`{"type":"event","conversation":"c1","seq":3,"at":"t","event":{"kind":"message","from":"ai","author":"","text":"\\","attachments":[],"client_id":"ai-2"}}`,
	`{"type":"event","conversation":"01m9643cj27a2acaxyct01pxd8","seq":7,"at":"2026-12-06T16:48:24.519699467Z","event":{"kind":"handoff","target":"helpdesk"}}`,
	`{"type":"event","conversation":"01m9643cj27a2acaxyct01pxd8","seq":8,"at":"2026-12-06T16:48:24.519699467Z","event":{"kind":"message","from":"system","author":"","text":"I'm passing you to our team: a person will answer you here.","attachments":[],"client_id":""}}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":1,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"}],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null}`,
	`{"type":"welcome","visitor":{"logged_in":true,"profile_id":"p_1","name":"Bench Shopper 1"},"chat":{"enabled":true,"can_start":true,"reason":""},"faqs":[{"id":"f1","question":"Where is my order?"},{"id":"f2","question":"How do I return an item?"},],"links":{"terms":null,"privacy":"https://shop.example/privacy"},"office":{"open":false,"message":"Back at nine","next_open":"2026-12-07T09:00:00Z"},"conversation":null}`,
}

// The load tool's fast reading of ack, message and welcome frames gives exactly what
// encoding/json gives, for those frames and for every other shape (which it
// leaves to encoding/json).
func TestBenchDecodeFrameMatchesEncodingJSON(t *testing.T) {
	for _, s := range benchFrameSamples {
		var want, got benchFrame
		wantErr := json.Unmarshal([]byte(s), &want)
		gotErr := benchDecodeFrame([]byte(s), &got)
		if (wantErr != nil) != (gotErr != nil) {
			t.Errorf("%s: error %v, encoding/json %v", s, gotErr, wantErr)
			continue
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", s, got, want)
		}
	}
}

func FuzzBenchDecodeFrame(f *testing.F) {
	for _, s := range benchFrameSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got benchFrame
		wantErr := json.Unmarshal(b, &want)
		gotErr := benchDecodeFrame(b, &got)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("%q: error %v, encoding/json %v", b, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", b, got, want)
		}
	})
}

// The welcomes a default server writes, to a shopper without a chat and to
// one resuming it, are read by the load tool's fast path (a welcome answers
// every connect and every resume of a storm) and give what encoding/json
// gives.
func TestBenchReadsServersWelcomesWithoutReflection(t *testing.T) {
	const secret = "welcome-secret"
	addr := startServer(t, "--identity-secret", secret, "--admin-token", "welcome-admin")
	tok, err := identity.Mint([]byte(secret), engine.Visitor{ProfileID: "bench_welcome", Name: "Bench Shopper"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// hello dials, says hello with resume and returns the socket and its
	// welcome, checked: the fast path reads it as encoding/json does.
	hello := func(resume *wsclient.Resume) (*wsclient.Conn, benchFrame) {
		t.Helper()
		c, err := wsclient.Dial(ctx, "ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		f := map[string]any{"type": "hello", "token": tok}
		if resume != nil {
			f["resume"] = resume
		}
		if err := c.Send(ctx, f); err != nil {
			t.Fatal(err)
		}
		_, raw, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got, want benchFrame
		if !benchScanWelcome(raw, &got) {
			t.Fatalf("the fast path refuses the server's welcome %s", raw)
		}
		if err := json.Unmarshal(raw, &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v (%v)", raw, got, want, err)
		}
		return c, got
	}
	c, w := hello(nil)
	if string(w.Conversation) != "null" {
		t.Fatalf("conversation %s, want null", w.Conversation)
	}
	started, err := c.StartChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, w = hello(&wsclient.Resume{Conversation: started.Conversation, After: 1})
	if want := `{"id":"` + started.Conversation + `","status":"open","last_seq":1}`; string(w.Conversation) != want {
		t.Fatalf("conversation %s, want %s", w.Conversation, want)
	}
}

// The welcome's conversation and an event's conversation id read as
// encoding/json reads them, fast or not.
func TestBenchConversationFieldsMatchEncodingJSON(t *testing.T) {
	for _, raw := range []string{
		`null`, `{"id":"c1","status":"open","last_seq":4}`, `{"id":"c1","status":"ended","last_seq":0}`,
		`{"id":"c\u0031","status":"open","last_seq":4}`, `{"last_seq":4,"id":"c1"}`, `{"ID":"c1","Last_Seq":2}`,
		`{"id":"c1","status":"open","last_seq":4,"x":1}`, `{"id":"c1","status":"open","last_seq":-1}`,
		`null `, `nul`, `{}`, `"c1"`, `[]`,
	} {
		var open *struct {
			ID      string `json:"id"`
			LastSeq uint64 `json:"last_seq"`
		}
		wantErr := json.Unmarshal([]byte(raw), &open)
		id, last, err := benchOpenConversation(json.RawMessage(raw))
		switch {
		case (err != nil) != (wantErr != nil):
			t.Errorf("conversation %s: error %v, encoding/json %v", raw, err, wantErr)
		case wantErr == nil && open == nil && (id != "" || last != 0):
			t.Errorf("conversation %s: got %q %d, want none", raw, id, last)
		case wantErr == nil && open != nil && (id != open.ID || last != open.LastSeq):
			t.Errorf("conversation %s: got %q %d, want %q %d", raw, id, last, open.ID, open.LastSeq)
		}
	}
	for _, raw := range []string{`"c1"`, `"01JD8Z3K4Q5R6S7T8V9W0XYZAB"`, `"c\u0031"`, `"\u00e5"`, `""`, `null`, `1`, `"c1`, `"c1" `} {
		var want string
		wantErr := json.Unmarshal([]byte(raw), &want)
		got, err := benchString(json.RawMessage(raw))
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("string %s: got %q %v, want %q %v", raw, got, err, want, wantErr)
		}
	}
}

// The AI's answer, one for every question, is read without reflection
// though its text is not ASCII, and so is a handoff's notice.
func TestBenchReadsAIAnswersWithoutReflection(t *testing.T) {
	for _, s := range []string{
		`{"type":"event","conversation":"c1","seq":3,"at":"2026-12-06T16:48:23.91865813Z","event":{"kind":"message","from":"ai","author":"AI assistant","text":"You can follow your parcel from the link in your shipping confirmation e-mail. Orders ship within 1–2 business days.","attachments":[],"client_id":"ai-2"}}`,
		`{"type":"event","conversation":"c1","seq":8,"at":"2026-12-06T16:48:24.519699467Z","event":{"kind":"message","from":"system","author":"","text":"I'm passing you to our team: \"a person\" will answer you here.\n","attachments":[],"client_id":""}}`,
	} {
		var f benchFrame
		if !benchScanEvent([]byte(s), &f) || f.Event.From == "" || f.Seq == 0 {
			t.Errorf("the fast path refuses %s (%+v)", s, f)
		}
	}
}
