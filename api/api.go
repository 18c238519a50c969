// Package api holds the HTTP contract (openapi.yaml) and serves it with a docs page.
package api

import (
	_ "embed"
	"net/http"

	"github.com/minimart/minimart/internal/platform/web"
)

// Spec is the OpenAPI document of the whole HTTP API.
//
//go:embed openapi.yaml
var Spec []byte

// Routes serves the contract at /openapi.yaml.
func Routes(rt *web.Router) {
	rt.Handle("GET /openapi.yaml", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Write(Spec)
	}))
}
