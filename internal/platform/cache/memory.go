package cache

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/maypok86/otter/v2"
)

// DefaultMaxEntries bounds a Memory built with a non-positive size: an unbounded in-process
// cache is a memory leak waiting for a key with high cardinality.
const DefaultMaxEntries = 10_000

// Memory is the in-process Cache of the embedded shape.
//
// It is built on otter (W-TinyLFU eviction, per-entry expiry on a timer wheel) rather than a
// hand-written map: a bounded map needs an eviction order and a sweep of expired entries, and
// otter already does both well under concurrency. Being frequency-aware, otter may decline to
// keep a new entry when the cache is full of hotter ones; for a cache that is a miss, not an error.
type Memory struct {
	c *otter.Cache[string, item]
}

// item carries its own deadline because Incr must keep a window's end when it rewrites the
// count, and must report the time left; otter's deadline is not readable inside Compute.
type item struct {
	data      []byte
	expiresAt int64 // Unix nanoseconds; 0 means never
}

func (it item) live(now int64) bool { return it.expiresAt == 0 || now < it.expiresAt }

// NewMemory returns an in-process cache holding at most about maxEntries entries (a
// non-positive value means DefaultMaxEntries). Close it to stop its clean-up goroutine.
func NewMemory(maxEntries int) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Memory{c: otter.Must(&otter.Options[string, item]{
		MaximumSize: maxEntries,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, item]) time.Duration {
			if e.Value.expiresAt == 0 {
				return math.MaxInt64 // otter saturates the deadline: never
			}
			// Never zero or less: otter reads that as "keep the previous deadline", which
			// would let an overwritten entry outlive its new, already-passed deadline.
			return max(time.Duration(e.Value.expiresAt-time.Now().UnixNano()), 1)
		}),
	})}
}

var _ Cache = (*Memory)(nil)

func deadline(now int64, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return now + int64(ttl)
}

func (m *Memory) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	it, ok := m.c.GetIfPresent(key)
	if !ok {
		return nil, false, nil
	}
	return append([]byte{}, it.data...), true, nil
}

func (m *Memory) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.c.Set(key, item{data: append([]byte{}, value...), expiresAt: deadline(time.Now().UnixNano(), ttl)})
	return nil
}

func (m *Memory) Delete(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, k := range keys {
		m.c.Invalidate(k)
	}
	return nil
}

func (m *Memory) Incr(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, ErrBadWindow
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	now := time.Now().UnixNano()
	var (
		count   int64
		expires int64
		err     error
	)
	// Compute runs under the key's lock, so concurrent increments neither lose counts nor
	// start two windows.
	m.c.Compute(key, func(old item, found bool) (item, otter.ComputeOp) {
		count, expires = 1, now+int64(window)
		// otter hides entries past its own (monotonic) deadline; checking ours as well keeps
		// the remaining time returned positive if the wall clock has moved ahead of it.
		if found && old.live(now) {
			n, perr := strconv.ParseInt(string(old.data), 10, 64)
			if perr != nil {
				err = ErrNotInteger
				return old, otter.CancelOp
			}
			if n == math.MaxInt64 {
				err = fmt.Errorf("%w: increment would overflow", ErrNotInteger)
				return old, otter.CancelOp
			}
			count = n + 1
			if old.expiresAt != 0 {
				expires = old.expiresAt
			}
		}
		return item{data: strconv.AppendInt(nil, count, 10), expiresAt: expires}, otter.WriteOp
	})
	if err != nil {
		return 0, 0, err
	}
	return count, time.Duration(expires - now), nil
}

// Ping always succeeds: there is no backend to lose.
func (m *Memory) Ping(ctx context.Context) error { return ctx.Err() }

// Len is the number of entries held once pending evictions have run. Expired entries not yet
// swept may still be counted.
func (m *Memory) Len() int {
	m.c.CleanUp()
	return m.c.EstimatedSize()
}

// Close stops the periodic clean-up goroutine. Entries stay readable, but expired ones are then
// swept only during later reads and writes.
func (m *Memory) Close() error {
	m.c.StopAllGoroutines()
	return nil
}
