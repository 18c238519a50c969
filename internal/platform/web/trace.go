package web

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace starts a server span for every request, continuing the caller's trace when the
// request carries a W3C traceparent (a peer service, or nginx with tracing on), and names
// it by the route the Router matched. Put it right inside Observe, which then writes the
// trace id on the access line. A nil tracer (tracing off) returns the handler unchanged.
func Trace(tracer trace.Tracer) Middleware {
	if tracer == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	var prop propagation.TraceContext
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method),
					attribute.String("url.path", r.URL.Path)))
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
			if st.route != "" {
				span.SetName(st.route)
				span.SetAttributes(attribute.String("http.route", st.route), attribute.Int("http.response.status_code", status))
			} else {
				span.SetAttributes(attribute.Int("http.response.status_code", status))
			}
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		})
	}
}
