package cache_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/cache"
)

// logBuffer collects log lines from goroutines the test starts.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(substr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), substr)
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// flakyCache is our own Cache over a real Memory whose failures the test switches on and off,
// standing in for a Redis that goes down and comes back.
type flakyCache struct {
	cache.Cache
	down atomic.Bool
}

var errDown = errors.New("backend down")

func (f *flakyCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if f.down.Load() {
		return nil, false, errDown
	}
	return f.Cache.Get(ctx, key)
}

func (f *flakyCache) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if f.down.Load() {
		return errDown
	}
	return f.Cache.Set(ctx, key, v, ttl)
}

// gatedCache holds every Get until n callers are inside Get, so all of them miss together:
// without it the first load could finish and fill the cache before the last caller looked.
type gatedCache struct {
	cache.Cache
	n       int32
	arrived atomic.Int32
	open    chan struct{}
}

func (g *gatedCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if g.arrived.Add(1) == g.n {
		close(g.open)
	}
	<-g.open
	return g.Cache.Get(ctx, key)
}

func newMemory(t *testing.T) *cache.Memory {
	m := cache.NewMemory(100)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestLoaderReadsThrough(t *testing.T) {
	t.Parallel()
	m := newMemory(t)
	l := cache.NewLoader(m, nil)
	ctx := t.Context()
	var loads atomic.Int32
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		return []byte("from db"), nil
	}
	const ttl = 150 * time.Millisecond
	for i, wantLoads := range []int32{1, 1, 1} {
		v, err := l.Fetch(ctx, "product:1", ttl, load)
		if err != nil || string(v) != "from db" {
			t.Fatalf("Fetch #%d = %q, %v", i+1, v, err)
		}
		if loads.Load() != wantLoads {
			t.Fatalf("after Fetch #%d: %d loads, want %d (the value must come from the cache)", i+1, loads.Load(), wantLoads)
		}
	}
	if got := mustGet(t, m, "product:1"); string(got) != "from db" {
		t.Fatalf("cache holds %q, want the loaded value", got)
	}
	time.Sleep(ttl + 150*time.Millisecond)
	if _, err := l.Fetch(ctx, "product:1", ttl, load); err != nil || loads.Load() != 2 {
		t.Fatalf("Fetch after the TTL: %d loads, err %v; want a second load", loads.Load(), err)
	}
	if l.Degraded() {
		t.Fatal("Degraded with a working cache")
	}
}

func TestLoaderDoesNotCacheLoadErrors(t *testing.T) {
	t.Parallel()
	m := newMemory(t)
	l := cache.NewLoader(m, nil)
	errNotFound := errors.New("no such product")
	var loads atomic.Int32
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		return nil, errNotFound
	}
	for range 2 {
		if _, err := l.Fetch(t.Context(), "product:404", time.Minute, load); !errors.Is(err, errNotFound) {
			t.Fatalf("Fetch err = %v, want the load's error", err)
		}
	}
	if loads.Load() != 2 {
		t.Fatalf("%d loads for two fetches of a failing key, want 2: errors must not be cached", loads.Load())
	}
	if _, found, _ := m.Get(t.Context(), "product:404"); found {
		t.Fatal("a failed load left an entry in the cache")
	}
	if l.Degraded() {
		t.Fatal("a load error marked the cache degraded")
	}
}

func TestLoaderLoadsOncePerKey(t *testing.T) {
	t.Parallel()
	const callers = 50
	g := &gatedCache{Cache: newMemory(t), n: callers, open: make(chan struct{})}
	l := cache.NewLoader(g, nil)
	var loads atomic.Int32
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		// Long enough for the other callers, all past their miss, to join this load.
		time.Sleep(100 * time.Millisecond)
		return []byte("hot product"), nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			v, err := l.Fetch(t.Context(), "product:hot", time.Minute, load)
			if err != nil || string(v) != "hot product" {
				errs <- errors.Join(err, errors.New("got "+string(v)))
				return
			}
			v[0] = 'X' // callers own their result: with -race, a shared slice would show here
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d callers missing one key at once made %d loads, want 1", callers, n)
	}
	if got := mustGet(t, g.Cache, "product:hot"); string(got) != "hot product" {
		t.Fatalf("cache holds %q after the callers edited their results", got)
	}
}

// One caller giving up must not fail the others waiting on the same load.
func TestLoaderCallerCancelDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	l := cache.NewLoader(newMemory(t), nil)
	started := make(chan struct{})
	release := make(chan struct{})
	load := func(ctx context.Context) ([]byte, error) {
		close(started)
		<-release
		return []byte("v"), ctx.Err()
	}
	firstCtx, cancelFirst := context.WithCancel(t.Context())
	firstErr := make(chan error, 1)
	go func() {
		_, err := l.Fetch(firstCtx, "k", time.Minute, load)
		firstErr <- err
	}()
	<-started
	second := make(chan error, 1)
	go func() {
		v, err := l.Fetch(t.Context(), "k", time.Minute, load)
		if err == nil && string(v) != "v" {
			err = errors.New("wrong value " + string(v))
		}
		second <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the second caller join the load
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatalf("the caller still waiting got %v, want the value", err)
	}
}

func TestLoaderRedisDown(t *testing.T) {
	t.Parallel()
	dead, err := cache.NewRedis("redis://127.0.0.1:1/0", "p:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dead.Close() })
	log, logs := newLogger()
	l := cache.NewLoader(dead, log)
	var loads atomic.Int32
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		return []byte("from db"), nil
	}
	const fetches = 5
	for i := range fetches {
		start := time.Now()
		v, err := l.Fetch(t.Context(), "product:1", time.Minute, load)
		took := time.Since(start)
		if err != nil || string(v) != "from db" {
			t.Fatalf("Fetch #%d with Redis down = %q, %v; want the loaded value", i+1, v, err)
		}
		if took > 500*time.Millisecond {
			t.Fatalf("Fetch #%d with Redis down took %v, want well under a second", i+1, took)
		}
		if !l.Degraded() {
			t.Fatalf("Degraded() = false after Fetch #%d with Redis down", i+1)
		}
	}
	if loads.Load() != fetches {
		t.Fatalf("%d loads for %d fetches", loads.Load(), fetches)
	}
	if n := logs.count("level=WARN"); n != 1 {
		t.Fatalf("%d warnings for one outage, want 1 (once per state change):\n%s", n, logs.buf.String())
	}
}

func TestLoaderRecovers(t *testing.T) {
	t.Parallel()
	f := &flakyCache{Cache: newMemory(t)}
	log, logs := newLogger()
	l := cache.NewLoader(f, log)
	var loads atomic.Int32
	load := func(context.Context) ([]byte, error) {
		loads.Add(1)
		return []byte("v"), nil
	}
	fetch := func() {
		t.Helper()
		if v, err := l.Fetch(t.Context(), "k", time.Minute, load); err != nil || string(v) != "v" {
			t.Fatalf("Fetch = %q, %v", v, err)
		}
	}
	for _, step := range []struct {
		name         string
		down         bool
		fetches      int
		wantDegraded bool
		wantLoads    int32 // total so far
		wantWarn     int   // total so far
		wantInfo     int   // total so far
	}{
		{"healthy", false, 2, false, 1, 0, 0},
		{"goes down", true, 3, true, 4, 1, 0},
		{"comes back", false, 2, false, 4, 1, 1}, // the entry set while healthy is still there
		{"down again", true, 1, true, 5, 2, 1},
		{"back again", false, 1, false, 5, 2, 2},
	} {
		f.down.Store(step.down)
		for range step.fetches {
			fetch()
		}
		if got := l.Degraded(); got != step.wantDegraded {
			t.Fatalf("%s: Degraded() = %v, want %v", step.name, got, step.wantDegraded)
		}
		if got := loads.Load(); got != step.wantLoads {
			t.Fatalf("%s: %d loads so far, want %d", step.name, got, step.wantLoads)
		}
		if w, i := logs.count("level=WARN"), logs.count("level=INFO"); w != step.wantWarn || i != step.wantInfo {
			t.Fatalf("%s: %d warnings and %d infos so far, want %d and %d", step.name, w, i, step.wantWarn, step.wantInfo)
		}
	}
}
