// Package auth issues and checks access tokens (short-lived JWTs) and makes refresh tokens
// (random, stored only as a hash by the module that owns sessions). Middleware puts the
// verified principal in the request context and refuses the rest.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/maypok86/otter/v2"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/web"
)

// Audiences separate buyer accounts from staff accounts: they live in different tables and
// an id of one must never be read as the other.
const (
	AudienceBuyer = "buyer"
	AudienceStaff = "staff"
)

// Staff roles.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
)

var (
	ErrMissingToken = errs.New(errs.Unauthorized, "missing_token", "send an access token: Authorization: Bearer <token>")
	ErrInvalidToken = errs.New(errs.Unauthorized, "invalid_token", "access token is invalid or expired; refresh it or log in again")
	ErrForbidden    = errs.New(errs.Forbidden, "forbidden", "this account may not use this endpoint")
	// ErrAccountDisabled refuses a valid staff token whose account was disabled or deleted
	// after the token was issued (and a login to a disabled account).
	ErrAccountDisabled = errs.New(errs.Unauthorized, "account_disabled", "this staff account is disabled or deleted; ask an administrator")
)

// Principal is who a verified token speaks for.
type Principal struct {
	ID       ids.ID
	Audience string
	Role     string // staff role; empty for buyers
}

type claims struct {
	jwt.RegisteredClaims
	Role string `json:"role,omitempty"`
}

const issuer = "minimart"

// Tokens signs and verifies access tokens with one HMAC key shared by every instance.
type Tokens struct {
	key    []byte
	ttl    time.Duration
	parser *jwt.Parser
	now    func() time.Time
	staff  *staffCheck // nil: staff tokens are trusted until they expire
}

// StaffStatus says whether a staff account may still act, and in which role. The user module
// answers it: in process, or over HTTP in the split shape. role is the account's current
// role, "" for an account that is disabled, deleted or unknown; an error means the answer
// cannot be known now.
type StaffStatus interface {
	StaffRole(ctx context.Context, id ids.ID) (role string, err error)
}

// staffCheck asks a StaffStatus and remembers each answer for a while, so an admin screen
// making many calls costs the user module one lookup per account every few seconds.
type staffCheck struct {
	src     StaffStatus
	answers *otter.Cache[ids.ID, string]
}

// staffStatusTimeout bounds one status lookup. The lookup is shared by every request for the
// same account that arrives while it runs (otter's loader), so it runs detached from the
// request that started it: that client leaving must not fail the others.
const staffStatusTimeout = 5 * time.Second

// staffStatusEntries bounds the remembered answers; a shop has far fewer staff accounts.
const staffStatusEntries = 10_000

// CheckingStaff returns tokens whose Staff middleware also asks src about the account,
// at most once per account every fresh: a disabled or deleted account is refused (401
// account_disabled), and the account's current role replaces the one in the token, so a
// change takes effect within fresh instead of when the access token expires. When src cannot
// answer, the request is refused with src's error — 503 dependency_unavailable from a user
// service that does not answer, 500 from a failing local database — and never let through:
// staff endpoints are not on the buyer's path, and letting a possibly disabled account act
// is worse than asking staff to retry. Failed answers are not remembered.
func (t *Tokens) CheckingStaff(src StaffStatus, fresh time.Duration) (*Tokens, error) {
	answers, err := otter.New(&otter.Options[ids.ID, string]{
		MaximumSize:      staffStatusEntries,
		ExpiryCalculator: otter.ExpiryWriting[ids.ID, string](fresh),
	})
	if err != nil {
		return nil, fmt.Errorf("staff status cache: %w", err)
	}
	c := *t
	c.staff = &staffCheck{src: src, answers: answers}
	return &c, nil
}

// currentRole is the role staff member p acts in now: the token's without CheckingStaff,
// else the account's current one; an account that may no longer act is ErrAccountDisabled.
func (t *Tokens) currentRole(ctx context.Context, p Principal) (string, error) {
	if t.staff == nil {
		return p.Role, nil
	}
	role, err := t.staff.answers.Get(ctx, p.ID, otter.LoaderFunc[ids.ID, string](func(ctx context.Context, id ids.ID) (string, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), staffStatusTimeout)
		defer cancel()
		return t.staff.src.StaffRole(ctx, id)
	}))
	switch {
	case err != nil:
		return "", err
	case role == "":
		return "", ErrAccountDisabled
	}
	return role, nil
}

// NewTokens needs a key of at least 32 bytes.
func NewTokens(key []byte, accessTTL time.Duration) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("signing key must be at least 32 bytes")
	}
	return &Tokens{
		key: key,
		ttl: accessTTL,
		// Only HS256 is accepted: "alg":"none" and algorithm-confusion tokens are refused
		// before the signature is even looked at.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer), jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Second)),
		now: time.Now,
	}, nil
}

// Issue signs an access token for p and says when it expires.
func (t *Tokens) Issue(p Principal) (string, time.Time, error) {
	now := t.now().UTC()
	exp := now.Add(t.ttl)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: p.ID.String(), Audience: jwt.ClaimStrings{p.Audience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		Role: p.Role,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// Verify checks signature, algorithm, issuer and expiry and returns the principal.
func (t *Tokens) Verify(token string) (Principal, error) {
	var c claims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil })
	if err != nil {
		return Principal{}, ErrInvalidToken
	}
	id, err := ids.Parse(c.Subject)
	if err != nil || len(c.Audience) != 1 {
		return Principal{}, ErrInvalidToken
	}
	p := Principal{ID: id, Audience: c.Audience[0], Role: c.Role}
	switch {
	case p.Audience == AudienceBuyer && p.Role == "":
	case p.Audience == AudienceStaff && (p.Role == RoleAdmin || p.Role == RoleOperator):
	default:
		return Principal{}, ErrInvalidToken
	}
	return p, nil
}

type principalKey struct{}

// PrincipalFrom returns the principal the middleware verified.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// WithPrincipal stores p in ctx; for middleware and for tests of handlers behind it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// authenticate verifies the bearer token. On failure it sets WWW-Authenticate, as RFC 6750
// asks of a 401 for a protected resource.
func (t *Tokens) authenticate(w http.ResponseWriter, r *http.Request) (Principal, error) {
	p, err := t.bearer(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="minimart"`)
	}
	return p, err
}

func (t *Tokens) bearer(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, ErrMissingToken
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Principal{}, ErrMissingToken.Withf("Authorization header must be: Bearer <token>")
	}
	return t.Verify(strings.TrimSpace(token))
}

// Buyer lets through requests with a valid buyer token.
func (t *Tokens) Buyer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := t.authenticate(w, r)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		logging.SetUserID(r.Context(), int64(p.ID))
		if p.Audience != AudienceBuyer {
			web.WriteError(w, r, ErrForbidden.Withf("this endpoint is for buyer accounts"))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// Staff lets through requests with a valid staff token whose role is one of roles (with
// CheckingStaff: whose account is still active, in its current role). A valid token of the
// wrong kind or role is 403, a bad or missing token or a disabled account 401.
func (t *Tokens) Staff(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := t.authenticate(w, r)
			if err != nil {
				web.WriteError(w, r, err)
				return
			}
			logging.SetUserID(r.Context(), int64(p.ID))
			forbidden := ErrForbidden.Withf("this endpoint needs the %s role", strings.Join(roles, " or "))
			if p.Audience != AudienceStaff {
				web.WriteError(w, r, forbidden)
				return
			}
			// Before the role: a disabled account learns that it is disabled, whatever it asked.
			role, err := t.currentRole(r.Context(), p)
			if err != nil {
				if errors.Is(err, ErrAccountDisabled) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="minimart", error="invalid_token"`)
				}
				web.WriteError(w, r, err)
				return
			}
			p.Role = role
			if !slices.Contains(roles, p.Role) {
				web.WriteError(w, r, forbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// StaffClaim is the staff principal named by the request's token when the token is valid
// (signature, expiry), without asking whether the account is still active or may use the
// endpoint: for recording who attempted a change (the audit log), never for letting one through.
func (t *Tokens) StaffClaim(r *http.Request) (Principal, bool) {
	p, err := t.bearer(r)
	if err != nil || p.Audience != AudienceStaff {
		return Principal{}, false
	}
	return p, true
}

// NewRefreshToken returns a random refresh token for the client and the hash to store.
func NewRefreshToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token)
}

// HashRefreshToken is what the store keeps and looks tokens up by. The token is 256 random
// bits, so a fast hash is enough: there is nothing to brute-force.
func HashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// PrincipalOf is who the request's verified token speaks for. Only handlers behind Buyer or
// Staff may call it: anywhere else it panics (a wiring mistake, which web.Recover answers
// with a 500) rather than act as user 0.
func PrincipalOf(r *http.Request) Principal {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		panic("auth: PrincipalOf outside the Buyer or Staff middleware: " + r.Method + " " + r.URL.Path)
	}
	return p
}
