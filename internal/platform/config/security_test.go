package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/ratelimit"
)

var rateLimitVars = []string{"MINIMART_RATELIMIT_REGISTER", "MINIMART_RATELIMIT_LOGIN", "MINIMART_RATELIMIT_REFRESH",
	"MINIMART_RATELIMIT_ORDER", "MINIMART_RATELIMIT_ORDER_IP", "MINIMART_RATELIMIT_PAYMENT", "MINIMART_RATELIMIT_PAYMENT_IP",
	"MINIMART_RATELIMIT_SEARCH"}

// limitOf is the field a MINIMART_RATELIMIT_ variable sets.
func limitOf(r config.RateLimits, name string) ratelimit.Limit {
	return map[string]ratelimit.Limit{
		"MINIMART_RATELIMIT_REGISTER": r.Register, "MINIMART_RATELIMIT_LOGIN": r.Login, "MINIMART_RATELIMIT_REFRESH": r.Refresh,
		"MINIMART_RATELIMIT_ORDER": r.Order, "MINIMART_RATELIMIT_ORDER_IP": r.OrderIP, "MINIMART_RATELIMIT_PAYMENT": r.Payment,
		"MINIMART_RATELIMIT_PAYMENT_IP": r.PaymentIP, "MINIMART_RATELIMIT_SEARCH": r.Search,
	}[name]
}

func TestRateLimitSettings(t *testing.T) {
	c, err := config.Load(env(nil), config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimitsOff {
		t.Fatal("rate limits are off by default")
	}
	for _, name := range rateLimitVars {
		if l := limitOf(c.RateLimits, name); l.Off() {
			t.Errorf("%s is off by default", name)
		}
		c, err := config.Load(env(map[string]string{name: "7/30s"}), config.Overrides{})
		if err != nil || limitOf(c.RateLimits, name) != (ratelimit.Limit{N: 7, Per: 30 * time.Second}) {
			t.Errorf("%s=7/30s: %+v, %v", name, c.RateLimits, err)
		}
		if c, err := config.Load(env(map[string]string{name: "0"}), config.Overrides{}); err != nil || !limitOf(c.RateLimits, name).Off() {
			t.Errorf("%s=0: %+v, %v", name, c.RateLimits, err)
		}
	}
	c, err = config.Load(env(map[string]string{"MINIMART_RATELIMITS": "0", "MINIMART_RATELIMIT_LOGIN": "1/1m"}), config.Overrides{})
	if err != nil || !c.RateLimitsOff || c.RateLimits != (config.RateLimits{}) {
		t.Fatalf("MINIMART_RATELIMITS=0 must lift every limit: %+v, %v", c.RateLimits, err)
	}
}

func TestBadRateLimitNamesTheVariable(t *testing.T) {
	for _, name := range rateLimitVars {
		for _, bad := range []string{"abc", "10/", "-1/1m", "10/0s", "5/1y"} {
			_, err := config.Load(env(map[string]string{name: bad}), config.Overrides{})
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != name || !strings.Contains(err.Error(), bad) {
				t.Errorf("%s=%s: err = %v, want a config error naming the variable and the value", name, bad, err)
			}
		}
	}
	// Even when MINIMART_RATELIMITS=0 lifts them: the mistake would surface when limits return.
	_, err := config.Load(env(map[string]string{"MINIMART_RATELIMITS": "0", "MINIMART_RATELIMIT_ORDER": "many"}), config.Overrides{})
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Var != "MINIMART_RATELIMIT_ORDER" {
		t.Errorf("a bad limit with MINIMART_RATELIMITS=0: %v", err)
	}
	if _, err := config.Load(env(map[string]string{"MINIMART_RATELIMITS": "off"}), config.Overrides{}); !errors.As(err, &ce) || ce.Var != "MINIMART_RATELIMITS" {
		t.Errorf("MINIMART_RATELIMITS=off: %v", err)
	}
}

func TestTLSNeedsCertificateAndKey(t *testing.T) {
	cases := []struct {
		env     map[string]string
		wantVar string // "" = valid
	}{
		{nil, ""},
		{map[string]string{"MINIMART_TLS_CERT_FILE": "/etc/minimart/cert.pem", "MINIMART_TLS_KEY_FILE": "/etc/minimart/key.pem"}, ""},
		{map[string]string{"MINIMART_TLS_CERT_FILE": "/etc/minimart/cert.pem"}, "MINIMART_TLS_KEY_FILE"},
		{map[string]string{"MINIMART_TLS_KEY_FILE": "/etc/minimart/key.pem"}, "MINIMART_TLS_CERT_FILE"},
	}
	for _, c := range cases {
		cfg, err := config.Load(env(c.env), config.Overrides{})
		if c.wantVar == "" {
			if err != nil || cfg.TLS() != (c.env != nil) {
				t.Errorf("%v: TLS %v, %v", c.env, cfg.TLS(), err)
			}
			continue
		}
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != c.wantVar {
			t.Errorf("%v: err = %v, want one naming %s", c.env, err, c.wantVar)
		}
	}
}
