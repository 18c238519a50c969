package events

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/logging"
)

// Origin is the request and trace that caused an event. It travels beside the envelope,
// never in it: in the outbox row and the in-process delivery row (trace_parent,
// request_id), and in the AMQP message headers (traceparent, x-request-id). The consumer's
// handler runs with it in its context, so its log lines name the request that caused them
// and its spans continue that request's trace — across the outbox, the relay and the
// broker, where a context cannot go.
type Origin struct {
	// TraceParent is the W3C traceparent of the span that wrote the event; "" when tracing
	// was off.
	TraceParent string
	// RequestID is the id of the request that caused the event; "" for background work.
	RequestID string
}

// Message headers that carry an event's Origin.
const (
	HeaderTraceParent = "traceparent"
	HeaderRequestID   = "x-request-id"
)

// OriginFrom is the origin of events written under ctx: its request's id and, when
// tracing is on, its span.
func OriginFrom(ctx context.Context) Origin {
	var o Origin
	if s := logging.ScopeFrom(ctx); s != nil {
		o.RequestID = s.RequestID
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		o.TraceParent = traceParent(sc)
	}
	return o
}

// Context returns ctx carrying o: a log scope with its request id, and its trace as the
// remote parent of the spans started under it.
func (o Origin) Context(ctx context.Context) context.Context {
	if o.TraceParent != "" {
		carrier := propagation.MapCarrier{HeaderTraceParent: o.TraceParent}
		ctx = propagation.TraceContext{}.Extract(ctx, carrier)
	}
	return logging.WithScope(ctx, &logging.Scope{RequestID: o.RequestID})
}

// traceParent formats sc as a W3C traceparent header value.
func traceParent(sc trace.SpanContext) string {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	return carrier[HeaderTraceParent]
}

// startConsumer starts the consumer span of one handling of e, a child of the span that
// published it, and returns the handler's context (with e's origin) and the function that
// ends the span with the handler's error. tracer nil (tracing off) starts nothing.
func startConsumer(ctx context.Context, tracer trace.Tracer, consumer string, e Event) (context.Context, func(error)) {
	ctx = e.Origin.Context(ctx)
	if tracer == nil {
		return ctx, func(error) {}
	}
	ctx, span := tracer.Start(ctx, "process "+e.Type, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.consumer.group.name", consumer),
			attribute.String("messaging.message.id", e.ID.String()),
			attribute.String("event.type", e.Type)))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// startPublish starts a producer span for each event of evs that came from a traced
// request, as a child of the span that wrote it, and makes that span the events' origin,
// so the consumers' spans hang under it. It returns the function that ends them, marking
// each event errOf names as not published. tracer nil (tracing off) starts nothing.
func startPublish(tracer trace.Tracer, evs []Event) func(errOf func(ids.ID) error) {
	if tracer == nil {
		return func(func(ids.ID) error) {}
	}
	spans := make([]trace.Span, len(evs))
	for i := range evs {
		e := &evs[i]
		if e.Origin.TraceParent == "" {
			continue
		}
		ctx := propagation.TraceContext{}.Extract(context.Background(),
			propagation.MapCarrier{HeaderTraceParent: e.Origin.TraceParent})
		_, span := tracer.Start(ctx, "publish "+e.Type, trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(attribute.String("messaging.operation.type", "send"),
				attribute.String("messaging.message.id", e.ID.String()),
				attribute.String("event.type", e.Type)))
		spans[i] = span
		e.Origin.TraceParent = traceParent(span.SpanContext())
	}
	return func(errOf func(ids.ID) error) {
		for i, span := range spans {
			if span == nil {
				continue
			}
			if err := errOf(evs[i].ID); err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}
