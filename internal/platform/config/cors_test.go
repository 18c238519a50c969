package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/platform/config"
)

// MINIMART_CORS_ORIGINS holds origins as browsers send them in Origin; anything that would
// never match one, or would match every site, stops the start naming the variable.
func TestCORSOrigins(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  []string
	}{
		{"", nil},
		{"https://shop.example.com", []string{"https://shop.example.com"}},
		{" https://a.example.com , http://localhost:5173,", []string{"https://a.example.com", "http://localhost:5173"}},
		// As a browser writes it: lower case, default port left out, duplicates once.
		{"HTTPS://Shop.Example.COM:443,https://shop.example.com,http://x.test:80", []string{"https://shop.example.com", "http://x.test"}},
		{"https://shop.example.com:8443", []string{"https://shop.example.com:8443"}},
		{"http://[::1]:3000,http://[::1]", []string{"http://[::1]:3000", "http://[::1]"}},
	} {
		c, err := config.Load(env(map[string]string{"MINIMART_CORS_ORIGINS": tt.value}), config.Overrides{})
		if err != nil || !slices.Equal(c.CORSOrigins, tt.want) {
			t.Errorf("MINIMART_CORS_ORIGINS=%q: %q, %v; want %q", tt.value, c.CORSOrigins, err, tt.want)
		}
	}
	for _, bad := range []string{
		"*",
		"https://ok.example.com,*",
		"shop.example.com",
		"https://shop.example.com/",
		"https://shop.example.com/app",
		"https://shop.example.com?x=1",
		"https://shop.example.com#top",
		"https://user:pw@shop.example.com",
		"ftp://shop.example.com",
		"https://",
		"https://shop.example.com:0",
		"https://shop.example.com:99999",
		"null",
	} {
		_, err := config.Load(env(map[string]string{"MINIMART_CORS_ORIGINS": bad}), config.Overrides{})
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "MINIMART_CORS_ORIGINS" {
			t.Errorf("MINIMART_CORS_ORIGINS=%q: %v, want an error naming the variable", bad, err)
		} else if strings.Contains(bad, "pw@") && strings.Contains(err.Error(), "pw@") {
			t.Errorf("error repeats credentials: %v", err)
		}
	}
}
