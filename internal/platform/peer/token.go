package peer

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
)

// ErrServiceToken answers a call to an /internal/ route without the service token.
var ErrServiceToken = errs.New(errs.Unauthorized, "invalid_service_token", "this endpoint is for Minimart services; send the service token")

// RequireToken guards /internal/ routes, which skip buyer authentication and trust their
// input, so only our own services may reach them even if nginx is bypassed. Tokens are
// compared as SHA-256 digests in constant time, so neither the content nor the length of
// the real token leaks through timing. An empty token refuses everything: a service
// started without its token must fail closed, not open.
func RequireToken(token string) func(http.Handler) http.Handler {
	carries := CarriesToken(token)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !carries(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="minimart-internal"`)
				web.WriteError(w, r, ErrServiceToken)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CarriesToken reports whether a request is a call from one of our services: it carries
// token as its bearer (never true for an empty token).
func CarriesToken(token string) func(*http.Request) bool {
	want := sha256.Sum256([]byte(token))
	return func(r *http.Request) bool {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(got))
		return token != "" && strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(sum[:], want[:]) == 1
	}
}
