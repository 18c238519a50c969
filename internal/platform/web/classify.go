package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/minimart/minimart/internal/platform/errs"
)

// Classifier recognises an error that is not an application error — one from a driver or
// the network — and returns the application error a client should see for it (a database
// that cannot be reached is 503 database_unavailable, not 500), or nil for an error it does
// not know, which stays 500 internal.
type Classifier func(error) *errs.Error

// classifierKey holds the classifiers outside Observe, which has no request state to keep them in.
type classifierKey struct{}

// ClassifyErrors makes WriteError, under it, answer classify(err) for an error that is not
// an application error and that classify recognises. Such an answer is an outage of
// something the request needs, not a bug: it is logged once, at warn, on the request's own
// log line (see Observe), instead of as an error. The composition root installs it with the
// classifiers of what it opened (the web layer imports no driver).
func ClassifyErrors(classify ...Classifier) Middleware {
	return func(next http.Handler) http.Handler {
		if len(classify) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if st := stateFrom(r.Context()); st != nil {
				// Under Observe: kept in its request state, which saves copying the request
				// on every request; the handlers inside see this list, those outside their own.
				outer := st.classify
				st.classify = classify
				defer func() { st.classify = outer }()
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), classifierKey{}, classify)))
		})
	}
}

// classified is the application error the request's classifiers give err, or nil.
func classified(ctx context.Context, err error) *errs.Error {
	var list []Classifier
	if st := stateFrom(ctx); st != nil && st.classify != nil {
		list = st.classify
	} else {
		list, _ = ctx.Value(classifierKey{}).([]Classifier)
	}
	for _, c := range list {
		if e := c(err); e != nil {
			return e
		}
	}
	return nil
}

// outcome is where WriteError leaves, for Observe's log line, an error it answered with a
// classified code; Observe keeps one in every request's state.
type outcome struct {
	err  string
	code string
}

// noteClassified records err (answered as code) for the request's log line, or logs it at
// warn itself when no Observe is there to do so.
func noteClassified(r *http.Request, code string, err error) {
	if st := stateFrom(r.Context()); st != nil {
		st.out.err, st.out.code = err.Error(), code
		return
	}
	LoggerFrom(r.Context()).WarnContext(r.Context(), "request failed", slog.String("code", code), slog.String("error", err.Error()))
}
