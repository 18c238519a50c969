package telemetry_test

import (
	"context"
	"testing"

	"github.com/minimart/minimart/internal/platform/telemetry"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Tracing is on only with an OTLP endpoint, and the standard switches turn it off.
func TestSetupFollowsTheStandardVariables(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		on   bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "TRUE"}, false},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
		{"sdk disabled false", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "false"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := telemetry.Setup(context.Background(), env(c.env), "minimart")
			if err != nil {
				t.Fatal(err)
			}
			if (tr != nil) != c.on || (tr.Tracer() != nil) != c.on {
				t.Fatalf("tracing on = %v, want %v", tr != nil, c.on)
			}
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestServiceName(t *testing.T) {
	all := []string{"user", "catalog", "inventory"}
	for _, c := range []struct {
		env     map[string]string
		modules []string
		want    string
	}{
		{nil, all, "minimart"},
		{nil, nil, "minimart"},
		{nil, []string{"catalog", "inventory"}, "minimart-catalog-inventory"},
		{map[string]string{"OTEL_SERVICE_NAME": "shop-eu"}, []string{"user"}, "shop-eu"},
	} {
		if got := telemetry.ServiceName(env(c.env), c.modules, all); got != c.want {
			t.Errorf("ServiceName(%v, %v) = %q, want %q", c.env, c.modules, got, c.want)
		}
	}
}
