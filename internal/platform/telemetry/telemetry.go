// Package telemetry sets up OpenTelemetry tracing from the standard OTEL_* variables.
//
// Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set (spans go there over OTLP/HTTP, batched), unless OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none. Off, Setup returns a nil *Tracing and every instrumented place
// holds a nil trace.Tracer: it checks for nil and does nothing else — no no-op spans, no
// context values — so tracing that is off costs a pointer comparison.
//
// Nothing here is global: the tracer is passed to the web middleware, the SQL driver
// wrapper, the peer clients and the event buses that make spans, and trace context is
// carried with propagation.TraceContext (W3C traceparent) by value.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentationName names the tracer of every span the shop makes.
const InstrumentationName = "github.com/minimart/minimart"

// Tracing is an SDK tracer provider and the tracer made from it. A nil *Tracing is tracing
// turned off.
type Tracing struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// Enabled reports whether getenv turns tracing on.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// ServiceName is OTEL_SERVICE_NAME, else "minimart" for a process serving every module and
// "minimart-" with its modules for a service of the split shape ("minimart-catalog-inventory").
func ServiceName(getenv func(string) string, modules, all []string) string {
	if n := strings.TrimSpace(getenv("OTEL_SERVICE_NAME")); n != "" {
		return n
	}
	if len(modules) == 0 || len(modules) == len(all) {
		return "minimart"
	}
	return "minimart-" + strings.Join(modules, "-")
}

// Setup returns tracing exporting over OTLP/HTTP as the OTEL_EXPORTER_OTLP_* variables say
// (the exporter reads them itself: endpoint, headers, timeout, TLS), or nil when getenv
// does not turn it on.
func Setup(ctx context.Context, getenv func(string) string, service string) (*Tracing, error) {
	if !Enabled(getenv) {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	return New(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)), service), nil
}

// New returns tracing with the given span processor (a test passes
// sdktrace.WithSyncer(tracetest.NewInMemoryExporter())), naming service. The sampler is the
// SDK's: OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (parentbased_traceidratio with 0.1
// keeps a tenth of the traces), by default every trace, a span sampled as its parent was.
func New(processor sdktrace.TracerProviderOption, service string) *Tracing {
	tp := sdktrace.NewTracerProvider(processor,
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
	return &Tracing{provider: tp, tracer: tp.Tracer(InstrumentationName)}
}

// Tracer is the tracer to hand to instrumented code; nil when t is nil (tracing off).
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tracer
}

// Shutdown exports the spans still buffered and stops the provider; give it a deadline.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("tracing shutdown: %w", err)
	}
	return nil
}
