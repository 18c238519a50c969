package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/telemetry"
)

// lockedBuffer is the log output of an app under test, written by its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// One trace spans an HTTP request, the SQL it ran, the event it wrote and the consumers
// that handled the event (in process: outbox → relay → in-process bus); every log line the
// request and the consumers caused carries its request id and the trace.
func TestTraceSpansRequestEventAndConsumer(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tracing := telemetry.New(sdktrace.WithSyncer(exp), "minimart")
	logs := &lockedBuffer{}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"MINIMART_PASSWORD_COST": "4", "MINIMART_BOOTSTRAP_ADMIN": "0", "MINIMART_LOG_LEVEL": "debug"}[k]
	}, config.Overrides{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, logging.New(logs, slog.LevelDebug, "minimart"), app.WithTracer(tracing.Tracer()))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		a.Close()
		if err := tracing.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	base := "http://" + ln.Addr().String()

	if _, err := a.Users.CreateStaff(ctx, "boss", "staff-pass-123", "admin"); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string, in any) (*http.Response, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	_, login := call("POST", "/api/v1/admin/auth/login", "", map[string]string{"username": "boss", "password": "staff-pass-123"})
	token, _ := login["tokens"].(map[string]any)["access_token"].(string)
	resp, _ := call("POST", "/api/v1/admin/categories", token, map[string]any{"name": "手机"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create category: %d", resp.StatusCode)
	}
	requestID := resp.Header.Get("X-Request-Id")

	var server sdktrace.ReadOnlySpan
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var consumers []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		spans := exp.GetSpans().Snapshots()
		for _, s := range spans {
			if s.Name() == "POST /api/v1/admin/categories" && s.SpanKind() == trace.SpanKindServer {
				server = s
			}
		}
		consumers = consumers[:0]
		if server != nil {
			for _, s := range spans {
				if s.SpanContext().TraceID() == server.SpanContext().TraceID() {
					byID[s.SpanContext().SpanID()] = s
					if s.SpanKind() == trace.SpanKindConsumer {
						consumers = append(consumers, s.Name())
					}
				}
			}
		}
		// The category's event reaches the catalog's cache and search consumers; the staff
		// write's audit entry reaches the user module's audit consumer.
		if strings.Count(strings.Join(consumers, ","), "process catalog.category.changed") == 2 &&
			strings.Contains(strings.Join(consumers, ","), "process audit.recorded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer spans in the request's trace: %v (server span found: %v)", consumers, server != nil)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Each consumer span descends from the server span: consumer → publish → server.
	descends := func(s sdktrace.ReadOnlySpan) bool {
		for p := s.Parent(); p.IsValid(); {
			if p.SpanID() == server.SpanContext().SpanID() {
				return true
			}
			parent, ok := byID[p.SpanID()]
			if !ok {
				return false
			}
			p = parent.Parent()
		}
		return false
	}
	var sqlUnderRequest, sqlUnderConsumer bool
	for _, s := range byID {
		if s.SpanKind() == trace.SpanKindConsumer && !descends(s) {
			t.Errorf("consumer span %q does not descend from the request's span", s.Name())
		}
		if s.SpanKind() == trace.SpanKindClient && strings.HasPrefix(s.Name(), "INSERT") {
			parent := byID[s.Parent().SpanID()]
			if s.Parent().SpanID() == server.SpanContext().SpanID() {
				sqlUnderRequest = true
			} else if parent != nil && parent.SpanKind() == trace.SpanKindConsumer {
				sqlUnderConsumer = true
			}
		}
	}
	if !sqlUnderRequest || !sqlUnderConsumer {
		t.Errorf("SQL spans: under the request %v, under a consumer %v", sqlUnderRequest, sqlUnderConsumer)
	}

	// Log lines: the access line, and any line under the trace, name the request.
	traceID := server.SpanContext().TraceID().String()
	var access bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["trace_id"] == traceID && rec["request_id"] != requestID {
			t.Errorf("a line of the request's trace without its request id: %s", line)
		}
		if rec["message"] == "http request" && rec["url.path"] == "/api/v1/admin/categories" {
			access = true
			if rec["trace_id"] != traceID || rec["span_id"] != server.SpanContext().SpanID().String() || rec["request_id"] != requestID {
				t.Errorf("access line without the request's trace and id: %s", line)
			}
		}
	}
	if !access {
		t.Errorf("no access line for the request:\n%s", logs.String())
	}
}
