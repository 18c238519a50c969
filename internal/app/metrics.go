package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

// registerPools exports the connection pools' use and waits (go_sql_*, labelled db_name):
// SQLite has a write pool of one connection and a read pool, MySQL one pool for both.
func registerPools(reg prometheus.Registerer, db *sqldb.DB) {
	if db.Read() == db.Write() {
		reg.MustRegister(collectors.NewDBStatsCollector(db.Write(), "main"))
		return
	}
	reg.MustRegister(collectors.NewDBStatsCollector(db.Write(), "write"), collectors.NewDBStatsCollector(db.Read(), "read"))
}

// outboxScrapeTimeout bounds the outbox queries of one scrape: a stalled database must not
// hang /metrics (nor pile up one query per scrape).
const outboxScrapeTimeout = 2 * time.Second

// registerOutboxGauges exports how much the outbox holds and how old its oldest event is;
// each reads -1 when its query fails, which the dashboards show and the alerts catch.
func (a *App) registerOutboxGauges(reg prometheus.Registerer) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "minimart_outbox_pending", Help: "Events committed but not yet published, or in process not yet handled (-1: the count failed).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), outboxScrapeTimeout)
		defer cancel()
		n, err := a.relay.Pending(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "minimart_outbox_oldest_age_seconds", Help: "Age of the oldest event not yet published (0: none waits; -1: the query failed).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), outboxScrapeTimeout)
		defer cancel()
		age, err := a.relay.OldestPending(ctx)
		if err != nil {
			return -1
		}
		return age.Seconds()
	}))
}
