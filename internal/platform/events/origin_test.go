package events_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// handled is what a consumer's handler saw of the context it ran in.
type handled struct {
	requestID string
	span      trace.SpanContext
}

// originSuite writes an event under a traced request's context, lets the relay publish it
// to bus, and checks that the consumer's handler runs with the request's id and in a span
// of the request's trace: request span → publish span → consumer span. The consumer
// subscribes and starts on bus before the write.
func originSuite(t *testing.T, db *sqldb.DB, exp *tracetest.InMemoryExporter, tracer trace.Tracer,
	bus events.Bus, subscribe func(events.Handler)) {
	t.Helper()
	seen := make(chan handled, 1)
	subscribe(func(ctx context.Context, e events.Event) error {
		h := handled{span: trace.SpanContextFromContext(ctx)}
		if s := logging.ScopeFrom(ctx); s != nil {
			h.requestID = s.RequestID
		}
		seen <- h
		return nil
	})
	ob := events.NewOutbox()
	startRelay(t, events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: time.Hour, Tracer: tracer}))

	g := newGen(t)
	ctx := logging.WithScope(context.Background(), &logging.Scope{RequestID: "req-origin-1"})
	ctx, request := tracer.Start(ctx, "POST /orders", trace.WithSpanKind(trace.SpanKindServer))
	write(t, db, ob, mustEventCtx(t, ctx, g, "order.created"))
	request.End()
	// Background work (no request) writes an event that carries nothing.
	write(t, db, ob, mustEvent(t, g, "order.created", 2))

	got := receive(t, seen, "the traced event handled")
	if got.requestID != "req-origin-1" {
		t.Errorf("handler's request id %q, want the writer's", got.requestID)
	}
	if got.span.TraceID() != request.SpanContext().TraceID() {
		t.Fatalf("handler runs in trace %s, want the request's %s", got.span.TraceID(), request.SpanContext().TraceID())
	}
	untraced := receive(t, seen, "the untraced event handled")
	if untraced.requestID != "" || untraced.span.TraceID() == request.SpanContext().TraceID() {
		t.Errorf("an event written outside a request got %+v", untraced)
	}

	var consumer, publish sdktrace.ReadOnlySpan
	waitFor(t, 5*time.Second, "the consumer span ended", func() bool {
		for _, s := range exp.GetSpans().Snapshots() {
			switch {
			case s.SpanKind() == trace.SpanKindConsumer && s.SpanContext().TraceID() == request.SpanContext().TraceID():
				consumer = s
			case s.SpanKind() == trace.SpanKindProducer && s.SpanContext().TraceID() == request.SpanContext().TraceID():
				publish = s
			}
		}
		return consumer != nil && publish != nil
	})
	if publish.Parent().SpanID() != request.SpanContext().SpanID() || publish.Name() != "publish order.created" {
		t.Errorf("publish span %q has parent %s, want the request span %s", publish.Name(), publish.Parent().SpanID(), request.SpanContext().SpanID())
	}
	if consumer.Parent().SpanID() != publish.SpanContext().SpanID() || consumer.Name() != "process order.created" {
		t.Errorf("consumer span %q has parent %s, want the publish span %s", consumer.Name(), consumer.Parent().SpanID(), publish.SpanContext().SpanID())
	}
	if got.span.SpanID() != consumer.SpanContext().SpanID() {
		t.Errorf("the handler does not run in the consumer span")
	}
}

func mustEventCtx(t *testing.T, ctx context.Context, g *ids.Generator, typ string) events.Event {
	t.Helper()
	e := mustEvent(t, g, typ, 1)
	e.Origin = events.OriginFrom(ctx)
	return e
}

func newTracer() (*tracetest.InMemoryExporter, trace.Tracer) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	return exp, tp.Tracer("test")
}

func TestOriginThroughInProc(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		exp, tracer := newTracer()
		bus := inProc(t, db, events.InProcOptions{Poll: 20 * time.Millisecond, Tracer: tracer})
		originSuite(t, db, exp, tracer, bus, func(h events.Handler) {
			if err := bus.Subscribe("inventory", []string{"order.*"}, h); err != nil {
				t.Fatal(err)
			}
			startBus(t, bus)
		})
	})
}

func TestOriginThroughRabbitMQ(t *testing.T) {
	t.Parallel()
	db := sqldbtest.SQLite(t, outboxSets...)
	exp, tracer := newTracer()
	br := newBroker(t)
	br.opts.Tracer = tracer
	bus := br.bus("")
	originSuite(t, db, exp, tracer, bus, func(h events.Handler) {
		br.subscribe(bus, "inventory", []string{"order.*"}, h)
		br.start(bus)
	})
}

// Outbox.Write takes an event's origin from its context when the event has none.
func TestOutboxWriteTakesOriginFromContext(t *testing.T) {
	db := sqldbtest.SQLite(t, outboxSets...)
	_, tracer := newTracer()
	ctx := logging.WithScope(context.Background(), &logging.Scope{RequestID: "req-9"})
	ctx, span := tracer.Start(ctx, "request")
	defer span.End()
	ob := events.NewOutbox()
	e := mustEvent(t, newGen(t), "order.created", 1)
	if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return ob.Write(ctx, tx, e) }); err != nil {
		t.Fatal(err)
	}
	var tp, rid string
	if err := db.Read().QueryRow("SELECT trace_parent, request_id FROM outbox_events WHERE id = ?", int64(e.ID)).Scan(&tp, &rid); err != nil {
		t.Fatal(err)
	}
	want := "00-" + span.SpanContext().TraceID().String() + "-" + span.SpanContext().SpanID().String() + "-01"
	if tp != want || rid != "req-9" {
		t.Errorf("stored origin %q %q, want %q req-9", tp, rid, want)
	}
}
