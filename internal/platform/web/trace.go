package web

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace starts a server span for every request, names it by the route the Router matched,
// and continues the caller's trace when the request carries a W3C traceparent and trusted
// says the caller is ours (a peer service). Anyone else's traceparent is ignored: a sampled
// flag from a buyer would have every request of theirs traced, SQL and all, and pick its
// trace id. Put it right inside Observe, which then writes the trace id on the access
// line. A nil tracer (tracing off) returns the handler unchanged.
func Trace(tracer trace.Tracer, trusted func(*http.Request) bool) Middleware {
	if tracer == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	var prop propagation.TraceContext
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if trusted(r) {
				ctx = prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
			}
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method)))
			defer span.End()
			st := stateFrom(ctx)
			if st != nil {
				st.span = span.SpanContext()
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			if st == nil {
				return
			}
			status := st.rec.status
			if status == 0 {
				status = http.StatusOK
			}
			// The path as the access line has it: segments the route marks secret (a signed
			// pay link's token) hidden.
			span.SetAttributes(attribute.String("url.path", redactPath(st.route, r.URL.Path)),
				attribute.Int("http.response.status_code", status))
			if st.route != "" {
				span.SetName(st.route)
				span.SetAttributes(attribute.String("http.route", st.route))
			}
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		})
	}
}
