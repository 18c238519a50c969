package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

func TestNewEnvelope(t *testing.T) {
	t.Parallel()
	before := time.Now()
	e, err := events.New(ids.ID(1234567890123456789), "order.created", "ord-1", samplePayload{OrderNo: "N1", Amount: 999900})
	if err != nil {
		t.Fatal(err)
	}
	if e.Version != 1 || e.Type != "order.created" || e.Key != "ord-1" {
		t.Fatalf("envelope = %+v", e)
	}
	if e.OccurredAt.Location() != time.UTC || e.OccurredAt.Before(before.Add(-time.Second)) || e.OccurredAt.After(time.Now()) {
		t.Fatalf("occurred_at = %v, want now in UTC", e.OccurredAt)
	}
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m["id"] != "1234567890123456789" {
		t.Errorf("id in JSON = %#v, want the decimal string", m["id"])
	}
	for _, k := range []string{"type", "occurred_at", "key", "version", "payload"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON envelope lacks %q: %s", k, body)
		}
	}
	if p, _ := m["payload"].(map[string]any); p["amount"] != float64(999900) {
		t.Errorf("payload = %#v", m["payload"])
	}
	back, err := events.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEvent(back, e) {
		t.Fatalf("decoded %+v, want %+v", back, e)
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      ids.ID
		typ     string
		payload any
	}{
		{"zero id", 0, "order.created", 1},
		{"empty type", 1, "", 1},
		{"wildcard type", 1, "order.*", 1},
		{"hash type", 1, "order.#", 1},
		{"empty word", 1, "order..created", 1},
		{"long type", 1, strings.Repeat("a", 192), 1},
		{"unmarshallable payload", 1, "order.created", func() {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := events.New(tt.id, tt.typ, "k", tt.payload); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		``,
		`null`,
		`[]`,
		`{"id":"1","type":"a.b","occurred_at":"2024-01-01T00:00:00Z","key":"k","version":1}`,              // no payload
		`{"id":"0","type":"a.b","occurred_at":"2024-01-01T00:00:00Z","key":"k","version":1,"payload":{}}`, // id 0
		`{"id":"x","type":"a.b","occurred_at":"2024-01-01T00:00:00Z","key":"k","version":1,"payload":{}}`,
		`{"id":"1","type":"","occurred_at":"2024-01-01T00:00:00Z","key":"k","version":1,"payload":{}}`,
		`{"id":"1","type":"a.b","occurred_at":"2024-01-01T00:00:00Z","key":"k","version":0,"payload":{}}`,
		`{"id":"1","type":"a.b","occurred_at":"yesterday","key":"k","version":1,"payload":{}}`,
	} {
		if e, err := events.Decode([]byte(body)); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", body, e)
		}
	}
	good := `{"id":"7","type":"a.b","occurred_at":"2024-01-01T08:00:00+08:00","key":"k","version":2,"payload":{"x":1}}`
	e, err := events.Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != 7 || e.Version != 2 || !e.OccurredAt.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || e.OccurredAt.Location() != time.UTC {
		t.Fatalf("decoded %+v", e)
	}
}

// FuzzDecode feeds arbitrary message bodies to the parser of broker input: it must never
// panic, and what it accepts must survive a round trip.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"7","type":"a.b","occurred_at":"2024-01-01T00:00:00Z","key":"k","version":1,"payload":{"x":1}}`))
	f.Add([]byte(`{"id":7,"type":"catalog.product.changed","occurred_at":"2024-01-01T00:00:00.123456789Z","key":"","version":3,"payload":[1,2]}`))
	f.Add([]byte(`{"payload":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := events.Decode(body)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Decode returned an invalid event: %v", err)
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := events.Decode(again)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !sameEvent(back, e) {
			t.Fatalf("round trip changed %+v into %+v", e, back)
		}
	})
}

func TestInProcTopicPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"order.created", []string{"order.created"}, []string{"order.paid", "order.created.x", "order"}},
		{"order.*", []string{"order.created", "order.paid"}, []string{"order", "order.a.b", "orders.created"}},
		{"*.created", []string{"order.created", "user.created"}, []string{"created", "a.b.created"}},
		{"catalog.#", []string{"catalog", "catalog.product", "catalog.product.changed"}, []string{"catalogue.x", "order.catalog"}},
		{"#", []string{"a", "a.b", "a.b.c"}, nil},
		{"#.changed", []string{"changed", "catalog.changed", "inventory.stock.changed"}, []string{"changed.not"}},
		{"a.#.z", []string{"a.z", "a.b.z", "a.b.c.z"}, []string{"a", "a.b", "z.a.z"}},
		{"*.*.changed", []string{"catalog.product.changed"}, []string{"catalog.changed", "a.b.c.changed"}},
		{"a.#.#.b", []string{"a.b", "a.x.b", "a.x.y.b"}, []string{"a.x"}},
	}
	g := newGen(t)
	db := sqldbtest.SQLite(t, outboxSets...)
	for i, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			bus := inProc(t, db, events.InProcOptions{})
			rec := newRecorder()
			consumer := fmt.Sprintf("test%d", i)
			if err := bus.Subscribe(consumer, []string{tt.pattern}, rec.handle); err != nil {
				t.Fatal(err)
			}
			for i, typ := range append(append([]string(nil), tt.match...), tt.miss...) {
				if err := bus.Publish(context.Background(), mustEvent(t, g, typ, i)); err != nil {
					t.Fatal(err)
				}
			}
			// Publish recorded a delivery for each match, and for nothing else.
			if n := deliveries(t, db, consumer); n != len(tt.match) {
				t.Fatalf("pattern %q recorded %d deliveries, want %d", tt.pattern, n, len(tt.match))
			}
			startBus(t, bus)
			waitFor(t, 5*time.Second, "the matching events", func() bool { return deliveries(t, db, consumer) == 0 })
			if got := strings.Join(rec.types(), " "); got != strings.Join(tt.match, " ") {
				t.Fatalf("pattern %q delivered [%s], want [%s]", tt.pattern, got, strings.Join(tt.match, " "))
			}
		})
	}
}

func TestInProcSubscribeRejects(t *testing.T) {
	t.Parallel()
	bus := events.NewInProc(nil, nil, events.InProcOptions{}) // subscribing needs no database
	h := func(context.Context, events.Event) error { return nil }
	for _, tc := range []struct {
		consumer string
		types    []string
		h        events.Handler
	}{
		{"", []string{"a"}, h},
		{"c", nil, h},
		{"c", []string{""}, h},
		{"c", []string{"a..b"}, h},
		{"c", []string{"a.b*"}, h},
		{"c", []string{"a"}, nil},
		{"has space", []string{"a"}, h},
	} {
		if err := bus.Subscribe(tc.consumer, tc.types, tc.h); err == nil {
			t.Errorf("Subscribe(%q, %q) accepted", tc.consumer, tc.types)
		}
	}
}

// TestInProcFailingConsumersHoldUpNoOne: Publish accepts what it recorded whatever the
// handlers will do; a consumer whose handler fails or panics gets its own dead letter with
// its own reason, and every other consumer gets every event once. An event that is not a
// valid envelope is the only one Publish refuses.
func TestInProcFailingConsumersHoldUpNoOne(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		bus := inProc(t, db, events.InProcOptions{MaxAttempts: 2, RetryBase: time.Millisecond, Poll: 10 * time.Millisecond})
		boom := errors.New("boom")
		okA, okB := newRecorder(), newRecorder()
		bad := mustEvent(t, g, "order.created", 2)
		failing := newRecorder()
		failing.fail = func(e events.Event, _ int) error {
			if e.ID == bad.ID {
				return boom
			}
			return nil
		}
		panicky := mustEvent(t, g, "order.paid", 3)
		var firstTry atomic.Int32
		for _, s := range []struct {
			consumer string
			h        events.Handler
		}{
			{"a", okA.handle},
			{"failing", failing.handle},
			{"b", okB.handle},
			{"panics", func(ctx context.Context, e events.Event) error {
				if e.ID == panicky.ID {
					if events.Attempt(ctx) == 1 {
						firstTry.Add(1)
					}
					panic("handler bug")
				}
				return nil
			}},
		} {
			if err := bus.Subscribe(s.consumer, []string{"order.*"}, s.h); err != nil {
				t.Fatal(err)
			}
		}
		good := mustEvent(t, g, "order.created", 1)
		invalid := mustEvent(t, g, "order.created", 4)
		invalid.Payload = []byte("{not json")
		err := bus.Publish(context.Background(), good, bad, invalid, panicky)
		var pe *events.PublishError
		if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].ID != invalid.ID {
			t.Fatalf("Publish = %v, want a *PublishError naming only the invalid event", err)
		}
		startBus(t, bus)
		waitFor(t, 5*time.Second, "every delivery handled or dead-lettered", func() bool {
			var n int
			if err := db.Read().QueryRow("SELECT COUNT(*) FROM event_deliveries").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 0
		})
		dls := deadLetters(t, db)
		if len(dls) != 2 {
			t.Fatalf("dead letters %+v, want one for failing and one for panics", dls)
		}
		byConsumer := map[string]events.DeadLetter{}
		for _, d := range dls {
			byConsumer[d.Consumer] = d
		}
		if d := byConsumer["failing"]; d.EventID != bad.ID || d.Error != "boom" || d.Attempts != 2 {
			t.Errorf("failing's dead letter = %+v, want event %s, error boom, 2 attempts", d, bad.ID)
		}
		if d := byConsumer["panics"]; d.EventID != panicky.ID || !strings.Contains(d.Error, "panicked") || d.Attempts != 2 {
			t.Errorf("panics' dead letter = %+v, want event %s and the panic", d, panicky.ID)
		}
		if n := firstTry.Load(); n != 1 {
			t.Errorf("the panicking handler saw attempt 1 %d times, want once (outside the relay too)", n)
		}
		// Every other subscriber got every valid event once; the failing one got the others.
		for _, r := range []*recorder{okA, okB} {
			if r.succeeded() != 3 || r.calls(good.ID) != 1 || r.calls(bad.ID) != 1 || r.calls(panicky.ID) != 1 {
				t.Errorf("a healthy subscriber got %d events, want each of 3 once", r.succeeded())
			}
		}
		if failing.calls(bad.ID) != 2 || failing.calls(good.ID) != 1 || failing.calls(panicky.ID) != 1 {
			t.Errorf("failing consumer's calls: bad %d, good %d, panicky %d; want 2, 1, 1",
				failing.calls(bad.ID), failing.calls(good.ID), failing.calls(panicky.ID))
		}

		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
		if err := bus.Publish(context.Background(), good); !errors.Is(err, events.ErrClosed) {
			t.Errorf("Publish after Close = %v, want ErrClosed", err)
		}
		if err := bus.Ping(context.Background()); !errors.Is(err, events.ErrClosed) {
			t.Errorf("Ping after Close = %v, want ErrClosed", err)
		}
		if err := bus.Subscribe("late", []string{"#"}, okA.handle); !errors.Is(err, events.ErrClosed) {
			t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
		}
		if err := bus.Start(context.Background()); !errors.Is(err, events.ErrClosed) {
			t.Errorf("Start after Close = %v, want ErrClosed", err)
		}
	})
}
