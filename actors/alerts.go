package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/parley-chat/parley/actors/node"
	"github.com/parley-chat/parley/engine"
)

// Waiting alerts (H10). A ticket's next alert is a deadline derived from its
// stored row — the customer's first unanswered message and the last alert
// (engine.NextAlert) — so it survives a restart as a snooze does: the inbox
// files every waiting open ticket by that deadline and arms one timer for
// the earliest. When it fires, the ticket's own actor decides again and
// stores the alert as a ticket event; the row it writes carries the alert,
// and the inbox pushes it to every stream. Nothing is raised twice, across a
// restart either: the next deadline counts from the stored alert.

// alertRetry is how soon the inbox asks again when a ticket it asked to
// raise an alert has not answered with a new row (its actor failed, say).
const alertRetry = 30 * time.Second

// alarm is the inbox's one timer for the earliest waiting alert.
type alarm struct {
	timer *time.Timer
	at    time.Time
}

func (al *alarm) stop() {
	if al.timer != nil {
		al.timer.Stop()
		al.timer = nil
	}
}

// fileAlert files row by when its next alert is due, or takes it out.
func (a *inboxActor) fileAlert(row engine.TicketRow) {
	s := a.sys.Settings()
	a.active.setAlert(row.ID, engine.NextAlert(row, time.Duration(s.WaitingAlertAfter), s.OfficeHours))
}

// refileAlerts files every row again, after the settings changed.
func (a *inboxActor) refileAlerts(ctx actor.Context) {
	for _, r := range a.active.rows {
		a.fileAlert(r)
	}
	a.alarm.stop()
	a.armAlert(ctx)
}

// armAlert sets the timer for the earliest alert, unless it is set for that
// or earlier already.
func (a *inboxActor) armAlert(ctx actor.Context) {
	next, ok := a.active.nextAlert()
	if !ok || (a.alarm.timer != nil && !next.Before(a.alarm.at)) {
		return
	}
	a.alarm.stop()
	a.alarm.at = next
	self, root := ctx.Self(), a.sys.actors.Root
	a.alarm.timer = time.AfterFunc(time.Until(next), func() { root.Send(self, &alertCheck{}) })
}

// raiseDue asks the actor of every ticket whose alert is due to raise it,
// and files each again a little later, in case no new row comes back.
func (a *inboxActor) raiseDue(ctx actor.Context) {
	a.alarm.timer = nil
	now := a.now()
	for _, id := range a.active.alertsDue(now) {
		a.sys.raiseAlert(id)
		a.active.setAlert(id, now.Add(alertRetry))
	}
	a.armAlert(ctx)
}

// raiseAlert asks ticket id's actor to raise a waiting alert if one is due;
// nobody waits for the answer.
func (s *System) raiseAlert(id string) {
	if s.closed.Load() {
		return
	}
	s.conversations.Deliver(s.actors.Root, &node.Envelope{ID: id, Msg: &alertCmd{}, Done: func(any) {}})
}

// alert raises a waiting alert on the ticket, stored as a ticket event, if
// one is due now by the stored state and the current settings.
func (a *conversationActor) alert(ctx actor.Context) {
	if err := a.authorize("", true); err != nil {
		a.respond(ctx, &result{Err: err})
		return
	}
	s := a.sys.Settings()
	tevents := a.ticket.DecideAlert(a.conv, a.sys.cfg.Now(), time.Duration(s.WaitingAlertAfter), s.OfficeHours)
	var err error
	if len(tevents) > 0 {
		if _, err = a.commit(ctx, nil, tevents); err == nil {
			a.sys.metrics.alerts.Inc()
		}
	}
	a.respond(ctx, &result{Err: err})
}
