package smtp_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/smtp"
)

// A Mailer is the e-mail Notifier: built once in main, called by the
// outbox with the settings of the moment and the notice's key, which stays
// the same on every attempt at one notice.
func ExampleMailer_NewTicket() {
	var notifier engine.Notifier = &smtp.Mailer{PublicURL: "https://chat.example.com"}

	settings := engine.EmailSettings{
		Enabled: true,
		To:      []string{"team@example.com"},
		From:    "parley@example.com",
		SMTP:    engine.SMTPSettings{Addr: "smtp.example.com:587", Username: "parley", Password: "…"},
	}
	notice := engine.NewTicketNotice{
		Ticket:  "01JEXAMPLE",
		Channel: engine.ChannelWebchat,
		Name:    "Ana Svensson",
		Email:   "ana@example.com",
		Text:    "Hi! Where is my order?",
		At:      time.Now(),
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := notifier.NewTicket(ctx, settings, "t/01JEXAMPLE/1/email", notice)
	switch {
	case err == nil:
		// sent: the server has accepted the message
	case engine.IsPermanent(err):
		// a 5xx reply, an invalid address, a password that would go in the
		// clear: the settings must change; give up on this notice
		slog.Error("new-ticket e-mail failed", "err", err)
	default:
		// a 4xx reply, a network error, a timeout: try again later
		slog.Warn("new-ticket e-mail will be retried", "err", err)
	}
}
