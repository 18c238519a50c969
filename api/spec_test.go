package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/minimart/minimart/api"
	"github.com/minimart/minimart/internal/platform/web"
)

// TestSpecConsistency holds the document to the rules that make the contract test
// meaningful: every object refuses undocumented fields, no catch-all default response,
// every error status lists its codes, and the code table agrees with the operations.
func TestSpecConsistency(t *testing.T) {
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	table, err := api.ErrorCodes(doc)
	if err != nil {
		t.Fatal(err)
	}
	tableStatus := map[string][]int{}
	for _, row := range table {
		tableStatus[row.Code] = row.Statuses
		// A code answered with several statuses is an inconsistency a client must know of:
		// the meaning has to say which status is answered when.
		for _, n := range row.Statuses {
			if len(row.Statuses) > 1 && !strings.Contains(row.Meaning, strconv.Itoa(n)) {
				t.Errorf("components.x-error-codes: %q has statuses %v; its meaning must say when each is answered", row.Code, row.Statuses)
			}
		}
	}
	// Answered outside any operation: by the router, and to CORS preflights before routing.
	used := map[string]bool{"route_not_found": true, "method_not_allowed": true, "cors_origin_not_allowed": true}
	usedStatus := map[string]map[int]bool{}
	decodeCodes := []string{"invalid_json", "unknown_field", "wrong_type", "empty_body"}

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: needs operationId, summary and a tag", name)
			}
			if op.Responses.Default() != nil {
				t.Errorf("%s: a default response would hide undocumented statuses", name)
			}
			codes, err := api.OperationErrorCodes(op)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			for _, status := range op.Responses.Keys() {
				n, err := strconv.Atoi(status)
				if err != nil {
					t.Errorf("%s: status %q is not a number", name, status)
					continue
				}
				if n < 400 {
					continue
				}
				r := op.Responses.Value(status).Value
				isError := mayBeError(r.Content.Get("application/json"))
				if isError && len(codes[status]) == 0 {
					t.Errorf("%s %s: answers the error body but x-error-codes lists no code for it", name, status)
				}
				if !isError && len(codes[status]) > 0 {
					t.Errorf("%s %s: x-error-codes lists codes for a status without the error body", name, status)
				}
			}
			for status, list := range codes {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s: x-error-codes has status %s that is not a documented response", name, status)
				}
				n, _ := strconv.Atoi(status)
				for _, code := range list {
					used[code] = true
					if usedStatus[code] == nil {
						usedStatus[code] = map[int]bool{}
					}
					usedStatus[code][n] = true
					if s, ok := tableStatus[code]; !ok {
						t.Errorf("%s: code %q is missing from components.x-error-codes", name, code)
					} else if !slices.Contains(s, n) {
						t.Errorf("%s: code %q under status %d, components.x-error-codes says %v", name, code, n, s)
					}
				}
			}
			if !slices.Contains(codes["500"], "internal") {
				t.Errorf("%s: every endpoint can answer 500 internal (a panic, a lost database); document it", name)
			}
			// A request body is JSON, read by Decode, or an upload (multipart/form-data) read by
			// its handler with its own size limit and content check.
			var jsonBody, upload bool
			if op.RequestBody != nil {
				content := op.RequestBody.Value.Content
				jsonBody = content.Get("application/json") != nil
				upload = content.Get("multipart/form-data") != nil
				if len(content) != 1 || !jsonBody && !upload {
					t.Errorf("%s: a request body is either application/json or multipart/form-data", name)
				}
			}
			// The body limit is answered by Decode, so exactly the operations that take a JSON body have 413.
			if has := slices.Contains(codes["413"], "body_too_large"); has != jsonBody {
				t.Errorf("%s: 413 body_too_large must be documented exactly when the operation takes a JSON body (has 413: %v)", name, has)
			}
			if upload && (len(codes["413"]) == 0 || len(codes["415"]) == 0) {
				t.Errorf("%s: an upload must document its size limit (413) and the content it refuses (415)", name)
			}
			secured := op.Security != nil && len(*op.Security) > 0
			_, hasRoles := op.Extensions["x-roles"]
			if secured != hasRoles {
				t.Errorf("%s: secured operations need x-roles, and only they", name)
			}
			if secured {
				for _, sc := range []struct {
					status string
					codes  []string
				}{{"401", []string{"missing_token", "invalid_token"}}, {"403", []string{"forbidden"}}} {
					for _, code := range sc.codes {
						if !slices.Contains(codes[sc.status], code) {
							t.Errorf("%s: secured but %s lacks %s", name, sc.status, code)
						}
					}
				}
				// A staff token is checked against its account on every call: refused when the
				// account is disabled, 503 when the user module cannot say.
				if roles := fmt.Sprint(op.Extensions["x-roles"]); strings.Contains(roles, "admin") || strings.Contains(roles, "operator") {
					if !slices.Contains(codes["401"], "account_disabled") || !slices.Contains(codes["503"], "dependency_unavailable") {
						t.Errorf("%s: a staff endpoint must list 401 account_disabled and 503 dependency_unavailable", name)
					}
				}
			}
			if jsonBody {
				for _, code := range decodeCodes {
					if !slices.Contains(codes["400"], code) {
						t.Errorf("%s: takes a JSON body but 400 lacks %s", name, code)
					}
				}
				if !slices.Contains(codes["415"], "unsupported_media_type") {
					t.Errorf("%s: takes a JSON body but does not document 415", name)
				}
			}
		}
	}
	for _, row := range table {
		if !used[row.Code] {
			t.Errorf("components.x-error-codes: %q is answered by no operation", row.Code)
			continue
		}
		for _, n := range row.Statuses {
			if len(row.Statuses) > 1 && !usedStatus[row.Code][n] {
				t.Errorf("components.x-error-codes: %q lists status %d, under which no operation answers it", row.Code, n)
			}
		}
	}

	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		checkSchema(t, "components.schemas."+name, doc.Components.Schemas[name])
	}
}

// checkSchema walks a schema: objects must refuse unknown properties (so a field the server
// adds without documenting it fails the contract test), times are date-time, ids are ID.
func checkSchema(t *testing.T, where string, ref *openapi3.SchemaRef) {
	t.Helper()
	s := ref.Value
	if s.Type.Is("object") && s.AdditionalProperties.Schema == nil &&
		(s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has) {
		t.Errorf("%s: object without additionalProperties: false", where)
	}
	for prop, p := range s.Properties {
		at := where + "." + prop
		switch {
		case strings.HasSuffix(prop, "_at") && (p.Value.Format != "date-time" || !p.Value.Type.Is("string")):
			t.Errorf("%s: times are strings of format date-time", at)
		case (prop == "id" || strings.HasSuffix(prop, "_id") || strings.HasSuffix(prop, "_cursor")) &&
			p.Ref != "#/components/schemas/ID" && p.Ref != "#/components/schemas/ParentID" &&
			// A number a payment provider assigns (WeChat Pay's transaction_id, a provider's
			// refund id) keeps the provider's name but is the provider's text, not one of our
			// ids: such an *_id property says so by being a ProviderRef ("id" and *_cursor
			// are always ours).
			(p.Ref != "#/components/schemas/ProviderRef" || !strings.HasSuffix(prop, "_id")):
			t.Errorf("%s: ids are #/components/schemas/ID (decimal strings), or ProviderRef for a provider's number", at)
		}
		if p.Ref == "" {
			checkSchema(t, at, p)
		}
	}
	if s.Items != nil && s.Items.Ref == "" {
		checkSchema(t, where+"[]", s.Items)
	}
	if s.AdditionalProperties.Schema != nil && s.AdditionalProperties.Schema.Ref == "" {
		checkSchema(t, where+"{}", s.AdditionalProperties.Schema)
	}
}

var routePattern = regexp.MustCompile(`\.Handle(?:Func)?\(\s*"([A-Z]+) (/[^"]*)"`)

// TestServedRoutesAreDocumented finds every route pattern registered in the module's
// source, asks the real server whether it serves it, and requires each served one to be in
// the document: a new endpoint cannot ship undocumented.
func TestServedRoutesAreDocumented(t *testing.T) {
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type route struct{ method, path string }
	var found []route
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "vendor" || n == "testdata" || n == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
			p := strings.TrimSuffix(m[2], "{$}")
			p = regexp.MustCompile(`\{(\w+)\.\.\.\}`).ReplaceAllString(p, "{$1}")
			found = append(found, route{m[1], p})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 10 {
		t.Fatalf("found only %d route patterns in the source; is the scan broken?", len(found))
	}
	h := newHarness(t, newContract(t), nil)
	served := 0
	for _, r := range found {
		probe := regexp.MustCompile(`\{\w+\}`).ReplaceAllString(r.path, "1")
		req, err := http.NewRequestWithContext(t.Context(), r.method, h.url+probe, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal(body, &e)
		if e.Error.Code == "route_not_found" || e.Error.Code == "method_not_allowed" {
			continue // declared in the source but not mounted by the app
		}
		served++
		if item := doc.Paths.Find(r.path); item == nil || item.GetOperation(r.method) == nil {
			t.Errorf("%s %s is served but not in openapi.yaml", r.method, r.path)
		}
	}
	if served < len(doc.Paths.Map()) {
		t.Errorf("only %d served routes found for %d documented paths", served, len(doc.Paths.Map()))
	}
}

// TestContractCatchesDrift shows the checker fails on what it must catch: an undocumented
// field, status, code or content type, and a body where none is documented.
func TestContractCatchesDrift(t *testing.T) {
	c := newContract(t)
	jsonCT := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	req := func(method, path string) *http.Request {
		return httptest.NewRequest(method, "http://minimart.test"+path, nil)
	}
	bearer := func(r *http.Request) *http.Request { r.Header.Set("Authorization", "Bearer t"); return r }
	if err := c.check(req("GET", "/healthz"), nil, 200, jsonCT, []byte(`{"status":"ok"}`), false); err != nil {
		t.Fatalf("a documented answer fails: %v", err)
	}
	login := `{"username":"a","password":"x"}`
	bad := []struct {
		name    string
		r       *http.Request
		reqBody string
		status  int
		header  http.Header
		body    string
		want    string // in the error
	}{
		{"undocumented field", req("GET", "/healthz"), "", 200, jsonCT, `{"status":"ok","uptime":3}`, "does not match"},
		{"undocumented status", req("GET", "/healthz"), "", 418, jsonCT, `{"status":"ok"}`, "not documented"},
		{"id as a number", bearer(req("GET", "/api/v1/me")), "", 200, jsonCT, `{"id":1,"has_wechat":false,"created_at":"2025-01-01T00:00:00Z"}`, "does not match"},
		{"time not RFC 3339", bearer(req("GET", "/api/v1/me")), "", 200, jsonCT, `{"id":"1","has_wechat":false,"created_at":"yesterday"}`, "does not match"},
		{"code not listed for the status", bearer(req("GET", "/api/v1/me")), "", 401, jsonCT, `{"error":{"code":"forbidden","message":"x"}}`, "x-error-codes"},
		{"unknown code", bearer(req("GET", "/api/v1/me")), "", 404, jsonCT, `{"error":{"code":"no_such_code","message":"x"}}`, "not one of the allowed values"},
		{"undocumented error detail", bearer(req("GET", "/api/v1/me")), "", 404, jsonCT, `{"error":{"code":"user_not_found","message":"x","details":{"hint":1}}}`, "does not match"},
		{"body on a 204", req("POST", "/api/v1/auth/logout"), `{"refresh_token":"x"}`, 204, jsonCT, `{}`, "without a body"},
		{"undocumented content type", req("GET", "/openapi.yaml"), "", 200, jsonCT, `{}`, "does not match"},
		{"429 without Retry-After", req("POST", "/api/v1/auth/login"), login, 429, jsonCT, `{"error":{"code":"too_many_attempts","message":"x"}}`, "Retry-After"},
		{"405 without Allow", req("DELETE", "/api/v1/auth/login"), "", 405, jsonCT, `{"error":{"code":"method_not_allowed","message":"x"}}`, "required header"},
		{"unknown path answered 200", req("GET", "/nope"), "", 200, jsonCT, `{}`, "matches no operation"},
		{"money as a float", req("GET", "/api/v1/products"), "", 200, jsonCT,
			`{"items":[{"id":"1","category_id":"2","title":"t","subtitle":"","price_min":99.5,"price_max":100,"sales":0,"created_at":"2025-01-01T00:00:00Z"}],"page":1,"page_size":20,"total":1}`, "does not match"},
		{"undocumented field deep in the tree", req("GET", "/api/v1/categories"), "", 200, jsonCT,
			`{"items":[{"id":"1","name":"a","sort_order":0,"hidden":false,"level":1,"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z",` +
				`"children":[{"id":"2","parent_id":"1","name":"b","sort_order":0,"hidden":false,"level":2,"slug":"b","created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}]}]}`,
			"does not match"},
		{"image without Cache-Control", req("GET", "/media/"+strings.Repeat("a", 64)+".png"), "", 200,
			http.Header{"Content-Type": {"image/png"}, "Etag": {`"` + strings.Repeat("a", 64) + `"`}}, "\x89PNG", "Cache-Control"},
		{"image of an undocumented type", req("GET", "/media/"+strings.Repeat("a", 64)+".svg"), "", 200,
			http.Header{"Content-Type": {"image/svg+xml"}, "Cache-Control": {"public, max-age=31536000, immutable"}, "Etag": {`"` + strings.Repeat("a", 64) + `"`}},
			"<svg/>", "not documented"},
	}
	for _, b := range bad {
		var reqBody []byte
		if b.reqBody != "" {
			reqBody = []byte(b.reqBody)
			b.r.Header.Set("Content-Type", "application/json")
		}
		err := c.check(b.r, reqBody, b.status, b.header, []byte(b.body), false)
		switch {
		case err == nil:
			t.Errorf("%s: the checker accepted it", b.name)
		case !strings.Contains(err.Error(), b.want):
			t.Errorf("%s: failed for another reason than %q: %v", b.name, b.want, err)
		}
	}
	// And a request the document accepts must not be reported as malformed, nor the reverse.
	if err := c.check(req("GET", "/healthz"), nil, 200, jsonCT, []byte(`{"status":"ok"}`), true); err == nil {
		t.Errorf("a well-formed request claimed malformed passed")
	}
}

// TestDocsPage checks the page served at /docs: self-contained, escaped, complete.
func TestDocsPage(t *testing.T) {
	rt := web.NewRouter()
	api.Routes(rt)
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest("GET", "/docs", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/docs: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	page := w.Body.String()
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, s := range []string{method + "</span> " + path, html.EscapeString(op.Summary), `id="` + op.OperationID + `"`} {
				if !strings.Contains(page, s) {
					t.Errorf("/docs lacks %q", s)
				}
			}
		}
	}
	table, _ := api.ErrorCodes(doc)
	for _, row := range table {
		if !strings.Contains(page, `id="code-`+row.Code+`"`) {
			t.Errorf("/docs lacks error code %s", row.Code)
		}
	}
	for _, s := range []string{`href="/openapi.yaml"`, "AddressInput", "recipient", "Authorization: Bearer", "admin only", "Error codes"} {
		if !strings.Contains(page, s) {
			t.Errorf("/docs lacks %q", s)
		}
	}
	for _, s := range []string{"<script", "src=", "http://", "https://", "@import"} {
		if strings.Contains(page, s) {
			t.Errorf("/docs contains %q; it must load nothing from elsewhere", s)
		}
	}
	start, end := strings.Index(page, "<style>"), strings.Index(page, "</style>")
	if start < 0 || end < start {
		t.Fatal("/docs has no <style>")
	}
	sum := sha256.Sum256([]byte(page[start+len("<style>") : end]))
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not allow exactly the page's style", csp)
	}

	// Text from the document is escaped, never markup.
	doc.Paths.Value("/healthz").Get.Summary = `<script>alert("x")</script>`
	doc.Paths.Value("/healthz").Get.Description = `<img src=x onerror=alert(1)>`
	out, err := api.RenderDocs(doc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "<script>") || strings.Contains(string(out), "<img") ||
		!strings.Contains(string(out), "&lt;script&gt;") {
		t.Errorf("document text is not escaped")
	}
}
