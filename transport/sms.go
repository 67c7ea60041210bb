package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/twilio"
)

// SMS is the SMS channel (PROTOCOL §3, I2): the texts customers send the
// store's number, and the provider's reports of the agents' answers.
type SMS interface {
	Settings() engine.Settings
	SMSInbound(ctx context.Context, in actors.InboundSMS) (actors.Posted, error)
	SMSStatus(ctx context.Context, conversation string, seq uint64, status, errText string) error
}

// The provider's webhooks. They carry no bearer token: the provider signs
// them with the account's auth token instead.
const (
	smsInboundPath = "/api/v1/channels/sms/inbound"
	smsStatusPath  = "/api/v1/channels/sms/status"
)

func (s *Server) smsRoutes() {
	s.mux.HandleFunc("POST "+smsInboundPath, s.smsInbound)
	s.mux.HandleFunc("POST "+smsStatusPath, s.smsStatus)
}

// SMSCallbacks makes the URLs where the SMS provider reports what became
// of an agent's message: on the public URL when the server has one, else on
// the address the provider itself reached the server at, as learnt from
// the latest inbound webhook that verified (Twilio signs the URL it called,
// so that address is one it can reach). Safe for concurrent use.
type SMSCallbacks struct {
	public string
	learnt atomic.Pointer[string]
}

// NewSMSCallbacks returns the callbacks of a server reached at publicURL
// ("" when it has none).
func NewSMSCallbacks(publicURL string) *SMSCallbacks {
	return &SMSCallbacks{public: strings.TrimRight(publicURL, "/")}
}

// URL is where the provider reports on message seq of an SMS ticket, or ""
// while no address is known (no public URL, and no text came in since the
// start).
func (c *SMSCallbacks) URL(conversation string, seq uint64) string {
	base := c.public
	if base == "" {
		if p := c.learnt.Load(); p != nil {
			base = *p
		}
	}
	if base == "" {
		return ""
	}
	q := url.Values{"conversation": {conversation}, "seq": {strconv.FormatUint(seq, 10)}}
	return base + smsStatusPath + "?" + q.Encode()
}

// learn keeps the address a verified provider webhook came to.
func (c *SMSCallbacks) learn(base string) {
	if c != nil && c.public == "" {
		c.learnt.Store(&base)
	}
}

// emptyTwiML answers the provider's inbound webhook: received, nothing to
// reply automatically.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// smsForm reads and verifies a provider's webhook: the form, signed with
// the auth token over the URL it called and every parameter. A request
// that does not verify has answered 403, and nothing is stored.
func (s *Server) smsForm(w http.ResponseWriter, r *http.Request) (url.Values, engine.SMSSettings, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	settings := s.sms.Settings().SMS
	if !settings.Enabled || settings.AuthToken == "" {
		s.writeError(w, r, engine.Errorf(engine.CodeForbidden, "SMS is not enabled"))
		return nil, settings, false
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/x-www-form-urlencoded" {
		s.writeError(w, r, errMediaType)
		return nil, settings, false
	}
	if err := r.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			s.writeError(w, r, errTooLarge)
		} else {
			s.writeError(w, r, engine.Errorf(engine.CodeInvalid, "the body is not a form"))
		}
		return nil, settings, false
	}
	base := s.baseURL(r)
	if !twilio.Valid(settings.AuthToken, base+r.URL.RequestURI(), r.PostForm, r.Header.Get("X-Twilio-Signature")) {
		s.m.smsRefused.Inc()
		s.writeError(w, r, engine.Errorf(engine.CodeForbidden, "the request's X-Twilio-Signature does not verify"))
		return nil, settings, false
	}
	s.cfg.SMSCallbacks.learn(base)
	return r.PostForm, settings, true
}

func (s *Server) smsInbound(w http.ResponseWriter, r *http.Request) {
	form, settings, ok := s.smsForm(w, r)
	if !ok {
		return
	}
	in := actors.InboundSMS{From: form.Get("From"), Text: form.Get("Body"), ProviderID: form.Get("MessageSid")}
	in.Attachments, in.Text = s.smsMedia(r, settings, form, in.Text)
	posted, err := s.sms.SMSInbound(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !posted.Duplicate {
		s.m.messages.WithLabelValues(string(posted.Channel), "in").Inc()
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, emptyTwiML)
}

// maxSMSMedia is how many pictures of one text are kept (Twilio sends at
// most 10).
const maxSMSMedia = engine.MaxAttachments

// smsMedia fetches the pictures a text carries (MMS) into Parley's
// uploads, so that the inbox shows them like any other; what cannot be
// fetched, or is not a picture, is named in the text instead.
func (s *Server) smsMedia(r *http.Request, settings engine.SMSSettings, form url.Values, text string) ([]engine.Attachment, string) {
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	n = min(n, maxSMSMedia)
	var out []engine.Attachment
	missed := 0
	for i := range n {
		a, err := s.fetchSMSMedia(r, settings, form.Get(fmt.Sprintf("MediaUrl%d", i)))
		if err != nil {
			s.log.Warn("SMS picture not kept", "err", err)
			missed++
			continue
		}
		out = append(out, a)
	}
	if missed > 0 {
		note := fmt.Sprintf("(%d attachment(s) of this text could not be shown)", missed)
		text = strings.TrimSpace(text + "\n" + note)
	}
	return out, text
}

func (s *Server) fetchSMSMedia(r *http.Request, settings engine.SMSSettings, raw string) (engine.Attachment, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return engine.Attachment{}, fmt.Errorf("media URL %q", raw)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return engine.Attachment{}, err
	}
	// The provider's media may need its credentials; Go drops them on a
	// redirect to another host (Twilio redirects to its storage).
	req.SetBasicAuth(settings.AccountSID, settings.AuthToken)
	resp, err := s.mediaClient.Do(req)
	if err != nil {
		return engine.Attachment{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return engine.Attachment{}, fmt.Errorf("media %s: %s", u.Redacted(), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxUploadBytes+1))
	if err != nil {
		return engine.Attachment{}, err
	}
	if int64(len(data)) > s.cfg.MaxUploadBytes {
		return engine.Attachment{}, fmt.Errorf("media %s is larger than %d bytes", u.Redacted(), s.cfg.MaxUploadBytes)
	}
	up, err := s.keepImage(ctx, data, engine.PartyShopper, "")
	if err != nil {
		return engine.Attachment{}, err
	}
	return engine.Attachment{URL: s.uploadURL(r, up.Name), ContentType: up.ContentType}, nil
}

func (s *Server) smsStatus(w http.ResponseWriter, r *http.Request) {
	form, _, ok := s.smsForm(w, r)
	if !ok {
		return
	}
	conv := r.URL.Query().Get("conversation")
	if !engine.ValidID(conv) {
		s.writeError(w, r, engine.Invalid("conversation", "the callback URL names no conversation"))
		return
	}
	seq, err := strconv.ParseUint(r.URL.Query().Get("seq"), 10, 64)
	if err != nil || seq == 0 {
		s.writeError(w, r, engine.Invalid("seq", "the callback URL names no message"))
		return
	}
	errText := ""
	if code := form.Get("ErrorCode"); code != "" {
		errText = "error " + code
		if msg := form.Get("ErrorMessage"); msg != "" {
			errText += ": " + msg
		}
	}
	if err := s.sms.SMSStatus(r.Context(), conv, seq, form.Get("MessageStatus"), errText); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
