package cache_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/cache"
)

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, func(t *testing.T) cache.Cache {
		m := cache.NewMemory(1000)
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}

func TestMemoryEvictionBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		max      int
		bound    int
		inserted int
	}{
		{"one", 1, 1, 50},
		{"small", 10, 10, 1_000},
		{"hundred", 100, 100, 5_000},
		{"non-positive means default", 0, cache.DefaultMaxEntries, cache.DefaultMaxEntries * 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := cache.NewMemory(tc.max)
			t.Cleanup(func() { _ = m.Close() })
			for i := range tc.inserted {
				mustSet(t, m, fmt.Sprintf("key:%d", i), []byte("value"), time.Hour)
			}
			n := m.Len()
			if n > tc.bound {
				t.Fatalf("after %d inserts into a cache of %d: Len = %d", tc.inserted, tc.bound, n)
			}
			if n == 0 {
				t.Fatalf("after %d inserts: Len = 0, the cache kept nothing", tc.inserted)
			}
			hits := 0
			for i := range tc.inserted {
				if _, found, _ := m.Get(t.Context(), fmt.Sprintf("key:%d", i)); found {
					hits++
				}
			}
			if hits > tc.bound {
				t.Fatalf("after %d inserts into a cache of %d: %d keys still readable", tc.inserted, tc.bound, hits)
			}
		})
	}
}

func TestMemoryUsableAfterClose(t *testing.T) {
	t.Parallel()
	m := cache.NewMemory(10)
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mustSet(t, m, "k", []byte("v"), 50*time.Millisecond)
	if got := mustGet(t, m, "k"); string(got) != "v" {
		t.Fatalf("Get after Close = %q", got)
	}
	time.Sleep(100 * time.Millisecond)
	// Without the janitor, expiry must still hold on read.
	if _, found, _ := m.Get(t.Context(), "k"); found {
		t.Fatal("expired entry served after Close stopped the clean-up goroutine")
	}
}
