package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/web"
)

func TestMiddlewareStack(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs strings.Builder
	log := logging.New(&logs, slog.LevelInfo, "test")
	rt := web.NewRouter()
	rt.HandleFunc("GET /boom/{id}", func(w http.ResponseWriter, r *http.Request) error {
		panic("secret internal detail: db password is hunter2")
	})
	rt.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) error {
		var in struct{ Name string }
		if err := web.Decode(r, &in); err != nil {
			return err
		}
		web.WriteJSON(w, http.StatusOK, in)
		return nil
	})
	rt.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) error {
		return io.ErrUnexpectedEOF // not an application error: must become a bare 500
	})
	rt.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// A middleware that hands the router a copy of the request, as many do: the metrics
	// must still carry the route the router matched.
	copying := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), copyKey{}, true)))
		})
	}
	srv := httptest.NewServer(web.Chain(rt, web.Observe(log, web.NewMetrics(reg)), copying, web.Recover(), web.LimitBody(64, nil)))
	defer srv.Close()

	get := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	for _, path := range []string{"/boom/1", "/fail"} {
		status, body := get("GET", path, "")
		if status != 500 || !strings.Contains(body, `"code":"internal"`) || strings.Contains(body, "hunter2") {
			t.Fatalf("%s: %d %s", path, status, body)
		}
	}
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), "request_id") {
		t.Fatal("the panic must be logged (with the request id) for the operator")
	}
	if status, body := get("POST", "/echo", `{"name":"`+strings.Repeat("x", 100)+`"}`); status != 413 || !strings.Contains(body, "body_too_large") {
		t.Fatalf("over the limit: %d %s", status, body)
	}
	if status, _ := get("POST", "/echo", `{"name":"ok"}`); status != 200 {
		t.Fatalf("under the limit: %d", status)
	}
	_, metrics := get("GET", "/metrics", "")
	for _, want := range []string{
		`minimart_http_requests_total{method="GET",route="GET /boom/{id}",status="500"} 1`,
		`minimart_http_requests_total{method="POST",route="POST /echo",status="413"} 1`,
		`minimart_http_request_duration_seconds_bucket{method="POST",route="POST /echo"`,
		`minimart_http_requests_in_flight 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	get("GET", "/no/such/path/123", "")
	_, metrics = get("GET", "/metrics", "")
	if !strings.Contains(metrics, `route="unmatched",status="404"`) || strings.Contains(metrics, "/no/such/path") {
		t.Error("unmatched paths must be one label, never the raw path")
	}
}

type copyKey struct{}
