package cache

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Loader reads through a Cache: on a miss it calls load once per key even when many callers
// ask at the same moment (golang.org/x/sync/singleflight), stores the result, and returns it. A
// cache error (Redis down) is treated as a miss: the value still comes from load, the error is
// logged once per state change via the *slog.Logger given, and Degraded() reports true until a
// later cache call succeeds.
//
// Load errors are returned to every caller waiting on that load and are not cached.
type Loader struct {
	cache    Cache
	log      *slog.Logger
	group    singleflight.Group
	degraded atomic.Bool
}

// NewLoader reads through c. A nil log discards the state-change messages.
func NewLoader(c Cache, log *slog.Logger) *Loader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loader{cache: c, log: log}
}

// Degraded reports whether the last cache call failed.
func (l *Loader) Degraded() bool { return l.degraded.Load() }

// Fetch returns the cached value of key, or loads, stores (for ttl) and returns it.
func (l *Loader) Fetch(ctx context.Context, key string, ttl time.Duration, load func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	v, _, err := l.Read(ctx, key, func(ctx context.Context) (Entry, error) {
		v, err := load(ctx)
		return Entry{Value: v, TTL: ttl}, err
	})
	return v, err
}

// Entry is a loaded value and how long to keep it; the loader decides per value, e.g. a
// short TTL for "not found" markers.
type Entry struct {
	Value []byte
	TTL   time.Duration
}

// Read is Fetch with the TTL chosen by load and a report of whether the value came from the
// cache (hit) or from load, for hit/miss metrics.
func (l *Loader) Read(ctx context.Context, key string, load func(ctx context.Context) (Entry, error)) (value []byte, hit bool, err error) {
	return l.ReadGuarded(ctx, key, "", load)
}

// ReadGuarded is Read for an entry that invalidations of versionKey cover (see Bump): a fill
// whose load may have read data older than an invalidation that ran meanwhile does not
// leave its value in the cache. An empty versionKey guards nothing.
func (l *Loader) ReadGuarded(ctx context.Context, key, versionKey string, load func(ctx context.Context) (Entry, error)) (value []byte, hit bool, err error) {
	v, found, err := l.cache.Get(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up; that says nothing about the backend.
			return nil, false, ctx.Err()
		}
		l.failed(err)
	} else {
		l.succeeded()
		if found {
			return v, true, nil
		}
	}
	cacheUp := err == nil

	// The shared load runs detached from any one caller's cancellation: otherwise the first
	// caller hanging up would fail every other caller waiting on the same key. Each caller still
	// stops waiting when its own context ends.
	ch := l.group.DoChan(key, func() (any, error) {
		lctx := context.WithoutCancel(ctx)
		// When the cache just failed, writing to it would only add a second timeout to a
		// request that is already paying for one; the next Get notices recovery.
		write := cacheUp
		var version string
		if write && versionKey != "" {
			// Noted before the load: an invalidation after this point moves it.
			var err error
			if version, err = currentVersion(lctx, l.cache, versionKey); err != nil {
				l.failed(err)
			}
			write = err == nil && version != ""
		}
		e, err := load(lctx)
		if err != nil {
			return nil, err
		}
		if write {
			l.store(lctx, key, versionKey, version, e)
		}
		return e.Value, nil
	})
	select {
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, false, res.Err
		}
		b := res.Val.([]byte)
		if res.Shared {
			// Every waiter gets the same slice; a copy each keeps one caller's edits from
			// showing up in another's response.
			b = append([]byte(nil), b...)
		}
		return b, false, nil
	}
}

// store writes a loaded entry and, when it is guarded, takes it back out if versionKey no
// longer holds the version noted before the load: an invalidation ran in between, and its
// own delete may have come before this write.
func (l *Loader) store(ctx context.Context, key, versionKey, version string, e Entry) {
	if err := l.cache.Set(ctx, key, e.Value, e.TTL); err != nil {
		l.failed(err)
		return
	}
	if versionKey != "" {
		now, found, err := l.cache.Get(ctx, versionKey)
		if err != nil {
			l.failed(err)
		}
		if err != nil || !found || string(now) != version {
			// Unknown counts as moved: an entry dropped costs a load, a stale one stays for its TTL.
			if err := l.cache.Delete(ctx, key); err != nil {
				l.failed(err)
				return
			}
		}
		if err != nil {
			return
		}
	}
	l.succeeded()
}

func (l *Loader) failed(err error) {
	if !l.degraded.Swap(true) {
		l.log.Warn("cache unavailable; reading through to the source", "err", err)
	}
}

func (l *Loader) succeeded() {
	if l.degraded.Swap(false) {
		l.log.Info("cache available again")
	}
}
