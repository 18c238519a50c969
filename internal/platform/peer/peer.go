// Package peer is the HTTP transport between Minimart services in the split shape. Each
// module's client package (inventoryclient, …) is a thin typed layer over a Client, so the
// rules that keep a chain of services honest live in one place: a peer's domain errors
// keep their codes across the wire, and anything else a peer does wrong — no answer, a
// slow answer, a garbled answer, a redirect — reaches the buyer as one retryable
// 503 dependency_unavailable instead of a 500 or a hang.
package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
)

// ErrUnavailable is what a caller (and finally the buyer) sees when a peer is down, times
// out, answers garbage, redirects, or its breaker is open. Clients return it with
// retry_after_seconds and the peer's module name in the details, so web.WriteError
// answers 503 with a Retry-After header.
var ErrUnavailable = errs.New(errs.Unavailable, "dependency_unavailable", "a service this request needs is not answering; try again shortly")

// maxBody bounds what a peer may send back: an answer larger than any real one means the
// peer is broken, and reading it whole would let one bad instance exhaust our memory.
const maxBody = 4 << 20

// Options configures a Client; zero durations and counts take the defaults noted.
type Options struct {
	Module          string        // peer module name, e.g. "inventory": in logs, error details and the breaker name
	Target          string        // "http://a:1,http://b:2" (base URLs, http or https, no path) or "dns://name:port" (one http URL per A/AAAA record)
	Token           string        // shared service token, sent as "Authorization: Bearer <token>"
	Timeout         time.Duration // per attempt; default 3s
	Attempts        int           // max attempts for idempotent calls, each on another address when there is one; default 3. Non-idempotent calls get exactly 1
	FailCooldown    time.Duration // how long an address that failed is skipped unless every address is cooling; default 5s
	BreakerFailures uint32        // consecutive failed calls that open the breaker; default 5
	BreakerOpen     time.Duration // how long the breaker stays open before one trial call; default 5s
	ResolveEvery    time.Duration // how often a dns:// target is re-resolved; default 5s
	// Known lists the peer's domain errors callers may see. A 4xx answer with a listed code
	// becomes that error (its Kind and Code; the peer's message and details); any other code,
	// or an error body that cannot be read, is ErrUnavailable.
	Known []*errs.Error
	// Resolver looks up dns:// targets; nil means net.DefaultResolver.
	Resolver interface {
		LookupHost(ctx context.Context, host string) ([]string, error)
	}
	Log       *slog.Logger      // nil means slog.Default()
	Transport http.RoundTripper // nil means a keep-alive transport tuned for many calls to few hosts
	// Tracer, if not nil, makes a client span of every attempt and sends its traceparent,
	// so the peer's spans join the caller's trace; nil is tracing off.
	Tracer trace.Tracer
}

// hostResolver is Options.Resolver: the part of *net.Resolver a dns:// target needs.
type hostResolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Client calls one peer module. It is safe for concurrent use.
type Client struct {
	module   string
	token    string
	timeout  time.Duration
	attempts int
	known    map[string]*errs.Error
	log      *slog.Logger
	tracer   trace.Tracer
	http     *http.Client
	ownConns *http.Transport // closed on Close; nil when the caller supplied the transport
	pool     *pool
	breaker  *gobreaker.CircuitBreaker[struct{}]

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New checks the options and, for a dns:// target, resolves it once and keeps re-resolving
// in the background until Close. A failed first resolution is only logged: a service
// should start even while its peer's name does not resolve yet (pods start in any order),
// and calls answer ErrUnavailable until an address is known.
func New(o Options) (*Client, error) {
	if o.Module == "" {
		return nil, errors.New("peer: Module is required")
	}
	t, err := parseTarget(o.Target)
	if err != nil {
		return nil, fmt.Errorf("peer %s: %w", o.Module, err)
	}
	c := &Client{
		module:   o.Module,
		token:    o.Token,
		timeout:  orDefault(o.Timeout, 3*time.Second),
		attempts: o.Attempts,
		known:    make(map[string]*errs.Error, len(o.Known)),
		log:      o.Log,
		tracer:   o.Tracer,
	}
	if c.attempts <= 0 {
		c.attempts = 3
	}
	for i, k := range o.Known {
		if k == nil {
			return nil, fmt.Errorf("peer %s: Known[%d] is nil", o.Module, i)
		}
		c.known[k.Code] = k
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With(slog.String("peer", o.Module))

	rt := o.Transport
	if rt == nil {
		c.ownConns = &http.Transport{
			// No Proxy: traffic between our own services must not leave through an
			// egress proxy configured for the outside world.
			DialContext:           (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   c.timeout,
			ExpectContinueTimeout: time.Second,
		}
		rt = c.ownConns
	}
	c.http = &http.Client{
		Transport: rt,
		// A peer that redirects is misconfigured or is not our peer; following it could
		// carry the service token somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	failures := o.BreakerFailures
	if failures == 0 {
		failures = 5
	}
	c.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        o.Module,
		Timeout:     orDefault(o.BreakerOpen, 5*time.Second),
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		// A domain error or a readable refusal proves the peer is up; a caller that gave up
		// or a bug on our side proves nothing either way.
		IsSuccessful: func(err error) bool { _, answered := errs.As(err); return err == nil || answered },
		IsExcluded: func(err error) bool {
			_, answered := errs.As(err)
			return err != nil && !answered && !errors.Is(err, errFailed)
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			c.log.Warn("peer circuit breaker changed state", slog.String("from", from.String()), slog.String("to", to.String()))
		},
	})

	c.pool = newPool(t.urls, orDefault(o.FailCooldown, 5*time.Second))
	if t.dnsHost != "" {
		resolver := o.Resolver
		if resolver == nil {
			resolver = net.DefaultResolver
		}
		ctx, stop := context.WithCancel(context.Background())
		c.stop = stop
		c.resolve(ctx, resolver, t)
		every := orDefault(o.ResolveEvery, 5*time.Second)
		c.wg.Go(func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					c.resolve(ctx, resolver, t)
				}
			}
		})
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// resolve refreshes the address list. A failed or empty lookup keeps the last good list:
// a DNS hiccup must not take down a peer whose instances are all still running.
func (c *Client) resolve(ctx context.Context, r hostResolver, t target) {
	lctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hosts, err := r.LookupHost(lctx, t.dnsHost)
	if err != nil || len(hosts) == 0 {
		if ctx.Err() == nil {
			c.log.WarnContext(ctx, "peer name did not resolve; keeping the last known addresses",
				slog.String("host", t.dnsHost), slog.Any("error", err))
		}
		return
	}
	addrs := make([]string, 0, len(hosts))
	for _, h := range hosts {
		// A resolver other than DNS could answer anything; an entry that is no host at
		// all would only turn every call that picks it into an error.
		if host, err := checkHost(h, h); err == nil {
			addrs = append(addrs, hostURL(host, t.dnsPort))
		}
	}
	if len(addrs) == 0 {
		c.log.WarnContext(ctx, "peer name resolved to no usable address; keeping the last known addresses",
			slog.String("host", t.dnsHost), slog.Any("answer", hosts))
		return
	}
	// Sorted so an unchanged answer in another order is not a change.
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	if c.pool.set(addrs) {
		c.log.InfoContext(ctx, "peer addresses changed", slog.Any("addresses", addrs))
	}
}

// Module is the peer's module name.
func (c *Client) Module() string { return c.module }

// Close stops the background re-resolution and drops idle connections. Calls made after
// Close still work against the last known addresses.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		if c.stop != nil {
			c.stop()
		}
		c.wg.Wait()
		if c.ownConns != nil {
			c.ownConns.CloseIdleConnections()
		}
	})
}

// errFailed marks a call whose every attempt failed; it is what the breaker counts.
var errFailed = errors.New("peer failed")

// errNoAddress marks a call made while a dns:// target has not resolved yet. It is not a
// failure of the peer, so it does not feed the breaker: the breaker would otherwise keep
// the peer shut for a while after its name finally resolves.
var errNoAddress = errors.New("peer has no known address")

// badAnswer is an attempt that says its address is unhealthy.
type badAnswer struct{ err error }

func (b *badAnswer) Error() string { return b.err.Error() }

func bad(format string, args ...any) error { return &badAnswer{fmt.Errorf(format, args...)} }

// Call sends in as JSON to path on the peer and decodes a 2xx answer into out.
//
// Only idempotent calls are retried, because a retried non-idempotent call whose first
// attempt did reach the peer would act twice. If ctx ends, Call returns ctx.Err(): the
// caller left, which says nothing about the peer. Every other failure is ErrUnavailable,
// except the peer's domain errors listed in Options.Known, which come back as themselves.
// Numbers in a domain error's details arrive as json.Number, so ids keep every digit when
// the error is passed on.
func (c *Client) Call(ctx context.Context, method, path string, in, out any, idempotent bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("peer %s: path %q must start with /", c.module, path)
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("peer %s: encode %s %s: %w", c.module, method, path, err)
		}
	}
	attempts := 1
	if idempotent {
		attempts = c.attempts
	}
	_, err := c.breaker.Execute(func() (struct{}, error) {
		return struct{}{}, c.try(ctx, method, path, body, out, attempts)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errFailed), errors.Is(err, errNoAddress),
		errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return c.unavailable()
	}
	return err
}

// try makes up to attempts attempts, each on an address not tried yet when there is one.
func (c *Client) try(ctx context.Context, method, path string, body []byte, out any, attempts int) error {
	tried := make([]string, 0, attempts)
	for n := 1; n <= attempts; n++ {
		addr, ok := c.pool.pick(tried)
		if !ok {
			return errNoAddress
		}
		tried = append(tried, addr)
		err := c.attempt(ctx, addr, method, path, body, out)
		var b *badAnswer
		if !errors.As(err, &b) {
			if _, answered := errs.As(err); err == nil || answered {
				c.pool.healthy(addr)
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.pool.cool(addr)
		c.log.WarnContext(ctx, "peer call failed", slog.String("address", addr), slog.String("method", method),
			slog.String("path", path), slog.Int("attempt", n), slog.Int("attempts", attempts),
			slog.String("error", b.Error()))
	}
	return errFailed
}

// attempt makes one request. It returns nil or an *errs.Error for an answer that shows the
// address healthy, a *badAnswer for one that does not, and any other error for a request
// we could not even build.
func (c *Client) attempt(ctx context.Context, addr, method, path string, body []byte, out any) error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var span trace.Span
	if c.tracer != nil {
		actx, span = c.tracer.Start(actx, method+" "+c.module, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("server.address", addr),
				attribute.String("url.path", path), attribute.String("peer.service", c.module)))
		defer span.End()
	}
	req, err := c.newRequest(actx, method, addr+path, body)
	if err != nil {
		return fmt.Errorf("peer %s: build %s %s: %w", c.module, method, path, err)
	}
	if span != nil {
		propagation.TraceContext{}.Inject(actx, propagation.HeaderCarrier(req.Header))
	}
	resp, err := c.http.Do(req)
	if span != nil {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		} else {
			span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
			if resp.StatusCode >= 500 {
				span.SetStatus(codes.Error, resp.Status)
			}
		}
	}
	if err != nil {
		return &badAnswer{err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return bad("status %d, reading body: %w", resp.StatusCode, err)
	}
	if len(b) > maxBody {
		return bad("status %d, body over %d bytes", resp.StatusCode, maxBody)
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return decodeOK(resp, b, out)
	case s >= 400 && s < 500:
		return c.refusal(addr, method, path, resp, b)
	case s == http.StatusServiceUnavailable:
		// The peer is up but its own peer is not: passing that on keeps a healthy
		// instance in rotation and tells the buyer the same thing the peer was told.
		if e, ok := readErrorBody(resp, b); ok && e.Code == ErrUnavailable.Code {
			details := normalise(e.Details)
			if details == nil {
				details = map[string]any{}
			}
			if _, ok := details[errs.RetryAfterSeconds].(int64); !ok {
				details[errs.RetryAfterSeconds] = int64(1)
			}
			return ErrUnavailable.With(details)
		}
	}
	return bad("status %d", resp.StatusCode)
}

func (c *Client) newRequest(ctx context.Context, method, url string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if id := web.RequestIDFrom(ctx); id != "" {
		req.Header.Set("X-Request-ID", id)
	}
	return req, nil
}

// decodeOK holds a success answer to the contract: the client package's struct is the
// whole contract, so a field it does not know means the two sides disagree and the answer
// cannot be trusted.
func decodeOK(resp *http.Response, b []byte, out any) error {
	if out == nil {
		return nil
	}
	if !isJSON(resp) {
		return bad("status %d with Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return bad("decode answer: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("answer has data after the JSON value")
	}
	if ch, ok := out.(interface{ Check() error }); ok {
		if err := ch.Check(); err != nil {
			return bad("answer fails its shape check: %w", err)
		}
	}
	return nil
}

// refusal turns a 4xx into the peer's domain error. A code we were not told about is a
// contract mismatch (or a wrong token), which needs a person, not a retry: it is logged
// at error level and the buyer sees ErrUnavailable.
func (c *Client) refusal(addr, method, path string, resp *http.Response, b []byte) error {
	e, ok := readErrorBody(resp, b)
	known := c.known[e.Code]
	if ok && known != nil {
		msg := e.Message
		if msg == "" {
			msg = known.Message
		}
		return &errs.Error{Kind: known.Kind, Code: known.Code, Message: msg, Details: normalise(e.Details)}
	}
	reason := "peer answered an error code this client does not know"
	if !ok {
		reason = "peer answered an error body that cannot be read"
	}
	c.log.Error(reason, slog.String("address", addr), slog.String("method", method), slog.String("path", path),
		slog.Int("status", resp.StatusCode), slog.String("code", e.Code))
	return c.unavailable()
}

// readErrorBody parses the shared error format; ok is false unless it is there with a code.
func readErrorBody(resp *http.Response, b []byte) (web.ErrorPayload, bool) {
	if !isJSON(resp) {
		return web.ErrorPayload{}, false
	}
	var body web.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return web.ErrorPayload{}, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return web.ErrorPayload{}, false
	}
	return body.Error, body.Error.Code != ""
}

// normalise turns a whole-number retry_after_seconds back into the int64 web.WriteError
// looks for, so a Retry-After header survives the hop between services.
func normalise(details map[string]any) map[string]any {
	if n, ok := details[errs.RetryAfterSeconds].(json.Number); ok {
		if secs, err := n.Int64(); err == nil {
			details[errs.RetryAfterSeconds] = secs
		}
	}
	return details
}

func isJSON(resp *http.Response) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func (c *Client) unavailable() *errs.Error {
	return ErrUnavailable.With(map[string]any{errs.RetryAfterSeconds: int64(1), "service": c.module})
}

// Ping asks one address for /healthz, for readiness checks. It leaves the breaker and the
// cooldowns alone: a probe every few seconds must not decide whether buyers' calls go out.
func (c *Client) Ping(ctx context.Context) error {
	addr, ok := c.pool.pick(nil)
	if !ok {
		return c.unavailable()
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(actx, http.MethodGet, addr+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("peer %s: build ping: %w", c.module, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.unavailable()
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return c.unavailable()
	}
	return nil
}
