package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment/alipay/alipaytest"
)

// testConsole drives the merchant console's dashboard reads: the order summary, the
// low-stock list, the payment reconciliation and a buyer's detail. admin and operator are
// staff tokens, buyer a buyer's token and buyerID that buyer's id. The shop holds what the
// earlier subtests made: orders, payments through the sandbox, stock.
func testConsole(t *testing.T, h *harness, admin, operator, buyer, buyerID string) {
	const get = http.MethodGet

	t.Run("order summary", func(t *testing.T) {
		const path = "/api/v1/admin/orders/summary"
		s := decode[struct {
			Days []struct{ Orders int }
		}](t, h.do(t, "a week", call{method: get, path: path, token: operator, want: 200}))
		placed := 0
		for _, d := range s.Days {
			placed += d.Orders
		}
		if len(s.Days) != 7 || placed == 0 {
			t.Errorf("summary = %+v, want 7 days holding the orders placed so far", s)
		}
		h.do(t, "ninety days", call{method: get, path: path + "?days=90", token: admin, want: 200})
		for _, days := range []string{"0", "91", "week"} {
			h.do(t, "days="+days, call{method: get, path: path + "?days=" + days, token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		}
		authErrors(t, h, get, path, nil, buyer)
	})

	t.Run("low stock", func(t *testing.T) {
		const path = "/api/v1/admin/stock/low"
		list := decode[struct {
			Threshold int64
			Items     []struct{ Available int64 }
		}](t, h.do(t, "everything", call{method: get, path: path + "?threshold=1000000&limit=200", token: operator, want: 200}))
		if list.Threshold != 1000000 || len(list.Items) == 0 {
			t.Errorf("low stock = %+v, want the shop's SKUs", list)
		}
		for i := 1; i < len(list.Items); i++ {
			if list.Items[i].Available < list.Items[i-1].Available {
				t.Errorf("not lowest first: %+v", list.Items)
			}
		}
		h.do(t, "defaults", call{method: get, path: path, token: admin, want: 200})
		for _, q := range []string{"threshold=-1", "threshold=1000001", "limit=0", "limit=201", "limit=many"} {
			h.do(t, q, call{method: get, path: path + "?" + q, token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		}
		authErrors(t, h, get, path, nil, buyer)
	})

	t.Run("reconciliation", func(t *testing.T) {
		const path = "/api/v1/admin/payments/reconciliation"
		china := time.FixedZone("CST", 8*3600)
		today := time.Now().In(china).Format(time.DateOnly)
		rec := decode[struct {
			Date       string
			Matched    int
			Mismatches []any
		}](t, h.do(t, "today", call{method: get, path: path + "?date=" + today, token: admin, want: 200}))
		if rec.Date != today || rec.Matched == 0 {
			t.Errorf("reconciliation = %+v, want today's sandbox payments matched", rec)
		}
		later := time.Now().In(china).AddDate(0, 0, 2).Format(time.DateOnly)
		h.do(t, "a day not begun", call{method: get, path: path + "?date=" + later, token: admin, want: 400, code: "invalid_parameter"})
		h.do(t, "no date", call{method: get, path: path, token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "not a date", call{method: get, path: path + "?date=2026%2F12%2F06", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "operator", call{method: get, path: path + "?date=" + today, token: operator, want: 403, code: "forbidden"})
		authErrors(t, h, get, path+"?date="+today, nil, buyer)

		// A shop taking Alipay, played by a local fake gateway, which has no bill for a day
		// without trades: the provider fails the reconciliation.
		fake := alipaytest.New(t)
		dir := t.TempDir()
		keyFile, pubFile := filepath.Join(dir, "app_private.pem"), filepath.Join(dir, "alipay_public.pem")
		for path, pem := range map[string]string{keyFile: fake.AppPrivateKeyPEM, pubFile: fake.AlipayPublicKeyPEM} {
			if err := os.WriteFile(path, []byte(pem), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		alipay := newHarness(t, h.c, map[string]string{"MINIMART_ALIPAY_APPID": fake.AppID, "MINIMART_ALIPAY_PRIVATE_KEY_FILE": keyFile,
			"MINIMART_ALIPAY_PUBLIC_KEY_FILE": pubFile, "MINIMART_ALIPAY_GATEWAY": fake.URL})
		if _, err := alipay.app.Users.CreateStaff(t.Context(), "reconciler", "Ledger-2026", "admin"); err != nil {
			t.Fatal(err)
		}
		login := decode[staffLogin](t, alipay.do(t, "log in to the Alipay shop", call{method: http.MethodPost, path: "/api/v1/admin/auth/login",
			body: map[string]any{"username": "reconciler", "password": "Ledger-2026"}, want: 200}))
		alipay.do(t, "Alipay without the day's bill", call{method: get, path: path + "?date=2020-01-01", token: login.Tokens.AccessToken,
			want: 503, code: "payment_provider_error"})
	})

	t.Run("buyer detail", func(t *testing.T) {
		const path = "/api/v1/admin/users/"
		u := decode[struct {
			ID        string
			Addresses []any
		}](t, h.do(t, "buyer", call{method: get, path: path + buyerID, token: admin, want: 200}))
		if u.ID != buyerID || len(u.Addresses) == 0 {
			t.Errorf("buyer = %+v, want %s with addresses", u, buyerID)
		}
		h.do(t, "unknown", call{method: get, path: path + "123", token: admin, want: 404, code: "user_not_found"})
		h.do(t, "bad id", call{method: get, path: path + "abc", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "operator", call{method: get, path: path + buyerID, token: operator, want: 403, code: "forbidden"})
		authErrors(t, h, get, path+buyerID, nil, buyer)
	})
}
