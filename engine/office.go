package engine

import "time"

// Open reports whether the team is in at time now (C3). With office hours
// disabled the team is always in.
func (o OfficeHours) Open(now time.Time) bool {
	if !o.Enabled {
		return true
	}
	loc, err := time.LoadLocation(o.TimeZone)
	if err != nil {
		return true
	}
	local := now.In(loc)
	day := weekdays[(int(local.Weekday())+6)%7]
	clock := local.Format("15:04")
	for _, span := range o.Weekly[day] {
		if clock >= span[0] && clock < span[1] {
			return true
		}
	}
	return false
}
