package userhttp_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/minimart/minimart/internal/apptest"
)

const secret = "test-signing-secret-0123456789abcdef"

func start(t testing.TB, env map[string]string) *apptest.Server {
	if env == nil {
		env = map[string]string{}
	}
	env["MINIMART_JWT_SECRET"] = secret
	return apptest.Start(t, env)
}

// TestBadInput sends every kind of bad request to the endpoints that take a body and
// checks the status and stable code; nothing may be stored by a refused request.
func TestBadInput(t *testing.T) {
	s := start(t, nil)
	_, buyer := s.Register("existing", "passw0rd-ok")
	long := strings.Repeat("a", 200)
	cases := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		status int
		code   string
	}{
		{"malformed json", "POST", "/api/v1/auth/register", "", `{"username": "bob",`, 400, "invalid_json"},
		{"not json at all", "POST", "/api/v1/auth/register", "", `username=bob`, 400, "invalid_json"},
		{"unknown field", "POST", "/api/v1/auth/register", "", `{"username":"bob","password":"passw0rd-ok","admin":true}`, 400, "unknown_field"},
		{"wrong type", "POST", "/api/v1/auth/register", "", `{"username":"bob","password":12345678}`, 400, "wrong_type"},
		{"array body", "POST", "/api/v1/auth/register", "", `["bob"]`, 400, "wrong_type"},
		{"two objects", "POST", "/api/v1/auth/register", "", `{"username":"bob","password":"passw0rd-ok"}{}`, 400, "invalid_json"},
		{"empty body", "POST", "/api/v1/auth/register", "", ``, 400, "empty_body"},
		{"missing fields", "POST", "/api/v1/auth/register", "", `{}`, 400, "validation_failed"},
		{"missing password", "POST", "/api/v1/auth/register", "", `{"username":"bob"}`, 400, "validation_failed"},
		{"200-character username", "POST", "/api/v1/auth/register", "", `{"username":"` + long + `","password":"passw0rd-ok"}`, 400, "validation_failed"},
		{"digits-only username", "POST", "/api/v1/auth/register", "", `{"username":"123456","password":"passw0rd-ok"}`, 400, "validation_failed"},
		{"weak password: short", "POST", "/api/v1/auth/register", "", `{"username":"bob","password":"a1"}`, 400, "validation_failed"},
		{"weak password: no digit", "POST", "/api/v1/auth/register", "", `{"username":"bob","password":"onlyletters"}`, 400, "validation_failed"},
		{"weak password: has username", "POST", "/api/v1/auth/register", "", `{"username":"bobby","password":"bobby12345"}`, 400, "validation_failed"},
		{"bad mobile", "POST", "/api/v1/auth/register", "", `{"mobile":"12345","password":"passw0rd-ok"}`, 400, "validation_failed"},
		{"both username and mobile", "POST", "/api/v1/auth/register", "", `{"username":"bob","mobile":"13800000000","password":"passw0rd-ok"}`, 400, "validation_failed"},
		{"taken username", "POST", "/api/v1/auth/register", "", `{"username":"EXISTING","password":"passw0rd-ok"}`, 409, "username_taken"},
		{"body over the limit", "POST", "/api/v1/auth/register", "", `{"username":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "body_too_large"},
		{"login wrong type", "POST", "/api/v1/auth/login", "", `{"username":["a"],"password":"x"}`, 400, "wrong_type"},
		{"login empty", "POST", "/api/v1/auth/login", "", `{}`, 401, "invalid_credentials"},
		{"wechat unconfigured", "POST", "/api/v1/auth/wechat", "", `{"code":"abc"}`, 503, "wechat_not_configured"},
		{"refresh garbage", "POST", "/api/v1/auth/refresh", "", `{"refresh_token":"nope"}`, 401, "invalid_refresh_token"},
		{"refresh unknown field", "POST", "/api/v1/auth/refresh", "", `{"token":"nope"}`, 400, "unknown_field"},
		{"me without token", "GET", "/api/v1/me", "", nil, 401, "missing_token"},
		{"me with garbage token", "GET", "/api/v1/me", "garbage", nil, 401, "invalid_token"},
		{"address missing fields", "POST", "/api/v1/me/addresses", buyer.AccessToken, `{"recipient":"张三"}`, 400, "validation_failed"},
		{"address bad phone", "POST", "/api/v1/me/addresses", buyer.AccessToken, address(map[string]any{"phone": "call me"}), 400, "validation_failed"},
		{"address detail too long", "POST", "/api/v1/me/addresses", buyer.AccessToken, address(map[string]any{"detail": long + long}), 400, "validation_failed"},
		{"address non-numeric id", "GET", "/api/v1/me/addresses/abc", buyer.AccessToken, nil, 400, "invalid_parameter"},
		{"address unknown id", "GET", "/api/v1/me/addresses/123", buyer.AccessToken, nil, 404, "address_not_found"},
		{"admin route with buyer token", "GET", "/api/v1/admin/users", buyer.AccessToken, nil, 403, "forbidden"},
		{"admin me with buyer token", "GET", "/api/v1/admin/me", buyer.AccessToken, nil, 403, "forbidden"},
		{"unknown route", "GET", "/api/v1/nothing-here", "", nil, 404, "route_not_found"},
		{"wrong method", "DELETE", "/api/v1/auth/login", "", nil, 405, "method_not_allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do(c.method, c.path, c.token, c.body)
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), c.status, c.code, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("error answered as %q", ct)
			}
		})
	}
	// None of the refused registrations created an account.
	admin := s.StaffToken("boss", "admin")
	var page struct {
		Items []struct {
			Username string `json:"username"`
		} `json:"items"`
	}
	s.Do("GET", "/api/v1/admin/users", admin, nil).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].Username != "existing" {
		t.Fatalf("refused requests stored users: %+v", page.Items)
	}
}

func address(override map[string]any) map[string]any {
	a := map[string]any{"recipient": "张三", "phone": "13800000000", "province": "广东省", "city": "深圳市",
		"district": "南山区", "detail": "科技园路 1 号"}
	for k, v := range override {
		a[k] = v
	}
	return a
}

func TestValidationListsEachField(t *testing.T) {
	s := start(t, nil)
	r := s.Do("POST", "/api/v1/auth/register", "", `{"username":"x","password":"short"}`)
	var body struct {
		Error struct {
			Details struct {
				Fields []struct{ Field, Reason string } `json:"fields"`
			} `json:"details"`
		} `json:"error"`
	}
	r.Decode(t, &body)
	got := map[string]bool{}
	for _, f := range body.Error.Details.Fields {
		got[f.Field] = true
		if f.Reason == "" {
			t.Errorf("field %s has no reason", f.Field)
		}
	}
	if !got["username"] || !got["password"] || len(got) != 2 {
		t.Fatalf("fields = %+v, want username and password", body.Error.Details.Fields)
	}
	if !strings.Contains(string(r.Body), "at least one letter and one digit") {
		t.Fatalf("weak-password error must state the rules: %s", r.Body)
	}
}

func TestSQLInjectionLookingUsernameIsData(t *testing.T) {
	s := start(t, nil)
	name := `x' OR 1=1; DROP TABLE users;--`
	id, _ := s.Register(name, "passw0rd-ok")
	r := s.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": name, "password": "passw0rd-ok"})
	var out struct {
		User   struct{ ID, Username string }
		Tokens apptest.Tokens
	}
	r.Decode(t, &out)
	if r.Status != 200 || out.User.ID != id || out.User.Username != name {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	// The injection did not match another account or widen the lookup.
	if r := s.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": `' OR '1'='1`, "password": "passw0rd-ok"}); r.Status != 401 {
		t.Fatalf("injection login: %d", r.Status)
	}
	if r := s.Do("GET", "/api/v1/me", out.Tokens.AccessToken, nil); !strings.Contains(string(r.Body), `DROP TABLE users`) {
		t.Fatalf("me: %s", r.Body)
	}
}

func TestRegisterLoginMeAndIDsAreStrings(t *testing.T) {
	s := start(t, nil)
	r := s.Do("POST", "/api/v1/auth/register", "", map[string]string{"mobile": "13912345678", "password": "passw0rd-ok"})
	if r.Status != 201 {
		t.Fatalf("register by mobile: %d %s", r.Status, r.Body)
	}
	var reg map[string]map[string]any
	r.Decode(t, &reg)
	if _, ok := reg["user"]["id"].(string); !ok {
		t.Fatalf("user id must be a JSON string: %s", r.Body)
	}
	if reg["tokens"]["token_type"] != "Bearer" || reg["tokens"]["refresh_token"] == "" {
		t.Fatalf("tokens: %s", r.Body)
	}
	if strings.Contains(string(r.Body), "password") {
		t.Fatalf("answer mentions the password: %s", r.Body)
	}
	login := s.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "13912345678", "password": "passw0rd-ok"})
	var out struct {
		Tokens apptest.Tokens
	}
	login.Decode(t, &out)
	me := s.Do("GET", "/api/v1/me", out.Tokens.AccessToken, nil)
	var u map[string]any
	me.Decode(t, &u)
	if me.Status != 200 || u["id"] != reg["user"]["id"] || u["mobile"] != "13912345678" {
		t.Fatalf("me: %d %s", me.Status, me.Body)
	}
	if me.Header.Get("X-Request-ID") == "" {
		t.Fatal("no request id header")
	}
}

func TestUnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	s := start(t, nil)
	s.Register("carol", "passw0rd-ok")
	wrong := s.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "carol", "password": "wrong-pass-1"})
	unknown := s.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "wrong-pass-1"})
	if wrong.Status != 401 || unknown.Status != 401 || string(wrong.Body) != string(unknown.Body) {
		t.Fatalf("wrong password %d %s vs unknown user %d %s", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
	}
}

func TestLoginAttemptLimits(t *testing.T) {
	s := start(t, map[string]string{"MINIMART_LOGIN_MAX_FAILURES": "3", "MINIMART_LOGIN_MAX_FAILURES_PER_IP": "5", "MINIMART_LOGIN_WINDOW": "1m"})
	s.Register("dave", "passw0rd-ok")
	s.Register("erin", "passw0rd-ok")
	try := func(user, pw string) apptest.Response {
		return s.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": pw})
	}
	for i := 1; i <= 2; i++ {
		if r := try("dave", "bad-pass-1"); r.Status != 401 {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	r := try("dave", "bad-pass-1")
	if r.Status != 429 || r.ErrorCode() != "too_many_attempts" {
		t.Fatalf("third failure: %d %s", r.Status, r.Body)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	// Locked even with the right password, until the window ends.
	if r := try("dave", "passw0rd-ok"); r.Status != 429 {
		t.Fatalf("right password while locked: %d", r.Status)
	}
	// Another account from the same IP still works until the IP limit (5 failures) is hit.
	if r := try("erin", "passw0rd-ok"); r.Status != 200 {
		t.Fatalf("other account: %d %s", r.Status, r.Body)
	}
	try("erin", "bad-pass-1")
	if r := try("erin", "bad-pass-1"); r.Status != 429 {
		t.Fatalf("IP limit (3 dave + 2 erin failures) not enforced: %d", r.Status)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	s := start(t, nil)
	_, first := s.Register("frank", "passw0rd-ok")
	refresh := func(tok string) apptest.Response {
		return s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tok})
	}
	r := refresh(first.RefreshToken)
	var out struct{ Tokens apptest.Tokens }
	r.Decode(t, &out)
	if r.Status != 200 || out.Tokens.RefreshToken == first.RefreshToken || out.Tokens.AccessToken == "" {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	if me := s.Do("GET", "/api/v1/me", out.Tokens.AccessToken, nil); me.Status != 200 {
		t.Fatalf("new access token: %d", me.Status)
	}
	// Reusing the first token revokes the family: the second refresh token dies too.
	if r := refresh(first.RefreshToken); r.Status != 401 || r.ErrorCode() != "refresh_token_reused" {
		t.Fatalf("reuse: %d %s", r.Status, r.Body)
	}
	if r := refresh(out.Tokens.RefreshToken); r.Status != 401 || r.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("after reuse: %d %s", r.Status, r.Body)
	}

	// Logout ends the session; logging out twice is fine.
	_, second := s.Register("grace", "passw0rd-ok")
	for range 2 {
		if r := s.Do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": second.RefreshToken}); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
	}
	if r := refresh(second.RefreshToken); r.Status != 401 {
		t.Fatalf("refresh after logout: %d", r.Status)
	}
}

func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokensThatMustBeRefused(t *testing.T) {
	s := start(t, nil)
	id, real := s.Register("heidi", "passw0rd-ok")
	now := time.Now()
	valid := jwt.MapClaims{"iss": "minimart", "sub": id, "aud": []string{"buyer"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range valid {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload := strings.Split(real.AccessToken, ".")[1]
	parts := strings.Split(real.AccessToken, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"minimart","sub":"1","aud":["buyer"],"exp":9999999999}`)) + "." + parts[2]

	cases := []struct {
		name  string
		token string
	}{
		{"alg none", noneHeader + "." + payload + "."},
		{"other key", forge(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another-key"), valid)},
		{"HS512 with the right key", forge(t, jwt.SigningMethodHS512, []byte(secret), valid)},
		{"expired", forge(t, jwt.SigningMethodHS256, []byte(secret), with("exp", now.Add(-time.Minute).Unix()))},
		{"no expiry", forge(t, jwt.SigningMethodHS256, []byte(secret), with("exp", nil))},
		{"other issuer", forge(t, jwt.SigningMethodHS256, []byte(secret), with("iss", "someone"))},
		{"staff audience without role", forge(t, jwt.SigningMethodHS256, []byte(secret), with("aud", []string{"staff"}))},
		{"tampered payload", tampered},
	}
	if r := s.Do("GET", "/api/v1/me", forge(t, jwt.SigningMethodHS256, []byte(secret), valid), nil); r.Status != 200 {
		t.Fatalf("control: a correctly forged token must pass, got %d %s", r.Status, r.Body)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do("GET", "/api/v1/me", c.token, nil)
			if r.Status != 401 || r.ErrorCode() != "invalid_token" {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	s := start(t, nil)
	_, ann := s.Register("ann", "passw0rd-ok")
	_, ben := s.Register("ben", "passw0rd-ok")
	var first, second map[string]any
	r := s.Do("POST", "/api/v1/me/addresses", ann.AccessToken, address(nil))
	r.Decode(t, &first)
	if r.Status != 201 || first["is_default"] != true {
		t.Fatalf("first address: %d %s", r.Status, r.Body)
	}
	r = s.Do("POST", "/api/v1/me/addresses", ann.AccessToken, address(map[string]any{"is_default": true, "recipient": "李四"}))
	r.Decode(t, &second)
	path := func(a map[string]any) string { return "/api/v1/me/addresses/" + a["id"].(string) }

	var list struct{ Items []map[string]any }
	s.Do("GET", "/api/v1/me/addresses", ann.AccessToken, nil).Decode(t, &list)
	if len(list.Items) != 2 || list.Items[0]["id"] != second["id"] || list.Items[1]["is_default"] != false {
		t.Fatalf("list: %+v", list.Items)
	}
	if r := s.Do("GET", path(first), ben.AccessToken, nil); r.Status != 404 {
		t.Fatalf("another buyer's address: %d", r.Status)
	}
	if r := s.Do("PUT", path(first), ben.AccessToken, address(nil)); r.Status != 404 {
		t.Fatalf("updating another buyer's address: %d", r.Status)
	}
	if r := s.Do("DELETE", path(first), ben.AccessToken, nil); r.Status != 404 {
		t.Fatalf("deleting another buyer's address: %d", r.Status)
	}
	if r := s.Do("PUT", path(second), ann.AccessToken, address(map[string]any{"city": "广州市"})); r.Status != 200 || !strings.Contains(string(r.Body), `"is_default":true`) {
		t.Fatalf("editing the default without is_default keeps it the default: %d %s", r.Status, r.Body)
	}
	if r := s.Do("PUT", path(second), ann.AccessToken, address(map[string]any{"is_default": false})); r.Status != 400 {
		t.Fatalf("clearing the only default must be refused: %d %s", r.Status, r.Body)
	}
	r = s.Do("PUT", path(first), ann.AccessToken, address(map[string]any{"is_default": true, "detail": "新地址 2 号"}))
	if r.Status != 200 || !strings.Contains(string(r.Body), "新地址 2 号") {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if r := s.Do("DELETE", path(first), ann.AccessToken, nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	s.Do("GET", "/api/v1/me/addresses", ann.AccessToken, nil).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0]["is_default"] != true {
		t.Fatalf("after deleting the default: %+v", list.Items)
	}
	for i := 1; i < 20; i++ {
		if r := s.Do("POST", "/api/v1/me/addresses", ann.AccessToken, address(nil)); r.Status != 201 {
			t.Fatalf("address %d: %d", i+1, r.Status)
		}
	}
	if r := s.Do("POST", "/api/v1/me/addresses", ann.AccessToken, address(nil)); r.Status != 409 || r.ErrorCode() != "too_many_addresses" {
		t.Fatalf("21st address: %d %s", r.Status, r.Body)
	}
}

func TestStaffRoles(t *testing.T) {
	s := start(t, nil)
	s.Register("buyer1", "passw0rd-ok")
	admin := s.StaffToken("root", "admin")
	operator := s.StaffToken("ops", "operator")

	if r := s.Do("GET", "/api/v1/admin/me", operator, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"role":"operator"`) {
		t.Fatalf("operator me: %d %s", r.Status, r.Body)
	}
	if r := s.Do("GET", "/api/v1/admin/users", operator, nil); r.Status != 403 || r.ErrorCode() != "forbidden" {
		t.Fatalf("operator on admin-only route: %d %s", r.Status, r.Body)
	}
	if r := s.Do("GET", "/api/v1/me", admin, nil); r.Status != 403 {
		t.Fatalf("staff token on buyer route: %d", r.Status)
	}
	// Staff and buyers are separate accounts: a buyer cannot log in as staff.
	if r := s.Do("POST", "/api/v1/admin/auth/login", "", map[string]string{"username": "buyer1", "password": "passw0rd-ok"}); r.Status != 401 {
		t.Fatalf("buyer at staff login: %d", r.Status)
	}
	for i := range 3 {
		s.Register("shopper"+strconv.Itoa(i), "passw0rd-ok")
	}
	var page struct {
		Items       []map[string]any `json:"items"`
		NextCursor  string           `json:"next_cursor"`
		Limit       int              `json:"limit"`
		LimitCapped bool             `json:"limit_capped"`
	}
	s.Do("GET", "/api/v1/admin/users?q=shopper&limit=2", admin, nil).Decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == "" || page.Items[0]["username"] != "shopper2" {
		t.Fatalf("page 1: %+v", page)
	}
	cursor := page.NextCursor
	page.NextCursor = ""
	s.Do("GET", "/api/v1/admin/users?q=shopper&limit=2&cursor="+cursor, admin, nil).Decode(t, &page)
	if len(page.Items) != 1 || page.NextCursor != "" || page.Items[0]["username"] != "shopper0" {
		t.Fatalf("page 2: %+v", page)
	}
	s.Do("GET", "/api/v1/admin/users?limit=1000", admin, nil).Decode(t, &page)
	if page.Limit != 100 || !page.LimitCapped {
		t.Fatalf("limit over the maximum must be capped and said: %+v", page)
	}
	for _, q := range []string{"?limit=abc", "?limit=-1", "?cursor=xyz", "?q=" + strings.Repeat("长", 65)} {
		if r := s.Do("GET", "/api/v1/admin/users"+q, admin, nil); r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	// Refreshing a staff session keeps the role.
	r := s.Do("POST", "/api/v1/admin/auth/login", "", map[string]string{"username": "ops", "password": "staff-pass-123"})
	var out struct{ Tokens apptest.Tokens }
	r.Decode(t, &out)
	r = s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": out.Tokens.RefreshToken})
	r.Decode(t, &out)
	if r := s.Do("GET", "/api/v1/admin/me", out.Tokens.AccessToken, nil); r.Status != 200 || !strings.Contains(string(r.Body), "operator") {
		t.Fatalf("refreshed staff token: %d %s", r.Status, r.Body)
	}
}

// WeChat's real answers, served by a local stand-in for api.weixin.qq.com.
func TestWeChatLogin(t *testing.T) {
	wx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("js_code") {
		case "good":
			w.Write([]byte(`{"openid":"oOpenID-1","session_key":"sk==","unionid":"oUnion-1"}`))
		case "used":
			w.Write([]byte(`{"errcode":40163,"errmsg":"code been used, rid: 1"}`))
		case "badsecret":
			w.Write([]byte(`{"errcode":40125,"errmsg":"invalid appsecret"}`))
		case "busy":
			w.Write([]byte(`{"errcode":-1,"errmsg":"system error"}`))
		default:
			w.Write([]byte(`{"errcode":40029,"errmsg":"invalid code"}`))
		}
	}))
	defer wx.Close()
	s := start(t, map[string]string{"MINIMART_WECHAT_APPID": "wxapp", "MINIMART_WECHAT_SECRET": "wxsecret", "MINIMART_WECHAT_API_BASE": wx.URL})

	r := s.Do("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "good"})
	var out struct {
		User    map[string]any
		Tokens  apptest.Tokens
		Created bool
	}
	r.Decode(t, &out)
	if r.Status != 201 || !out.Created || out.User["has_wechat"] != true {
		t.Fatalf("first login: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "oOpenID-1") || strings.Contains(string(r.Body), "sk==") {
		t.Fatalf("openid or session key leaked to the client: %s", r.Body)
	}
	firstID := out.User["id"]
	r = s.Do("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "good"})
	r.Decode(t, &out)
	if r.Status != 200 || out.Created || out.User["id"] != firstID {
		t.Fatalf("second login must find the same account: %d %s", r.Status, r.Body)
	}
	cases := []struct {
		code   string
		status int
		errc   string
	}{
		{"invalid", 401, "wechat_code_invalid"},
		{"used", 401, "wechat_code_used"},
		{"badsecret", 503, "wechat_misconfigured"},
		{"busy", 503, "wechat_busy"},
		{"", 400, "validation_failed"},
	}
	for _, c := range cases {
		r := s.Do("POST", "/api/v1/auth/wechat", "", map[string]string{"code": c.code})
		if r.Status != c.status || r.ErrorCode() != c.errc {
			t.Errorf("code %q: %d %s", c.code, r.Status, r.Body)
		}
	}
}

func TestRequestIDEchoedOnlyWhenSafe(t *testing.T) {
	s := start(t, nil)
	// A request id from the client is echoed when it is sane and replaced when it is not.
	req, _ := http.NewRequest("GET", s.URL+"/healthz", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "abc-123" {
		t.Fatalf("request id not echoed: %q", resp.Header.Get("X-Request-ID"))
	}
	req.Header.Set("X-Request-ID", "<script>")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") == "<script>" {
		t.Fatal("unsafe request id echoed")
	}
}
