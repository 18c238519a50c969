package cache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/servicetest"
)

// testPrefix is unique per test and per run, so parallel tests and parallel `go test` runs
// against one server never see each other's keys.
func testPrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	return "minimart-test:" + name + ":" + hex.EncodeToString(b) + ":"
}

// newTestRedis returns a Redis on the test server under a fresh prefix, and removes every key
// under that prefix when the test ends (counters set with Set(…, 0) would otherwise linger).
func newTestRedis(t *testing.T) (*cache.Redis, string) {
	t.Helper()
	url := servicetest.RedisURL(t)
	prefix := testPrefix(t)
	r, err := cache.NewRedis(url, prefix)
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	if err := r.Ping(t.Context()); err != nil {
		t.Fatalf("Ping %s: %v", url, err)
	}
	t.Cleanup(func() {
		_ = r.Close()
		opt, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		raw := redis.NewClient(opt)
		defer raw.Close()
		ctx := context.Background()
		iter := raw.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			raw.Del(ctx, iter.Val())
		}
	})
	return r, prefix
}

func rawClient(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(servicetest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, func(t *testing.T) cache.Cache {
		r, _ := newTestRedis(t)
		return r
	})
}

func TestRedisKeysArePrefixed(t *testing.T) {
	t.Parallel()
	r, prefix := newTestRedis(t)
	mustSet(t, r, "user:1", []byte("v"), time.Minute)
	raw := rawClient(t)
	got, err := raw.Get(t.Context(), prefix+"user:1").Result()
	if err != nil || got != "v" {
		t.Fatalf("raw GET %suser:1 = %q, %v; want the value under the prefix", prefix, got, err)
	}
	if n, _ := raw.Exists(t.Context(), "user:1").Result(); n != 0 {
		t.Fatal("the key was also written without its prefix")
	}
	ttl, err := raw.PTTL(t.Context(), prefix+"user:1").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("raw PTTL = %v, %v; want the TTL given to Set", ttl, err)
	}
}

func TestRedisInstancesShareOneServer(t *testing.T) {
	t.Parallel()
	url := servicetest.RedisURL(t)
	a, prefix := newTestRedis(t)
	b, err := cache.NewRedis(url, prefix) // a second instance of the shop, same prefix
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	other, err := cache.NewRedis(url, prefix+"other:") // another deployment on the same server
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	ctx := t.Context()

	mustSet(t, a, "product:7", []byte("from a"), time.Minute)
	if got := mustGet(t, b, "product:7"); string(got) != "from a" {
		t.Fatalf("b sees %q, want a's value", got)
	}
	if _, found, _ := other.Get(ctx, "product:7"); found {
		t.Fatal("a different prefix sees the key")
	}
	mustSet(t, b, "product:7", []byte("from b"), time.Minute)
	if got := mustGet(t, a, "product:7"); string(got) != "from b" {
		t.Fatalf("a sees %q after b's Set, want b's value", got)
	}
	if err := b.Delete(ctx, "product:7"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := a.Get(ctx, "product:7"); found {
		t.Fatal("a still sees the key b deleted")
	}

	// Login attempts counted on either instance add up: that is what Incr is for.
	for i, c := range []cache.Cache{a, b, a, b} {
		n, _, err := c.Incr(ctx, "login:alice", time.Minute)
		if err != nil || n != int64(i+1) {
			t.Fatalf("Incr #%d = %d, %v; want %d", i+1, n, err, i+1)
		}
	}
}

func TestNewRedisRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/notanumber", "::"} {
		if r, err := cache.NewRedis(url, "p:"); err == nil {
			_ = r.Close()
			t.Errorf("NewRedis(%q) succeeded, want an error", url)
		}
	}
}

// A Redis that is down must cost a request little: every call fails, and fails fast.
func TestRedisDownFailsFast(t *testing.T) {
	t.Parallel()
	r, err := cache.NewRedis("redis://127.0.0.1:1/0", "p:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return r.Ping(ctx) }},
		{"Get", func() error { _, _, err := r.Get(ctx, "k"); return err }},
		{"Set", func() error { return r.Set(ctx, "k", []byte("v"), time.Minute) }},
		{"Delete", func() error { return r.Delete(ctx, "k") }},
		{"Incr", func() error { _, _, err := r.Incr(ctx, "k", time.Minute); return err }},
	} {
		start := time.Now()
		err := tc.call()
		took := time.Since(start)
		if err == nil {
			t.Errorf("%s on a closed port succeeded", tc.name)
		}
		if took > 500*time.Millisecond {
			t.Errorf("%s on a closed port took %v, want well under a second", tc.name, took)
		}
	}
}
