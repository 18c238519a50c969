package order

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts the orders that reached each business state, and their amounts, once the
// transaction that made it so has committed. Make it with NewMetrics and pass it in
// Config.Metrics; nil counts nothing.
type Metrics struct {
	orders *prometheus.CounterVec
	amount *prometheus.CounterVec
}

// countedStates are the states whose arrivals are counted: the shop's funnel and its losses.
var countedStates = []Status{PendingPayment, Paid, Cancelled, Refunded}

// stateNames are the label values of countedStates: "created" reads better than
// pending_payment in a dashboard of orders per minute.
var stateNames = map[Status]string{PendingPayment: "created", Paid: "paid", Cancelled: "cancelled", Refunded: "refunded"}

// NewMetrics makes the order metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_orders_total", Help: "Orders that reached a state: created, paid, cancelled, refunded.",
		}, []string{"state"}),
		amount: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_orders_fen_total", Help: "Payable amount (fen) of the orders that reached a state: created, paid, cancelled, refunded.",
		}, []string{"state"}),
	}
	for _, c := range []prometheus.Collector{m.orders, m.amount} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every state's series exists from the start, so rates and ratios see the first order.
	for _, st := range countedStates {
		m.orders.WithLabelValues(stateNames[st])
		m.amount.WithLabelValues(stateNames[st])
	}
	return m, nil
}

// reached counts an order that has just (committed) reached its current status; states not
// counted are ignored.
func (m *Metrics) reached(o Order) {
	name, ok := stateNames[o.Status]
	if m == nil || !ok {
		return
	}
	m.orders.WithLabelValues(name).Inc()
	m.amount.WithLabelValues(name).Add(float64(o.Payable))
}
