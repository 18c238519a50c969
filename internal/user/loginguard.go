package user

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
)

// loginGuard limits failed logins per account and per client IP. A failure counter that
// reaches its limit sets a lock key holding the unlock time, so every instance refuses
// further tries with the same Retry-After until the window ends.
type loginGuard struct {
	s          *Service
	accountKey string
	ipKey      string
}

func (s *Service) guard(kind, login, clientIP string) loginGuard {
	return loginGuard{s: s,
		accountKey: "login:" + kind + ":acct:" + strings.ToLower(login),
		ipKey:      "login:" + kind + ":ip:" + clientIP,
	}
}

func (g loginGuard) check(ctx context.Context) error {
	for _, key := range []string{g.accountKey, g.ipKey} {
		v, found, err := g.s.attempts.Get(ctx, key+":lock")
		if err != nil {
			// The counter store (Redis) is down: let logins through rather than lock every
			// buyer out; passwords are still checked.
			g.s.log.WarnContext(ctx, "login limiter unavailable", slog.String("error", err.Error()))
			return nil
		}
		if !found {
			continue
		}
		until, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			continue
		}
		if wait := time.Until(time.Unix(until, 0)); wait > 0 {
			return tooMany(wait)
		}
	}
	return nil
}

func tooMany(wait time.Duration) error {
	secs := int64(wait.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return ErrTooManyAttempts.Withf("too many failed logins; try again in %d seconds", secs).
		With(map[string]any{errs.RetryAfterSeconds: secs})
}

// failed counts a failure against the account and the client IP and returns the error to
// answer: invalid credentials, or too-many-attempts when a limit was reached. Both counters
// always advance, so failures at a locked account still count against the IP.
func (g loginGuard) failed(ctx context.Context) error {
	limits := []struct {
		key   string
		limit int64
	}{{g.accountKey, g.s.cfg.LoginMaxFailures}, {g.ipKey, g.s.cfg.LoginMaxPerIP}}
	var wait time.Duration
	for _, l := range limits {
		n, remaining, err := g.s.attempts.Incr(ctx, l.key, g.s.cfg.LoginWindow)
		if err != nil {
			g.s.log.WarnContext(ctx, "login limiter unavailable", slog.String("error", err.Error()))
			return ErrInvalidCredentials
		}
		if n < l.limit {
			continue
		}
		until := g.s.now().Add(remaining)
		if err := g.s.attempts.Set(ctx, l.key+":lock", []byte(strconv.FormatInt(until.Unix(), 10)), remaining); err != nil {
			g.s.log.WarnContext(ctx, "login limiter unavailable", slog.String("error", err.Error()))
		}
		wait = max(wait, remaining)
	}
	if wait > 0 {
		return tooMany(wait)
	}
	return ErrInvalidCredentials
}

// succeeded clears the account's failure count; the IP count stays, so one good account
// cannot be used to reset guessing at others from the same address.
func (g loginGuard) succeeded(ctx context.Context) {
	if err := g.s.attempts.Delete(ctx, g.accountKey); err != nil {
		g.s.log.WarnContext(ctx, "login limiter unavailable", slog.String("error", err.Error()))
	}
}
