package web

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Check is one dependency /readyz looks at. A critical check that fails makes the instance
// not ready (503); a non-critical one (cache, broker: the shop keeps working without them)
// only marks it degraded.
type Check struct {
	Name     string
	Critical bool
	Ping     func(ctx context.Context) error
}

type checkResult struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Readiness answers /readyz by running every check concurrently with a short timeout, with
// each check's result: for the operator listener (see Ops), since a check's error names the
// host and port of a dependency.
func Readiness(checks ...Check) http.Handler {
	return readiness(checks, true)
}

// ReadinessStatus answers /readyz like Readiness with the overall status only: for the public
// port, where load balancers and orchestrators probe it.
func ReadinessStatus(checks ...Check) http.Handler {
	return readiness(checks, false)
}

func readiness(checks []Check, details bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		results := make(map[string]checkResult, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		status, code := "ok", http.StatusOK
		for _, c := range checks {
			wg.Go(func() {
				res := checkResult{Status: "ok"}
				if err := c.Ping(ctx); err != nil {
					res = checkResult{Status: "down", Error: err.Error()}
				}
				mu.Lock()
				defer mu.Unlock()
				results[c.Name] = res
				if res.Status != "ok" {
					if c.Critical {
						status, code = "unavailable", http.StatusServiceUnavailable
					} else if status == "ok" {
						status = "degraded"
					}
				}
			})
		}
		wg.Wait()
		if !details {
			WriteJSON(w, code, map[string]string{"status": status})
			return
		}
		WriteJSON(w, code, map[string]any{"status": status, "checks": results})
	})
}

// Liveness answers /healthz: the process is up and serving.
func Liveness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
