// Package ratelimit limits how often a client address, and a logged-in buyer, may call an
// operation. Counts live in the platform cache (cache.Cache.Incr, a fixed window per key):
// in-process in the embedded shape, in Redis when the shop has one, so every instance of a
// shop counts against the same limits.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
)

// ErrRateLimited is the answer once a limit is reached; details.retry_after_seconds (and the
// Retry-After header) say when the window ends.
var ErrRateLimited = errs.New(errs.TooManyRequests, "rate_limited", "too many requests; try again later")

// Limit allows N requests per window Per. The zero Limit allows everything.
type Limit struct {
	N   int64
	Per time.Duration
}

// Window bounds: under a second is below what Retry-After can say; over a day a counter would
// outlive any reason to keep it.
const (
	minWindow = time.Second
	maxWindow = 24 * time.Hour
)

// Parse reads a limit written N/duration ("10/1m": ten per minute), or "0" for no limit.
func Parse(s string) (Limit, error) {
	if s == "0" {
		return Limit{}, nil
	}
	n, d, ok := strings.Cut(s, "/")
	count, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil {
		return Limit{}, fmt.Errorf("%q is not N/duration such as 10/1m (or 0 for no limit)", s)
	}
	if count < 1 {
		return Limit{}, fmt.Errorf("%q: the count must be at least 1 (0 alone turns the limit off)", s)
	}
	per, err := time.ParseDuration(d)
	if err != nil {
		return Limit{}, fmt.Errorf("%q: %q is not a duration such as 1m or 1h", s, d)
	}
	if per < minWindow || per > maxWindow {
		return Limit{}, fmt.Errorf("%q: the window must be within %s–%s", s, minWindow, maxWindow)
	}
	return Limit{N: count, Per: per}, nil
}

// Off reports whether the limit allows everything.
func (l Limit) Off() bool { return l.N == 0 }

// Rule limits one operation per client address and, when the request carries a logged-in
// principal, per account as well.
type Rule struct {
	// Name keys the counters and names the operation in the answer ("order").
	Name    string
	PerIP   Limit
	PerUser Limit
}

// Limiter checks rules against counters in a cache.
type Limiter struct {
	counters cache.Cache
	ips      *web.ClientIPs
	log      *slog.Logger
}

// New returns a limiter counting in counters, finding client addresses with ips.
func New(counters cache.Cache, ips *web.ClientIPs, log *slog.Logger) *Limiter {
	return &Limiter{counters: counters, ips: ips, log: log}
}

// Middleware answers 429 rate_limited once a request would go over rule, and otherwise
// passes it on. Placed inside authentication, it also counts per buyer.
func (l *Limiter) Middleware(rule Rule) web.Middleware {
	if rule.PerIP.Off() && rule.PerUser.Off() {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			if err := l.check(r, rule); err != nil {
				return err
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

// check counts r against rule: nil while under the limits, else ErrRateLimited with the wait.
// The address is counted first; a request already refused for its address does not use up
// the account's allowance.
func (l *Limiter) check(r *http.Request, rule Rule) error {
	ctx := r.Context()
	if !rule.PerIP.Off() {
		if wait := l.count(ctx, rule.Name+":ip:"+clientKey(l.ips.Of(r)), rule.PerIP); wait > 0 {
			return limited(rule.Name, wait)
		}
	}
	if p, ok := auth.PrincipalFrom(ctx); ok && !rule.PerUser.Off() {
		if wait := l.count(ctx, rule.Name+":"+p.Audience+":"+p.ID.String(), rule.PerUser); wait > 0 {
			return limited(rule.Name, wait)
		}
	}
	return nil
}

// count adds one to key's window and returns how long to wait when that goes over limit,
// else zero. A counter store that fails lets the request through: a Redis outage must not
// turn into an outage of the shop, and what the limits protect is still guarded by the
// handlers themselves.
func (l *Limiter) count(ctx context.Context, key string, limit Limit) time.Duration {
	n, remaining, err := l.counters.Incr(ctx, "ratelimit:"+key, limit.Per)
	if err != nil {
		l.log.WarnContext(ctx, "rate limiter unavailable; request let through", slog.String("error", err.Error()))
		return 0
	}
	if n <= limit.N {
		return 0
	}
	return max(remaining, time.Nanosecond)
}

// clientKey is the address a client is counted under. An IPv6 client usually holds a whole
// /64 and can pick a fresh address in it for every request, so it is counted by its /64.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func limited(name string, wait time.Duration) error {
	// Rounded up: a client that waits exactly this long finds the window over.
	secs := int64((wait + time.Second - 1) / time.Second)
	return ErrRateLimited.Withf("too many %s requests; try again in %d seconds", name, secs).
		With(map[string]any{errs.RetryAfterSeconds: secs})
}
