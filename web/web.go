// Package web serves the H5 storefront (/) and the merchant console (/admin/) built into the
// binary: plain ES modules, styles and pages under /ui/, with no build step and no Node at
// run time.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"

	platformweb "github.com/minimart/minimart/internal/platform/web"
)

// Embedded is the front-end as built into the binary: store/ (storefront), admin/ (merchant
// console), shared/ (their API client and helpers) and vendor/ (the UI library). Names
// starting with "." or "_" are left out (no "all:"), so an editor's or a system's dot file in
// these folders is never served.
//
//go:embed store admin shared vendor
var Embedded embed.FS

// PageCSP is the Content-Security-Policy of the pages: scripts, styles and fonts only from
// this origin (so no inline script or style can run), images also from the HTTPS product
// image hosts, and API calls only to this origin.
const PageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// The pages, as paths inside the file tree.
const (
	storePage = "store/index.html"
	adminPage = "admin/index.html"
)

// contentTypes are the types of the files the front-end is made of; any other file is served
// as bytes (the system's MIME table is not asked: what a file is served as must not depend on
// the machine).
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".webp":  "image/webp",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
	".md":    "text/markdown; charset=utf-8",
}

// compressible reports whether a content type is text that gzip shrinks; images and fonts
// are compressed already.
func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.HasPrefix(contentType, "application/json") ||
		strings.HasPrefix(contentType, "image/svg+xml")
}

// asset is one file, ready to serve: its bytes, their gzip form when that is smaller, and
// the validators of both.
type asset struct {
	contentType string
	body        []byte
	etag        string
	// gzipped is nil when the file is not text or does not shrink.
	gzipped  []byte
	gzipETag string
	html     bool
}

// Site is the front-end loaded into memory, each file hashed and compressed once.
type Site struct {
	assets map[string]*asset
}

// New loads every file of files. It fails when a page is missing: a binary without its
// storefront or console is a build defect, found at start rather than by the first buyer.
func New(files fs.FS) (*Site, error) {
	s := &Site{assets: map[string]*asset{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		a, err := newAsset(name, body)
		if err != nil {
			return err
		}
		s.assets[name] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load front-end files: %w", err)
	}
	for _, page := range []string{storePage, adminPage} {
		if _, ok := s.assets[page]; !ok {
			return nil, fmt.Errorf("web: %s is missing from the front-end files", page)
		}
	}
	return s, nil
}

func newAsset(name string, body []byte) (*asset, error) {
	ext := strings.ToLower(path.Ext(name))
	ct, ok := contentTypes[ext]
	if !ok {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	a := &asset{contentType: ct, body: body, etag: `"` + tag + `"`, html: ext == ".html"}
	if !compressible(ct) {
		return a, nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() < len(body) {
		// Its own validator: the two encodings are different representations of the file.
		a.gzipped, a.gzipETag = buf.Bytes(), `"`+tag+`-gzip"`
	}
	return a, nil
}

// Routes mounts the pages and their files: / is the storefront, /admin/ the console, and
// every file is at /ui/<its path>. A path that names no file is the API's JSON 404.
func (s *Site) Routes(rt *platformweb.Router) {
	rt.Handle("GET /{$}", s.file(storePage))
	rt.Handle("GET /admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No body: http.Redirect's little HTML page would go out without the pages' policy.
		w.Header().Set("Location", "/admin/")
		w.WriteHeader(http.StatusMovedPermanently)
	}))
	rt.Handle("GET /admin/{$}", s.file(adminPage))
	// One pattern for every depth, so the mux never redirects a folder's path to its
	// slash-ended form: /ui/store is a plain 404 like any name that is not a file.
	rt.Handle("GET /ui/{path...}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.assets[r.PathValue("path")]
		if !ok {
			platformweb.WriteError(w, r, platformweb.ErrRouteNotFound)
			return
		}
		a.serve(w, r)
	}))
}

func (s *Site) file(name string) http.Handler {
	a := s.assets[name]
	return http.HandlerFunc(a.serve)
}

var (
	noCacheValue = []string{"no-cache"}
	gzipValue    = []string{"gzip"}
	pageCSPValue = []string{PageCSP}
)

// serve answers with the file, gzip-compressed when the client takes it, or 304 when the
// client's copy is current. Every answer is revalidated (no-cache), so a new binary's files
// reach browsers on their next load, and an unchanged file costs one small round trip.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	body, etag := a.body, a.etag
	gzipped := a.gzipped != nil && acceptsGzip(r.Header.Values("Accept-Encoding"))
	if gzipped {
		body, etag = a.gzipped, a.gzipETag
	}
	if a.gzipped != nil {
		h.Add("Vary", "Accept-Encoding") // added to, not set: CORS may vary by Origin too
	}
	h["Etag"] = []string{etag}
	h["Cache-Control"] = noCacheValue
	if a.html {
		h["Content-Security-Policy"] = pageCSPValue
	}
	if matchesETag(r.Header.Values("If-None-Match"), a.etag, a.gzipETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gzipped {
		h["Content-Encoding"] = gzipValue
	}
	h["Content-Type"] = []string{a.contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reads Accept-Encoding: gzip listed with a q above 0, or, when gzip is not
// listed at all, * so listed. An explicit gzip entry wins over *: "gzip;q=0, *" refuses gzip.
// A q that is not a number counts as 0.
func acceptsGzip(values []string) bool {
	gzipQ, anyQ := -1.0, -1.0 // -1: not listed
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "*" {
				continue
			}
			q := qValue(params)
			if coding == "gzip" {
				gzipQ = max(gzipQ, q)
			} else {
				anyQ = max(anyQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

// qValue is the weight among an Accept-Encoding entry's parameters: 1 without one, 0 when it
// is not a number.
func qValue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		name, value, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return 0
			}
			return f
		}
	}
	return 1
}

// matchesETag reports whether If-None-Match names either encoding of the file (they hold
// the same content) or is "*".
func matchesETag(values []string, etags ...string) bool {
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" {
				return true
			}
			for _, e := range etags {
				if e != "" && tag == e {
					return true
				}
			}
		}
	}
	return false
}
