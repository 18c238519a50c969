package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/cache"
)

// TestGuardedFill plays a fill against what can happen between its load and its write,
// on each backend: an invalidation (Bump, then Delete) that ran meanwhile, the version key
// lost (expired or evicted) meanwhile, or nothing. Only an undisturbed fill may stay.
func TestGuardedFill(t *testing.T) {
	backends := map[string]func(t *testing.T) cache.Cache{
		"memory": func(t *testing.T) cache.Cache { return newMemory(t) },
		"redis": func(t *testing.T) cache.Cache {
			r, _ := newTestRedis(t)
			return r
		},
	}
	meanwhile := []struct {
		name string
		do   func(ctx context.Context, c cache.Cache) error
		keep bool
	}{
		{"nothing", func(context.Context, cache.Cache) error { return nil }, true},
		{"an invalidation", func(ctx context.Context, c cache.Cache) error {
			if err := cache.Bump(ctx, c, "ver"); err != nil {
				return err
			}
			return c.Delete(ctx, "entry")
		}, false},
		{"the version lost", func(ctx context.Context, c cache.Cache) error { return c.Delete(ctx, "ver") }, false},
		{"the version lost and bumped again", func(ctx context.Context, c cache.Cache) error {
			if err := c.Delete(ctx, "ver"); err != nil {
				return err
			}
			return cache.Bump(ctx, c, "ver")
		}, false},
	}
	for name, newCache := range backends {
		for _, m := range meanwhile {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				c := newCache(t)
				ctx := context.Background()
				l := cache.NewLoader(c, nil)
				v, hit, err := l.ReadGuarded(ctx, "entry", "ver", func(ctx context.Context) (cache.Entry, error) {
					// The load has read its data; now the rest of the world moves.
					if err := m.do(ctx, c); err != nil {
						t.Errorf("meanwhile: %v", err)
					}
					return cache.Entry{Value: []byte("loaded"), TTL: time.Minute}, nil
				})
				if err != nil || hit || string(v) != "loaded" {
					t.Fatalf("ReadGuarded = %q, %v, %v; want the loaded value, a miss", v, hit, err)
				}
				_, found, err := c.Get(ctx, "entry")
				if err != nil {
					t.Fatal(err)
				}
				if found != m.keep {
					t.Fatalf("entry cached: %v, want %v", found, m.keep)
				}
				if m.keep {
					if _, hit, err := l.ReadGuarded(ctx, "entry", "ver", func(context.Context) (cache.Entry, error) {
						t.Error("loaded again although the entry is cached")
						return cache.Entry{}, nil
					}); err != nil || !hit {
						t.Fatalf("second read: hit %v, err %v; want a hit", hit, err)
					}
				}
			})
		}
	}
}
