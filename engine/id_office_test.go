package engine_test

import (
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the office-hours tests must not depend on the host's zoneinfo

	"github.com/parley-chat/parley/engine"
)

func TestNewID(t *testing.T) {
	now := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	id := engine.NewID(now)
	if len(id) != 26 {
		t.Fatalf("NewID = %q, %d characters, want 26", id, len(id))
	}
	if !engine.ValidID(id) {
		t.Fatalf("ValidID(NewID) = false for %q", id)
	}
	if strings.ToLower(id) != id || strings.ContainsAny(id, "ilou") {
		t.Errorf("NewID = %q, want lower-case Crockford base-32", id)
	}

	// Sorts by time across milliseconds (within one millisecond the order is
	// random), and across decades.
	times := []time.Time{
		time.Date(1999, 12, 31, 23, 59, 59, 999e6, time.UTC),
		now, now.Add(time.Millisecond), now.Add(2 * time.Millisecond), now.Add(time.Second),
		now.Add(24 * time.Hour), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		for range 50 {
			a, b := engine.NewID(times[i-1]), engine.NewID(times[i])
			if a >= b {
				t.Fatalf("NewID(%v) = %s does not sort before NewID(%v) = %s", times[i-1], a, times[i], b)
			}
		}
	}

	seen := make(map[string]bool, 10000)
	for range 10000 {
		id := engine.NewID(now) // the same millisecond: only the random bits differ
		if seen[id] {
			t.Fatalf("NewID repeated %s", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "p1": true, "Ab-9_z": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "a b": false, "a/b": false, "../etc": false,
		"a.b": false, "é": false, "a\x00": false, "a\n": false, "a%2F": false,
	} {
		if got := engine.ValidID(s); got != want {
			t.Errorf("ValidID(%q) = %t, want %t", s, got, want)
		}
	}
}

// Profile ids are the store's and opaque: any text but control characters
// and line separators, up to 128 bytes.
func TestValidProfileID(t *testing.T) {
	for s, want := range map[string]bool{
		"cust_42": true, "42": true, "ada@example.com": true, "gid://shopify/Customer/7": true,
		"Åsa Öberg": true, "../etc": true, "a%2F": true, strings.Repeat("x", 128): true, "日本": true,
		"": false, strings.Repeat("x", 129): false, "a\nb": false, "a\x00": false, "\x7f": false,
		"a\u0085": false, "a\u2028b": false, "\xff": false, "tab\there": false,
	} {
		if got := engine.ValidProfileID(s); got != want {
			t.Errorf("ValidProfileID(%q) = %t, want %t", s, got, want)
		}
	}
}

func TestPartition(t *testing.T) {
	now := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	for _, n := range []int{-1, 0, 1} {
		if p := engine.Partition("abc", n); p != 0 {
			t.Errorf("Partition(abc, %d) = %d, want 0", n, p)
		}
	}
	// Stable across calls (every node places an id the same way).
	if a, b := engine.Partition("conv-1", 16), engine.Partition("conv-1", 16); a != b {
		t.Errorf("Partition is not stable: %d, %d", a, b)
	}
	for _, n := range []int{2, 3, 7, 16, 1000} {
		counts := make([]int, n)
		for range 5000 {
			id := engine.NewID(now)
			p := engine.Partition(id, n)
			if p < 0 || p >= n {
				t.Fatalf("Partition(%s, %d) = %d, out of range", id, n, p)
			}
			if engine.Partition(id, n) != p {
				t.Fatalf("Partition(%s, %d) changed between calls", id, n)
			}
			counts[p]++
		}
		if n <= 16 {
			sort.Ints(counts)
			if counts[0] == 0 {
				t.Errorf("Partition into %d left a partition empty over 5000 ids: %v", n, counts)
			}
		}
	}
}

func TestOfficeHoursOpen(t *testing.T) {
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	o := engine.OfficeHours{
		Enabled:  true,
		TimeZone: "Europe/Stockholm",
		Weekly: map[string][][2]string{
			"mon": {{"09:00", "12:00"}, {"13:00", "17:00"}},
			"tue": {{"00:00", "01:00"}},
			"sun": {{"20:00", "24:00"}},
		},
	}
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		// Winter (CET, UTC+1): Monday 2024-01-15.
		{"winter monday 08:59 local", utc(2024, 1, 15, 7, 59), false},
		{"winter monday 09:00 local", utc(2024, 1, 15, 8, 0), true},
		{"winter monday 11:59 local", utc(2024, 1, 15, 10, 59), true},
		{"winter monday lunch 12:00 local", utc(2024, 1, 15, 11, 0), false},
		{"winter monday 13:00 local", utc(2024, 1, 15, 12, 0), true},
		{"winter monday 16:59 local", utc(2024, 1, 15, 15, 59), true},
		{"winter monday 17:00 local", utc(2024, 1, 15, 16, 0), false},
		// Summer (CEST, UTC+2): Monday 2024-06-17. 07:30 UTC is 09:30 local
		// although it would be before 09:00 in UTC.
		{"summer monday 08:59 local", utc(2024, 6, 17, 6, 59), false},
		{"summer monday 09:30 local, 07:30 UTC", utc(2024, 6, 17, 7, 30), true},
		{"summer monday 17:30 local, 15:30 UTC", utc(2024, 6, 17, 15, 30), false},
		// The local day decides: 23:30 UTC Monday is 01:30 Tuesday in summer,
		// and 22:30 UTC Monday is 00:30 Tuesday.
		{"tuesday 00:30 local, still monday in UTC", utc(2024, 6, 17, 22, 30), true},
		{"tuesday 01:30 local", utc(2024, 6, 17, 23, 30), false},
		// A span to 24:00 covers the last minute of the day.
		{"sunday 23:59 local", utc(2024, 6, 16, 21, 59), true},
		{"sunday 19:59 local", utc(2024, 6, 16, 17, 59), false},
		// Weekend and days without spans are closed.
		{"saturday noon", utc(2024, 6, 15, 10, 0), false},
		{"wednesday 10:00 local", utc(2024, 6, 19, 8, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := o.Open(tt.at); got != tt.want {
				t.Errorf("Open(%v = %v local) = %t, want %t", tt.at, tt.at.In(stockholm), got, tt.want)
			}
			// The zone of the time passed in does not matter.
			if got := o.Open(tt.at.In(stockholm)); got != tt.want {
				t.Errorf("Open(%v) = %t, want %t", tt.at.In(stockholm), got, tt.want)
			}
		})
	}

	off := o
	off.Enabled = false
	for _, tt := range tests {
		if !off.Open(tt.at) {
			t.Errorf("disabled office hours closed at %v", tt.at)
		}
	}
	none := engine.OfficeHours{Enabled: true, TimeZone: "UTC"}
	if none.Open(utc(2024, 1, 15, 10, 0)) {
		t.Errorf("enabled office hours with no spans are open")
	}
}
