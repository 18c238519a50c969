package order

import "time"

// SetNow makes s read the time from now, so tests can put it past a deadline instead of
// waiting for one.
func SetNow(s *Service, now func() time.Time) { s.now = now }
