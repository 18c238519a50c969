package payment

import (
	"testing"
	"time"
)

// Queries back off from QueryAfter, doubling, to QueryMaxInterval.
func TestNextQueryBacksOff(t *testing.T) {
	s := &Service{cfg: Config{QueryAfter: 2 * time.Minute, QueryMaxInterval: 10 * time.Minute}}
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for attempts, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute} {
		if got := s.nextQuery(now, attempts).Sub(now); got != want {
			t.Errorf("after %d queries the next is in %s, want %s", attempts, got, want)
		}
	}
}
