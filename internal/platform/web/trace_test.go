package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/web"
)

// Trace continues the caller's trace, names the span by the matched route, records the
// status, and the access line names the span; with no tracer nothing is traced.
// trustAll treats every caller as a peer service.
func trustAll(*http.Request) bool { return true }

func TestTraceServerSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)).Tracer("test")
	var logs strings.Builder
	rt := web.NewRouter()
	var handlerSpan trace.SpanContext
	rt.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) error {
		handlerSpan = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusTeapot)
		return nil
	})
	h := web.Chain(rt, web.Observe(logging.New(&logs, slog.LevelInfo, "test"), web.NewMetrics(prometheus.NewRegistry())), web.Trace(tracer, trustAll))
	req := httptest.NewRequest("GET", "/items/7", nil)
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.ServeHTTP(httptest.NewRecorder(), req)

	spans := exp.GetSpans().Snapshots()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET /items/{id}" || s.SpanKind() != trace.SpanKindServer ||
		s.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || s.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("span %q kind %v trace %s parent %s", s.Name(), s.SpanKind(), s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	var status int64
	for _, a := range s.Attributes() {
		if a.Key == "http.response.status_code" {
			status = a.Value.AsInt64()
		}
	}
	if status != http.StatusTeapot || handlerSpan.SpanID() != s.SpanContext().SpanID() {
		t.Errorf("status %d, handler span %s", status, handlerSpan.SpanID())
	}
	line := logLines(t, logs.String())[0]
	if line["trace_id"] != "0af7651916cd43dd8448eb211c80319c" || line["span_id"] != s.SpanContext().SpanID().String() {
		t.Errorf("access line %v", line)
	}

	// A caller that is not one of our services: its traceparent starts nothing of ours.
	exp.Reset()
	untrusted := web.Chain(rt, web.Observe(slog.New(slog.DiscardHandler), web.NewMetrics(prometheus.NewRegistry())),
		web.Trace(tracer, func(*http.Request) bool { return false }))
	untrusted.ServeHTTP(httptest.NewRecorder(), req)
	if got := exp.GetSpans().Snapshots(); len(got) != 1 || got[0].Parent().IsValid() ||
		got[0].SpanContext().TraceID().String() == "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("an outside caller's traceparent was continued: %d spans", len(got))
	}

	// Tracing off: the handler is the one given, and nothing carries a span.
	off := web.Chain(rt, web.Observe(slog.New(slog.DiscardHandler), web.NewMetrics(prometheus.NewRegistry())), web.Trace(nil, trustAll))
	handlerSpan = trace.SpanContext{}
	off.ServeHTTP(httptest.NewRecorder(), req)
	if handlerSpan.IsValid() {
		t.Errorf("the handler runs in span %s with tracing off", handlerSpan.SpanID())
	}
}

// The span's url.path hides what the route marks secret, as the access line does.
func TestTraceSpanHidesSecretPathSegments(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)).Tracer("test")
	rt := web.NewRouter()
	rt.HandleFunc("POST /pay/{trade}/{token}/pay", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	h := web.Chain(rt, web.Observe(slog.New(slog.DiscardHandler), web.NewMetrics(prometheus.NewRegistry())), web.Trace(tracer, trustAll))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/pay/2026120700001/1796642958.c2lnbmF0dXJl/pay", nil))
	spans := exp.GetSpans().Snapshots()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	var path string
	for _, a := range spans[0].Attributes() {
		if a.Key == "url.path" {
			path = a.Value.AsString()
		}
	}
	if path != "/pay/2026120700001/[redacted]/pay" {
		t.Errorf("span url.path %q", path)
	}
}
