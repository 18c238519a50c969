package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/web"
)

// logLines parses JSON log lines.
func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Every request has an id (the client's when it is sane), in the answer, in RequestIDFrom
// and on every line the request's logger writes; the access line carries the request's
// facts and is written only at a level the logger lets through.
func TestObserveRequestIDAndAccessLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
		t.Run(level.String(), func(t *testing.T) {
			var logs strings.Builder
			log := logging.New(&logs, level, "test")
			rt := web.NewRouter()
			var seen []string
			rt.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) error {
				seen = append(seen, web.RequestIDFrom(r.Context()))
				if r.PathValue("id") == "bad" {
					web.LoggerFrom(r.Context()).WarnContext(r.Context(), "looked at a bad item")
					web.LoggerFrom(r.Context()).WarnContext(r.Context(), "twice")
					return errors.New("broken")
				}
				web.WriteRawJSON(w, http.StatusOK, []byte(`{"id":"1"}`))
				return nil
			})
			h := web.Chain(rt, web.Observe(log, web.NewMetrics(prometheus.NewRegistry())), web.Recover(), web.SecurityHeaders())

			serve := func(path, id string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				if id != "" {
					req.Header.Set("X-Request-ID", id)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				return w
			}
			ok := serve("/items/1", "client-id.42")
			generated := serve("/items/2", "bad id with spaces")
			failed := serve("/items/bad", "")
			if ok.Code != 200 || failed.Code != 500 {
				t.Fatalf("status %d, %d", ok.Code, failed.Code)
			}
			hexID := regexp.MustCompile(`^[0-9a-f]{24}$`)
			if got := ok.Header().Get("X-Request-ID"); got != "client-id.42" {
				t.Errorf("client's id not kept: %q", got)
			}
			for _, w := range []*httptest.ResponseRecorder{generated, failed} {
				if got := w.Header().Get("X-Request-ID"); !hexID.MatchString(got) {
					t.Errorf("generated id %q", got)
				}
			}
			if generated.Header().Get("X-Request-ID") == failed.Header().Get("X-Request-ID") {
				t.Error("two requests with one id")
			}
			want := []string{"client-id.42", generated.Header().Get("X-Request-ID"), failed.Header().Get("X-Request-ID")}
			if strings.Join(seen, ",") != strings.Join(want, ",") {
				t.Errorf("RequestIDFrom %v, want %v", seen, want)
			}

			lines := logLines(t, logs.String())
			var access, other []map[string]any
			for _, l := range lines {
				if l["message"] == "http request" {
					access = append(access, l)
				} else {
					other = append(other, l)
				}
			}
			// The handler's own lines and the 500's error line carry the id.
			if len(other) != 3 {
				t.Fatalf("handler and error lines: %v", other)
			}
			for _, l := range other {
				if l["request_id"] != want[2] {
					t.Errorf("line without the request's id: %v", l)
				}
			}
			wantAccess := 3
			if level == slog.LevelWarn {
				wantAccess = 1 // the 500 only
			}
			if len(access) != wantAccess {
				t.Fatalf("%d access lines at %s, want %d: %v", len(access), level, wantAccess, access)
			}
			last := access[len(access)-1]
			if last["log.level"] != "error" || last["request_id"] != want[2] || last["http.response.status_code"] != 500.0 ||
				last["http.route"] != "GET /items/{id}" || last["url.path"] != "/items/bad" || last["http.request.method"] != "GET" ||
				last["client.ip"] != "192.0.2.1" || last["event.duration"] == nil || last["http.response.body.bytes"] == nil ||
				last["service.name"] != "test" || last["@timestamp"] == nil {
				t.Errorf("access line %v", last)
			}
			if level == slog.LevelInfo {
				first := access[0]
				if first["log.level"] != "info" || first["request_id"] != "client-id.42" || first["http.response.status_code"] != 200.0 ||
					first["http.response.body.bytes"] != 10.0 {
					t.Errorf("access line %v", first)
				}
				// The flat request_id key, exactly: the shipper maps it to ECS http.request.id.
				if raw := strings.SplitN(logs.String(), "\n", 2)[0]; !strings.Contains(raw, `"request_id":"client-id.42"`) {
					t.Errorf("access line %s", raw)
				}
			}
		})
	}
}

// ClassifyErrors nested under Observe: the handlers inside the inner one see its list, and
// the outer list is back for what the outer middleware answers after the inner returned.
func TestClassifyErrorsNested(t *testing.T) {
	errA, errB := errors.New("a is down"), errors.New("b is down")
	downA := errs.New(errs.Unavailable, "a_unavailable", "a")
	downB := errs.New(errs.Unavailable, "b_unavailable", "b")
	classA := func(err error) *errs.Error { return map[bool]*errs.Error{true: downA}[errors.Is(err, errA)] }
	classB := func(err error) *errs.Error { return map[bool]*errs.Error{true: downB}[errors.Is(err, errB)] }
	inner := web.Chain(web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Path == "/b" {
			return errB
		}
		return nil // answers nothing: the outer handler below does
	}), web.ClassifyErrors(classB))
	outer := web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK || rec.Body.Len() > 0 {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return nil
		}
		return errA
	})
	log := slog.New(slog.DiscardHandler)
	h := web.Chain(outer, web.Observe(log, web.NewMetrics(prometheus.NewRegistry())), web.ClassifyErrors(classA))
	for path, code := range map[string]string{"/b": "b_unavailable", "/a": "a_unavailable"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		var body web.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 503 || body.Error.Code != code {
			t.Errorf("%s: %d %s, want 503 %s", path, w.Code, w.Body, code)
		}
	}
}

// A raw JSON body larger than net/http's buffer goes out with its length, not chunked.
func TestWriteRawJSONLength(t *testing.T) {
	for _, n := range []int{10, 2048, 2049, 50000} {
		body := []byte(`"` + strings.Repeat("x", n-2) + `"`)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			web.WriteRawJSON(w, http.StatusOK, body)
		}))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		if resp.ContentLength != int64(n) || len(resp.TransferEncoding) != 0 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%d bytes: Content-Length %d, Transfer-Encoding %v, Content-Type %q", n, resp.ContentLength, resp.TransferEncoding, resp.Header.Get("Content-Type"))
		}
	}
}

// Each request is counted once under its method, route and status, and timed under its
// method and route; methods a client makes up are all counted as "other", so they cannot
// create series.
func TestObserveMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	rt := web.NewRouter()
	rt.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("id") == "0" {
			return web.ErrInvalidParam
		}
		web.WriteRawJSON(w, http.StatusOK, []byte(`{}`))
		return nil
	})
	h := web.Chain(rt, web.Observe(slog.New(slog.DiscardHandler), web.NewMetrics(reg)))
	for _, req := range []struct{ method, path string }{
		{"GET", "/items/1"}, {"GET", "/items/2"}, {"GET", "/items/0"}, {"BREW", "/items/1"}, {"MKTEA", "/items/1"}, {"GET", "/nothing"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.path, nil))
	}
	counts := map[string]float64{}
	timed := map[string]uint64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(labels, ",")
			switch f.GetName() {
			case "minimart_http_requests_total":
				counts[key] = m.GetCounter().GetValue()
			case "minimart_http_request_duration_seconds":
				timed[key] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	wantCounts := map[string]float64{
		"method=GET,route=GET /items/{id},status=200": 2,
		"method=GET,route=GET /items/{id},status=400": 1,
		"method=other,route=unmatched,status=405":     2,
		"method=GET,route=unmatched,status=404":       1,
	}
	wantTimed := map[string]uint64{"method=GET,route=GET /items/{id}": 3, "method=other,route=unmatched": 2, "method=GET,route=unmatched": 1}
	if fmtMap(counts) != fmtMap(wantCounts) {
		t.Errorf("requests %v, want %v", counts, wantCounts)
	}
	if fmtMap(timed) != fmtMap(wantTimed) {
		t.Errorf("timed %v, want %v", timed, wantTimed)
	}
}

func fmtMap[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:%v;", k, m[k])
	}
	return b.String()
}

// A Router or SecurityHeaders inside another (a sub-router mounted on a path) still answers
// unknown paths in the JSON error format and sets the headers once.
func TestNestedRouterAndSecurityHeaders(t *testing.T) {
	inner := web.NewRouter()
	inner.HandleFunc("GET /sub/x", func(w http.ResponseWriter, r *http.Request) error {
		web.WriteRawJSON(w, http.StatusOK, []byte(`{"x":1}`))
		return nil
	})
	outer := web.NewRouter()
	outer.Handle("/sub/", web.Chain(inner, web.SecurityHeaders()))
	h := web.Chain(outer, web.Observe(slog.New(slog.DiscardHandler), web.NewMetrics(prometheus.NewRegistry())), web.SecurityHeaders())
	for path, want := range map[string]string{"/sub/x": `{"x":1}`, "/sub/nothing": `"code":"route_not_found"`, "/nothing": `"code":"route_not_found"`} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
		if got := w.Header().Values("Content-Security-Policy"); len(got) != 1 || got[0] != web.DefaultCSP {
			t.Errorf("%s: Content-Security-Policy %q", path, got)
		}
		if got := w.Header().Values("X-Frame-Options"); len(got) != 1 {
			t.Errorf("%s: X-Frame-Options %q", path, got)
		}
	}
}

// A path segment that the route names as a secret is not written to the access line.
func TestAccessLineHidesSecretPathSegments(t *testing.T) {
	var logs strings.Builder
	rt := web.NewRouter()
	rt.HandleFunc("POST /pay/{trade}/{token}/pay", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	rt.HandleFunc("GET /files/{name...}", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	h := web.Chain(rt, web.Observe(logging.New(&logs, slog.LevelInfo, "test"), web.NewMetrics(prometheus.NewRegistry())))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/pay/2026120700001/1796642958.c2lnbmF0dXJl/pay", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/files/a/b.txt", nil))
	lines := logLines(t, logs.String())
	if len(lines) != 2 || lines[0]["url.path"] != "/pay/2026120700001/[redacted]/pay" || lines[1]["url.path"] != "/files/a/b.txt" {
		t.Errorf("access lines %v", lines)
	}
}
