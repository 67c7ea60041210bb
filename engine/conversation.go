package engine

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what a message may carry. They keep one client from filling the
// log, the inbox and every socket with a single frame.
const (
	MaxTextRunes   = 4000
	MaxAttachments = 10
	MaxClientIDLen = 128
	PreviewRunes   = 140
	// RecentClientIDs is how many client_ids a conversation's state keeps:
	// a client re-sends only what was in flight when its connection broke,
	// so the recent ones answer nearly every repeat without a read.
	RecentClientIDs = 64
	MaxNameRunes    = 200
	MaxWelcomeRunes = 1000
)

// Conversation is the state of one chat: the log every client of it sees.
// A conversation becomes a ticket with its first shopper message (S6); the
// Helpdesk-only part of the ticket is Ticket. Snapshots store this struct as
// JSON by these tags: rename a tag only with a new snapshot version.
type Conversation struct {
	ID          string    `json:"id"`
	ProfileID   string    `json:"profile_id"`
	ProfileName string    `json:"profile_name"`
	Channel     Channel   `json:"channel"`
	LastSeq     uint64    `json:"last_seq"`
	StartedAt   time.Time `json:"started_at"`
	Ended       bool      `json:"ended"`

	// ClientIDs maps the client_ids of the latest RecentClientIDs messages
	// to their seqs, per sender side, so that a repeated send is answered
	// without a storage read. Older ones are forgotten here, so a long chat
	// does not grow its state; storage's idempotency index still refuses
	// them. ClientIDOrder is the order they were added, oldest first.
	ClientIDs     map[string]uint64 `json:"client_ids"`
	ClientIDOrder []string          `json:"client_id_order"`

	ShopperSeen    uint64 `json:"shopper_seen"`     // the shopper has seen up to here (S11)
	AgentSeen      uint64 `json:"agent_seen"`       // an agent has seen up to here (H7)
	LastShopperMsg uint64 `json:"last_shopper_msg"` // seq of the latest shopper message
	LastAgentMsg   uint64 `json:"last_agent_msg"`   // seq of the latest agent or AI message

	Assignee     *AgentRef `json:"assignee"`
	AI           bool      `json:"ai"`         // the AI agent answers first (S10), until a handoff to people
	HandedOff    string    `json:"handed_off"` // the people it was handed to: helpdesk, zendesk or gorgias
	AwayUntil    time.Time `json:"away_until"` // the away period whose notice the shopper has had (S9)
	Preview      string    `json:"preview"`
	ActivityAt   time.Time `json:"activity_at"`   // last message or end: orders the inbox
	WaitingSince time.Time `json:"waiting_since"` // first shopper message not yet answered; zero if none
}

// NewConversation returns the empty state of conversation id, before its
// first event.
func NewConversation(id string) *Conversation {
	return &Conversation{ID: id, ClientIDs: map[string]uint64{}}
}

// IsTicket reports whether the conversation has become a ticket (S6): with
// its first shopper message, or, while the AI agent answers it, only when
// it is handed to the Helpdesk (S10); one handed to Zendesk or Gorgias is
// theirs, not a Parley ticket.
func (c *Conversation) IsTicket() bool {
	return c.LastShopperMsg > 0 && !c.AI && (c.HandedOff == "" || c.HandedOff == HandoffHelpdesk)
}

// Open reports whether the conversation has started and not ended.
func (c *Conversation) Open() bool { return c.LastSeq > 0 && !c.Ended }

// clientKey scopes a client_id to the side that sent it: a shopper and an
// agent choosing the same client_id must not collide.
func clientKey(from Party, clientID string) string {
	return string(from) + "/" + clientID
}

// Decide turns a command into the events it causes, or refuses it. It never
// changes c. A message repeating one of the recent client_ids returns
// *Duplicate; an older repeat is refused by storage's idempotency index.
func (c *Conversation) Decide(cmd Command) ([]Event, error) {
	switch cmd := cmd.(type) {
	case StartConversation:
		return c.decideStart(cmd)
	case PostMessage:
		return c.decideMessage(cmd)
	case MarkSeen:
		return c.decideSeen(cmd)
	case AssignTicket:
		return c.decideAssign(cmd)
	case EndConversation:
		return c.decideEnd(cmd)
	case HandOff:
		return c.decideHandOff(cmd)
	}
	return nil, Errorf(CodeInvalid, "unknown command %T", cmd)
}

func (c *Conversation) next(e Event) Event {
	e.Seq = c.LastSeq + 1
	return e
}

func (c *Conversation) decideStart(cmd StartConversation) ([]Event, error) {
	if c.LastSeq > 0 {
		return nil, Errorf(CodeConflict, "conversation %s already started", c.ID)
	}
	if !ValidProfileID(cmd.ProfileID) {
		return nil, Invalid("profile_id", "must be 1 to %d bytes of text without control characters", MaxProfileIDBytes)
	}
	ch := cmd.Channel
	if ch == "" {
		ch = ChannelWebchat
	}
	return []Event{c.next(Event{
		At: cmd.At, Kind: KindStarted, Welcome: cmd.Welcome,
		ProfileID: cmd.ProfileID, ProfileName: clip(cmd.ProfileName, MaxNameRunes), Channel: ch, AI: cmd.AI,
	})}, nil
}

func (c *Conversation) decideMessage(cmd PostMessage) ([]Event, error) {
	if c.LastSeq == 0 {
		return nil, ErrNoOpenConversation
	}
	// A repeat is answered with the original seq even after the end: the
	// client only lost the first acknowledgement.
	if seq, ok := c.ClientIDs[clientKey(cmd.From, cmd.ClientID)]; ok && cmd.ClientID != "" {
		return nil, &Duplicate{ClientID: cmd.ClientID, Seq: seq}
	}
	if c.Ended {
		return nil, ErrClosed
	}
	if err := ValidateMessage(cmd.ClientID, cmd.Text, cmd.Attachments); err != nil {
		return nil, err
	}
	switch cmd.From {
	case PartyShopper, PartyAgent, PartyAI, PartySystem:
	default:
		return nil, Invalid("from", "unknown party %q", cmd.From)
	}
	if c.Channel == ChannelSMS && cmd.From == PartyAgent && utf8.RuneCountInString(cmd.Text) > MaxSMSRunes {
		return nil, Invalid("text", "is longer than %d characters, the most an SMS can carry", MaxSMSRunes)
	}
	msg := c.next(Event{
		At: cmd.At, Kind: KindMessage, From: cmd.From, AuthorID: cmd.AuthorID,
		Author: clip(cmd.Author, MaxNameRunes), Text: cmd.Text, Attachments: cmd.Attachments,
		ClientID: cmd.ClientID,
	})
	events := []Event{msg}
	// H6: replying assigns an unassigned ticket to the replying agent.
	if cmd.From == PartyAgent && c.Assignee == nil && cmd.AuthorID != "" {
		events = append(events, Event{
			Seq: msg.Seq + 1, At: cmd.At, Kind: KindAssigned,
			Agent: &AgentRef{ID: cmd.AuthorID, Name: msg.Author},
		})
	}
	return events, nil
}

// ValidateMessage checks a message's client-chosen parts, naming the field at fault.
func ValidateMessage(clientID, text string, attachments []Attachment) error {
	if err := ValidateClientID(clientID); err != nil {
		return err
	}
	switch {
	case !utf8.ValidString(text):
		return Invalid("text", "is not valid UTF-8")
	case strings.TrimSpace(text) == "" && len(attachments) == 0:
		return Invalid("text", "is empty")
	case utf8.RuneCountInString(text) > MaxTextRunes:
		return Invalid("text", "is longer than %d characters", MaxTextRunes)
	case len(attachments) > MaxAttachments:
		return Invalid("attachments", "more than %d", MaxAttachments)
	}
	for _, a := range attachments {
		if !isHTTPURL(a.URL) {
			return Invalid("attachments.url", "must be an http(s) URL")
		}
		if a.ContentType == "" || len(a.ContentType) > 100 {
			return Invalid("attachments.content_type", "is required")
		}
	}
	return nil
}

// ValidateClientID checks the client_id a message is sent with.
func ValidateClientID(clientID string) error {
	switch {
	case clientID == "":
		return Invalid("client_id", "is required")
	case len(clientID) > MaxClientIDLen:
		return Invalid("client_id", "is longer than %d bytes", MaxClientIDLen)
	}
	return nil
}

func (c *Conversation) decideSeen(cmd MarkSeen) ([]Event, error) {
	if c.LastSeq == 0 {
		return nil, ErrNoOpenConversation
	}
	if c.Ended {
		return nil, ErrClosed
	}
	if cmd.UpTo > c.LastSeq {
		return nil, Invalid("seq", "%d is past the last event %d", cmd.UpTo, c.LastSeq)
	}
	var mark uint64
	switch cmd.By {
	case PartyShopper:
		mark = c.ShopperSeen
	case PartyAgent:
		mark = c.AgentSeen
	default:
		return nil, Invalid("by", "unknown party %q", cmd.By)
	}
	if cmd.UpTo <= mark {
		return nil, nil // a receipt that does not move the mark records nothing
	}
	return []Event{c.next(Event{At: cmd.At, Kind: KindSeen, By: cmd.By, UpTo: cmd.UpTo})}, nil
}

func (c *Conversation) decideAssign(cmd AssignTicket) ([]Event, error) {
	if c.LastSeq == 0 {
		return nil, ErrNotFound
	}
	if c.Ended {
		return nil, ErrClosed
	}
	if sameAgent(c.Assignee, cmd.Agent) {
		return nil, nil
	}
	return []Event{c.next(Event{At: cmd.At, Kind: KindAssigned, Agent: cmd.Agent})}, nil
}

func (c *Conversation) decideEnd(cmd EndConversation) ([]Event, error) {
	if c.LastSeq == 0 {
		return nil, ErrNoOpenConversation
	}
	if c.Ended {
		return nil, ErrClosed
	}
	return []Event{c.next(Event{At: cmd.At, Kind: KindEnded, By: cmd.By})}, nil
}

// Apply folds one event into the state. Events must come in seq order; one
// that is not the next is ignored, so replaying a log twice is harmless.
func (c *Conversation) Apply(e Event) {
	if !c.fold(e) {
		return
	}
	if e.Kind == KindMessage && e.ClientID != "" {
		c.remember(clientKey(e.From, e.ClientID), e.Seq)
	}
}

// After returns the state c will be in once events are applied, without
// changing c. It is for what must be stored in the same batch as the events
// (the inbox row) while the events may not be applied yet: decide → persist
// → apply. It copies the struct and nothing more: the result has no memory
// of client ids (ClientIDs and ClientIDOrder are nil), so it shares nothing
// with c that either could change under the other. It is a value to read
// (Row, Open, IsTicket), not a state to keep.
func (c *Conversation) After(events []Event) Conversation {
	next := *c
	next.ClientIDs, next.ClientIDOrder = nil, nil
	for _, e := range events {
		next.fold(e)
	}
	return next
}

// fold applies everything of e but the memory of its client id, and
// reports whether e was the next event.
func (c *Conversation) fold(e Event) bool {
	if e.Seq != c.LastSeq+1 {
		return false
	}
	c.LastSeq = e.Seq
	switch e.Kind {
	case KindStarted:
		c.ProfileID, c.ProfileName, c.Channel = e.ProfileID, e.ProfileName, e.Channel
		c.StartedAt, c.ActivityAt = e.At, e.At
		c.AI = e.AI
	case KindHandoff:
		if e.Target != HandoffMessage { // people take over
			c.AI, c.HandedOff = false, e.Target
		}
	case KindMessage:
		c.applyMessage(e)
	case KindSeen:
		if e.By == PartyShopper {
			c.ShopperSeen = e.UpTo
		} else {
			c.AgentSeen = e.UpTo
		}
	case KindAssigned:
		c.Assignee = e.Agent
	case KindEnded:
		c.Ended = true
		c.ActivityAt = e.At
		c.WaitingSince = time.Time{}
	}
	return true
}

func (c *Conversation) applyMessage(e Event) {
	if e.From == PartySystem {
		// The system's notices (the away message) are the shopper's to
		// read; the ticket's preview and place in the list stay with the
		// people in the conversation.
		if !e.AwayUntil.IsZero() {
			c.AwayUntil = e.AwayUntil
		}
		return
	}
	c.Preview = preview(e)
	c.ActivityAt = e.At
	switch e.From {
	case PartyShopper:
		c.LastShopperMsg = e.Seq
		if c.WaitingSince.IsZero() {
			c.WaitingSince = e.At
		}
	case PartyAgent, PartyAI:
		c.LastAgentMsg = e.Seq
		c.WaitingSince = time.Time{}
	}
}

// remember records a client_id's seq, forgetting the oldest beyond
// RecentClientIDs.
func (c *Conversation) remember(key string, seq uint64) {
	if c.ClientIDs == nil {
		c.ClientIDs = map[string]uint64{}
	}
	if _, ok := c.ClientIDs[key]; !ok {
		c.ClientIDOrder = append(c.ClientIDOrder, key)
	}
	c.ClientIDs[key] = seq
	if len(c.ClientIDOrder) > RecentClientIDs {
		delete(c.ClientIDs, c.ClientIDOrder[0])
		c.ClientIDOrder[0] = ""
		c.ClientIDOrder = c.ClientIDOrder[1:]
	}
}

func preview(e Event) string {
	text := collapseSpace(e.Text)
	if text == "" && len(e.Attachments) > 0 {
		text = "[attachment]"
	}
	return clip(text, PreviewRunes)
}

// collapseSpace joins the words of s with single spaces, as
// strings.Join(strings.Fields(s), " ") does, but returns s itself, without
// allocating, when it is already so: the common case for every message.
func collapseSpace(s string) string {
	prevSpace := true // a leading space is not already collapsed
	for _, r := range s {
		space := unicode.IsSpace(r)
		if space && (r != ' ' || prevSpace) {
			return strings.Join(strings.Fields(s), " ")
		}
		prevSpace = space
	}
	if prevSpace && s != "" { // a trailing space
		return strings.Join(strings.Fields(s), " ")
	}
	return s
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func sameAgent(a, b *AgentRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID
}

func isHTTPURL(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && len(s) > len("https://") && len(s) <= 2048
}

// decideHandOff hands the conversation from the AI agent to people, or
// answers with the store's message (S10): a handoff event, then the notice
// to the shopper if there is one. A conversation already with people, or
// ended, refuses.
func (c *Conversation) decideHandOff(cmd HandOff) ([]Event, error) {
	switch {
	case c.LastSeq == 0:
		return nil, ErrNoOpenConversation
	case c.Ended:
		return nil, ErrClosed
	case cmd.Target != HandoffHelpdesk && cmd.Target != HandoffZendesk && cmd.Target != HandoffGorgias && cmd.Target != HandoffMessage:
		return nil, Invalid("target", "unknown handoff target %q", cmd.Target)
	case !c.AI && !(cmd.Target == HandoffHelpdesk && c.HandedOff != "" && c.HandedOff != HandoffHelpdesk):
		// Only the AI hands off; a failed external handoff falls back to the Helpdesk.
		return nil, Errorf(CodeConflict, "the conversation is with people already")
	}
	events := []Event{c.next(Event{At: cmd.At, Kind: KindHandoff, Target: cmd.Target})}
	if cmd.Notice != "" {
		events = append(events, Event{Seq: events[0].Seq + 1, At: cmd.At, Kind: KindMessage,
			From: PartySystem, Text: clip(cmd.Notice, MaxTextRunes)})
	}
	return events, nil
}

// Summary is text on one line, clipped to n characters: a subject line.
func Summary(text string, n int) string { return clip(collapseSpace(text), n) }
