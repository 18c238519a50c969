package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
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
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			bus := events.NewInProc(testLog(t))
			rec := newRecorder()
			if err := bus.Subscribe("test", []string{tt.pattern}, rec.handle); err != nil {
				t.Fatal(err)
			}
			for i, typ := range append(append([]string(nil), tt.match...), tt.miss...) {
				if err := bus.Publish(context.Background(), mustEvent(t, g, typ, i)); err != nil {
					t.Fatal(err)
				}
			}
			if got := strings.Join(rec.types(), " "); got != strings.Join(tt.match, " ") {
				t.Fatalf("pattern %q delivered [%s], want [%s]", tt.pattern, got, strings.Join(tt.match, " "))
			}
		})
	}
}

func TestInProcSubscribeRejects(t *testing.T) {
	t.Parallel()
	bus := events.NewInProc(nil)
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

func TestInProcReportsFailedEvents(t *testing.T) {
	t.Parallel()
	g := newGen(t)
	bus := events.NewInProc(testLog(t))
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
	for _, s := range []struct {
		consumer string
		h        events.Handler
	}{
		{"a", okA.handle},
		{"failing", failing.handle},
		{"b", okB.handle},
		{"panics", func(_ context.Context, e events.Event) error {
			if e.ID == panicky.ID {
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
	err := bus.Publish(context.Background(), good, bad, panicky)
	var pe *events.PublishError
	if !errors.As(err, &pe) {
		t.Fatalf("Publish = %v, want a *PublishError", err)
	}
	if !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the handler's error", err)
	}
	failedIDs := map[ids.ID]string{}
	for _, f := range pe.Failed {
		failedIDs[f.ID] = f.Err.Error()
	}
	if len(failedIDs) != 2 || !strings.Contains(failedIDs[bad.ID], "failing") ||
		!strings.Contains(failedIDs[panicky.ID], "panicked") {
		t.Fatalf("failed events = %v, want %s (consumer failing) and %s (panic)", failedIDs, bad.ID, panicky.ID)
	}
	// Every other subscriber still got every event.
	for _, r := range []*recorder{okA, okB} {
		if r.succeeded() != 3 {
			t.Errorf("a healthy subscriber got %d events, want 3", r.succeeded())
		}
	}
	if err := bus.Publish(context.Background(), good); err != nil {
		t.Errorf("Publish of an event every handler accepts = %v", err)
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
}
