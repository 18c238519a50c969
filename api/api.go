// Package api holds the HTTP contract (openapi.yaml) and serves it with a docs page.
package api

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/minimart/minimart/internal/platform/web"
)

// Spec is the OpenAPI document of the whole HTTP API.
//
//go:embed openapi.yaml
var Spec []byte

// Load parses Spec and checks that it is a valid OpenAPI 3 document.
func Load(ctx context.Context) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(Spec)
	if err != nil {
		return nil, fmt.Errorf("api: parse openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// renderedDocs is the documentation page, rendered from the embedded spec once per process: the
// spec cannot change while it runs, and parsing it is the dearest part of building an app
// (tests build hundreds).
var renderedDocs = sync.OnceValues(func() ([]byte, error) {
	doc, err := Load(context.Background())
	if err != nil {
		return nil, err
	}
	page, err := RenderDocs(doc)
	if err != nil {
		return nil, fmt.Errorf("api: render docs: %w", err)
	}
	return page, nil
})

// Routes serves the contract at /openapi.yaml and its documentation page at /docs.
//
// The spec is embedded at build time, so a spec that does not parse or render is a build
// defect: Routes panics, and every test that builds the app fails.
func Routes(rt *web.Router) {
	page, err := renderedDocs()
	if err != nil {
		panic(err)
	}
	rt.Handle("GET /openapi.yaml", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Write(Spec)
	}))
	rt.Handle("GET /docs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", docsCSP)
		w.Write(page)
	}))
}
