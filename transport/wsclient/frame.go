package wsclient

import (
	"encoding/json"
	"fmt"
)

// Frame is one server frame. Which fields are set depends on Type, as §2
// of the contract says; a frame of a type added after this package keeps
// its Type and Raw, and whatever fields it shares with these.
type Frame struct {
	Type string `json:"type"`

	// event and ack
	Conversation string `json:"conversation"` // its id (welcome has Welcome.Conversation instead)
	Seq          uint64 `json:"seq"`
	At           string `json:"at"`    // event: RFC 3339, as sent
	Event        Event  `json:"event"` // event

	// ack, error
	ClientID string `json:"client_id"`

	// error
	Code    string `json:"code"`
	Message string `json:"message"`

	// faq.answer
	FAQ      string `json:"faq"`
	Question string `json:"question"`
	Answer   string `json:"answer"`

	// typing
	From string `json:"from"`

	// Welcome is the welcome frame, decoded (its conversation is an object,
	// not an id); nil for every other type.
	Welcome *Welcome `json:"-"`

	// Raw is the frame as it was read.
	Raw []byte `json:"-"`
}

// Event is an event frame's `event`: one entry of a conversation's log.
type Event struct {
	Kind        string       `json:"kind"` // started, message, seen, assigned, handoff, ended
	Welcome     string       `json:"welcome"`
	From        string       `json:"from"` // message: shopper, agent, ai or system
	Author      string       `json:"author"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments"` // nil when absent or null
	ClientID    string       `json:"client_id"`
	By          string       `json:"by"` // seen, ended
	UpTo        uint64       `json:"up_to"`
	Agent       *Agent       `json:"agent"` // assigned: nil when unassigned
	Target      string       `json:"target"`
}

// Attachment is an image a message carries.
type Attachment struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

// Agent is who an assigned event names.
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Welcome answers hello.
type Welcome struct {
	Visitor Visitor `json:"visitor"`
	Chat    Chat    `json:"chat"`
	FAQs    []FAQ   `json:"faqs"` // the published ones, in order
	Links   Links   `json:"links"`
	Office  Office  `json:"office"`
	// Conversation is the visitor's open conversation, nil when none.
	Conversation *OpenConversation `json:"conversation"`
}

// Visitor is who the server takes the socket's visitor for.
type Visitor struct {
	LoggedIn  bool    `json:"logged_in"`
	ProfileID *string `json:"profile_id"` // nil for an anonymous visitor
	Name      *string `json:"name"`
}

// Chat says whether the visitor may start a live chat, and why not.
type Chat struct {
	Enabled  bool   `json:"enabled"`
	CanStart bool   `json:"can_start"`
	Reason   string `json:"reason"`
}

// FAQ is a question the widget offers; faq.pick with its ID answers it.
type FAQ struct {
	ID       string `json:"id"`
	Question string `json:"question"`
}

// Links are the store's terms and privacy pages.
type Links struct {
	Terms   *string `json:"terms"`
	Privacy *string `json:"privacy"`
}

// Office says whether the support team is in.
type Office struct {
	Open    bool    `json:"open"`
	Message *string `json:"message"`
}

// OpenConversation is welcome.conversation.
type OpenConversation struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	LastSeq uint64 `json:"last_seq"`
}

// Decode decodes one server frame; raw becomes the frame's Raw.
func Decode(raw []byte) (*Frame, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("wsclient: frame %q: %w", raw, err)
	}
	f := &Frame{Raw: raw}
	var err error
	if head.Type == "welcome" {
		f.Type, f.Welcome = head.Type, new(Welcome)
		err = json.Unmarshal(raw, f.Welcome)
	} else {
		err = json.Unmarshal(raw, f)
	}
	if err != nil {
		return nil, fmt.Errorf("wsclient: %s frame %q: %w", head.Type, raw, err)
	}
	return f, nil
}
