package peer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/peer"
)

// With a tracer, each attempt of a peer call is a client span under the caller's span and
// sends its traceparent, so the peer's server span joins the caller's trace; without one
// no traceparent is sent.
func TestCallsCarryTheTrace(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Traceparent")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	exp := tracetest.NewInMemoryExporter()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)).Tracer("test")

	for _, traced := range []bool{true, false} {
		opts := peer.Options{Module: "inventory", Target: srv.URL, Token: token}
		if traced {
			opts.Tracer = tracer
		}
		c, err := peer.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, parent := tracer.Start(context.Background(), "request")
		if err := c.Call(ctx, http.MethodGet, "/internal/v1/thing", nil, &struct{}{}, true); err != nil {
			t.Fatal(err)
		}
		parent.End()
		c.Close()
		header := <-got
		if !traced {
			if header != "" {
				t.Errorf("untraced client sent traceparent %q", header)
			}
			continue
		}
		var client sdktrace.ReadOnlySpan
		for _, s := range exp.GetSpans().Snapshots() {
			if s.SpanKind() == trace.SpanKindClient {
				client = s
			}
		}
		if client == nil || client.Parent().SpanID() != parent.SpanContext().SpanID() || client.Name() != "GET inventory" {
			t.Fatalf("client span %v", client)
		}
		want := "00-" + client.SpanContext().TraceID().String() + "-" + client.SpanContext().SpanID().String() + "-01"
		if header != want {
			t.Errorf("traceparent %q, want %q", header, want)
		}
	}
}
