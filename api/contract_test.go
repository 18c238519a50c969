package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/minimart/minimart/api"
	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/ids"
)

// contract checks real exchanges against the OpenAPI document: the operation must exist,
// the status must be documented for it, the body must match the schema (every object in
// the document refuses undocumented fields), the content type must be declared, and an
// error's code must be one the operation lists for that status in x-error-codes.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	codes  map[string]api.ErrorCode

	mu   sync.Mutex
	seen map[string]map[int]bool // operationId, or a components.responses name for unmatched routes → statuses
}

func newContract(t *testing.T) *contract {
	t.Helper()
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router from openapi.yaml: %v", err)
	}
	table, err := api.ErrorCodes(doc)
	if err != nil {
		t.Fatalf("components.x-error-codes: %v", err)
	}
	c := &contract{doc: doc, router: router, codes: map[string]api.ErrorCode{}, seen: map[string]map[int]bool{}}
	for _, row := range table {
		if _, dup := c.codes[row.Code]; dup {
			t.Fatalf("components.x-error-codes lists %q twice", row.Code)
		}
		c.codes[row.Code] = row
	}
	return c
}

// bearerPresent stands in for authentication during request validation: the document can
// only say a bearer token is needed, not whether it is valid.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("no bearer token"))
	}
	return nil
}

func (c *contract) markSeen(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][status] = true
}

// check validates one exchange. specRejects says whether the document must refuse the
// request (the test sent something malformed on purpose) or must accept it.
func (c *contract) check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte, specRejects bool) error {
	ctx := context.Background()
	route, params, err := c.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		return c.checkUnmatched("RouteNotFound", http.StatusNotFound, "route_not_found", status, header, body)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return c.checkUnmatched("MethodNotAllowed", http.StatusMethodNotAllowed, "method_not_allowed", status, header, body)
	case err != nil:
		return fmt.Errorf("find route: %w", err)
	}
	op := route.Operation
	name := route.Method + " " + route.Path

	clone := req.Clone(ctx)
	clone.Body = io.NopCloser(bytes.NewReader(reqBody))
	reqIn := &openapi3filter.RequestValidationInput{
		Request: clone, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, SkipSettingDefaults: true, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, reqIn)
	switch {
	case specRejects && reqErr == nil:
		return fmt.Errorf("%s: the document accepts a request the test sent as malformed; tighten the request schema or the test", name)
	case !specRejects && reqErr != nil:
		return fmt.Errorf("%s: the document refuses a well-formed request: %v", name, reqErr)
	}

	respRef := op.Responses.Status(status)
	if respRef == nil || respRef.Value == nil {
		return fmt.Errorf("%s: status %d is not documented", name, status)
	}
	ct := header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	isJSON := mt == "application/json"
	content := respRef.Value.Content
	if len(content) == 0 && len(body) > 0 {
		return fmt.Errorf("%s %d: documented without a body, but the server sent %d bytes (%s)", name, status, len(body), ct)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if len(content) > 0 && !isJSON {
		// Metrics, YAML and HTML are checked for their declared type only.
		if content.Get(ct) == nil {
			return fmt.Errorf("%s %d: content type %q is not documented", name, status, ct)
		}
		if len(body) == 0 {
			return fmt.Errorf("%s %d: empty %s body", name, status, ct)
		}
		opts.ExcludeResponseBody = true
	}
	respIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: status, Header: header, Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, respIn.SetBodyBytes(body)); err != nil {
		return fmt.Errorf("%s %d: response does not match the document: %v\nbody: %s", name, status, err, body)
	}
	if js := content.Get("application/json"); isJSON && mayBeError(js) && (js.Schema.Ref == errorSchema || hasErrorMember(body)) {
		codes, err := api.OperationErrorCodes(op)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if err := c.checkCode(name, status, codes[strconv.Itoa(status)], body); err != nil {
			return err
		}
	}
	c.markSeen(op.OperationID, status)
	return nil
}

const errorSchema = "#/components/schemas/Error"

// mayBeError says whether a JSON response can be the shop's error body: its schema is Error,
// or a oneOf with Error among its choices (a payment notify's 500 answers either in the
// provider's format or, failing before that, with the shop's error).
func mayBeError(mt *openapi3.MediaType) bool {
	if mt == nil || mt.Schema == nil {
		return false
	}
	if mt.Schema.Ref == errorSchema {
		return true
	}
	if mt.Schema.Value != nil {
		for _, s := range mt.Schema.Value.OneOf {
			if s.Ref == errorSchema {
				return true
			}
		}
	}
	return false
}

// hasErrorMember says whether body is a JSON object with an "error" member: which choice of a
// oneOf that may be the error body the server answered.
func hasErrorMember(body []byte) bool {
	var probe struct {
		Error json.RawMessage `json:"error"`
	}
	return json.Unmarshal(body, &probe) == nil && probe.Error != nil
}

func (c *contract) checkCode(name string, status int, allowed []string, body []byte) error {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		return fmt.Errorf("%s %d: not an error body: %s", name, status, body)
	}
	if !slices.Contains(allowed, e.Error.Code) {
		return fmt.Errorf("%s %d: code %q is not in the operation's x-error-codes[%d] %v", name, status, e.Error.Code, status, allowed)
	}
	row, ok := c.codes[e.Error.Code]
	if !ok {
		return fmt.Errorf("%s %d: code %q is missing from components.x-error-codes", name, status, e.Error.Code)
	}
	if !slices.Contains(row.Statuses, status) {
		return fmt.Errorf("%s: code %q answered with %d, components.x-error-codes says %v", name, e.Error.Code, status, row.Statuses)
	}
	return nil
}

// checkUnmatched validates the router's own answers for paths and methods the document
// does not have, against components.responses.
func (c *contract) checkUnmatched(respName string, wantStatus int, wantCode string, status int, header http.Header, body []byte) error {
	if status != wantStatus {
		return fmt.Errorf("request matches no operation (%s) but the server answered %d", respName, status)
	}
	ref := c.doc.Components.Responses[respName]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("components.responses.%s is missing", respName)
	}
	for hname, h := range ref.Value.Headers {
		if h.Value.Required && header.Get(hname) == "" {
			return fmt.Errorf("%s: required header %s missing", respName, hname)
		}
	}
	mt := ref.Value.Content.Get(header.Get("Content-Type"))
	if mt == nil {
		return fmt.Errorf("%s: content type %q not documented", respName, header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s: body is not JSON: %s", respName, body)
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("%s: body does not match: %v", respName, err)
	}
	if err := c.checkCode(respName, status, []string{wantCode}, body); err != nil {
		return err
	}
	c.markSeen(respName, status)
	return nil
}

// harness drives one in-process app over real HTTP and checks every answer.
type harness struct {
	c   *contract
	url string
	app *app.App
}

const jwtSecret = "contract-test-signing-key-0123456789abcdef"

// newHarness runs the whole app as the binary does (relay and event consumers included, so
// buyer reads follow staff changes), on an empty SQLite data dir without the demo catalog.
func newHarness(t *testing.T, c *contract, env map[string]string) *harness {
	t.Helper()
	vars := map[string]string{
		"MINIMART_PASSWORD_COST":      "4",
		"MINIMART_BOOTSTRAP_ADMIN":    "0",
		"MINIMART_JWT_SECRET":         jwtSecret,
		"MINIMART_MAX_BODY_BYTES":     "4096",
		"MINIMART_MAX_UPLOAD_BYTES":   "4096",
		"MINIMART_LOGIN_MAX_FAILURES": "3",
		"MINIMART_DEMO":               "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	s := apptest.Start(t, vars)
	return &harness{c: c, url: s.URL, app: s.App}
}

// call is one request of the script.
type call struct {
	method, path string
	token        string // bearer token; "" sends none
	authz        string // a raw Authorization header instead of token
	body         any    // sent as JSON
	raw          string // sent as is, instead of body
	hasRaw       bool
	contentType  string // default application/json when there is a body
	chunked      bool   // send without Content-Length
	header       http.Header

	want        int
	code        string // expected error code
	specRejects bool   // the document must refuse this request too
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(t *testing.T, name string, c call) result {
	t.Helper()
	var reqBody []byte
	switch {
	case c.hasRaw:
		reqBody = []byte(c.raw)
	case c.body != nil:
		b, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		reqBody = b
	}
	var rd io.Reader = bytes.NewReader(reqBody)
	if c.chunked {
		rd = io.MultiReader(bytes.NewReader(reqBody)) // hides the length: sent chunked
	}
	req, err := http.NewRequestWithContext(t.Context(), c.method, h.url+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.chunked {
		req.ContentLength = -1
	}
	if reqBody != nil || c.contentType != "" {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	switch {
	case c.authz != "":
		req.Header.Set("Authorization", c.authz)
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s: read body: %v", name, err)
	}
	if resp.StatusCode != c.want {
		t.Fatalf("%s: %s %s answered %d, want %d: %s", name, c.method, c.path, resp.StatusCode, c.want, body)
	}
	if c.code != "" {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal(body, &e)
		if e.Error.Code != c.code {
			t.Errorf("%s: code %q, want %q: %s", name, e.Error.Code, c.code, body)
		}
	}
	if err := h.c.check(req, reqBody, resp.StatusCode, resp.Header, body, c.specRejects); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body}
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.body)
	}
	return v
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

type userLogin struct {
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Mobile   string `json:"mobile"`
	} `json:"user"`
	Tokens tokens `json:"tokens"`
}

type staffLogin struct {
	Staff struct {
		Role string `json:"role"`
	} `json:"staff"`
	Tokens tokens `json:"tokens"`
}

type address struct {
	ID        string `json:"id"`
	IsDefault bool   `json:"is_default"`
}

// tokenFor signs an access token for an account that does not exist, with the test's key.
func tokenFor(t *testing.T, p auth.Principal) string {
	t.Helper()
	tk, err := auth.NewTokens([]byte(jwtSecret), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := tk.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func addressBody(recipient string, isDefault bool) map[string]any {
	return map[string]any{"recipient": recipient, "phone": "138-0013-8000", "province": "浙江省", "city": "杭州市",
		"district": "西湖区", "detail": "文三路 1 号 <b>2</b> 室", "is_default": isDefault}
}

// TestContract drives every documented operation of the real server and checks every
// answer against openapi.yaml.
func TestContract(t *testing.T) {
	c := newContract(t)
	h := newHarness(t, c, nil)
	ctx := t.Context()
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	if _, err := h.app.Users.CreateStaff(ctx, "boss", "topsecret9", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.app.Users.CreateStaff(ctx, "clerk", "workday42", "operator"); err != nil {
		t.Fatal(err)
	}
	ghostBuyer := tokenFor(t, auth.Principal{ID: ids.ID(4242), Audience: auth.AudienceBuyer})
	ghostStaff := tokenFor(t, auth.Principal{ID: ids.ID(4242), Audience: auth.AudienceStaff, Role: auth.RoleAdmin})
	big := strings.Repeat("x", 5000)

	t.Run("operations", func(t *testing.T) {
		h.do(t, "healthz", call{method: get, path: "/healthz", want: 200})
		ready := h.do(t, "readyz", call{method: get, path: "/readyz", want: 200})
		if st := decode[struct{ Status string }](t, ready).Status; st != "ok" {
			t.Errorf("readyz status %q, want ok", st)
		}
		// Metrics and readiness details are the operator listener's, not the public port's.
		h.do(t, "metrics on the public port", call{method: get, path: "/metrics", want: 404, code: "route_not_found"})
		if bytes.Contains(ready.body, []byte("checks")) {
			t.Errorf("public readyz shows its checks: %s", ready.body)
		}
		ops := httptest.NewRecorder()
		h.app.OpsHandler().ServeHTTP(ops, httptest.NewRequest(get, "/metrics", nil))
		if ops.Code != 200 || !bytes.Contains(ops.Body.Bytes(), []byte("minimart_http_requests_total")) {
			t.Errorf("ops metrics: %d, lacking minimart_http_requests_total", ops.Code)
		}
		y := h.do(t, "openapi.yaml", call{method: get, path: "/openapi.yaml", want: 200})
		if !bytes.Equal(y.body, api.Spec) {
			t.Errorf("/openapi.yaml does not serve the embedded spec")
		}
		d := h.do(t, "docs", call{method: get, path: "/docs", want: 200})
		for _, s := range []string{`href="/openapi.yaml"`, "/api/v1/auth/register", "too_many_addresses", "Bearer", "/api/v1/products/{id}", "insufficient_stock"} {
			if !bytes.Contains(d.body, []byte(s)) {
				t.Errorf("/docs lacks %q", s)
			}
		}
		if csp := d.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("/docs Content-Security-Policy = %q", csp)
		}
		h.do(t, "unknown route", call{method: get, path: "/api/v1/nope", want: 404, code: "route_not_found"})
		r := h.do(t, "wrong method", call{method: del, path: "/api/v1/auth/login", want: 405, code: "method_not_allowed"})
		if !strings.Contains(r.header.Get("Allow"), "POST") {
			t.Errorf("405 Allow = %q, want it to list POST", r.header.Get("Allow"))
		}
		h.do(t, "a body on a GET is ignored", call{method: get, path: "/healthz", raw: big, hasRaw: true, want: 200})
	})

	var alice, mob userLogin
	t.Run("register", func(t *testing.T) {
		alice = decode[userLogin](t, h.do(t, "register username", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "alice", "password": "sunflower7"}, want: 201}))
		mob = decode[userLogin](t, h.do(t, "register mobile", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"mobile": "13800138000", "password": "mobilepass1"}, want: 201}))
		h.do(t, "register carol", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "carol", "password": "tulip2024x"}, want: 201})
		h.do(t, "username taken (any case)", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "ALICE", "password": "otherpass1"}, want: 409, code: "username_taken"})
		h.do(t, "mobile taken", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"mobile": "13800138000", "password": "otherpass1"}, want: 409, code: "mobile_taken"})
		h.do(t, "short password", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "bob", "password": "short1"}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "weak password", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "bob", "password": "nodigitshere"}, want: 400, code: "validation_failed"})
		h.do(t, "username and mobile", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "bob", "mobile": "13800138001", "password": "bobpass12"}, want: 400, code: "validation_failed"})
		h.do(t, "bad mobile", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"mobile": "12345", "password": "bobpass12"}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "unknown field", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "bob", "password": "bobpass12", "nickname": "b"}, want: 400, code: "unknown_field", specRejects: true})
		h.do(t, "wrong type", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": 5, "password": "bobpass12"}, want: 400, code: "wrong_type", specRejects: true})
		h.do(t, "array body", call{method: post, path: "/api/v1/auth/register", raw: `[]`, hasRaw: true, want: 400, code: "wrong_type", specRejects: true})
		h.do(t, "truncated JSON", call{method: post, path: "/api/v1/auth/register", raw: `{"username":`, hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
		h.do(t, "two JSON values", call{method: post, path: "/api/v1/auth/register", raw: `{} {}`, hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
		h.do(t, "empty body", call{method: post, path: "/api/v1/auth/register", raw: "", hasRaw: true, contentType: "application/json",
			want: 400, code: "empty_body", specRejects: true})
		h.do(t, "text/plain", call{method: post, path: "/api/v1/auth/register", raw: `{"username":"bob","password":"bobpass12"}`, hasRaw: true,
			contentType: "text/plain", want: 415, code: "unsupported_media_type", specRejects: true})
		h.do(t, "body over the limit", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": big, "password": "bobpass12"}, want: 413, code: "body_too_large", specRejects: true})
		h.do(t, "chunked body over the limit", call{method: post, path: "/api/v1/auth/register", chunked: true,
			body: map[string]any{"username": big, "password": "bobpass12"}, want: 413, code: "body_too_large", specRejects: true})
	})

	t.Run("login", func(t *testing.T) {
		login := func(name string, body any, want int, code string, rejects bool) result {
			return h.do(t, name, call{method: post, path: "/api/v1/auth/login", body: body, want: want, code: code, specRejects: rejects})
		}
		login("username", map[string]any{"username": "alice", "password": "sunflower7"}, 200, "", false)
		login("mobile", map[string]any{"mobile": "13800138000", "password": "mobilepass1"}, 200, "", false)
		login("mobile in username", map[string]any{"username": "13800138000", "password": "mobilepass1"}, 200, "", false)
		login("wrong password", map[string]any{"username": "alice", "password": "wrongpass1"}, 401, "invalid_credentials", false)
		login("unknown account", map[string]any{"username": "nobody", "password": "whatever1"}, 401, "invalid_credentials", false)
		login("no credentials", map[string]any{}, 401, "invalid_credentials", true)
		login("unknown field", map[string]any{"user": "alice", "password": "sunflower7"}, 400, "unknown_field", true)
		h.do(t, "login text/plain", call{method: post, path: "/api/v1/auth/login", raw: "alice", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		login("over the limit", map[string]any{"username": big, "password": "x"}, 413, "body_too_large", false)
		login("carol fails 1", map[string]any{"username": "carol", "password": "wrongpass1"}, 401, "invalid_credentials", false)
		login("carol fails 2", map[string]any{"username": "carol", "password": "wrongpass1"}, 401, "invalid_credentials", false)
		r := login("carol locked", map[string]any{"username": "carol", "password": "wrongpass1"}, 429, "too_many_attempts", false)
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("429 Retry-After = %q", r.header.Get("Retry-After"))
		}
		login("carol locked, right password", map[string]any{"username": "carol", "password": "tulip2024x"}, 429, "too_many_attempts", false)
	})

	t.Run("wechat not configured", func(t *testing.T) {
		h.do(t, "not configured", call{method: post, path: "/api/v1/auth/wechat", body: map[string]any{"code": "0a1b2c"},
			want: 503, code: "wechat_not_configured"})
		h.do(t, "wrong type", call{method: post, path: "/api/v1/auth/wechat", body: map[string]any{"code": 1},
			want: 400, code: "wrong_type", specRejects: true})
	})

	t.Run("refresh and logout", func(t *testing.T) {
		refresh := func(name string, body any, want int, code string, rejects bool) result {
			return h.do(t, name, call{method: post, path: "/api/v1/auth/refresh", body: body, want: want, code: code, specRejects: rejects})
		}
		s := decode[userLogin](t, h.do(t, "login", call{method: post, path: "/api/v1/auth/login",
			body: map[string]any{"username": "alice", "password": "sunflower7"}, want: 200}))
		next := decode[struct{ Tokens tokens }](t, refresh("refresh", map[string]any{"refresh_token": s.Tokens.RefreshToken}, 200, "", false))
		h.do(t, "new access token works", call{method: get, path: "/api/v1/me", token: next.Tokens.AccessToken, want: 200})
		refresh("reuse", map[string]any{"refresh_token": s.Tokens.RefreshToken}, 401, "refresh_token_reused", false)
		refresh("family revoked", map[string]any{"refresh_token": next.Tokens.RefreshToken}, 401, "invalid_refresh_token", false)
		refresh("empty token", map[string]any{"refresh_token": ""}, 401, "invalid_refresh_token", false)
		refresh("no token", map[string]any{}, 401, "invalid_refresh_token", false)
		refresh("unknown field", map[string]any{"token": "x"}, 400, "unknown_field", true)
		refresh("over the limit", map[string]any{"refresh_token": big}, 413, "body_too_large", false)
		h.do(t, "refresh text/plain", call{method: post, path: "/api/v1/auth/refresh", raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})

		s = decode[userLogin](t, h.do(t, "login again", call{method: post, path: "/api/v1/auth/login",
			body: map[string]any{"username": "alice", "password": "sunflower7"}, want: 200}))
		h.do(t, "logout", call{method: post, path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": s.Tokens.RefreshToken}, want: 204})
		refresh("after logout", map[string]any{"refresh_token": s.Tokens.RefreshToken}, 401, "invalid_refresh_token", false)
		h.do(t, "logout unknown token", call{method: post, path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": "nope"}, want: 204})
		h.do(t, "logout bad JSON", call{method: post, path: "/api/v1/auth/logout", raw: "nope", hasRaw: true,
			want: 400, code: "invalid_json", specRejects: true})
		h.do(t, "logout empty body", call{method: post, path: "/api/v1/auth/logout", raw: "", hasRaw: true, contentType: "application/json",
			want: 400, code: "empty_body", specRejects: true})
		h.do(t, "logout text/plain", call{method: post, path: "/api/v1/auth/logout", raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		h.do(t, "logout over the limit", call{method: post, path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": big},
			want: 413, code: "body_too_large"})
	})

	var boss, clerk staffLogin
	t.Run("admin login", func(t *testing.T) {
		boss = decode[staffLogin](t, h.do(t, "admin", call{method: post, path: "/api/v1/admin/auth/login",
			body: map[string]any{"username": "boss", "password": "topsecret9"}, want: 200}))
		clerk = decode[staffLogin](t, h.do(t, "operator", call{method: post, path: "/api/v1/admin/auth/login",
			body: map[string]any{"username": "clerk", "password": "workday42"}, want: 200}))
		if boss.Staff.Role != "admin" || clerk.Staff.Role != "operator" {
			t.Errorf("roles %q, %q", boss.Staff.Role, clerk.Staff.Role)
		}
		h.do(t, "buyer credentials", call{method: post, path: "/api/v1/admin/auth/login",
			body: map[string]any{"username": "alice", "password": "sunflower7"}, want: 401, code: "invalid_credentials"})
		h.do(t, "mobile field", call{method: post, path: "/api/v1/admin/auth/login",
			body: map[string]any{"username": "boss", "password": "topsecret9", "mobile": "13800138000"}, want: 400, code: "unknown_field", specRejects: true})
		h.do(t, "bad JSON", call{method: post, path: "/api/v1/admin/auth/login", raw: "{", hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
		h.do(t, "over the limit", call{method: post, path: "/api/v1/admin/auth/login",
			body: map[string]any{"username": big, "password": "x"}, want: 413, code: "body_too_large"})
		h.do(t, "text/plain", call{method: post, path: "/api/v1/admin/auth/login", raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		for i, want := range []int{401, 401, 429} {
			code := "invalid_credentials"
			if want == 429 {
				code = "too_many_attempts"
			}
			h.do(t, fmt.Sprintf("ghost attempt %d", i+1), call{method: post, path: "/api/v1/admin/auth/login",
				body: map[string]any{"username": "ghost", "password": "guess1234"}, want: want, code: code})
		}
		r := h.do(t, "staff refresh", call{method: post, path: "/api/v1/auth/refresh",
			body: map[string]any{"refresh_token": boss.Tokens.RefreshToken}, want: 200})
		boss.Tokens = decode[struct{ Tokens tokens }](t, r).Tokens
	})

	t.Run("me", func(t *testing.T) {
		me := decode[struct{ ID, Username string }](t, h.do(t, "me", call{method: get, path: "/api/v1/me", token: alice.Tokens.AccessToken, want: 200}))
		if me.ID != alice.User.ID || me.Username != "alice" {
			t.Errorf("me = %+v, want alice %s", me, alice.User.ID)
		}
		h.do(t, "mobile buyer", call{method: get, path: "/api/v1/me", token: mob.Tokens.AccessToken, want: 200})
		h.do(t, "no token", call{method: get, path: "/api/v1/me", want: 401, code: "missing_token", specRejects: true})
		h.do(t, "basic auth", call{method: get, path: "/api/v1/me", authz: "Basic YWxpY2U6eA==", want: 401, code: "missing_token", specRejects: true})
		h.do(t, "garbage token", call{method: get, path: "/api/v1/me", token: "not.a.jwt", want: 401, code: "invalid_token"})
		h.do(t, "staff token", call{method: get, path: "/api/v1/me", token: boss.Tokens.AccessToken, want: 403, code: "forbidden"})
		h.do(t, "deleted buyer", call{method: get, path: "/api/v1/me", token: ghostBuyer, want: 404, code: "user_not_found"})
	})

	t.Run("addresses", func(t *testing.T) {
		tok := alice.Tokens.AccessToken
		const base = "/api/v1/me/addresses"
		list := decode[struct{ Items []address }](t, h.do(t, "empty list", call{method: get, path: base, token: tok, want: 200}))
		if len(list.Items) != 0 {
			t.Fatalf("new buyer has %d addresses", len(list.Items))
		}
		a1 := decode[address](t, h.do(t, "create first", call{method: post, path: base, token: tok, body: addressBody("张三", false), want: 201}))
		if !a1.IsDefault {
			t.Errorf("first address is not the default")
		}
		a2 := decode[address](t, h.do(t, "create second", call{method: post, path: base, token: tok, body: addressBody("李四", false), want: 201}))
		list = decode[struct{ Items []address }](t, h.do(t, "list", call{method: get, path: base, token: tok, want: 200}))
		if len(list.Items) != 2 || list.Items[0].ID != a1.ID {
			t.Errorf("list = %+v, want the default %s first of 2", list.Items, a1.ID)
		}
		h.do(t, "get", call{method: get, path: base + "/" + a1.ID, token: tok, want: 200})
		h.do(t, "get bad id", call{method: get, path: base + "/abc", token: tok, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "get id 0", call{method: get, path: base + "/0", token: tok, want: 400, code: "invalid_parameter"})
		h.do(t, "get unknown", call{method: get, path: base + "/123", token: tok, want: 404, code: "address_not_found"})
		h.do(t, "get another buyer's", call{method: get, path: base + "/" + a1.ID, token: mob.Tokens.AccessToken, want: 404, code: "address_not_found"})
		h.do(t, "get no token", call{method: get, path: base + "/" + a1.ID, want: 401, code: "missing_token", specRejects: true})
		h.do(t, "get staff token", call{method: get, path: base + "/" + a1.ID, token: boss.Tokens.AccessToken, want: 403, code: "forbidden"})

		up := decode[address](t, h.do(t, "make second default", call{method: put, path: base + "/" + a2.ID, token: tok, body: addressBody("李四", true), want: 200}))
		if !up.IsDefault {
			t.Errorf("updated address is not the default")
		}
		h.do(t, "unset the default", call{method: put, path: base + "/" + a2.ID, token: tok, body: addressBody("李四", false), want: 400, code: "validation_failed"})
		bad := addressBody("李四", false)
		bad["phone"] = "call me"
		h.do(t, "bad phone", call{method: put, path: base + "/" + a1.ID, token: tok, body: bad, want: 400, code: "validation_failed", specRejects: true})
		long := addressBody(strings.Repeat("长", 33), false)
		h.do(t, "long recipient", call{method: put, path: base + "/" + a1.ID, token: tok, body: long, want: 400, code: "validation_failed", specRejects: true})
		extra := addressBody("李四", false)
		extra["zip"] = "310000"
		h.do(t, "unknown field", call{method: put, path: base + "/" + a1.ID, token: tok, body: extra, want: 400, code: "unknown_field", specRejects: true})
		h.do(t, "put bad id", call{method: put, path: base + "/x1", token: tok, body: addressBody("李四", false), want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "put unknown", call{method: put, path: base + "/123", token: tok, body: addressBody("李四", false), want: 404, code: "address_not_found"})
		h.do(t, "put no token", call{method: put, path: base + "/" + a1.ID, body: addressBody("李四", false), want: 401, code: "missing_token", specRejects: true})
		h.do(t, "put staff token", call{method: put, path: base + "/" + a1.ID, token: boss.Tokens.AccessToken, body: addressBody("李四", false), want: 403, code: "forbidden"})
		h.do(t, "put text/plain", call{method: put, path: base + "/" + a1.ID, token: tok, raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		h.do(t, "put over the limit", call{method: put, path: base + "/" + a1.ID, token: tok, body: addressBody(big, false),
			want: 413, code: "body_too_large", specRejects: true})
		h.do(t, "put as ghost", call{method: put, path: base + "/123", token: ghostBuyer, body: addressBody("李四", false), want: 404, code: "user_not_found"})

		blank := addressBody("   ", false)
		h.do(t, "blank recipient", call{method: post, path: base, token: tok, body: blank, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "create wrong type", call{method: post, path: base, token: tok, raw: `{"is_default":"yes"}`, hasRaw: true,
			want: 400, code: "wrong_type", specRejects: true})
		h.do(t, "create text/plain", call{method: post, path: base, token: tok, raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		h.do(t, "create over the limit", call{method: post, path: base, token: tok, body: addressBody(big, false),
			want: 413, code: "body_too_large", specRejects: true})
		h.do(t, "create no token", call{method: post, path: base, body: addressBody("王五", false), want: 401, code: "missing_token", specRejects: true})
		h.do(t, "create staff token", call{method: post, path: base, token: clerk.Tokens.AccessToken, body: addressBody("王五", false), want: 403, code: "forbidden"})
		h.do(t, "create as ghost", call{method: post, path: base, token: ghostBuyer, body: addressBody("王五", false), want: 404, code: "user_not_found"})

		h.do(t, "delete", call{method: del, path: base + "/" + a1.ID, token: tok, want: 204})
		h.do(t, "delete again", call{method: del, path: base + "/" + a1.ID, token: tok, want: 404, code: "address_not_found"})
		h.do(t, "delete bad id", call{method: del, path: base + "/abc", token: tok, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "delete no token", call{method: del, path: base + "/" + a2.ID, want: 401, code: "missing_token", specRejects: true})
		h.do(t, "delete staff token", call{method: del, path: base + "/" + a2.ID, token: boss.Tokens.AccessToken, want: 403, code: "forbidden"})
		h.do(t, "delete as ghost", call{method: del, path: base + "/" + a2.ID, token: ghostBuyer, want: 404, code: "user_not_found"})

		for i := 2; i <= 20; i++ {
			h.do(t, fmt.Sprintf("address %d", i), call{method: post, path: base, token: tok, body: addressBody(fmt.Sprintf("收件人%d", i), false), want: 201})
		}
		h.do(t, "address 21", call{method: post, path: base, token: tok, body: addressBody("太多", false), want: 409, code: "too_many_addresses"})
		list = decode[struct{ Items []address }](t, h.do(t, "full list", call{method: get, path: base, token: tok, want: 200}))
		if len(list.Items) != 20 {
			t.Errorf("%d addresses, want 20", len(list.Items))
		}
		h.do(t, "list no token", call{method: get, path: base, want: 401, code: "missing_token", specRejects: true})
		h.do(t, "list bad token", call{method: get, path: base, token: "x", want: 401, code: "invalid_token"})
		h.do(t, "list staff token", call{method: get, path: base, token: clerk.Tokens.AccessToken, want: 403, code: "forbidden"})
	})

	t.Run("admin", func(t *testing.T) {
		me := decode[struct{ Role string }](t, h.do(t, "admin me", call{method: get, path: "/api/v1/admin/me", token: boss.Tokens.AccessToken, want: 200}))
		if me.Role != "admin" {
			t.Errorf("admin me role %q", me.Role)
		}
		h.do(t, "operator me", call{method: get, path: "/api/v1/admin/me", token: clerk.Tokens.AccessToken, want: 200})
		h.do(t, "me buyer token", call{method: get, path: "/api/v1/admin/me", token: alice.Tokens.AccessToken, want: 403, code: "forbidden"})
		h.do(t, "me no token", call{method: get, path: "/api/v1/admin/me", want: 401, code: "missing_token", specRejects: true})
		h.do(t, "me bad token", call{method: get, path: "/api/v1/admin/me", token: "x.y.z", want: 401, code: "invalid_token"})
		h.do(t, "me deleted staff", call{method: get, path: "/api/v1/admin/me", token: ghostStaff, want: 401, code: "account_disabled"})

		const dead = "/api/v1/admin/events/dead-letters"
		letters := decode[struct{ Items []any }](t, h.do(t, "dead letters", call{method: get, path: dead, token: boss.Tokens.AccessToken, want: 200}))
		if len(letters.Items) != 0 {
			t.Errorf("dead letters in a healthy shop: %+v", letters.Items)
		}
		h.do(t, "dead letters operator", call{method: get, path: dead, token: clerk.Tokens.AccessToken, want: 403, code: "forbidden"})
		h.do(t, "dead letters no token", call{method: get, path: dead, want: 401, code: "missing_token", specRejects: true})
		h.do(t, "dead letters bad token", call{method: get, path: dead, token: "x.y.z", want: 401, code: "invalid_token"})

		const users = "/api/v1/admin/users"
		type page struct {
			Items       []struct{ ID, Username string }
			NextCursor  string `json:"next_cursor"`
			Limit       int
			LimitCapped bool `json:"limit_capped"`
		}
		all := decode[page](t, h.do(t, "all users", call{method: get, path: users, token: boss.Tokens.AccessToken, want: 200}))
		if len(all.Items) != 3 || all.Limit != 20 || all.NextCursor != "" {
			t.Errorf("all users = %+v, want 3 of limit 20 and no cursor", all)
		}
		p1 := decode[page](t, h.do(t, "page 1", call{method: get, path: users + "?limit=2", token: boss.Tokens.AccessToken, want: 200}))
		if len(p1.Items) != 2 || p1.NextCursor == "" {
			t.Fatalf("page 1 = %+v", p1)
		}
		p2 := decode[page](t, h.do(t, "page 2", call{method: get, path: users + "?limit=2&cursor=" + p1.NextCursor, token: boss.Tokens.AccessToken, want: 200}))
		if len(p2.Items) != 1 || p2.NextCursor != "" {
			t.Errorf("page 2 = %+v", p2)
		}
		capped := decode[page](t, h.do(t, "capped", call{method: get, path: users + "?limit=500", token: boss.Tokens.AccessToken, want: 200}))
		if capped.Limit != 100 || !capped.LimitCapped {
			t.Errorf("limit=500 answered %+v", capped)
		}
		found := decode[page](t, h.do(t, "search", call{method: get, path: users + "?q=ali", token: boss.Tokens.AccessToken, want: 200}))
		if len(found.Items) != 1 || found.Items[0].Username != "alice" {
			t.Errorf("q=ali found %+v", found.Items)
		}
		h.do(t, "limit 0", call{method: get, path: users + "?limit=0", token: boss.Tokens.AccessToken, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "limit abc", call{method: get, path: users + "?limit=abc", token: boss.Tokens.AccessToken, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "bad cursor", call{method: get, path: users + "?cursor=abc", token: boss.Tokens.AccessToken, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "long q", call{method: get, path: users + "?q=" + strings.Repeat("q", 65), token: boss.Tokens.AccessToken, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "operator", call{method: get, path: users, token: clerk.Tokens.AccessToken, want: 403, code: "forbidden"})
		h.do(t, "buyer", call{method: get, path: users, token: alice.Tokens.AccessToken, want: 403, code: "forbidden"})
		h.do(t, "no token", call{method: get, path: users, want: 401, code: "missing_token", specRejects: true})
		h.do(t, "bad token", call{method: get, path: users, token: "x", want: 401, code: "invalid_token"})
		h.do(t, "staff logout", call{method: post, path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": boss.Tokens.RefreshToken}, want: 204})
	})

	t.Run("catalog", func(t *testing.T) {
		testCatalog(t, h, boss.Tokens.AccessToken, clerk.Tokens.AccessToken, alice.Tokens.AccessToken)
	})

	t.Run("cart and orders", func(t *testing.T) {
		testCartAndOrders(t, h, boss.Tokens.AccessToken, clerk.Tokens.AccessToken)
	})

	t.Run("payments", func(t *testing.T) {
		testPayments(t, h, boss.Tokens.AccessToken, clerk.Tokens.AccessToken)
	})

	t.Run("staff and audit log", func(t *testing.T) {
		testStaff(t, h, boss.Tokens.AccessToken, clerk.Tokens.AccessToken)
	})

	t.Run("flash sales", func(t *testing.T) {
		testFlashSales(t, h, boss.Tokens.AccessToken, clerk.Tokens.AccessToken)
	})

	t.Run("console dashboard", func(t *testing.T) {
		testConsole(t, h, boss.Tokens.AccessToken, clerk.Tokens.AccessToken, alice.Tokens.AccessToken, alice.User.ID)
	})

	t.Run("frontend", func(t *testing.T) { testFrontend(t, h) })

	t.Run("wechat", func(t *testing.T) { testWeChat(t, c) })

	if t.Failed() {
		return
	}
	// Every operation of the document must have been exercised, and the router's own answers.
	var missing []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if len(c.seen[op.OperationID]) == 0 {
				missing = append(missing, method+" "+path)
			}
		}
	}
	for _, name := range []string{"RouteNotFound", "MethodNotAllowed"} {
		if len(c.seen[name]) == 0 {
			missing = append(missing, "components.responses."+name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("never exercised by this test: %s", strings.Join(missing, ", "))
	}
	logUncovered(t, c)
}

// testWeChat runs mini-program login against a fake code2session, then takes the app's
// database away to see the readiness 503 and an internal 500.
func testWeChat(t *testing.T, c *contract) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sns/jscode2session" || r.URL.Query().Get("appid") != "wx-test" || r.URL.Query().Get("secret") != "s3cret" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		answers := map[string]string{
			"first":   `{"openid":"o-buyer-1","session_key":"k1"}`,
			"again":   `{"openid":"o-buyer-1","session_key":"k2","unionid":"u-1"}`,
			"invalid": `{"errcode":40029,"errmsg":"invalid code"}`,
			"used":    `{"errcode":40163,"errmsg":"code been used"}`,
			"blocked": `{"errcode":40226,"errmsg":"high risk user"}`,
			"limited": `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`,
			"busy":    `{"errcode":-1,"errmsg":"system error"}`,
			"secret":  `{"errcode":40125,"errmsg":"invalid appsecret"}`,
			"odd":     `{"errcode":99999,"errmsg":"<b>odd</b>"}`,
		}
		a, ok := answers[r.URL.Query().Get("js_code")]
		if !ok {
			a = `{"errcode":40029,"errmsg":"invalid code"}`
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, a)
	}))
	t.Cleanup(fake.Close)
	h := newHarness(t, c, map[string]string{
		"MINIMART_WECHAT_APPID": "wx-test", "MINIMART_WECHAT_SECRET": "s3cret", "MINIMART_WECHAT_API_BASE": fake.URL,
	})
	wx := func(name, code string, want int, errCode string, rejects bool) result {
		return h.do(t, name, call{method: http.MethodPost, path: "/api/v1/auth/wechat", body: map[string]any{"code": code},
			want: want, code: errCode, specRejects: rejects})
	}
	first := decode[struct {
		userLogin
		Created bool
	}](t, wx("first login", "first", 201, "", false))
	if !first.Created {
		t.Errorf("first login: created = false")
	}
	again := decode[struct {
		userLogin
		Created bool
	}](t, wx("second login", "again", 200, "", false))
	if again.Created || again.User.ID != first.User.ID {
		t.Errorf("second login: created %v, id %s want %s", again.Created, again.User.ID, first.User.ID)
	}
	wx("invalid code", "invalid", 401, "wechat_code_invalid", false)
	wx("used code", "used", 401, "wechat_code_used", false)
	wx("blocked user", "blocked", 403, "wechat_user_blocked", false)
	wx("rate limited", "limited", 429, "wechat_rate_limited", false)
	wx("busy", "busy", 503, "wechat_busy", false)
	wx("bad secret", "secret", 503, "wechat_misconfigured", false)
	wx("unknown errcode", "odd", 503, "wechat_unavailable", false)
	wx("empty code", "", 400, "validation_failed", true)
	wx("long code", strings.Repeat("c", 129), 400, "validation_failed", true)
	h.do(t, "unknown field", call{method: http.MethodPost, path: "/api/v1/auth/wechat", body: map[string]any{"code": "x", "appid": "y"},
		want: 400, code: "unknown_field", specRejects: true})
	h.do(t, "empty body", call{method: http.MethodPost, path: "/api/v1/auth/wechat", raw: "", hasRaw: true, contentType: "application/json",
		want: 400, code: "empty_body", specRejects: true})
	h.do(t, "text/plain", call{method: http.MethodPost, path: "/api/v1/auth/wechat", raw: "x", hasRaw: true, contentType: "text/plain",
		want: 415, code: "unsupported_media_type", specRejects: true})
	h.do(t, "over the limit", call{method: http.MethodPost, path: "/api/v1/auth/wechat", body: map[string]any{"code": strings.Repeat("c", 5000)},
		want: 413, code: "body_too_large", specRejects: true})

	// Without its database the instance is not ready, and a read fails as an internal error.
	if err := h.app.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	r := h.do(t, "readyz without database", call{method: http.MethodGet, path: "/readyz", want: 503})
	if st := decode[struct{ Status string }](t, r).Status; st != "unavailable" {
		t.Errorf("readyz status %q, want unavailable", st)
	}
	h.do(t, "me without database", call{method: http.MethodGet, path: "/api/v1/me", token: first.Tokens.AccessToken, want: 500, code: "internal"})
}

// logUncovered lists documented statuses the script never produced, for whoever extends it.
func logUncovered(t *testing.T, c *contract) {
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, status := range op.Responses.Keys() {
				n, _ := strconv.Atoi(status)
				if !c.seen[op.OperationID][n] {
					out = append(out, method+" "+path+" "+status)
				}
			}
		}
	}
	sort.Strings(out)
	t.Logf("documented statuses not exercised (%d): %s", len(out), strings.Join(out, "; "))
}
