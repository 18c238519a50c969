package web

import (
	"net/http"
)

// Router is net/http's ServeMux with answers in the shared JSON error format for paths and
// methods it does not serve (the mux itself answers those in plain text).
type Router struct{ mux *http.ServeMux }

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{mux: http.NewServeMux()} }

// Handle registers h for a ServeMux pattern such as "POST /api/v1/auth/login".
func (rt *Router) Handle(pattern string, h http.Handler) { rt.mux.Handle(pattern, h) }

// HandleFunc registers an error-returning handler; a returned error is written in the
// shared error format.
func (rt *Router) HandleFunc(pattern string, h HandlerFunc) { rt.mux.Handle(pattern, h) }

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		WriteError(w, r, err)
	}
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if st := stateFrom(r.Context()); st != nil {
		// The mux sets r.Pattern on this request while it dispatches; handlers run inside, so
		// Observe's deferred log line, which runs after, reads the pattern.
		defer func() { st.route = r.Pattern }()
	}
	rt.mux.ServeHTTP(&unmatchedAsJSON{ResponseWriter: w, r: r}, r)
}

// unmatchedAsJSON rewrites the mux's own 404/405 answers; the mux leaves r.Pattern empty
// exactly when no route matched.
type unmatchedAsJSON struct {
	http.ResponseWriter
	r       *http.Request
	swallow bool
}

func (u *unmatchedAsJSON) WriteHeader(code int) {
	if u.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		u.swallow = true
		if code == http.StatusNotFound {
			WriteError(u.ResponseWriter, u.r, ErrRouteNotFound)
		} else {
			WriteError(u.ResponseWriter, u.r, ErrMethodNotAllowed)
		}
		return
	}
	u.ResponseWriter.WriteHeader(code)
}

func (u *unmatchedAsJSON) Write(b []byte) (int, error) {
	if u.swallow {
		return len(b), nil
	}
	return u.ResponseWriter.Write(b)
}

func (u *unmatchedAsJSON) Unwrap() http.ResponseWriter { return u.ResponseWriter }
