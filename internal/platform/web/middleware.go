package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type ctxKey int

const (
	loggerKey ctxKey = iota
	requestIDKey
	routeKey
)

// LoggerFrom returns the request-scoped logger (it carries the request id).
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// RequestIDFrom returns the id of the request being served.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middlewares so that the first one listed runs first.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// recorder remembers the status and size for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += n
	return n, err
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// Observe gives every request an id, logs it as one JSON line and records Prometheus
// metrics by route pattern (never the raw path, which would explode label cardinality).
func Observe(log *slog.Logger, m *Metrics) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-ID")
			if !validRequestID(id) {
				id = newRequestID()
			}
			w.Header().Set("X-Request-ID", id)
			reqLog := log.With(slog.String("request_id", id))
			out := &outcome{}
			// The Router writes the matched pattern here: middleware between this one and the
			// Router may hand it a copy of the request, whose r.Pattern this one never sees.
			matched := new(string)
			ctx := context.WithValue(context.WithValue(context.WithValue(r.Context(), requestIDKey, id), loggerKey, reqLog), outcomeKey, out)
			ctx = context.WithValue(ctx, routeKey, matched)
			r = r.WithContext(ctx)

			m.inFlight.Inc()
			rec := &recorder{ResponseWriter: w}
			defer func() {
				m.inFlight.Dec()
				route := *matched
				if route == "" {
					route = "unmatched"
				}
				status := rec.status
				if status == 0 {
					status = http.StatusOK
				}
				elapsed := time.Since(start)
				m.requests.WithLabelValues(r.Method, route, fmt.Sprint(status)).Inc()
				m.latency.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
				level := slog.LevelInfo
				attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.String("route", route), slog.Int("status", status),
					slog.Int("bytes", rec.bytes), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
					slog.String("remote", r.RemoteAddr)}
				switch {
				case out.code != "":
					// An outage of something the request needs (ClassifyErrors): one warn line
					// per request, carrying the cause, rather than an error per failed request.
					level = slog.LevelWarn
					attrs = append(attrs, slog.String("code", out.code), slog.String("error", out.err))
				case status >= 500:
					level = slog.LevelError
				}
				reqLog.LogAttrs(ctx, level, "http request", attrs...)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Recover turns a panic in a handler into a JSON 500 and a log line with the stack, so one
// bad request never takes the process down or shows internals to the client.
func Recover() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					LoggerFrom(r.Context()).ErrorContext(r.Context(), "panic serving request",
						slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
					WriteError(w, r, ErrInternal)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// LimitBody caps every request body; Decode turns the overflow into a 413 inside the
// route, so the answer is counted under its route pattern. Paths in larger (uploads) get
// their own limit.
func LimitBody(maxBytes int64, larger map[string]int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := maxBytes
			if l, ok := larger[r.URL.Path]; ok {
				limit = l
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// DefaultCSP is the Content-Security-Policy of every answer that is not an HTML page: JSON,
// YAML, metrics and images never need to load or run anything, so a browser that opens one
// (or is tricked into rendering one) is allowed nothing.
const DefaultCSP = "default-src 'none'; frame-ancestors 'none'"

// HSTS tells browsers to use only HTTPS with this host (and its subdomains) for two years.
const HSTS = "max-age=63072000; includeSubDomains"

// SecurityHeaders sets headers that keep browsers from sniffing or framing answers, HSTS on
// answers over TLS, and DefaultCSP on answers that are not HTML and have no policy of their
// own. An HTML page sets its own policy, for it alone knows what it loads.
func SecurityHeaders() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			if r.TLS != nil {
				h.Set("Strict-Transport-Security", HSTS)
			}
			cw := &defaultCSP{ResponseWriter: w}
			// Deferred, for a handler that wrote nothing (answered from these headers after it
			// returns) and for one that panicked (Recover, further out, answers then).
			defer cw.decide()
			next.ServeHTTP(cw, r)
		})
	}
}

// defaultCSP adds DefaultCSP when the headers go out, the moment the handler's own
// Content-Type and policy are known.
type defaultCSP struct {
	http.ResponseWriter
	decided bool
}

func (d *defaultCSP) decide() {
	if d.decided {
		return
	}
	d.decided = true
	h := d.Header()
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if h.Get("Content-Security-Policy") == "" && mt != "text/html" {
		h.Set("Content-Security-Policy", DefaultCSP)
	}
}

func (d *defaultCSP) WriteHeader(code int) {
	d.decide()
	d.ResponseWriter.WriteHeader(code)
}

func (d *defaultCSP) Write(b []byte) (int, error) {
	d.decide()
	return d.ResponseWriter.Write(b)
}

func (d *defaultCSP) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// ClientIPs finds the address of the buyer behind trusted reverse proxies (nginx).
// Forwarding headers are believed only from the listed proxy networks; otherwise anyone
// could dodge per-IP login limits by sending X-Forwarded-For.
type ClientIPs struct{ trusted []netip.Prefix }

// NewClientIPs parses a comma-separated list of CIDRs or addresses.
func NewClientIPs(list string) (*ClientIPs, error) {
	var c ClientIPs
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR", part)
			}
			part = netip.PrefixFrom(addr, addr.BitLen()).String()
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", part)
		}
		c.trusted = append(c.trusted, p.Masked())
	}
	return &c, nil
}

func (c *ClientIPs) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// Of returns the client address of r.
func (c *ClientIPs) Of(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.isTrusted(peer) {
		return host
	}
	// Walk X-Forwarded-For from the right: the first address not ours is the client.
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !c.isTrusted(a) {
			return a.Unmap().String()
		}
	}
	return peer.Unmap().String()
}

// Metrics are the HTTP metrics, registered on the app's own registry (not the global one).
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "minimart_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "minimart_http_requests_in_flight", Help: "HTTP requests being served now.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight)
	return m
}
