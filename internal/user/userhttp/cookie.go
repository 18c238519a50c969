package userhttp

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/internal/user"
)

// SessionTransportHeader chooses where a login's refresh token travels. Absent: in the JSON
// answer, for mini-programs and API clients that keep it themselves. "cookie": in an HttpOnly
// cookie that the page's scripts cannot read, for the browser front-ends, so an injected
// script can steal at most a short-lived access token.
const SessionTransportHeader = "X-Session-Transport"

// sessionCookie is where one audience's refresh token lives in a browser. Its path is the
// audience's auth endpoints only: no other request carries it.
type sessionCookie struct {
	name, path string
	// kind is the kind of session the cookie holds; its endpoints take no other.
	kind string
}

var (
	buyerCookie = sessionCookie{name: "minimart_buyer_refresh", path: "/api/v1/auth", kind: user.SubjectBuyer}
	staffCookie = sessionCookie{name: "minimart_staff_refresh", path: "/api/v1/admin/auth", kind: user.SubjectStaff}
)

// viaCookie reads X-Session-Transport.
func viaCookie(r *http.Request) (bool, error) {
	switch v := r.Header.Get(SessionTransportHeader); {
	case v == "":
		return false, nil
	case strings.EqualFold(v, "cookie"):
		return true, nil
	default:
		return false, web.ErrInvalidParam.Withf("%s must be cookie, or absent for JSON refresh tokens", SessionTransportHeader)
	}
}

// errTokenInBody refuses a refresh token in the body of a cookie-transport request: which of
// the two was meant would be a guess.
var errTokenInBody = errs.Fields{{Field: "refresh_token",
	Reason: "must be absent with " + SessionTransportHeader + ": cookie; the cookie carries it"}}

// hand moves the refresh token of tok into the cookie when the client asked for it (the
// JSON answer then has none), and returns the tokens to answer with.
func (h *Handlers) hand(w http.ResponseWriter, r *http.Request, c sessionCookie, cookie bool, tok user.Tokens) user.Tokens {
	if !cookie {
		return tok
	}
	maxAge := int(time.Until(tok.RefreshTokenExpiresAt) / time.Second)
	h.setCookie(w, r, c, tok.RefreshToken, max(maxAge, 1))
	tok.RefreshToken = ""
	return tok
}

// clearCookie tells the browser to drop the cookie: logged out, or a token that will never
// work again.
func (h *Handlers) clearCookie(w http.ResponseWriter, r *http.Request, c sessionCookie) {
	h.setCookie(w, r, c, "", -1)
}

func (h *Handlers) setCookie(w http.ResponseWriter, r *http.Request, c sessionCookie, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: value, Path: c.path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.ips.HTTPS(r)})
}

// presented reads a refresh or logout request of audience c: whether it came by cookie
// (X-Session-Transport), the refresh token it presents (the cookie's, or the body's without
// the header) and the kind of session that token may be — the cookie's own audience, or
// jsonKind for a token sent in JSON.
func presented(r *http.Request, c sessionCookie, jsonKind string) (cookie bool, token, kind string, err error) {
	if cookie, err = viaCookie(r); err != nil {
		return false, "", "", err
	}
	var in refreshRequest
	if err := web.Decode(r, &in); err != nil {
		return false, "", "", err
	}
	if !cookie {
		return false, in.RefreshToken, jsonKind, nil
	}
	if in.RefreshToken != "" {
		return false, "", "", errTokenInBody.Err()
	}
	if got, err := r.Cookie(c.name); err == nil {
		token = got.Value
	}
	return true, token, c.kind, nil
}

// refreshFor serves the refresh endpoint of audience c. Without X-Session-Transport a JSON
// refresh token of jsonKind is taken; with it, the cookie's, which is then replaced by the new
// one (or dropped when it can never work again).
func (h *Handlers) refreshFor(c sessionCookie, jsonKind string) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		cookie, token, kind, err := presented(r, c, jsonKind)
		if err != nil {
			return err
		}
		tok, err := h.svc.Refresh(r.Context(), kind, token)
		if err != nil {
			if cookie && (errors.Is(err, user.ErrInvalidRefreshToken) || errors.Is(err, user.ErrRefreshTokenReused)) {
				h.clearCookie(w, r, c)
			}
			return err
		}
		writeTokens(w, http.StatusOK, struct {
			Tokens user.Tokens `json:"tokens"`
		}{h.hand(w, r, c, cookie, tok)})
		return nil
	}
}

// logoutFor serves the logout endpoint of audience c, taking tokens of jsonKind in JSON and the
// cookie's with X-Session-Transport, which it drops.
func (h *Handlers) logoutFor(c sessionCookie, jsonKind string) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		cookie, token, kind, err := presented(r, c, jsonKind)
		if err != nil {
			return err
		}
		if err := h.svc.Logout(r.Context(), kind, token); err != nil {
			return err
		}
		if cookie {
			h.clearCookie(w, r, c)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
