package web

import (
	"net/http"
	"strconv"

	"github.com/minimart/minimart/internal/platform/errs"
)

// ErrCORSOriginNotAllowed answers a preflight from a page on an origin the operator has not
// listed: the browser then refuses to send the request itself.
var ErrCORSOriginNotAllowed = errs.New(errs.Forbidden, "cors_origin_not_allowed",
	"pages on this origin may not call the API; the operator lists allowed origins in MINIMART_CORS_ORIGINS")

// What a listed origin's pages may send and read. Credentials are allowed (the refresh
// cookie), so every value names exactly what is meant: the CORS rules forbid "*" with them.
const (
	corsAllowMethods  = "GET, POST, PUT, PATCH, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, Idempotency-Key, X-Request-ID, X-Session-Transport"
	corsExposeHeaders = "X-Request-ID, Idempotent-Replayed, Retry-After"
	// corsMaxAge is how long, in seconds, a browser may reuse a preflight's answer.
	corsMaxAge = 600
)

// CORS lets pages on the listed origins (exact scheme://host[:port], as browsers send them in
// Origin; config.Load checks them) call the API with credentials. A listed origin's requests
// get Access-Control-Allow-Origin naming it, and its preflights (OPTIONS with
// Access-Control-Request-Method) are answered 204 here, before routing. Any other origin gets
// no CORS headers, so the browser keeps the answer from its page, and its preflights are
// refused with 403 cors_origin_not_allowed. With no origins listed, answers carry no CORS
// headers at all: the front-ends are served from the API's own origin and need none.
func CORS(origins []string) Middleware {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	maxAge := strconv.Itoa(corsMaxAge)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
			h := w.Header()
			if len(allowed) > 0 {
				// The answer depends on Origin, so a cache must key it by Origin too.
				h.Add("Vary", "Origin")
			}
			if !allowed[origin] {
				if preflight {
					WriteError(w, r, ErrCORSOriginNotAllowed)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			if !preflight {
				h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
				next.ServeHTTP(w, r)
				return
			}
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", maxAge)
			w.WriteHeader(http.StatusNoContent)
		})
	}
}
