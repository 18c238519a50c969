package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.yaml.in/yaml/v3"

	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/web"
)

// The flat keys the logger writes, and the ECS field the shipper must move each to.
var ecsOfFlatKey = map[string]string{
	logging.KeyRequestID: "http.request.id",
	logging.KeyTraceID:   "trace.id",
	logging.KeySpanID:    "span.id",
	logging.KeyUserID:    "user.id",
	logging.KeyOrderNo:   "labels.order_no",
}

// emittedKeys are the keys of real log lines: a request's access line and a handler's line,
// with every context field set, through the same logger and middleware the binary uses.
func emittedKeys(t *testing.T) map[string]bool {
	t.Helper()
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "minimart")
	tracer := sdktrace.NewTracerProvider().Tracer("test")
	rt := web.NewRouter()
	rt.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) error {
		logging.SetUserID(r.Context(), 42)
		logging.SetOrderNo(r.Context(), "20261207000001")
		log.WarnContext(r.Context(), "looked at an order", slog.Any("err", context.Canceled))
		return web.ErrInternal
	})
	h := web.Chain(rt, web.Observe(log, web.NewMetrics(prometheus.NewRegistry())), web.Trace(tracer, func(*http.Request) bool { return true }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/orders/1", nil))
	keys := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		for k := range rec {
			keys[k] = true
		}
	}
	for k := range ecsOfFlatKey {
		if !keys[k] {
			t.Fatalf("the logger no longer writes %s: %v", k, keys)
		}
	}
	return keys
}

// deploy/logging/filebeat.yml parses JSON lines into ECS objects and moves every flat key
// the shop writes to its ECS field; every other key the shop writes is already ECS-shaped.
func TestFilebeatMapsTheFieldsWeEmit(t *testing.T) {
	raw, err := os.ReadFile("logging/filebeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Inputs []struct {
			Type    string
			Parsers []struct {
				NDJSON *struct {
					Target        *string `yaml:"target"`
					ExpandKeys    bool    `yaml:"expand_keys"`
					OverwriteKeys bool    `yaml:"overwrite_keys"`
				} `yaml:"ndjson"`
			}
		} `yaml:"filebeat.inputs"`
		Processors []struct {
			Rename *struct {
				Fields []struct{ From, To string }
			}
		}
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("filebeat.yml: %v", err)
	}
	if len(cfg.Inputs) == 0 {
		t.Fatal("filebeat.yml has no input")
	}
	for _, in := range cfg.Inputs {
		ok := false
		for _, p := range in.Parsers {
			if p.NDJSON != nil && p.NDJSON.Target != nil && *p.NDJSON.Target == "" && p.NDJSON.ExpandKeys && p.NDJSON.OverwriteKeys {
				ok = true
			}
		}
		if !ok {
			t.Errorf("input %s does not parse JSON lines to the event's root with dotted keys expanded", in.Type)
		}
	}
	renamed := map[string]string{}
	for _, p := range cfg.Processors {
		if p.Rename == nil {
			continue
		}
		for _, f := range p.Rename.Fields {
			renamed[f.From] = f.To
		}
	}
	for key := range emittedKeys(t) {
		if want, flat := ecsOfFlatKey[key]; flat {
			if renamed[key] != want {
				t.Errorf("filebeat.yml moves %s to %q, want %s", key, renamed[key], want)
			}
			continue
		}
		// ECS fields are dotted (log.level, http.request.method…), except these two roots.
		if !strings.Contains(key, ".") && key != "@timestamp" && key != "message" {
			t.Errorf("the shop writes %q, which is neither an ECS field nor mapped to one", key)
		}
	}
}
