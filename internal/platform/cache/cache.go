// Package cache stores opaque bytes by key with a time to live. Memory serves the embedded
// shape (one process, nothing to run); Redis serves the production and scaled-out shapes, where
// several instances must see the same entries and the same counters. Loader reads through
// either and keeps reads working while the backend is down.
package cache

import (
	"context"
	"errors"
	"time"
)

// Cache stores opaque bytes by key with a time to live.
//
// A ttl of zero or less means the entry does not expire; it stays until deleted or, in Memory,
// evicted. Values are copied in and out, so callers may reuse or change their slices.
type Cache interface {
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
	// Incr counts in a fixed window: the first increment of a key starts a window of length
	// window; it returns the count so far and the time left in the window. Used for login
	// attempt limits across instances.
	//
	// The counter is stored as its decimal text, so Get of the key returns e.g. "3", and Incr of
	// a key that holds something else fails with ErrNotInteger. A key that exists without a
	// time to live gets one on its next Incr, so a counter can never lock someone out forever.
	Incr(ctx context.Context, key string, window time.Duration) (count int64, remaining time.Duration, err error)
	Ping(ctx context.Context) error
}

var (
	// ErrNotInteger is returned by Incr when the key holds a value that is not a decimal int64.
	ErrNotInteger = errors.New("cache: value is not an integer")
	// ErrBadWindow is returned by Incr for a window of zero or less, which would count forever.
	ErrBadWindow = errors.New("cache: incr window must be positive")
)
