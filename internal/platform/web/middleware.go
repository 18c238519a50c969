package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/logging"
)

// requestState is what Observe keeps for one request: its log scope (request id, user,
// order), outcome and matched route, and the recorder it hands down — one allocation and
// one context value, since every request pays for them. It is the request's logging.Scoped
// value, so the log handler finds the request id without a second context value.
type requestState struct {
	rec   recorder
	scope logging.Scope
	// idHeader is the X-Request-Id header value (a header's values are a slice).
	idHeader [1]string
	base     *slog.Logger
	out      outcome
	// route is the pattern the Router matched; the Router writes it (see Router.ServeHTTP).
	route string
	// classify is set by ClassifyErrors for the handlers inside it.
	classify []Classifier
	// span is the server span Trace started, so the access line names its trace; zero when
	// tracing is off.
	span trace.SpanContext
}

func (st *requestState) LogScope() *logging.Scope { return &st.scope }

func stateFrom(ctx context.Context) *requestState {
	st, _ := logging.ScopedFrom(ctx).(*requestState)
	return st
}

// LoggerFrom returns the logger Observe was given. Log with the request's context
// (LoggerFrom(ctx).InfoContext(ctx, …)): the handler reads the request id, user, order and
// trace from it.
func LoggerFrom(ctx context.Context) *slog.Logger {
	if st := stateFrom(ctx); st != nil {
		return st.base
	}
	return slog.Default()
}

// RequestIDFrom returns the id of the request being served.
func RequestIDFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.scope.RequestID
	}
	return ""
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
// It runs on every request, so it allocates little and builds the access line only when
// the logger's level lets it through.
func Observe(log *slog.Logger, m *Metrics) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			st := &requestState{base: log}
			st.rec.ResponseWriter = w
			// The canonical key read directly: Get would canonicalize "X-Request-ID" (an
			// allocation) on every request.
			if v := r.Header["X-Request-Id"]; len(v) > 0 {
				st.scope.RequestID = v[0]
			}
			if !logging.ValidRequestID(st.scope.RequestID) {
				st.scope.RequestID = newRequestID()
			}
			st.idHeader[0] = st.scope.RequestID
			w.Header()["X-Request-Id"] = st.idHeader[:]
			// The Router writes the matched pattern into st: middleware between this one and
			// the Router may hand it a copy of the request, whose r.Pattern this one never sees.
			ctx := logging.WithScope(r.Context(), st)
			r = r.WithContext(ctx)

			m.inFlight.Inc()
			defer func() {
				m.inFlight.Dec()
				route := st.route
				if route == "" {
					route = "unmatched"
				}
				status := st.rec.status
				if status == 0 {
					status = http.StatusOK
				}
				elapsed := time.Since(start)
				series := m.seriesOf(r.Method, route, status)
				series.requests.Inc()
				series.latency.Observe(elapsed.Seconds())
				level := slog.LevelInfo
				switch {
				case st.out.code != "":
					// An outage of something the request needs (ClassifyErrors): one warn line
					// per request, carrying the cause, rather than an error per failed request.
					level = slog.LevelWarn
				case status >= 500:
					level = slog.LevelError
				}
				if !log.Enabled(ctx, level) {
					return
				}
				client, _, err := net.SplitHostPort(r.RemoteAddr)
				if err != nil {
					client = r.RemoteAddr
				}
				// ECS names; event.duration is in nanoseconds, as ECS has it.
				attrs := []slog.Attr{slog.String("http.request.method", r.Method), slog.String("url.path", redactPath(route, r.URL.Path)),
					slog.String("http.route", route), slog.Int("http.response.status_code", status),
					slog.Int("http.response.body.bytes", st.rec.bytes), slog.Int64("event.duration", elapsed.Nanoseconds()),
					slog.String("client.ip", client)}
				if st.out.code != "" {
					attrs = append(attrs, slog.String("error.code", st.out.code), slog.String("error.message", st.out.err))
				}
				if st.span.IsValid() {
					ctx = trace.ContextWithSpanContext(ctx, st.span)
				}
				log.LogAttrs(ctx, level, "http request", attrs...)
			}()
			next.ServeHTTP(&st.rec, r)
		})
	}
}

// redactPath hides the path segments that a route's pattern names as secrets (the
// sandbox cashier's signed {token}, say): a capability in a URL is as secret as a password.
func redactPath(route, path string) string {
	if !strings.Contains(route, "{") {
		return path
	}
	pattern := route
	if _, p, ok := strings.Cut(route, " "); ok {
		pattern = p
	}
	// Walk the pattern's segments, counting them; copy the path only when one is hidden.
	var out []string
	for i, pat := 0, pattern; pat != ""; i++ {
		var seg string
		seg, pat, _ = strings.Cut(pat, "/")
		if !strings.HasPrefix(seg, "{") || !logging.SecretKey(strings.TrimSuffix(strings.Trim(seg, "{}"), "...")) {
			continue
		}
		if out == nil {
			out = strings.Split(path, "/")
		}
		if i < len(out) {
			out[i] = logging.Redacted
		}
	}
	if out == nil {
		return path
	}
	return strings.Join(out, "/")
}

// statusTexts are the status codes as metric label values, made once.
var statusTexts = func() (t [600]string) {
	for i := 100; i < len(t); i++ {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func statusText(code int) string {
	if code >= 100 && code < len(statusTexts) {
		return statusTexts[code]
	}
	return strconv.Itoa(code)
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	var h [24]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
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
			// A request without a body (a GET, mostly) has nothing to limit.
			if r.Body != nil && r.Body != http.NoBody {
				limit := maxBytes
				if l, ok := larger[r.URL.Path]; ok {
					limit = l
				}
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
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
			// Shared values, assigned straight under their canonical keys: every answer
			// carries them, and nothing changes a header value in place (Set and Add make
			// new slices).
			h["X-Content-Type-Options"] = nosniffValue
			h["X-Frame-Options"] = denyValue
			h["Referrer-Policy"] = noReferrerValue
			if r.TLS != nil {
				h["Strict-Transport-Security"] = hstsValue
			}
			cw := &defaultCSP{ResponseWriter: w}
			// Deferred, for a handler that wrote nothing (answered from these headers after it
			// returns) and for one that panicked (Recover, further out, answers then).
			defer cw.decide()
			next.ServeHTTP(cw, r)
		})
	}
}

var (
	nosniffValue    = []string{"nosniff"}
	denyValue       = []string{"DENY"}
	noReferrerValue = []string{"no-referrer"}
	hstsValue       = []string{HSTS}
	cspValue        = []string{DefaultCSP}
	jsonTypeValue   = []string{"application/json; charset=utf-8"}
)

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
	if csp := h["Content-Security-Policy"]; (len(csp) == 0 || csp[0] == "") && !isHTML(h["Content-Type"]) {
		h["Content-Security-Policy"] = cspValue
	}
}

// isHTML reports whether a Content-Type header names text/html, as mime.ParseMediaType
// would read it (the type before any parameters, trimmed, case-insensitive), without
// parsing the parameters: this runs on every answer.
func isHTML(contentType []string) bool {
	if len(contentType) == 0 {
		return false
	}
	mt, _, _ := strings.Cut(contentType[0], ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/html")
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

// trustedPeer reads the address of r's peer (host, as RemoteAddr gives it) and whether it is
// one of the trusted proxies, whose forwarding headers are believed.
func (c *ClientIPs) trustedPeer(r *http.Request) (host string, peer netip.Addr, trusted bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err = netip.ParseAddr(host)
	return host, peer, err == nil && c.isTrusted(peer)
}

// Of returns the client address of r.
func (c *ClientIPs) Of(r *http.Request) string {
	host, peer, trusted := c.trustedPeer(r)
	if !trusted {
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

// HTTPS reports whether the client reached us over HTTPS: on this connection, or through a
// trusted proxy that says so in X-Forwarded-Proto (nginx sends its $scheme). Anyone else's
// X-Forwarded-Proto is ignored.
func (c *ClientIPs) HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if _, _, trusted := c.trustedPeer(r); !trusted {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

// Metrics are the HTTP metrics, registered on the app's own registry (not the global one).
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// series holds the series of each method, route and status seen, so a request does not
	// look its labels up again (seriesKey → *httpSeries).
	series sync.Map
}

type seriesKey struct {
	method, route string
	status        int
}

// httpSeries are one request kind's series.
type httpSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// seriesOf returns the series of a request. A client chooses the method, so any method
// outside the standard ones is counted as "other": what clients make up must grow neither
// this map nor the exported series.
func (m *Metrics) seriesOf(method, route string, status int) *httpSeries {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	key := seriesKey{method, route, status}
	if s, ok := m.series.Load(key); ok {
		return s.(*httpSeries)
	}
	s := &httpSeries{m.requests.WithLabelValues(method, route, statusText(status)), m.latency.WithLabelValues(method, route)}
	m.series.Store(key, s)
	return s
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
