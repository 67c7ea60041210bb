package engine_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

func stockholm(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// S9, C3: when a team that is away is back, and what the away message says,
// for a working week, a closed day, a schedule across midnight and a change
// to daylight saving time.
func TestOfficeHoursNextOpen(t *testing.T) {
	loc := stockholm(t)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	week := map[string][][2]string{
		"mon": {{"09:00", "17:00"}}, "tue": {{"09:00", "17:00"}}, // wednesday closed
		"thu": {{"09:00", "12:00"}, {"13:00", "17:00"}}, "fri": {{"09:00", "17:00"}, {"20:00", "24:00"}},
		"sat": {{"00:00", "02:00"}},
	}
	o := engine.OfficeHours{Enabled: true, TimeZone: "Europe/Stockholm", Weekly: week, AwayMessage: "We're away."}
	for _, tc := range []struct {
		name     string
		now      time.Time
		open     bool
		back     time.Time
		sentence string
	}{
		{"open on a monday", at(2026, 12, 7, 10, 0), true, at(2026, 12, 7, 10, 0), ""},
		{"before opening", at(2026, 12, 7, 7, 30), false, at(2026, 12, 7, 9, 0), "We're away. We're back today at 09:00 CET."},
		{"a closed day in between", at(2026, 12, 8, 18, 0), false, at(2026, 12, 10, 9, 0), "We're away. We're back Thursday at 09:00 CET."},
		{"the lunch break", at(2026, 12, 10, 12, 30), false, at(2026, 12, 10, 13, 0), "We're away. We're back today at 13:00 CET."},
		{"friday evening, before the late shift", at(2026, 12, 11, 18, 0), false, at(2026, 12, 11, 20, 0), "We're away. We're back today at 20:00 CET."},
		{"across midnight, before", at(2026, 12, 11, 23, 59), true, at(2026, 12, 11, 23, 59), ""},
		{"across midnight, after", at(2026, 12, 12, 1, 30), true, at(2026, 12, 12, 1, 30), ""},
		{"the weekend", at(2026, 12, 12, 2, 0), false, at(2026, 12, 14, 9, 0), "We're away. We're back Monday at 09:00 CET."},
		{"sunday evening", at(2026, 12, 13, 20, 0), false, at(2026, 12, 14, 9, 0), "We're away. We're back tomorrow at 09:00 CET."},
		// Daylight saving time starts on Sunday 29 March 2026: Monday's
		// 09:00 is 07:00 UTC, not the 08:00 UTC it is in winter.
		{"over the change to summer time", at(2026, 3, 28, 12, 0), false,
			time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), "We're away. We're back Monday at 09:00 CEST."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := o.Open(tc.now); got != tc.open {
				t.Fatalf("Open = %v, want %v", got, tc.open)
			}
			back, ok := o.NextOpen(tc.now)
			if !ok || !back.Equal(tc.back) {
				t.Fatalf("NextOpen = %v %v, want %v", back, ok, tc.back)
			}
			if !tc.open {
				if got := o.AwayText(tc.now); got != tc.sentence {
					t.Fatalf("AwayText = %q, want %q", got, tc.sentence)
				}
			}
		})
	}

	// A schedule without a single span: the team never comes back, and the
	// away message says no time.
	never := engine.OfficeHours{Enabled: true, TimeZone: "UTC", AwayMessage: "Closed for the holidays."}
	if _, ok := never.NextOpen(time.Now()); ok {
		t.Fatal("NextOpen found an opening in an empty schedule")
	}
	if got := never.AwayText(time.Now()); got != "Closed for the holidays." {
		t.Fatalf("AwayText = %q", got)
	}
}

// S9: the away message answers a shopper once per away period, never on
// every message, and again in the next period.
func TestAwayNoticeOncePerPeriod(t *testing.T) {
	loc := stockholm(t)
	o := engine.OfficeHours{Enabled: true, TimeZone: "Europe/Stockholm", AwayMessage: "Away.",
		Weekly: map[string][][2]string{"mon": {{"09:00", "17:00"}}, "tue": {{"09:00", "17:00"}}}}
	c := engine.NewConversation("c1")
	post := func(at time.Time) (engine.Event, bool) {
		t.Helper()
		events, err := c.Decide(engine.PostMessage{From: engine.PartyShopper, AuthorID: "p1", Text: "hello?", ClientID: at.String(), At: at})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			c.Apply(e)
		}
		n, ok := c.AwayNotice(o, at)
		if ok {
			if n.Seq != c.LastSeq+1 || n.From != engine.PartySystem || n.Kind != engine.KindMessage {
				t.Fatalf("notice %+v after seq %d", n, c.LastSeq)
			}
			c.Apply(n)
		}
		return n, ok
	}
	start, _ := c.Decide(engine.StartConversation{ProfileID: "p1", At: time.Date(2026, 12, 7, 18, 0, 0, 0, loc)})
	c.Apply(start[0])

	n, ok := post(time.Date(2026, 12, 7, 18, 0, 0, 0, loc)) // monday evening
	if !ok || n.Text != "Away. We're back tomorrow at 09:00 CET." {
		t.Fatalf("first message while away: %+v %v", n, ok)
	}
	if _, ok := post(time.Date(2026, 12, 7, 23, 0, 0, 0, loc)); ok {
		t.Fatal("a second away message in the same away period")
	}
	if _, ok := post(time.Date(2026, 12, 8, 10, 0, 0, 0, loc)); ok {
		t.Fatal("an away message while the team is in")
	}
	if n, ok := post(time.Date(2026, 12, 8, 17, 30, 0, 0, loc)); !ok || n.Text != "Away. We're back Monday at 09:00 CET." {
		t.Fatalf("the next away period: %+v %v", n, ok)
	}
	if c.Preview != "hello?" {
		t.Fatalf("the away message changed the preview to %q", c.Preview)
	}
	if _, ok := c.AwayNotice(engine.OfficeHours{}, time.Now()); ok {
		t.Fatal("an away message with office hours off")
	}
}

// H10: when a waiting customer's next alert is due: an interval into the
// wait, then an interval after each alert, at the team's return while it is
// away, and never for a ticket that is not open or a customer not waiting.
func TestNextAlert(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, time.UTC) } // a monday
	ptr := func(t time.Time) *time.Time { return &t }
	office := engine.OfficeHours{Enabled: true, TimeZone: "UTC", Weekly: map[string][][2]string{"mon": {{"09:00", "17:00"}}}}
	for _, tc := range []struct {
		name  string
		row   engine.TicketRow
		after time.Duration
		o     engine.OfficeHours
		want  time.Time
	}{
		{"into the wait", engine.TicketRow{Status: engine.StatusOpen, WaitingSince: ptr(at(10, 0))}, 4 * time.Minute, office, at(10, 4)},
		{"after the last alert", engine.TicketRow{Status: engine.StatusOpen, WaitingSince: ptr(at(10, 0)), AlertedAt: ptr(at(10, 4))}, 4 * time.Minute, office, at(10, 8)},
		{"at the team's return", engine.TicketRow{Status: engine.StatusOpen, WaitingSince: ptr(at(8, 0))}, 4 * time.Minute, office, at(9, 0)},
		{"office hours off", engine.TicketRow{Status: engine.StatusOpen, WaitingSince: ptr(at(8, 0))}, 4 * time.Minute, engine.OfficeHours{}, at(8, 4)},
		{"not waiting", engine.TicketRow{Status: engine.StatusOpen}, 4 * time.Minute, office, time.Time{}},
		{"snoozed", engine.TicketRow{Status: engine.StatusSnoozed, WaitingSince: ptr(at(10, 0))}, 4 * time.Minute, office, time.Time{}},
		{"alerts off", engine.TicketRow{Status: engine.StatusOpen, WaitingSince: ptr(at(10, 0))}, 0, office, time.Time{}},
	} {
		if got := engine.NextAlert(tc.row, tc.after, tc.o); !got.Equal(tc.want) {
			t.Errorf("%s: NextAlert = %v, want %v", tc.name, got, tc.want)
		}
	}
}
