package payment

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	notifies *prometheus.CounterVec
	queries  *prometheus.CounterVec
}

// newMetrics makes the payment metrics, with every provider's notify series at zero: an
// alert on a rise in rejections needs the value before the first one.
func newMetrics(reg prometheus.Registerer, providers map[string]Provider) (*metrics, error) {
	m := &metrics{
		notifies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_payment_notifies_total",
			Help: "Provider notifies received, by provider and outcome (applied, duplicate, ignored, rejected, error).",
		}, []string{"provider", "outcome"}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_payment_queries_total",
			Help: "Active queries of pending payments, by provider and what the provider said.",
		}, []string{"provider", "result"}),
	}
	for name := range providers {
		for _, o := range []Outcome{OutcomeApplied, OutcomeDuplicate, OutcomeIgnored, OutcomeRejected, OutcomeError} {
			m.notifies.WithLabelValues(name, string(o))
		}
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.notifies, m.queries} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
