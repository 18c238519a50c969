package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/web"
)

// AdminPrefix is where the audited endpoints live.
const AdminPrefix = "/api/v1/admin/"

// maxBody is how much of a request body an entry keeps. Admin bodies are small JSON; an
// upload or anything larger is noted, not kept.
const maxBody = 64 << 10

// Column sizes of the audit log (the user module's audit_log table).
const (
	maxPath      = 1024
	maxUserAgent = 512
	maxTarget    = 64
)

// Claims finds the staff member a request's token names (auth.Tokens.StaffClaim).
type Claims func(r *http.Request) (auth.Principal, bool)

// Middleware records every staff write under AdminPrefix; see the package comment. A write
// without a valid staff token (no token, a buyer's, a forged one) is not recorded: it was
// refused before any handler ran, names nobody, and recording it would let anyone fill the
// log. Such requests are still in the access log.
func Middleware(rec *Recorder, claims Claims, ips *web.ClientIPs) web.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isWrite(r.Method) || !strings.HasPrefix(r.URL.Path, AdminPrefix) {
				next.ServeHTTP(w, r)
				return
			}
			p, ok := claims(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			body := &teeBody{ReadCloser: r.Body}
			r.Body = body
			note := &beforeNote{}
			// The router sets r.Pattern and the path values on the request it is given, this
			// copy, so they can be read here once the handler has run; the pattern is copied
			// back for the middleware outside (metrics and access log label by it).
			orig := r
			r = r.WithContext(context.WithValue(r.Context(), beforeKey{}, note))
			defer func() { orig.Pattern = r.Pattern }()
			held := &heldAnswer{header: w.Header()}
			entry := Entry{ActorID: p.ID, ActorRole: p.Role, Method: r.Method, Path: clip.Bytes(r.URL.Path, maxPath),
				ClientIP: ips.Of(r), UserAgent: clip.Bytes(r.UserAgent(), maxUserAgent), Request: web.RequestIDFrom(r.Context())}
			finish := func(status int) {
				entry.Status = status
				entry.Route = route(r)
				entry.Target = clip.Bytes(target(r, status, held.body.Bytes()), maxTarget)
				entry.After = redactBody(body, r.Header.Get("Content-Type"))
				entry.Before = note.value
				if e, err := rec.Record(r.Context(), entry); err != nil {
					rec.lost(r.Context(), e, err)
				}
			}
			defer func() {
				// A panicking handler is recorded as the 500 Recover will answer; the change
				// may or may not have been made, which is what the entry then says.
				if v := recover(); v != nil {
					finish(http.StatusInternalServerError)
					panic(v)
				}
			}()
			next.ServeHTTP(held, r)
			status := held.status
			if status == 0 {
				status = http.StatusOK
			}
			finish(status)
			held.send(w)
		})
	}
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// route is the path of the pattern the request matched, e.g. /api/v1/admin/skus/{id}/stock,
// or "unmatched" when none did.
func route(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	_, path, found := strings.Cut(r.Pattern, " ")
	if !found {
		path = r.Pattern
	}
	return path
}

var wildcard = regexp.MustCompile(`\{(\w+)(?:\.\.\.)?\}`)

// target is the value of the pattern's last wildcard ({id} of /products/{id}/skus). A
// create has none in its path: its target is the id of what it made, when its 201 answer
// says.
func target(r *http.Request, status int, answer []byte) string {
	if names := wildcard.FindAllStringSubmatch(r.Pattern, -1); len(names) > 0 {
		return r.PathValue(names[len(names)-1][1])
	}
	if status != http.StatusCreated {
		return ""
	}
	var made struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(answer, &made) != nil || len(made.ID) == 0 {
		return ""
	}
	var id string
	if json.Unmarshal(made.ID, &id) != nil {
		return strings.Trim(string(made.ID), `"`)
	}
	return id
}

// heldAnswer keeps the handler's answer until the entry is recorded.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldAnswer) Header() http.Header { return h.header }

func (h *heldAnswer) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldAnswer) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

// send writes the held answer; the headers are already in place (Header is w's own).
func (h *heldAnswer) send(w http.ResponseWriter) {
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
	w.Write(h.body.Bytes())
}

// teeBody keeps the first maxBody bytes the handler reads of the request body.
type teeBody struct {
	io.ReadCloser
	kept  bytes.Buffer
	total int64
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := maxBody - b.kept.Len(); room > 0 {
		b.kept.Write(p[:min(n, room)])
	}
	b.total += int64(n)
	return n, err
}

// redactBody is Entry.After for what the handler read of the body.
func redactBody(b *teeBody, contentType string) json.RawMessage {
	switch {
	case b.total == 0:
		return nil
	case b.total > maxBody:
		return omitted(fmt.Sprintf("the body (%d bytes or more) is over the %d bytes kept", b.total, maxBody))
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return omitted(fmt.Sprintf("a %s body of %d bytes", mt, b.total))
	}
	out, err := redactJSON(b.kept.Bytes())
	if err != nil {
		return omitted(fmt.Sprintf("a body of %d bytes that is not JSON", b.total))
	}
	return out
}

// redactJSON is raw with every secret-looking field's value replaced.
func redactJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keeps every digit of numbers
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(redact(v))
}

func omitted(why string) json.RawMessage {
	out, _ := json.Marshal(map[string]string{"omitted": why})
	return out
}

// Redacted replaces the value of every secret-looking field.
const Redacted = "[redacted]"

// redact replaces, at any depth, the values of fields whose names say they hold a secret.
func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretField(k) {
				x[k] = Redacted
			} else {
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

var secretWords = []string{"password", "passwd", "secret", "token", "credential", "authorization", "private", "signature"}

// secretField says whether a JSON field name looks like it holds a secret: a password,
// token, key and the like. It errs on the side of hiding (an idempotency_key is hidden too).
func secretField(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return strings.HasSuffix(n, "key")
}

type beforeKey struct{}

type beforeNote struct{ value json.RawMessage }

// SetBefore tells the audit log what the target looked like before the change, for handlers
// that have it at hand. Outside an audited request it does nothing.
func SetBefore(ctx context.Context, v any) {
	note, ok := ctx.Value(beforeKey{}).(*beforeNote)
	if !ok {
		return
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return
	}
	if out, err := redactJSON(raw); err == nil {
		note.value = out
	}
}
