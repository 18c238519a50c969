package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	platformweb "github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/web"
)

var (
	storeHTML = []byte(`<!doctype html><html lang="zh-CN"><head><script type="module" src="/ui/store/app.js"></script></head><body></body></html>`)
	adminHTML = []byte(`<!doctype html><html lang="zh-CN"><head><title>商家后台</title></head><body></body></html>`)
	appJS     = []byte(strings.Repeat("export const greeting = '你好';\n", 40))
	pngBytes  = []byte("\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 64))
)

func testFiles() fstest.MapFS {
	return fstest.MapFS{
		"store/index.html":      {Data: storeHTML},
		"store/app.js":          {Data: appJS},
		"store/store.css":       {Data: []byte(strings.Repeat(".card { padding: 8px; }\n", 20))},
		"admin/index.html":      {Data: adminHTML},
		"shared/messages.json":  {Data: []byte(`{"hello": "` + strings.Repeat("你好", 30) + `"}`)},
		"vendor/icon.svg":       {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat(`<rect width="1" height="1"/>`, 20) + `</svg>`)},
		"vendor/logo.png":       {Data: pngBytes},
		"vendor/font.woff2":     {Data: []byte("wOF2 font bytes")},
		"vendor/tiny.js":        {Data: []byte("1")},
		"admin/screens/list.js": {Data: []byte("export default 1;\n")},
	}
}

// serve builds the site over files and answers one request through the router and the
// security headers, as the app mounts them.
func newServer(t *testing.T, files fstest.MapFS) http.Handler {
	t.Helper()
	site, err := web.New(files)
	if err != nil {
		t.Fatal(err)
	}
	rt := platformweb.NewRouter()
	site.Routes(rt)
	return platformweb.Chain(rt, platformweb.SecurityHeaders())
}

func do(h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPages(t *testing.T) {
	h := newServer(t, testFiles())
	for _, tc := range []struct {
		path string
		want []byte
	}{{"/", storeHTML}, {"/admin/", adminHTML}} {
		w := do(h, "GET", tc.path, nil)
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), tc.want) {
			t.Fatalf("GET %s: %d %q", tc.path, w.Code, w.Body.String())
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", tc.path, ct)
		}
		if csp := w.Header().Get("Content-Security-Policy"); csp != web.PageCSP {
			t.Errorf("GET %s: Content-Security-Policy %q, want the pages' policy", tc.path, csp)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", tc.path, cc)
		}
		head := do(h, "HEAD", tc.path, nil)
		if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != w.Header().Get("Content-Length") {
			t.Errorf("HEAD %s: %d, %d body bytes, Content-Length %q", tc.path, head.Code, head.Body.Len(), head.Header().Get("Content-Length"))
		}
	}

	w := do(h, "GET", "/admin", nil)
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/admin/" || w.Body.Len() != 0 {
		t.Errorf("GET /admin: %d Location %q body %q", w.Code, w.Header().Get("Location"), w.Body.String())
	}
	if w := do(h, "POST", "/", nil); w.Code != http.StatusMethodNotAllowed || errorCode(t, w) != "method_not_allowed" {
		t.Errorf("POST /: %d %s", w.Code, w.Body.String())
	}
}

func TestFilesByType(t *testing.T) {
	h := newServer(t, testFiles())
	files := testFiles()
	for _, tc := range []struct {
		path, contentType string
		compressed        bool
	}{
		{"store/app.js", "text/javascript; charset=utf-8", true},
		{"store/store.css", "text/css; charset=utf-8", true},
		{"store/index.html", "text/html; charset=utf-8", false}, // too short to shrink
		{"shared/messages.json", "application/json; charset=utf-8", true},
		{"vendor/icon.svg", "image/svg+xml", true},
		{"vendor/logo.png", "image/png", false},
		{"vendor/font.woff2", "font/woff2", false},
		// gzip would make one byte longer: served as it is.
		{"vendor/tiny.js", "text/javascript; charset=utf-8", false},
		{"admin/screens/list.js", "text/javascript; charset=utf-8", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			want := files[tc.path].Data
			plain := do(h, "GET", "/ui/"+tc.path, nil)
			if plain.Code != 200 || !bytes.Equal(plain.Body.Bytes(), want) || plain.Header().Get("Content-Encoding") != "" {
				t.Fatalf("without Accept-Encoding: %d, encoding %q, %d bytes", plain.Code, plain.Header().Get("Content-Encoding"), plain.Body.Len())
			}
			if ct := plain.Header().Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			zipped := do(h, "GET", "/ui/"+tc.path, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
			if !tc.compressed {
				if zipped.Header().Get("Content-Encoding") != "" || !bytes.Equal(zipped.Body.Bytes(), want) {
					t.Errorf("compressed a file that gzip does not shrink")
				}
				return
			}
			if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Header().Get("Vary") != "Accept-Encoding" {
				t.Fatalf("Content-Encoding %q Vary %q", zipped.Header().Get("Content-Encoding"), zipped.Header().Get("Vary"))
			}
			if plain.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("identity answer of a compressible file lacks Vary: Accept-Encoding")
			}
			if got := gunzip(t, zipped.Body.Bytes()); !bytes.Equal(got, want) {
				t.Errorf("gunzipped body differs from the file")
			}
			if zipped.Header().Get("Etag") == plain.Header().Get("Etag") {
				t.Errorf("both encodings carry ETag %s; each representation needs its own", plain.Header().Get("Etag"))
			}
			refused := do(h, "GET", "/ui/"+tc.path, map[string]string{"Accept-Encoding": "gzip;q=0, identity"})
			if refused.Header().Get("Content-Encoding") != "" {
				t.Errorf("gzip;q=0 still got gzip")
			}
		})
	}
	// Scripts and styles are not pages: they get the API's policy, which allows nothing.
	if csp := do(h, "GET", "/ui/store/app.js", nil).Header().Get("Content-Security-Policy"); csp != platformweb.DefaultCSP {
		t.Errorf("script Content-Security-Policy %q", csp)
	}
}

func TestRevalidation(t *testing.T) {
	files := testFiles()
	h := newServer(t, files)
	first := do(h, "GET", "/ui/store/app.js", nil)
	etag := first.Header().Get("Etag")
	if !strings.HasPrefix(etag, `"`) || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q Cache-Control %q", etag, first.Header().Get("Cache-Control"))
	}
	zipped := do(h, "GET", "/ui/store/app.js", map[string]string{"Accept-Encoding": "gzip"})
	for _, tc := range []struct {
		name, ifNoneMatch string
		want              int
	}{
		{"same identity tag", etag, 304},
		{"same gzip tag", zipped.Header().Get("Etag"), 304},
		{"weak form of the tag", "W/" + etag, 304},
		{"tag among others", `"other", ` + etag, 304},
		{"any", "*", 304},
		{"another file's tag", do(h, "GET", "/ui/store/store.css", nil).Header().Get("Etag"), 200},
		{"garbage", `"nope"`, 200},
	} {
		w := do(h, "GET", "/ui/store/app.js", map[string]string{"If-None-Match": tc.ifNoneMatch, "Accept-Encoding": "gzip"})
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
		if w.Code == 304 && (w.Body.Len() != 0 || w.Header().Get("Etag") == "" || w.Header().Get("Cache-Control") != "no-cache") {
			t.Errorf("%s: 304 with %d body bytes, ETag %q", tc.name, w.Body.Len(), w.Header().Get("Etag"))
		}
	}

	// A changed file is a changed tag: the browser's copy is not current any more.
	files["store/app.js"] = &fstest.MapFile{Data: append(bytes.Clone(appJS), "// v2\n"...)}
	next := do(newServer(t, files), "GET", "/ui/store/app.js", map[string]string{"If-None-Match": etag})
	if next.Code != 200 || next.Header().Get("Etag") == etag {
		t.Errorf("changed file: %d ETag %q (was %q)", next.Code, next.Header().Get("Etag"), etag)
	}
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body platformweb.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%d %q is not a JSON error: %v", w.Code, w.Body.String(), err)
	}
	return body.Error.Code
}

func TestUnknownPathsAreJSON404(t *testing.T) {
	h := newServer(t, testFiles())
	for _, path := range []string{
		"/ui/store/missing.js",
		"/ui/store/", // a directory: never listed
		"/ui/",       // the root
		"/ui/store",  // a directory without its slash
		"/ui/web.go", // next to the files, not one of them
		"/ui/STORE/app.js",
		"/admin/index.html",
		"/store/index.html",
	} {
		w := do(h, "GET", path, nil)
		if w.Code != 404 || errorCode(t, w) != "route_not_found" {
			t.Errorf("GET %s: %d %s", path, w.Code, w.Body.String())
		}
	}
	// The mux cleans dot segments with a redirect; what the redirect names is again only a
	// file of the site or a 404.
	for _, path := range []string{"/ui/../web.go", "/ui/store/../../go.mod", "/ui/%2e%2e/web.go"} {
		w := do(h, "GET", path, nil)
		if w.Code == 200 {
			t.Errorf("GET %s served %q", path, w.Body.String())
		}
		if loc := w.Header().Get("Location"); loc != "" {
			if next := do(h, "GET", loc, nil); next.Code != 404 {
				t.Errorf("GET %s → %s: %d", path, loc, next.Code)
			}
		}
	}
}

func TestNewRefusesMissingPages(t *testing.T) {
	for _, page := range []string{"store/index.html", "admin/index.html"} {
		files := testFiles()
		delete(files, page)
		if _, err := web.New(files); err == nil || !strings.Contains(err.Error(), page) {
			t.Errorf("without %s: %v", page, err)
		}
	}
}

// The files built into the binary load, and the UI library every page imports is there.
func TestEmbedded(t *testing.T) {
	site, err := web.New(web.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	rt := platformweb.NewRouter()
	site.Routes(rt)
	for _, path := range []string{"/", "/admin/", "/ui/vendor/preact-htm.js", "/ui/shared/api.js"} {
		if w := do(rt, "GET", path, nil); w.Code != 200 || w.Body.Len() == 0 {
			t.Errorf("GET %s: %d", path, w.Code)
		}
	}
	// No dot or underscore file (.DS_Store, an editor's swap file, .env) is built in to be served.
	err = fs.WalkDir(web.Embedded, ".", func(name string, _ fs.DirEntry, err error) error {
		if base := path.Base(name); name != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
			t.Errorf("%s is built into the binary", name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Which Accept-Encoding gets gzip: gzip or * with a weight above 0, and an explicit gzip
// entry over *, in whichever order and header lines they come.
func TestAcceptEncoding(t *testing.T) {
	h := newServer(t, testFiles())
	for _, tc := range []struct {
		name   string
		values []string
		gzip   bool
	}{
		{"none", nil, false},
		{"gzip", []string{"gzip"}, true},
		{"any", []string{"*"}, true},
		{"gzip with weight", []string{"br;q=1.0, gzip;q=0.2"}, true},
		{"gzip refused", []string{"gzip;q=0"}, false},
		{"gzip refused, any allowed", []string{"gzip;q=0, *"}, false},
		{"any allowed, gzip refused", []string{"*, gzip;q=0"}, false},
		{"on two lines", []string{"*", "gzip;q=0"}, false},
		{"gzip allowed, any refused", []string{"gzip;q=0.5, *;q=0"}, true},
		{"any refused", []string{"*;q=0"}, false},
		{"identity only", []string{"identity"}, false},
		{"upper case", []string{"GZIP;Q=0.1"}, true},
		{"weight not a number", []string{"gzip;q=high"}, false},
		{"weight 0.000", []string{"gzip;q=0.000"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/ui/store/app.js", nil)
			for _, v := range tc.values {
				r.Header.Add("Accept-Encoding", v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Header().Get("Content-Encoding") == "gzip"; w.Code != 200 || got != tc.gzip {
				t.Fatalf("%d, gzip %v, want gzip %v", w.Code, got, tc.gzip)
			}
		})
	}
}
