package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).
			With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

func newGen(t testing.TB) *ids.Generator {
	t.Helper()
	g, err := ids.NewGenerator(1)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

type samplePayload struct {
	OrderNo string `json:"order_no"`
	Amount  int64  `json:"amount"`
}

func mustEvent(t testing.TB, g *ids.Generator, typ string, n int) events.Event {
	t.Helper()
	e, err := events.New(g.New(), typ, fmt.Sprintf("agg-%d", n), samplePayload{OrderNo: fmt.Sprintf("N%d", n), Amount: int64(n)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// recorder is a handler that remembers what it was given.
type recorder struct {
	mu    sync.Mutex
	got   []events.Event
	count map[ids.ID]int
	// fail, if set, decides whether the call with this attempt number (1-based) fails.
	fail func(e events.Event, attempt int) error
}

func newRecorder() *recorder { return &recorder{count: map[ids.ID]int{}} }

func (r *recorder) handle(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count[e.ID]++
	if r.fail != nil {
		if err := r.fail(e, r.count[e.ID]); err != nil {
			return err
		}
	}
	r.got = append(r.got, e)
	return nil
}

// succeeded is how many calls returned nil.
func (r *recorder) succeeded() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *recorder) calls(id ids.ID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count[id]
}

func (r *recorder) events() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.got...)
}

func (r *recorder) types() []string {
	var out []string
	for _, e := range r.events() {
		out = append(out, e.Type)
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sameEvent reports whether two envelopes carry the same content.
func sameEvent(a, b events.Event) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Key == b.Key && a.Version == b.Version &&
		a.OccurredAt.Equal(b.OccurredAt) && jsonEqual(a.Payload, b.Payload)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// inProc returns an in-process bus on db, closed when the test ends.
func inProc(t testing.TB, db *sqldb.DB, opts events.InProcOptions) *events.InProc {
	t.Helper()
	bus := events.NewInProc(db, testLog(t), opts)
	t.Cleanup(func() {
		if err := bus.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return bus
}

// startBus runs bus's consumers until the test ends.
func startBus(t testing.TB, bus events.Bus) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := bus.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

// deliveries counts the in-process deliveries waiting for consumer.
func deliveries(t testing.TB, db *sqldb.DB, consumer string) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRow("SELECT COUNT(*) FROM event_deliveries WHERE consumer = ?", consumer).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// receive waits for a value on ch, failing the test if none comes within ten seconds.
func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// deadLetters lists db's dead letters, newest first, as the admin listing does.
func deadLetters(t testing.TB, db *sqldb.DB) []events.DeadLetter {
	t.Helper()
	dls, err := events.NewRelay(db, nil, nil, nil, events.RelayOptions{}).DeadLetters(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return dls
}
