package app

import "go.opentelemetry.io/otel/trace"

// Option tunes New and OpenBase.
type Option func(*options)

type options struct {
	tracer trace.Tracer
}

// WithTracer traces the process with tracer (telemetry.Tracing.Tracer): HTTP requests,
// peer calls, SQL statements under them, and events from the outbox to their consumers.
// Without it, or with nil, nothing is traced and nothing is spent on tracing.
func WithTracer(tracer trace.Tracer) Option { return func(o *options) { o.tracer = tracer } }

func optionsOf(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
