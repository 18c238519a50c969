package events

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

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
	// relayLag is the time from an event's occurred_at to its publication by the relay.
	relayLag prometheus.Histogram
	// consumerLag is the time from an event's occurred_at to a consumer having handled it.
	consumerLag *prometheus.HistogramVec
}

// lagBuckets span a healthy in-process hand-off (milliseconds) to a backlog an operator must
// look at (minutes).
var lagBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

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
		relayLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "minimart_events_relay_lag_seconds", Help: "Time from an event occurring (its outbox row committed) to the relay publishing it.",
			Buckets: lagBuckets,
		}),
		consumerLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "minimart_events_consumer_lag_seconds", Help: "Time from an event occurring to a consumer having handled it, by consumer.",
			Buckets: lagBuckets,
		}, []string{"consumer"}),
	}
	if reg != nil {
		reg.MustRegister(m.published, m.failures, m.retried, m.deadLettered, m.relayLag, m.consumerLag)
	}
	// Dead letters the relay gives up on have no consumer; their series exists from the start
	// so that alerts see it go from 0 to 1 (an increase from no series at all is invisible).
	m.deadLettered.WithLabelValues("")
	return m
}

// consumerStarted makes consumer's series at zero, for the same reason: a dead letter or a
// lag alert compares with the value before, which must exist.
func (m *Metrics) consumerStarted(consumer string) {
	if m != nil {
		m.failures.WithLabelValues(consumer)
		m.retried.WithLabelValues(consumer)
		m.deadLettered.WithLabelValues(consumer)
		m.consumerLag.WithLabelValues(consumer)
	}
}

func (m *Metrics) observeRelayLag(occurred time.Time) {
	if m != nil {
		m.relayLag.Observe(max(time.Since(occurred).Seconds(), 0))
	}
}

func (m *Metrics) observeConsumerLag(consumer string, occurred time.Time) {
	if m != nil {
		m.consumerLag.WithLabelValues(consumer).Observe(max(time.Since(occurred).Seconds(), 0))
	}
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
