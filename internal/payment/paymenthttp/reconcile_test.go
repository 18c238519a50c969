package paymenthttp_test

import (
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/money"
)

type reconciliation struct {
	Date       string
	Matched    int
	Mismatches []map[string]any
}

// The staff reconciliation runs the command's comparison for a day over HTTP: administrators
// only, a day that has begun, and the sandbox's bill read back against our books.
func TestReconciliationEndpoint(t *testing.T) {
	sh := newShop(t, nil)
	_, orderNo := sh.paidOrder(1)
	now := time.Now()
	today := now.In(money.ChinaTime()).Format(time.DateOnly)
	path := "/api/v1/admin/payments/reconciliation?date="

	var rec reconciliation
	sh.s.Do("GET", path+today, sh.admin, nil).Decode(t, &rec)
	if rec.Date != today || rec.Matched != 1 || rec.Mismatches == nil || len(rec.Mismatches) != 0 {
		t.Fatalf("reconciliation of today = %+v, want the one payment matched", rec)
	}
	if _, err := sh.db().Exec("UPDATE sandbox_trades SET amount = 3400 WHERE out_trade_no = ?", orderNo); err != nil {
		t.Fatal(err)
	}
	sh.s.Do("GET", path+today, sh.admin, nil).Decode(t, &rec)
	want := map[string]any{"provider": "sandbox", "kind": "payment", "out_trade_no": orderNo, "problem": payment.ProblemAmount,
		"theirs": float64(3400), "ours": float64(3500)}
	if rec.Matched != 0 || len(rec.Mismatches) != 1 || len(rec.Mismatches[0]) != len(want) {
		t.Fatalf("after the provider's amount changed: %+v", rec)
	}
	for k, v := range want {
		if rec.Mismatches[0][k] != v {
			t.Fatalf("mismatch %v, want %v", rec.Mismatches[0], want)
		}
	}
	sh.s.Do("GET", path+"2020-01-01", sh.admin, nil).Decode(t, &rec)
	if rec.Date != "2020-01-01" || rec.Matched != 0 || len(rec.Mismatches) != 0 {
		t.Fatalf("a day without trades: %+v", rec)
	}

	tomorrow := now.In(money.ChinaTime()).AddDate(0, 0, 1).Format(time.DateOnly)
	later := now.In(money.ChinaTime()).AddDate(0, 0, 2).Format(time.DateOnly)
	cases := []struct {
		name, query, token string
		status             int
		code               string
	}{
		{"no date", "/api/v1/admin/payments/reconciliation", sh.admin, 400, "invalid_parameter"},
		{"empty date", path, sh.admin, 400, "invalid_parameter"},
		{"not a date", path + "yesterday", sh.admin, 400, "invalid_parameter"},
		{"no such day", path + "2026-02-30", sh.admin, 400, "invalid_parameter"},
		{"slashes", path + "2026/12/06", sh.admin, 400, "invalid_parameter"},
		{"a time", path + "2026-12-06T00:00:00Z", sh.admin, 400, "invalid_parameter"},
		{"tomorrow", path + tomorrow, sh.admin, 400, "invalid_parameter"},
		{"the day after tomorrow", path + later, sh.admin, 400, "invalid_parameter"},
		{"operator", path + today, sh.staff, 403, "forbidden"},
		{"buyer", path + today, sh.buyer, 403, "forbidden"},
		{"no token", path + today, "", 401, "missing_token"},
		{"bad token", path + today, "not.a.token", 401, "invalid_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sh.s.Do("GET", c.query, c.token, nil)
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), c.status, c.code, r.Body)
			}
		})
	}
}

// A provider whose bill cannot be had fails the reconciliation as 503 payment_provider_error:
// Alipay has no bill for a day without trades.
func TestReconciliationProviderFails(t *testing.T) {
	sh, _ := alipayShop(t)
	r := sh.s.Do("GET", "/api/v1/admin/payments/reconciliation?date=2020-01-01", sh.admin, nil)
	if r.Status != 503 || r.ErrorCode() != "payment_provider_error" || !containsAll(string(r.Body), "alipay", "2020-01-01") {
		t.Fatalf("got %d %s, want 503 payment_provider_error naming the provider and the day", r.Status, r.Body)
	}
}
