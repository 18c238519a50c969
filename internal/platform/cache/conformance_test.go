package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/cache"
)

// newCacheFunc returns a cache that no other test shares: a new Memory, or a Redis with a key
// prefix of its own.
type newCacheFunc func(t *testing.T) cache.Cache

// runConformance is the behaviour every Cache must have; Memory and Redis both run it.
func runConformance(t *testing.T, newCache newCacheFunc) {
	t.Run("GetSetMiss", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := t.Context()
		big := bytes.Repeat([]byte{0x00, 0xff, 'a', '\n'}, 256<<10) // 1 MiB
		for _, tc := range []struct {
			name  string
			value []byte
		}{
			{"text", []byte("hello")},
			{"binary with NUL and invalid UTF-8", []byte{0x00, 0xff, 0xfe, 0x00, 0x80, '\r', '\n'}},
			{"empty", []byte{}},
			{"one MiB", big},
			{"unicode", []byte("红色 XL ✓")},
		} {
			key := "k:" + tc.name
			if _, found, err := c.Get(ctx, key); err != nil || found {
				t.Fatalf("%s: Get before Set = found %v, err %v; want a miss", tc.name, found, err)
			}
			if err := c.Set(ctx, key, tc.value, time.Minute); err != nil {
				t.Fatalf("%s: Set: %v", tc.name, err)
			}
			got, found, err := c.Get(ctx, key)
			if err != nil || !found {
				t.Fatalf("%s: Get after Set = found %v, err %v", tc.name, found, err)
			}
			if !bytes.Equal(got, tc.value) {
				t.Fatalf("%s: Get = %d bytes %q…, want %d bytes", tc.name, len(got), head(got), len(tc.value))
			}
		}
	})

	t.Run("OverwriteAndCopies", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := t.Context()
		buf := []byte("first")
		mustSet(t, c, "k", buf, time.Minute)
		buf[0] = 'X' // the caller reuses its buffer; the stored value must not change
		if got := mustGet(t, c, "k"); string(got) != "first" {
			t.Fatalf("after caller changed its slice: Get = %q, want %q", got, "first")
		}
		got := mustGet(t, c, "k")
		got[0] = 'Y' // a reader editing its result must not change the stored value either
		if got := mustGet(t, c, "k"); string(got) != "first" {
			t.Fatalf("after reader changed its result: Get = %q, want %q", got, "first")
		}
		mustSet(t, c, "k", []byte("second"), time.Minute)
		if got := mustGet(t, c, "k"); string(got) != "second" {
			t.Fatalf("after overwrite: Get = %q, want %q", got, "second")
		}
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})

	t.Run("TTL", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := t.Context()
		const short = 150 * time.Millisecond
		mustSet(t, c, "short", []byte("v"), short)
		mustSet(t, c, "forever", []byte("v"), 0)
		mustSet(t, c, "negative", []byte("v"), -time.Second)
		mustSet(t, c, "extended", []byte("v"), short)
		mustSet(t, c, "extended", []byte("v2"), time.Minute) // a rewrite sets a new TTL
		mustSet(t, c, "shortened", []byte("v"), time.Minute)
		mustSet(t, c, "shortened", []byte("v2"), short)
		if _, found, _ := c.Get(ctx, "short"); !found {
			t.Fatal("entry with TTL gone before its TTL")
		}
		time.Sleep(short + 250*time.Millisecond)
		for _, tc := range []struct {
			key  string
			want bool
		}{
			{"short", false},
			{"shortened", false},
			{"forever", true},
			{"negative", true},
			{"extended", true},
		} {
			_, found, err := c.Get(ctx, tc.key)
			if err != nil {
				t.Fatalf("Get %s: %v", tc.key, err)
			}
			if found != tc.want {
				t.Errorf("Get %s after the short TTL: found = %v, want %v", tc.key, found, tc.want)
			}
		}
	})

	t.Run("DeleteSeveral", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := t.Context()
		for _, k := range []string{"a", "b", "c", "d"} {
			mustSet(t, c, k, []byte(k), time.Minute)
		}
		if err := c.Delete(ctx, "a", "c", "never-set"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := c.Delete(ctx); err != nil {
			t.Fatalf("Delete with no keys: %v", err)
		}
		for _, tc := range []struct {
			key  string
			want bool
		}{{"a", false}, {"b", true}, {"c", false}, {"d", true}, {"never-set", false}} {
			if _, found, err := c.Get(ctx, tc.key); err != nil || found != tc.want {
				t.Errorf("Get %s after Delete: found = %v (err %v), want %v", tc.key, found, err, tc.want)
			}
		}
	})

	t.Run("IncrWindow", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := t.Context()
		const (
			window = 600 * time.Millisecond
			step   = 150 * time.Millisecond
			slack  = 5 * time.Millisecond // Redis keeps expiry in whole milliseconds
		)
		n, left, err := c.Incr(ctx, "attempts", window)
		// Taken after the first Incr returns, so the window started no later than this.
		opened := time.Now()
		if err != nil || n != 1 {
			t.Fatalf("first Incr = %d, %v; want 1", n, err)
		}
		if left <= window-step || left > window {
			t.Fatalf("first Incr: remaining = %v, want about %v", left, window)
		}
		for want := int64(2); want <= 3; want++ {
			time.Sleep(step)
			elapsed := time.Since(opened)
			n, left, err := c.Incr(ctx, "attempts", window)
			if err != nil || n != want {
				t.Fatalf("Incr = %d, %v; want %d", n, err, want)
			}
			// A later increment must not restart the window.
			if left <= 0 || left > window-elapsed+slack {
				t.Fatalf("Incr %d, %v into the window: remaining = %v, want at most %v", want, elapsed, left, window-elapsed)
			}
		}
		if got := mustGet(t, c, "attempts"); string(got) != "3" {
			t.Fatalf("Get of a counter = %q, want %q", got, "3")
		}
		// A separate key has a window of its own.
		if n, _, err := c.Incr(ctx, "other", window); err != nil || n != 1 {
			t.Fatalf("Incr other key = %d, %v; want 1", n, err)
		}
		// The window ends window after the first increment, however many came since.
		time.Sleep(time.Until(opened.Add(window + 100*time.Millisecond)))
		if _, found, _ := c.Get(ctx, "attempts"); found {
			t.Fatal("counter still present after its window")
		}
		n, left, err = c.Incr(ctx, "attempts", window)
		if err != nil || n != 1 {
			t.Fatalf("Incr after the window = %d, %v; want 1 (a new window)", n, err)
		}
		if left <= window-step || left > window {
			t.Fatalf("Incr after the window: remaining = %v, want a fresh window near %v", left, window)
		}
	})

	t.Run("IncrEdgeCases", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := t.Context()
		mustSet(t, c, "text", []byte("abc"), time.Minute)
		mustSet(t, c, "five", []byte("5"), 0) // exists without a TTL
		for _, tc := range []struct {
			name      string
			key       string
			window    time.Duration
			wantCount int64
			wantErr   error
		}{
			{"non-integer value", "text", time.Minute, 0, cache.ErrNotInteger},
			{"zero window", "w0", 0, 0, cache.ErrBadWindow},
			{"negative window", "w1", -time.Second, 0, cache.ErrBadWindow},
			{"integer set without TTL", "five", time.Minute, 6, nil},
			{"sub-millisecond window", "tiny", time.Microsecond, 1, nil},
		} {
			n, left, err := c.Incr(ctx, tc.key, tc.window)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
				continue
			}
			if err != nil {
				continue
			}
			if n != tc.wantCount {
				t.Errorf("%s: count = %d, want %d", tc.name, n, tc.wantCount)
			}
			if limit := max(tc.window, time.Millisecond); left <= 0 || left > limit {
				t.Errorf("%s: remaining = %v, want in (0, %v]", tc.name, left, limit)
			}
		}
		if got := mustGet(t, c, "text"); string(got) != "abc" {
			t.Fatalf("a failed Incr changed the value to %q", got)
		}
		// The counter that had no TTL got the window's, so it cannot lock anyone out forever.
		if _, left, err := c.Incr(ctx, "five", time.Minute); err != nil || left > time.Minute || left <= 0 {
			t.Fatalf("Incr five again: remaining = %v, err %v; want the window's TTL", left, err)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, _, err := c.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
			t.Errorf("Get with a cancelled context: err = %v, want context.Canceled", err)
		}
		if err := c.Set(ctx, "k", []byte("v"), time.Minute); !errors.Is(err, context.Canceled) {
			t.Errorf("Set with a cancelled context: err = %v, want context.Canceled", err)
		}
		if _, _, err := c.Incr(ctx, "n", time.Minute); !errors.Is(err, context.Canceled) {
			t.Errorf("Incr with a cancelled context: err = %v, want context.Canceled", err)
		}
		if _, found, err := c.Get(t.Context(), "k"); err != nil || found {
			t.Errorf("Set with a cancelled context stored the value (found %v, err %v)", found, err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		ctx := t.Context()
		const workers, rounds = 16, 40
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				own := fmt.Sprintf("own:%d", w)
				for i := range rounds {
					want := []byte(strconv.Itoa(w*1000 + i))
					if err := c.Set(ctx, own, want, time.Minute); err != nil {
						errs <- err
						return
					}
					got, found, err := c.Get(ctx, own)
					if err != nil || !found || !bytes.Equal(got, want) {
						errs <- fmt.Errorf("worker %d: Get own = %q, %v, %v; want %q", w, got, found, err, want)
						return
					}
					if err := c.Set(ctx, "shared", want, time.Minute); err != nil {
						errs <- err
						return
					}
					if _, _, err := c.Get(ctx, "shared"); err != nil {
						errs <- err
						return
					}
					if _, _, err := c.Incr(ctx, "counter", time.Minute); err != nil {
						errs <- err
						return
					}
					if i%10 == 0 {
						if err := c.Delete(ctx, "shared"); err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := mustGet(t, c, "counter"); string(got) != strconv.Itoa(workers*rounds) {
			t.Fatalf("counter after %d concurrent Incr = %s: increments were lost", workers*rounds, got)
		}
	})
}

func mustSet(t *testing.T, c cache.Cache, key string, v []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(t.Context(), key, v, ttl); err != nil {
		t.Fatalf("Set %s: %v", key, err)
	}
}

func mustGet(t *testing.T, c cache.Cache, key string) []byte {
	t.Helper()
	v, found, err := c.Get(t.Context(), key)
	if err != nil || !found {
		t.Fatalf("Get %s: found %v, err %v", key, found, err)
	}
	return v
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }
