package events

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts what happens to events, for Prometheus. Make one with NewMetrics and pass
// it in AMQPOptions.Metrics, InProcOptions.Metrics and RelayOptions.Metrics; nil counts
// nothing. Events are counted as published by the Relay once the bus accepted them (and
// dead-lettered, with no consumer, when their outbox row cannot be read); the consumer
// side (handler failures, retries, dead letters) by the bus that runs the consumer — the
// AMQP bus for RabbitMQ consumers, InProc's workers for in-process ones — so sharing one
// Metrics between them never counts an event twice.
type Metrics struct {
	published    *prometheus.CounterVec
	failures     *prometheus.CounterVec
	retried      *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
}

// NewMetrics makes the event metrics and registers them on reg (the app's own registry,
// never the global one); with a nil reg they are made but not registered.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_events_published_total", Help: "Events accepted by the bus from the outbox, by type.",
		}, []string{"type"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_events_handler_failures_total", Help: "Event handler failures, by consumer.",
		}, []string{"consumer"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_events_retried_total", Help: "Events scheduled for another try after a handler failure, by consumer.",
		}, []string{"consumer"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_events_dead_lettered_total", Help: "Events given up on and dead-lettered, by consumer.",
		}, []string{"consumer"}),
	}
	if reg != nil {
		reg.MustRegister(m.published, m.failures, m.retried, m.deadLettered)
	}
	return m
}

func (m *Metrics) incPublished(typ string) {
	if m != nil {
		m.published.WithLabelValues(typ).Inc()
	}
}

func (m *Metrics) incFailure(consumer string) {
	if m != nil {
		m.failures.WithLabelValues(consumer).Inc()
	}
}

func (m *Metrics) incRetried(consumer string) {
	if m != nil {
		m.retried.WithLabelValues(consumer).Inc()
	}
}

func (m *Metrics) incDeadLettered(consumer string) {
	if m != nil {
		m.deadLettered.WithLabelValues(consumer).Inc()
	}
}
