package web_test

import (
	"errors"
	"math"
	"net/http/httptest"
	"testing"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
)

// QueryInt gives the default for an absent or empty parameter, the number within its bounds,
// and invalid_parameter naming the parameter and its bounds for anything else.
func TestQueryInt(t *testing.T) {
	cases := []struct {
		query   string
		want    int
		message string
	}{
		{"", 7, ""},
		{"?days=", 7, ""},
		{"?other=3", 7, ""},
		{"?days=1", 1, ""},
		{"?days=90", 90, ""},
		{"?days=0", 0, "days must be a whole number from 1 to 90"},
		{"?days=91", 0, "days must be a whole number from 1 to 90"},
		{"?days=-3", 0, "days must be a whole number from 1 to 90"},
		{"?days=1.5", 0, "days must be a whole number from 1 to 90"},
		{"?days=%2B5", 5, ""},
		{"?days=seven", 0, "days must be a whole number from 1 to 90"},
		{"?days=99999999999999999999", 0, "days must be a whole number from 1 to 90"},
	}
	for _, c := range cases {
		got, err := web.QueryInt(httptest.NewRequest("GET", "/x"+c.query, nil), "days", 7, 1, 90)
		var message string
		if err != nil {
			e, ok := errs.As(err)
			if !ok || !errors.Is(err, web.ErrInvalidParam) {
				t.Fatalf("%q: err = %v, want invalid_parameter", c.query, err)
			}
			message = e.Message
		}
		if got != c.want || message != c.message {
			t.Errorf("%q: got %d %q, want %d %q", c.query, got, message, c.want, c.message)
		}
	}

	r := httptest.NewRequest("GET", "/x?cursor=9223372036854775807&limit=0", nil)
	if got, err := web.QueryInt(r, "cursor", int64(0), 1, math.MaxInt64); err != nil || got != math.MaxInt64 {
		t.Errorf("the largest cursor: %d, %v", got, err)
	}
	if _, err := web.QueryInt(r, "limit", 20, 1, math.MaxInt); err == nil || err.Error() != "invalid_parameter: limit must be a whole number of at least 1" {
		t.Errorf("a limit without upper bound: err = %v", err)
	}
}
