// Package logging makes the shop's structured logger: one JSON object per line with field
// names from the Elastic Common Schema (@timestamp, log.level, message, service.name,
// error.message…), so the lines go into Elasticsearch as they are; the request and trace
// a line belongs to, read from the context it was logged with; and secrets kept out.
//
// Code logs with the context it works for (log.InfoContext(ctx, …)): the handler adds
// request_id, user_id and order_no from the Scope the context carries, and trace_id and
// span_id from its span. Those five keep the flat names operators search by; the shipper
// (deploy/logging) copies them to their ECS fields.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Scope is what a request or an event tells every line it causes. A request's Scope is made
// by the web middleware and filled in as the request learns who it is for (user_id after
// authentication, order_no once the order is known); an event's comes with its message. It
// is written only by the goroutine serving the request, before anything it starts reads it.
type Scope struct {
	RequestID string
	// UserID is the buyer or staff account the request is for; 0 when unknown. A number,
	// formatted only when a line is written, so an authenticated request pays nothing for it.
	UserID  int64
	OrderNo string
}

// Scoped is a value that carries a Scope: a *Scope itself, or a middleware's per-request
// state that embeds one, so a request pays for one context value, not two.
type Scoped interface{ LogScope() *Scope }

// LogScope returns s.
func (s *Scope) LogScope() *Scope { return s }

type scopeKey struct{}

// WithScope returns ctx carrying s.
func WithScope(ctx context.Context, s Scoped) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopedFrom returns the Scoped value ctx carries, or nil.
func ScopedFrom(ctx context.Context) Scoped {
	s, _ := ctx.Value(scopeKey{}).(Scoped)
	return s
}

// ScopeFrom returns the Scope ctx carries, or nil.
func ScopeFrom(ctx context.Context) *Scope {
	if s := ScopedFrom(ctx); s != nil {
		return s.LogScope()
	}
	return nil
}

// ValidRequestID reports whether id may name a request: 1–64 letters, digits, '-', '_' or
// '.'. Ids from outside (a client's X-Request-Id, a message header) are kept only if so,
// since they go into log lines and into request_id columns.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

// SetUserID records the user a request is for, when ctx carries a Scope.
func SetUserID(ctx context.Context, id int64) {
	if s := ScopeFrom(ctx); s != nil {
		s.UserID = id
	}
}

// SetOrderNo records the order a request is about, when ctx carries a Scope.
func SetOrderNo(ctx context.Context, no string) {
	if s := ScopeFrom(ctx); s != nil {
		s.OrderNo = no
	}
}

// The keys this package adds to a line from its context. They keep these flat names (the
// issue's); deploy/logging maps them to http.request.id, trace.id, span.id and user.id.
const (
	KeyRequestID = "request_id"
	KeyTraceID   = "trace_id"
	KeySpanID    = "span_id"
	KeyUserID    = "user_id"
	KeyOrderNo   = "order_no"
)

// New returns the JSON logger writing to w at level, naming service on every line.
func New(w io.Writer, level slog.Leveler, service string) *slog.Logger {
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replace})
	return slog.New(NewHandler(inner).WithAttrs([]slog.Attr{slog.String("service.name", service)}))
}

// Handler adds the context's scope and trace to each record before next formats it.
type Handler struct{ next slog.Handler }

// NewHandler wraps next. next should redact (New's handler does, through its ReplaceAttr).
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled reports whether next takes records of level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds request_id, user_id, order_no, trace_id and span_id where ctx knows them.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if s := ScopeFrom(ctx); s != nil {
		if s.RequestID != "" {
			r.AddAttrs(slog.String(KeyRequestID, s.RequestID))
		}
		if s.UserID != 0 {
			// A string, as every id in the shop's JSON is (JavaScript loses precision above 2^53).
			r.AddAttrs(slog.String(KeyUserID, strconv.FormatInt(s.UserID, 10)))
		}
		if s.OrderNo != "" && !hasAttr(r, KeyOrderNo) {
			r.AddAttrs(slog.String(KeyOrderNo, s.OrderNo))
		}
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String(KeyTraceID, sc.TraceID().String()), slog.String(KeySpanID, sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

// hasAttr reports whether r names key itself (a line about another order than the
// request's says which), so the line does not carry the key twice.
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// WithAttrs returns a Handler whose next has attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns a Handler whose next opens group.
func (h *Handler) WithGroup(name string) slog.Handler { return &Handler{next: h.next.WithGroup(name)} }

// Redacted replaces the value of an attribute whose key names a secret.
const Redacted = "[redacted]"

// replace renames slog's own keys to ECS, names errors as ECS does, redacts secrets by key
// and masks mobile numbers in every string, the message included.
func replace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 {
		switch a.Key {
		case slog.TimeKey:
			a.Key = "@timestamp"
			return a
		case slog.LevelKey:
			a.Key = "log.level"
			if l, ok := a.Value.Any().(slog.Level); ok {
				a.Value = slog.StringValue(levelName(l))
			}
			return a
		case slog.MessageKey:
			a.Key = "message"
		case "err", "error":
			a.Key = "error.message"
		}
	}
	switch {
	case SecretKey(a.Key):
		return slog.String(a.Key, Redacted)
	case a.Key == KeyRequestID || a.Key == KeyTraceID || a.Key == KeySpanID:
		// Ids, hex or chosen by us: a run of digits in one is not a phone number, and a
		// masked id would no longer match its trace or X-Request-Id.
		return a
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); hasMobile(s) {
			a.Value = slog.StringValue(MaskMobiles(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(MaskMobiles(err.Error()))
		}
	}
	return a
}

func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}

// secretWords are parts of attribute keys whose values are never logged.
var secretWords = []string{"password", "passwd", "token", "secret", "authorization", "signature",
	"cookie", "private_key", "api_key", "apikey", "sign_key", "credential"}

// SecretKey reports whether an attribute named key holds a secret: a password, token, key,
// signature or Authorization header.
func SecretKey(key string) bool {
	k := strings.ToLower(key)
	switch k {
	case "key", "sign", "sig", "auth":
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// hasMobile reports whether s holds a mainland mobile number: 11 digits starting with 1,
// not part of a longer run of digits (an id or an order number is not a phone).
func hasMobile(s string) bool {
	_, ok := nextMobile(s, 0)
	return ok
}

// nextMobile finds the first mobile number in s at or after from.
func nextMobile(s string, from int) (int, bool) {
	run := 0
	for i := from; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		// 11 digits, or 13 that start with the country code 86.
		if (run == 11 || (run == 13 && s[i-13] == '8' && s[i-12] == '6')) &&
			s[i-11] == '1' && s[i-10] >= '3' && s[i-10] <= '9' {
			return i - 11, true
		}
		run = 0
	}
	return 0, false
}

// MaskMobiles replaces the middle four digits of every mobile number in s: 138****1234.
func MaskMobiles(s string) string {
	start, ok := nextMobile(s, 0)
	if !ok {
		return s
	}
	b := []byte(s)
	for ok {
		copy(b[start+3:start+7], "****")
		start, ok = nextMobile(s, start+11)
	}
	return string(b)
}
