package transport

import (
	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
)

type welcomeFrame struct {
	Type         string                   `json:"type"`
	Visitor      visitorJSON              `json:"visitor"`
	Chat         engine.ChatState         `json:"chat"`
	FAQs         []faqRef                 `json:"faqs"`
	Links        linksJSON                `json:"links"`
	Office       officeJSON               `json:"office"`
	Conversation *actors.ConversationInfo `json:"conversation"`
}

type visitorJSON struct {
	LoggedIn  bool    `json:"logged_in"`
	ProfileID *string `json:"profile_id"`
	Name      *string `json:"name"`
}

type faqRef struct {
	ID       string `json:"id"`
	Question string `json:"question"`
}

type linksJSON struct {
	Terms   *string `json:"terms"`
	Privacy *string `json:"privacy"`
}

// officeJSON is welcome.office: whether the team is in and, while it is
// away, the away message (saying when it is back) and that time (an
// addition to the contract: next_open, RFC 3339, null while in or when the
// team never comes back).
type officeJSON struct {
	Open     bool    `json:"open"`
	Message  *string `json:"message"`
	NextOpen *string `json:"next_open"`
}

// welcome is the answer to hello: who the visitor is and what they may do.
func (s *Server) welcome(v engine.Visitor, open *actors.ConversationInfo) welcomeFrame {
	set := s.chat.Settings()
	w := welcomeFrame{
		Type:         "welcome",
		Visitor:      visitorJSON{LoggedIn: v.LoggedIn()},
		Chat:         set.Chat(v.LoggedIn()),
		FAQs:         []faqRef{},
		Links:        linksJSON{Terms: nonEmpty(set.Links.TermsURL), Privacy: nonEmpty(set.Links.PrivacyURL)},
		Conversation: open,
	}
	if v.LoggedIn() {
		w.Visitor.ProfileID, w.Visitor.Name = &v.ProfileID, &v.Name
	}
	if w.Chat.Enabled {
		for _, f := range engine.PublishedFAQs(s.chat.FAQs()) {
			w.FAQs = append(w.FAQs, faqRef{ID: f.ID, Question: f.Question})
		}
	}
	now := s.cfg.Now()
	w.Office.Open = set.OfficeHours.Open(now)
	if !w.Office.Open {
		w.Office.Message = nonEmpty(set.OfficeHours.AwayText(now))
		if back, ok := set.OfficeHours.NextOpen(now); ok {
			w.Office.NextOpen = wireTimePtr(&back)
		}
	}
	return w
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
