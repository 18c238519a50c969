package web

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Ops is the operator listener's handler (MINIMART_OPS_ADDR): Prometheus metrics from reg,
// the pprof profiles, and readiness with each check's details. None of it is for buyers —
// profiles and check errors show internals — so it is served on its own address, never on
// the public port. The pprof handlers are mounted here explicitly: importing net/http/pprof
// also registers them on http.DefaultServeMux, which nothing of ours serves.
func Ops(reg *prometheus.Registry, checks ...Check) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("GET /readyz", Readiness(checks...))
	mux.Handle("GET /healthz", Liveness())
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { WriteError(w, r, ErrRouteNotFound) }))
	return mux
}
