package promotion

import "time"

// SetClock makes the service read the time from now, so tests can move past a sale's end.
func SetClock(s *Service, now func() time.Time) { s.now = now }
