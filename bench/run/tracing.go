package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// runTracing measures what OpenTelemetry tracing costs: two embedded minimarts set up
// alike, one with tracing off (OTEL_SDK_DISABLED=true) and one exporting every span over
// OTLP/HTTP to a receiver in this process, measured in interleaved pairs on product detail
// and order create.
func runTracing(ctx context.Context, b *bench, g *groupResult) error {
	recv, err := startSpanSink()
	if err != nil {
		return err
	}
	defer recv.close()
	defer b.stopAll()

	type side struct {
		key, label string
		env        []string
		srv        *proc
		fx         *ordersFixture
		details    []string
	}
	sides := []*side{
		{key: "off", label: "tracing off", env: []string{"OTEL_SDK_DISABLED=true"}},
		{key: "on", label: "tracing on", env: []string{"OTEL_SDK_DISABLED=false", "OTEL_TRACES_EXPORTER=otlp",
			"OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.url, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "OTEL_TRACES_SAMPLER=parentbased_always_on"}},
		{key: "sampled", label: "tracing on, 10% sampled", env: []string{"OTEL_SDK_DISABLED=false", "OTEL_TRACES_EXPORTER=otlp",
			"OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.url, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=",
			"OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.1"}},
	}
	for _, s := range sides {
		dataDir := filepath.Join(b.tmp, "tracing-"+s.key+"-data")
		s.env = append(s.env, "MINIMART_DEMO=0")
		password := "Pw-" + randomHex(8) + "-9x"
		pwFile := filepath.Join(b.tmp, "tracing-"+s.key+"-staff-password")
		if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
			return err
		}
		if out, err := runCommand(ctx, ordersAdminTimeout, b.tmp, b.minimart,
			[]string{"admin", "create", "--username", ordersStaffUser, "--password-file", pwFile, "--role", "operator"},
			b.minimartEnv(append([]string{"MINIMART_DATA_DIR=" + dataDir}, s.env...)...)); err != nil {
			return fmt.Errorf("%s: minimart admin create: %w: %s", s.label, err, whyFailed(out))
		}
		if s.srv, err = b.startMinimart(ctx, "minimart-tracing-"+s.key, dataDir, s.env...); err != nil {
			return err
		}
		api := newAPIClient(s.srv.base)
		if s.fx, err = prepareOrders(ctx, api, password, b.opts.concurrency, b.opts.flashStock); err != nil {
			return fmt.Errorf("%s: setup through the API: %w", s.label, err)
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := api.call(ctx, "GET", "/api/v1/products?page_size=50", "", nil, http.StatusOK, &page); err != nil {
			return fmt.Errorf("%s: list products: %w", s.label, err)
		}
		for _, p := range page.Items {
			s.details = append(s.details, "/api/v1/products/"+url.PathEscape(p.ID))
		}
		if len(s.details) == 0 {
			return fmt.Errorf("%s: the fixture made no products", s.label)
		}
		if err := s.srv.waitSettled(ctx, 5*time.Minute); err != nil {
			return err
		}
	}
	off := sides[0]
	ok200 := loadgen.ExpectStatus(http.StatusOK)
	alive := func(s *side) func() error { return s.srv.deadError }
	spansBefore := recv.requests.Load()
	// Each traced side against tracing off, in its own interleaved pair.
	for _, on := range sides[1:] {
		if _, _, err := b.splitPair(ctx, g,
			splitSide{scenario{name: "product detail, tracing off", request: getCycle(off.srv.base, off.details...), check: ok200}, alive(off)},
			splitSide{scenario{name: "product detail, " + on.label, request: getCycle(on.srv.base, on.details...), check: ok200}, alive(on)},
			b.opts.concurrency); err != nil {
			return err
		}
	}
	for _, on := range sides[1:] {
		for _, s := range sides {
			if err := s.srv.waitSettled(ctx, 5*time.Minute); err != nil {
				return err
			}
		}
		if _, _, err := b.splitPair(ctx, g,
			splitSide{off.fx.splitOrderScenario(off.srv.base, "order create, tracing off", "t"+on.key), alive(off)},
			splitSide{on.fx.splitOrderScenario(on.srv.base, "order create, "+on.label, "t"), alive(on)},
			b.opts.concurrency); err != nil {
			return err
		}
	}
	// The batch exporter sends at most every second: give the last batch time to arrive.
	deadline := time.Now().Add(3 * time.Second)
	for recv.requests.Load() == spansBefore && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	g.note("Two embedded (SQLite) minimarts, set up alike through the API (the orders group's fixture: %d buyers, %s spread SKUs), measured in interleaved pairs; the ratio is tracing on over tracing off. **Off**: `OTEL_SDK_DISABLED=true` (no tracer: the instrumented code checks for nil and does nothing else). **On**: `OTEL_EXPORTER_OTLP_ENDPOINT` at an OTLP/HTTP receiver in the runner that reads and discards each export: every request sampled (`OTEL_TRACES_SAMPLER=parentbased_always_on`, the default), server span, a span per SQL statement, the event's publish and consumer spans, batched export (1 s). **On, 10%% sampled**: the same with `OTEL_TRACES_SAMPLER=parentbased_traceidratio`, `OTEL_TRACES_SAMPLER_ARG=0.1`. Each traced side is paired with the same tracing-off process. The receiver took %d export requests (%s of protobuf) during the run.",
		b.opts.concurrency, withCommas(len(off.fx.skus)), recv.requests.Load(), formatBytes(recv.bytes.Load()))
	n := max(1, b.opts.splitSlices)
	g.note("Each pair is interleaved: %d slices per side in the order off, on, on, off, off…, each slice %s of warm-up and %s measured, so load from elsewhere on the machine falls on both sides alike; a row pools its slices. The exporter keeps the SDK's batch defaults (a queue of 2,048 spans, 512 per export): spans beyond the queue are dropped, never waited for. Order rows: `POST /api/v1/orders` of one unit of one SKU, each request its own `Idempotency-Key`; only 201 passes. Detail rows: `GET /api/v1/products/{id}` over the fixture's products (answered from the in-process cache after the first read).",
		n, b.opts.warmup/time.Duration(n), b.opts.duration/time.Duration(n))
	return nil
}

// spanSink is an OTLP/HTTP receiver that counts what it is sent and discards it.
type spanSink struct {
	url      string
	srv      *http.Server
	requests atomic.Int64
	bytes    atomic.Int64
}

func startSpanSink() (*spanSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &spanSink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		s.requests.Add(1)
		s.bytes.Add(n)
		// An empty ExportTraceServiceResponse is zero bytes of protobuf.
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *spanSink) close() { _ = s.srv.Close() }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
