package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/logging"
)

func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// A line logged with a request's context carries its scope and trace under the flat keys,
// with ECS names for slog's own fields and the service.
func TestScopeAndTraceFromContext(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelDebug, "minimart-order")
	scope := &logging.Scope{RequestID: "req-1"}
	ctx := logging.WithScope(context.Background(), scope)
	logging.SetUserID(ctx, 42)
	logging.SetOrderNo(ctx, "20261207000001")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))

	log.InfoContext(ctx, "order placed", slog.Int64("amount", 999900))
	log.Warn("no context")
	log.With(slog.String("component", "x")).ErrorContext(ctx, "failed", slog.Any("err", errors.New("boom")))

	got := lines(t, &buf)
	want := map[string]any{"message": "order placed", "log.level": "info", "service.name": "minimart-order",
		"request_id": "req-1", "user_id": "42", "order_no": "20261207000001",
		"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331", "amount": 999900.0}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("%s = %v, want %v (line %v)", k, got[0][k], v, got[0])
		}
	}
	if got[0]["@timestamp"] == nil || got[0]["msg"] != nil || got[0]["level"] != nil || got[0]["time"] != nil {
		t.Errorf("slog's own keys not renamed to ECS: %v", got[0])
	}
	for _, k := range []string{"request_id", "trace_id", "span_id", "user_id", "order_no"} {
		if _, ok := got[1][k]; ok {
			t.Errorf("a line without a context has %s: %v", k, got[1])
		}
	}
	if got[2]["error.message"] != "boom" || got[2]["log.level"] != "error" || got[2]["request_id"] != "req-1" || got[2]["component"] != "x" {
		t.Errorf("error line %v", got[2])
	}
}

// Secrets are redacted by key wherever they sit, and mobile numbers are masked in every
// string: attributes, errors, the message.
func TestRedaction(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "test")
	log.Info("login for 13812345678 failed",
		slog.String("password", "hunter2-secret"),
		slog.String("access_token", "eyJhbGciOi.tok"),
		slog.String("Authorization", "Bearer eyJhbGciOi.tok"),
		slog.String("jwt_secret", "s3cr3t"),
		slog.String("key", "sandbox-key-1"),
		slog.String("sign", "c2lnbmF0dXJl"),
		slog.Group("notify", slog.String("signature", "c2lnbmF0dXJl"), slog.String("out_trade_no", "20261207000001234")),
		slog.String("phone", "+8613912345678"),
		slog.Any("err", errors.New("user 15000001111 not found")),
		slog.String("order_no", "2026120713800001111"),
		slog.String("event_key", "42"),
	)
	raw := buf.String()
	for _, secret := range []string{"hunter2-secret", "eyJhbGciOi", "s3cr3t", "sandbox-key-1", "c2lnbmF0dXJl",
		"13812345678", "13912345678", "15000001111"} {
		if strings.Contains(raw, secret) {
			t.Errorf("%q logged: %s", secret, raw)
		}
	}
	l := lines(t, &buf)[0]
	if l["message"] != "login for 138****5678 failed" || l["phone"] != "+86139****5678" || l["error.message"] != "user 150****1111 not found" {
		t.Errorf("mobiles not masked as 138****5678: %v", l)
	}
	if l["password"] != logging.Redacted || l["notify"].(map[string]any)["signature"] != logging.Redacted {
		t.Errorf("not redacted: %v", l)
	}
	// Longer digit runs are ids and order numbers, not phones; other keys are kept.
	if l["order_no"] != "2026120713800001111" || l["event_key"] != "42" ||
		l["notify"].(map[string]any)["out_trade_no"] != "20261207000001234" {
		t.Errorf("non-secrets changed: %v", l)
	}
}

func TestMaskMobiles(t *testing.T) {
	for in, want := range map[string]string{
		"13800001234":                "138****1234",
		"a 13800001234, 19912345678": "a 138****1234, 199****5678",
		"12345678901":                "12345678901", // second digit 2: not a mobile
		"138000012345":               "138000012345",
		"8613800001234":              "86138****1234",
		"":                           "",
	} {
		if got := logging.MaskMobiles(in); got != want {
			t.Errorf("MaskMobiles(%q) = %q, want %q", in, got, want)
		}
	}
}

// Ids are never taken for phone numbers: a masked id would not match its trace or the
// X-Request-Id the client saw.
func TestIDsAreNotMasked(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "test")
	const rid = "req-a13800138000b"
	tid, _ := trace.TraceIDFromHex("0af76519a13800138000b211c80319cd")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := logging.WithScope(context.Background(), &logging.Scope{RequestID: rid})
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.InfoContext(ctx, "call 13800138000")
	got := lines(t, &buf)[0]
	if got["request_id"] != rid || got["trace_id"] != tid.String() || got["message"] != "call 138****8000" {
		t.Errorf("line %v", got)
	}
}
