package engine

import (
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // office hours read the store's time zone from the binary, never from the host
)

// Office hours (S9, C3): a weekly schedule in the store's named time zone.
// A day's spans are [open, close) in local wall-clock time, "24:00" closing
// at midnight; a schedule runs across midnight with one span to "24:00" and
// the next day's from "00:00". Local times come from Go's time zone
// database embedded in the binary, so daylight saving time is the zone's.

// locations caches the time zones office hours name: loading one parses the
// zone's rules, and every welcome and shopper message asks.
var locations sync.Map // name → *time.Location

func location(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}

// Open reports whether the team is in at time now (C3). With office hours
// disabled the team is always in.
func (o OfficeHours) Open(now time.Time) bool {
	if !o.Enabled {
		return true
	}
	loc, err := location(o.TimeZone)
	if err != nil {
		return true
	}
	local := now.In(loc)
	clock := local.Format("15:04")
	for _, span := range o.Weekly[weekdayKey(local.Weekday())] {
		if clock >= span[0] && clock < span[1] {
			return true
		}
	}
	return false
}

// NextOpen is the first moment at or after now at which the team is in:
// now itself while it is in. ok is false when office hours are enabled with
// no span at all, so the team never comes back.
func (o OfficeHours) NextOpen(now time.Time) (at time.Time, ok bool) {
	if o.Open(now) {
		return now, true
	}
	loc, err := location(o.TimeZone)
	if err != nil {
		return now, true
	}
	local := now.In(loc)
	for d := 0; d <= 7; d++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 12, 0, 0, 0, loc)
		starts := make([]time.Time, 0, len(o.Weekly[weekdayKey(day.Weekday())]))
		for _, span := range o.Weekly[weekdayKey(day.Weekday())] {
			starts = append(starts, wallClock(day, span[0], loc))
		}
		slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
		for _, s := range starts {
			if s.After(now) {
				return s, true
			}
		}
	}
	return time.Time{}, false
}

// wallClock is the instant of clock ("HH:MM", "24:00" being the next
// midnight) on day's date in loc. A time that a daylight-saving change skips
// is the instant Go's time.Date makes of it (the clock moved on).
func wallClock(day time.Time, clock string, loc *time.Location) time.Time {
	h := int(clock[0]-'0')*10 + int(clock[1]-'0')
	m := int(clock[3]-'0')*10 + int(clock[4]-'0')
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
}

func weekdayKey(d time.Weekday) string { return weekdays[(int(d)+6)%7] }

// neverBack stands for the return of a team whose schedule has no span: the
// latest time that Unix nanoseconds (and so storage) can hold.
var neverBack = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)

// BackAt is when a team that is away at now is back: the moment that
// identifies the away period (S9: one away message per period).
func (o OfficeHours) BackAt(now time.Time) time.Time {
	if at, ok := o.NextOpen(now); ok {
		return at
	}
	return neverBack
}

// AwayText is what a shopper writing at now, while the team is away, reads:
// the store's away message, then when the team is back in the store's local
// time ("We're back Monday at 09:00 CET."; "today" and "tomorrow" where they
// apply).
func (o OfficeHours) AwayText(now time.Time) string {
	back, ok := o.NextOpen(now)
	msg := o.AwayMessage
	if !ok {
		return msg
	}
	loc, err := location(o.TimeZone)
	if err != nil {
		return msg
	}
	local, b := now.In(loc), back.In(loc)
	day := b.Weekday().String()
	switch dayNumber(b) - dayNumber(local) {
	case 0:
		day = "today"
	case 1:
		day = "tomorrow"
	}
	sentence := "We're back " + day + " at " + b.Format("15:04 MST") + "."
	if msg == "" {
		return sentence
	}
	return msg + " " + sentence
}

// dayNumber counts local calendar days, for "today" and "tomorrow".
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// AwayNotice is the system message that answers a shopper who writes while
// the team is away (S9), as the next event of c: once per away period, never
// on every message. An away period is known by the moment the team is back,
// which the event carries (AwayUntil) and the state remembers. ok is false
// while the team is in, with office hours off, or when c has had the notice
// of this period.
func (c *Conversation) AwayNotice(o OfficeHours, now time.Time) (e Event, ok bool) {
	if o.Open(now) {
		return Event{}, false
	}
	back := o.BackAt(now)
	if c.AwayUntil.Equal(back) {
		return Event{}, false
	}
	return Event{
		Seq: c.LastSeq + 1, At: now, Kind: KindMessage, From: PartySystem,
		Text: clip(o.AwayText(now), MaxTextRunes), AwayUntil: back,
	}, true
}
