package twilio_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/httpcall"
	"github.com/parley-chat/parley/transport/twilio"
)

// A Client is the SMS sender: built once in main, called by the outbox
// with the SMS settings of the moment and the entry's key, which stays the
// same on every attempt at one text. Here a stand-in answers for
// https://api.twilio.com.
func ExampleClient_Send() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM9f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e","status":"queued"}`)
	}))
	defer api.Close()

	var sender engine.SMSSender = &twilio.Client{Client: httpcall.Client{HTTPClient: api.Client()}}
	settings := engine.SMSSettings{
		Enabled:    true,
		Provider:   engine.ProviderTwilio,
		AccountSID: "AC0123456789abcdef0123456789abcdef",
		AuthToken:  "…",
		From:       "+46766861004",
		BaseURL:    api.URL, // empty: https://api.twilio.com
	}
	reply := engine.SMS{To: "+46701234567", Body: "Hej Ana! Din order skickades i dag."}
	fmt.Println("segments:", twilio.Segments(reply.Body))

	sid, err := sender.Send(context.Background(), settings, "sms/01JEXAMPLE/7", reply)
	switch {
	case err == nil:
		fmt.Println("queued as", sid)
	case twilio.IsUnsubscribed(err):
		// the shopper texted STOP: nothing reaches them until START
	case engine.IsPermanent(err):
		// refused for good (settings, an invalid number): tell the agent
	default:
		// a timeout, a 5xx, a 429 (engine.RetryDelay says how long to
		// wait): try again later
	}
	// Output:
	// segments: 1
	// queued as SM9f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e
}

// A webhook checks that a request comes from Twilio before it reads it:
// the signature is over the URL that Twilio was given, as the settings
// wrote it (not as a proxy may have rewritten it), and the form's
// parameters.
func ExampleValid() {
	const authToken = "f2c9d1e0b8a7f6e5d4c3b2a190817263"
	const webhookURL = "https://chat.acme.example/sms/twilio"

	inbound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if !twilio.Valid(authToken, webhookURL, r.PostForm, r.Header.Get(twilio.SignatureHeader)) {
			http.Error(w, "not signed by Twilio", http.StatusForbidden)
			return
		}
		fmt.Printf("text from %s: %s\n", r.PostForm.Get("From"), r.PostForm.Get("Body"))
	})

	form := url.Values{"MessageSid": {"SM1"}, "From": {"+46701234567"}, "To": {"+46766861004"}, "Body": {"Var är mitt paket?"}}
	for _, sig := range []string{twilio.Signature(authToken, webhookURL, form), "forged"} {
		r := httptest.NewRequest(http.MethodPost, webhookURL, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(twilio.SignatureHeader, sig)
		w := httptest.NewRecorder()
		inbound.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// text from +46701234567: Var är mitt paket?
	// 200
	// 403
}
