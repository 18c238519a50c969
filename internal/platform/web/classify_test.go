package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/web"
)

var (
	errOutage     = errors.New("dial tcp 127.0.0.1:3306: connect: connection refused")
	errDown       = errs.New(errs.Unavailable, "thing_unavailable", "the thing is down").With(map[string]any{errs.RetryAfterSeconds: int64(3)})
	outageOnly    = func(err error) *errs.Error { return map[bool]*errs.Error{true: errDown}[errors.Is(err, errOutage)] }
	neverKnowsErr = func(error) *errs.Error { return nil }
)

// An error a classifier recognises answers its code with Retry-After and is logged once, at
// warn, on the request's line with its cause; an error no classifier knows stays a 500
// logged as an error; without ClassifyErrors nothing changes.
func TestClassifyErrors(t *testing.T) {
	cases := []struct {
		name        string
		classifiers []web.Classifier
		err         error
		status      int
		code        string
		retryAfter  string
		levels      []string // of the log lines, in order
	}{
		{"recognised", []web.Classifier{neverKnowsErr, outageOnly}, fmt.Errorf("load order: %w", errOutage), 503, "thing_unavailable", "3", []string{"warn"}},
		{"not recognised", []web.Classifier{outageOnly}, errors.New("nil map"), 500, "internal", "", []string{"error", "error"}},
		{"no classifier", nil, fmt.Errorf("load order: %w", errOutage), 500, "internal", "", []string{"error", "error"}},
		{"application error untouched", []web.Classifier{outageOnly}, errs.New(errs.NotFound, "order_not_found", "no"), 404, "order_not_found", "", []string{"info"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs strings.Builder
			log := logging.New(&logs, slog.LevelInfo, "test")
			rt := web.NewRouter()
			rt.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) error { return c.err })
			h := web.Chain(rt, web.Observe(log, web.NewMetrics(prometheus.NewRegistry())), web.ClassifyErrors(c.classifiers...))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/orders/1", nil))

			var body web.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != c.status || body.Error.Code != c.code || rec.Header().Get("Retry-After") != c.retryAfter {
				t.Fatalf("answer %d %q Retry-After %q; want %d %q %q", rec.Code, body.Error.Code, rec.Header().Get("Retry-After"),
					c.status, c.code, c.retryAfter)
			}
			if strings.Contains(rec.Body.String(), "3306") {
				t.Errorf("the cause reached the client: %s", rec.Body)
			}
			var levels []string
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				levels = append(levels, rec["log.level"].(string))
				if c.code == "thing_unavailable" && (rec["error.code"] != c.code || !strings.Contains(fmt.Sprint(rec["error.message"]), "connection refused")) {
					t.Errorf("the warn line lacks the code and the cause: %s", line)
				}
			}
			if fmt.Sprint(levels) != fmt.Sprint(c.levels) {
				t.Errorf("log levels %v, want %v\n%s", levels, c.levels, logs.String())
			}
		})
	}
}

// Without Observe (a handler used on its own), WriteError logs the classified failure at
// warn itself, once.
func TestClassifyErrorsWithoutObserve(t *testing.T) {
	var logs strings.Builder
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := web.ClassifyErrors(outageOnly)(web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return errOutage }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 {
		t.Fatalf("status %d", rec.Code)
	}
	if n := strings.Count(logs.String(), `"level":"WARN"`); n != 1 || strings.Contains(logs.String(), "ERROR") {
		t.Fatalf("want one warn line:\n%s", logs.String())
	}
}
