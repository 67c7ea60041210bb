package engine

import (
	"encoding/json"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("90s", "4m").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Invalid("waiting_alert_after", "must be a duration string such as \"4m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return Invalid("waiting_alert_after", "must be a duration string such as \"4m\"")
	}
	*d = Duration(v)
	return nil
}
