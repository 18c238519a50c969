package user

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/user/userevents"
)

// Config holds the account rules that operators may tune.
type Config struct {
	RefreshTTL       time.Duration
	PasswordCost     int
	LoginMaxFailures int64 // per account and window
	LoginMaxPerIP    int64 // per client IP and window
	LoginWindow      time.Duration
}

// Service is the accounts use cases.
type Service struct {
	store    Storer
	tokens   *auth.Tokens
	ids      *ids.Generator
	wechat   CodeExchanger
	attempts AttemptCounter
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	// dummyHash is compared against when the account does not exist, so an unknown user
	// costs as much time as a wrong password and the two cannot be told apart.
	dummyHash []byte
}

// NewService wires the accounts service. wechat may be nil: mini-program login then answers
// ErrWeChatNotConfigured.
func NewService(store Storer, tokens *auth.Tokens, gen *ids.Generator, wechat CodeExchanger,
	attempts AttemptCounter, cfg Config, log *slog.Logger) (*Service, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("not-a-real-password-0"), cfg.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("password cost %d: %w", cfg.PasswordCost, err)
	}
	return &Service{store: store, tokens: tokens, ids: gen, wechat: wechat, attempts: attempts,
		cfg: cfg, log: log, now: time.Now, dummyHash: dummy}, nil
}

// Tokens is what a successful login hands the client.
type Tokens struct {
	TokenType            string    `json:"token_type"`
	AccessToken          string    `json:"access_token"`
	AccessTokenExpiresAt time.Time `json:"access_token_expires_at"`
	// RefreshToken is empty when the client takes it as a cookie (X-Session-Transport).
	RefreshToken          string    `json:"refresh_token,omitempty"`
	RefreshTokenExpiresAt time.Time `json:"refresh_token_expires_at"`
}

// RegisterInput is a registration request: a username or a mobile number, and a password.
type RegisterInput struct {
	Username string
	Mobile   string
	Password string
}

var mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

func validateUsername(f *errs.Fields, field, name string) {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		f.Add(field, "must be valid UTF-8")
	case n < 3 || n > 32:
		f.Add(field, "must be 3 to 32 characters")
	case strings.TrimSpace(name) != name:
		f.Add(field, "must not start or end with spaces")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		f.Add(field, "must not contain control characters")
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsDigit(r) }) < 0:
		f.Add(field, "must not be only digits (register with mobile for a phone number)")
	}
}

// PasswordRules is said in every weak-password error so clients can show it.
const PasswordRules = "8 to 72 bytes, with at least one letter and one digit, not containing the username"

func validatePassword(f *errs.Fields, password, username string) {
	hasLetter := strings.IndexFunc(password, unicode.IsLetter) >= 0
	hasDigit := strings.IndexFunc(password, unicode.IsDigit) >= 0
	switch {
	case len(password) < 8 || len(password) > 72:
		f.Add("password", "must be "+PasswordRules)
	case !hasLetter || !hasDigit:
		f.Add("password", "too weak: must be "+PasswordRules)
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		f.Add("password", "too weak: must be "+PasswordRules)
	}
}

// Register creates a buyer account with a password and logs it in.
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, Tokens, error) {
	var f errs.Fields
	switch {
	case in.Username == "" && in.Mobile == "":
		f.Add("username", "give a username or a mobile number")
	case in.Username != "" && in.Mobile != "":
		f.Add("mobile", "give a username or a mobile number, not both")
	case in.Username != "":
		validateUsername(&f, "username", in.Username)
	default:
		if !mobilePattern.MatchString(in.Mobile) {
			f.Add("mobile", "must be an 11-digit mainland China mobile number")
		}
	}
	validatePassword(&f, in.Password, in.Username)
	if err := f.Err(); err != nil {
		return User{}, Tokens{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), s.cfg.PasswordCost)
	if err != nil {
		return User{}, Tokens{}, fmt.Errorf("hash password: %w", err)
	}
	u := User{ID: s.ids.New(), Username: in.Username, Mobile: in.Mobile, PasswordHash: hash, CreatedAt: s.now().UTC()}
	ev, err := events.New(s.ids.New(), userevents.TypeRegistered, u.ID.String(), userevents.Registered{UserID: u.ID, Via: "password"})
	if err != nil {
		return User{}, Tokens{}, err
	}
	if err := s.store.CreateUser(ctx, u, ev); err != nil {
		return User{}, Tokens{}, err
	}
	tok, err := s.startSession(ctx, SubjectBuyer, u.ID, "")
	return u, tok, err
}

// Login checks a buyer's username (or mobile) and password.
func (s *Service) Login(ctx context.Context, login, password, clientIP string) (User, Tokens, error) {
	if login == "" || password == "" {
		return User{}, Tokens{}, ErrInvalidCredentials
	}
	guard := s.guard("buyer", login, clientIP)
	if err := guard.check(ctx); err != nil {
		return User{}, Tokens{}, err
	}
	u, err := s.store.UserByLogin(ctx, login)
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return User{}, Tokens{}, err
	}
	if !s.passwordMatches(u.PasswordHash, password) {
		return User{}, Tokens{}, guard.failed(ctx)
	}
	guard.succeeded(ctx)
	tok, err := s.startSession(ctx, SubjectBuyer, u.ID, "")
	return u, tok, err
}

// passwordMatches compares in constant work whether or not the account exists.
func (s *Service) passwordMatches(hash []byte, password string) bool {
	if len(hash) == 0 {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password)) // only spends the time
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// LoginWeChat logs a buyer in with a mini-program login code, creating the account the first
// time an openid is seen. created says whether it was.
func (s *Service) LoginWeChat(ctx context.Context, code string) (User, Tokens, bool, error) {
	if s.wechat == nil {
		return User{}, Tokens{}, false, ErrWeChatNotConfigured
	}
	var f errs.Fields
	if code == "" || len(code) > 128 {
		f.Add("code", "must be the 1 to 128 character code from wx.login")
	}
	if err := f.Err(); err != nil {
		return User{}, Tokens{}, false, err
	}
	sess, err := s.wechat.Code2Session(ctx, code)
	if err != nil {
		return User{}, Tokens{}, false, err
	}
	u, err := s.store.UserByOpenID(ctx, sess.OpenID)
	created := false
	switch {
	case errors.Is(err, ErrUserNotFound):
		u = User{ID: s.ids.New(), OpenID: sess.OpenID, UnionID: sess.UnionID, HasWeChat: true, CreatedAt: s.now().UTC()}
		ev, evErr := events.New(s.ids.New(), userevents.TypeRegistered, u.ID.String(), userevents.Registered{UserID: u.ID, Via: "wechat"})
		if evErr != nil {
			return User{}, Tokens{}, false, evErr
		}
		if err := s.store.CreateUser(ctx, u, ev); err != nil {
			// Two first logins of one openid at once: the other one created it.
			if !errors.Is(err, ErrOpenIDTaken) {
				return User{}, Tokens{}, false, err
			}
			if u, err = s.store.UserByOpenID(ctx, sess.OpenID); err != nil {
				return User{}, Tokens{}, false, err
			}
		} else {
			created = true
		}
	case err != nil:
		return User{}, Tokens{}, false, err
	case sess.UnionID != "" && u.UnionID != sess.UnionID:
		u, err = s.store.UpdateUser(ctx, u.ID, func(u *User) error { u.UnionID = sess.UnionID; return nil })
		if err != nil {
			return User{}, Tokens{}, false, err
		}
	}
	tok, err := s.startSession(ctx, SubjectBuyer, u.ID, "")
	return u, tok, created, err
}

// Me returns the buyer's own account.
func (s *Service) Me(ctx context.Context, id ids.ID) (User, error) { return s.store.UserByID(ctx, id) }

// OpenID is the buyer's WeChat openid: "" when they never logged in through the mini-program.
// Payments need it for JSAPI; nothing else about the buyer leaves this module for that.
func (s *Service) OpenID(ctx context.Context, id ids.ID) (string, error) {
	u, err := s.store.UserByID(ctx, id)
	return u.OpenID, err
}

// startSession issues an access token and a new refresh-token family.
func (s *Service) startSession(ctx context.Context, kind string, id ids.ID, role string) (Tokens, error) {
	refresh, hash := auth.NewRefreshToken()
	now := s.now().UTC()
	sess := Session{ID: s.ids.New(), SubjectKind: kind, SubjectID: id, TokenHash: hash,
		ExpiresAt: now.Add(s.cfg.RefreshTTL), CreatedAt: now}
	sess.FamilyID = sess.ID
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return Tokens{}, err
	}
	return s.tokensFor(sess, refresh, role)
}

func (s *Service) tokensFor(sess Session, refresh, role string) (Tokens, error) {
	p := auth.Principal{ID: sess.SubjectID, Audience: auth.AudienceBuyer}
	if sess.SubjectKind == SubjectStaff {
		p = auth.Principal{ID: sess.SubjectID, Audience: auth.AudienceStaff, Role: role}
	}
	access, exp, err := s.tokens.Issue(p)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{TokenType: "Bearer", AccessToken: access, AccessTokenExpiresAt: exp,
		RefreshToken: refresh, RefreshTokenExpiresAt: sess.ExpiresAt}, nil
}

// Refresh exchanges a refresh token of a session of kind (SubjectBuyer, SubjectStaff, or
// AnySubject) for a new pair; the old refresh token stops working. A token of the other kind
// is refused as invalid and stays usable where it belongs.
func (s *Service) Refresh(ctx context.Context, kind, refreshToken string) (Tokens, error) {
	if refreshToken == "" || len(refreshToken) > 128 {
		return Tokens{}, ErrInvalidRefreshToken
	}
	now := s.now().UTC()
	plain, hash := auth.NewRefreshToken()
	next, err := s.store.RotateSession(ctx, auth.HashRefreshToken(refreshToken), kind, now, func(old Session) Session {
		return Session{ID: s.ids.New(), FamilyID: old.FamilyID, SubjectKind: old.SubjectKind, SubjectID: old.SubjectID,
			TokenHash: hash, ExpiresAt: now.Add(s.cfg.RefreshTTL), CreatedAt: now}
	})
	if err != nil {
		return Tokens{}, err
	}
	role := ""
	if next.SubjectKind == SubjectStaff {
		st, err := s.store.StaffByID(ctx, next.SubjectID)
		if errors.Is(err, ErrStaffNotFound) || err == nil && st.Status != StaffActive {
			// Disabling or deleting revokes the account's sessions; this catches a refresh
			// that raced with it.
			return Tokens{}, ErrInvalidRefreshToken
		}
		if err != nil {
			return Tokens{}, err
		}
		role = st.Role
	}
	return s.tokensFor(next, plain, role)
}

// Logout revokes the login the refresh token belongs to, when its session is of kind. An
// unknown token is not an error: the client is logged out either way.
func (s *Service) Logout(ctx context.Context, kind, refreshToken string) error {
	if refreshToken == "" || len(refreshToken) > 128 {
		return nil
	}
	return s.store.RevokeFamily(ctx, auth.HashRefreshToken(refreshToken), kind, s.now().UTC())
}

// ListPage is a page of a list ordered newest first.
type ListPage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Limit      int    `json:"limit"`
	// LimitCapped says the requested limit was over the maximum and was lowered.
	LimitCapped bool `json:"limit_capped,omitempty"`
}

// Page limits for lists.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// SearchUsers lists buyers for staff, newest first; cursor is the next_cursor of the
// previous page.
func (s *Service) SearchUsers(ctx context.Context, q, cursor string, limit int) (ListPage[User], error) {
	var f errs.Fields
	if utf8.RuneCountInString(q) > 64 {
		f.Add("q", "must be at most 64 characters")
	}
	before := parseCursor(&f, cursor)
	if err := f.Err(); err != nil {
		return ListPage[User]{}, err
	}
	page := newPage[User](limit)
	users, err := s.store.SearchUsers(ctx, q, before, page.Limit+1)
	if err != nil {
		return ListPage[User]{}, err
	}
	return page.fill(users, func(u User) ids.ID { return u.ID }), nil
}

// parseCursor reads a next_cursor (an id; "" for the first page), noting a bad one in f.
func parseCursor(f *errs.Fields, cursor string) ids.ID {
	if cursor == "" {
		return 0
	}
	id, err := ids.Parse(cursor)
	if err != nil {
		f.Add("cursor", "must be the next_cursor of a previous page")
	}
	return id
}

// newPage is an empty page of the requested size: the default for none, capped at the most.
func newPage[T any](limit int) ListPage[T] {
	page := ListPage[T]{Limit: limit}
	if limit <= 0 {
		page.Limit = DefaultPageSize
	} else if limit > MaxPageSize {
		page.Limit, page.LimitCapped = MaxPageSize, true
	}
	return page
}

// fill takes up to Limit items from list, which the store read with one more than Limit so
// that a further page shows: its cursor is then the id of the last item kept.
func (page ListPage[T]) fill(list []T, id func(T) ids.ID) ListPage[T] {
	if len(list) > page.Limit {
		list = list[:page.Limit]
		page.NextCursor = id(list[len(list)-1]).String()
	}
	page.Items = list
	if page.Items == nil {
		page.Items = []T{}
	}
	return page
}

// StaffLogin checks a staff account's password.
func (s *Service) StaffLogin(ctx context.Context, username, password, clientIP string) (Staff, Tokens, error) {
	if username == "" || password == "" {
		return Staff{}, Tokens{}, ErrInvalidCredentials
	}
	guard := s.guard("staff", username, clientIP)
	if err := guard.check(ctx); err != nil {
		return Staff{}, Tokens{}, err
	}
	st, err := s.store.StaffByUsername(ctx, username)
	if err != nil && !errors.Is(err, ErrStaffNotFound) {
		return Staff{}, Tokens{}, err
	}
	if !s.passwordMatches(st.PasswordHash, password) {
		return Staff{}, Tokens{}, guard.failed(ctx)
	}
	guard.succeeded(ctx)
	if st.Status != StaffActive {
		// Said only to whoever knows the password: they need to ask an admin, not retry.
		return Staff{}, Tokens{}, auth.ErrAccountDisabled
	}
	tok, err := s.startSession(ctx, SubjectStaff, st.ID, st.Role)
	return st, tok, err
}

// StaffMe returns the staff member's own account.
func (s *Service) StaffMe(ctx context.Context, id ids.ID) (Staff, error) {
	return s.StaffAccount(ctx, id)
}

// CreateStaff adds an administrator or operator.
func (s *Service) CreateStaff(ctx context.Context, username, password, role string) (Staff, error) {
	var f errs.Fields
	validateUsername(&f, "username", username)
	validatePassword(&f, password, username)
	validRole(&f, role)
	if err := f.Err(); err != nil {
		return Staff{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.PasswordCost)
	if err != nil {
		return Staff{}, fmt.Errorf("hash password: %w", err)
	}
	st := Staff{ID: s.ids.New(), Username: username, Role: role, Status: StaffActive, PasswordHash: hash, CreatedAt: s.now().UTC()}
	return st, s.store.CreateStaff(ctx, st)
}

// EnsureAdmin creates the admin account "admin" with a random password when the shop has no
// admin yet. The password is returned once, for printing; it is stored only as a hash.
func (s *Service) EnsureAdmin(ctx context.Context) (username, password string, created bool, err error) {
	n, err := s.store.CountStaff(ctx, auth.RoleAdmin)
	if err != nil || n > 0 {
		return "", "", false, err
	}
	password = randomPassword()
	if _, err := s.CreateStaff(ctx, "admin", password, auth.RoleAdmin); err != nil {
		return "", "", false, err
	}
	return "admin", password, true, nil
}

func randomPassword() string {
	// rand.Text gives 26 base32 characters (130 bits); the suffix guarantees a letter and a
	// digit so the strength rules always pass.
	return rand.Text() + "-a1"
}
