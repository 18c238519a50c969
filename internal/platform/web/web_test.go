package web_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
)

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	ips, err := web.NewClientIPs("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		remote, xff, want string
	}{
		{"203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},              // untrusted peer: header ignored
		{"127.0.0.1:5000", "1.2.3.4", "1.2.3.4"},                    // nginx on loopback
		{"127.0.0.1:5000", "6.6.6.6, 1.2.3.4, 10.1.1.1", "1.2.3.4"}, // rightmost untrusted hop
		{"127.0.0.1:5000", "", "127.0.0.1"},                         // no header
		{"127.0.0.1:5000", "garbage", "127.0.0.1"},                  // unparsable
		{"[::ffff:127.0.0.1]:5000", "2001:db8::1", "2001:db8::1"},   // v4-mapped peer
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ips.Of(r); got != c.want {
			t.Errorf("remote %s xff %q: got %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	if _, err := web.NewClientIPs("not-an-ip"); err == nil {
		t.Fatal("bad proxy list accepted")
	}
}

func TestErrorKindsMapToStatusesAndBack(t *testing.T) {
	for _, k := range []errs.Kind{errs.Invalid, errs.Unauthorized, errs.Forbidden, errs.NotFound, errs.Conflict,
		errs.Unprocessable, errs.TooLarge, errs.UnsupportedMedia, errs.TooManyRequests, errs.Unavailable, errs.Internal} {
		if got := errs.KindForStatus(k.HTTPStatus()); got != k {
			t.Errorf("kind %d → %d → kind %d", k, k.HTTPStatus(), got)
		}
	}
	sentinel := errs.New(errs.Conflict, "out_of_stock", "x")
	if !errors.Is(sentinel.With(map[string]any{"sku": "1"}), sentinel) {
		t.Fatal("a sentinel with details must still match by code")
	}
}
