package engine

import (
	"testing"
	"time"
)

// I2: a provider's reports of a text take it forward only — delivered
// beats sent beats queued, a failure is final — and only on an SMS
// ticket; each report that counts is one ticket event.
func TestDeliveryReportsOnlyGoForward(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	c := NewConversation("c1")
	for _, e := range []Event{
		{Seq: 1, At: at, Kind: KindStarted, ProfileID: "tel:+46701234567", Channel: ChannelSMS},
		{Seq: 2, At: at, Kind: KindMessage, From: PartyAgent, Text: "Hi"},
	} {
		c.Apply(e)
	}
	var tk Ticket
	report := func(status string) int {
		t.Helper()
		evs, err := tk.DecideDelivery(c, ReportDelivery{Of: 2, Status: status, At: at})
		if err != nil {
			t.Fatalf("%s: %v", status, err)
		}
		for _, e := range evs {
			tk.Apply(e)
		}
		return len(evs)
	}
	for _, step := range []struct {
		status string
		stored int
		now    string
	}{
		{SMSQueued, 1, SMSQueued}, {SMSDelivered, 1, SMSDelivered}, {SMSSent, 0, SMSDelivered},
		{SMSQueued, 0, SMSDelivered}, {SMSUndelivered, 1, SMSUndelivered}, {SMSDelivered, 0, SMSUndelivered},
	} {
		if n := report(step.status); n != step.stored || tk.Deliveries[2].Status != step.now {
			t.Fatalf("report %s: %d stored, status now %s; want %d, %s", step.status, n, tk.Deliveries[2].Status, step.stored, step.now)
		}
	}
	if _, err := tk.DecideDelivery(c, ReportDelivery{Of: 9, Status: SMSSent, At: at}); ErrorCode(err) != CodeInvalid {
		t.Errorf("a report of no message: %v", err)
	}
	if _, err := tk.DecideDelivery(c, ReportDelivery{Of: 2, Status: "read", At: at}); ErrorCode(err) != CodeInvalid {
		t.Errorf("an unknown status: %v", err)
	}
	web := NewConversation("c2")
	web.Apply(Event{Seq: 1, At: at, Kind: KindStarted, ProfileID: "p1", Channel: ChannelWebchat})
	if _, err := tk.DecideDelivery(web, ReportDelivery{Of: 1, Status: SMSSent, At: at}); ErrorCode(err) != CodeNotFound {
		t.Errorf("a report on a web chat: %v", err)
	}
	// After copies what it changes: the state is untouched until applied.
	before := tk.Deliveries[2]
	next := tk.After([]TicketEvent{{Seq: tk.LastSeq + 1, At: at, Kind: TicketDelivery, AtSeq: 2, Status: SMSFailed}})
	if tk.Deliveries[2] != before || next.Deliveries[2].Status != SMSFailed {
		t.Errorf("After changed the state: %+v, next %+v", tk.Deliveries[2], next.Deliveries[2])
	}
}
