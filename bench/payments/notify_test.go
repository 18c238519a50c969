// Package payments benchmarks notify handling — verify, record, write the event — through
// the whole app in process (the HTTP handler chain, SQLite, the relay and the consumers
// running behind it), against GET /healthz through the same chain in the same run.
//
//	MINIMART_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//	    go test -run XXX -bench Notify -benchtime 4000x ./bench/payments/
//
// -benchtime must be a count (Nx): each first-notify row prepares that many paid-at-the-
// provider orders before its timer starts. The WeChat rows run against a local fake of
// WeChat Pay that signs with keys generated for the run.
package payments_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/wechatpay/wechatpaytest"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/user"
)

// parallelism × GOMAXPROCS requests are in flight at once, as from a provider's many
// connections.
const parallelism = 8

type signedNotify struct {
	path   string
	header http.Header
	body   string
}

// bench is a running shop with one SKU of plenty of stock and one buyer.
type bench struct {
	s       *apptest.Server
	h       http.Handler
	sku     ids.ID
	buyer   ids.ID
	address ids.ID
	seq     atomic.Int64
}

func newBench(b *testing.B, env map[string]string) *bench {
	env["MINIMART_DEMO"], env["MINIMART_PAYMENT_QUERY_AFTER"] = "0", "1h"
	s := apptest.Start(b, env)
	ctx := context.Background()
	staff := s.StaffToken("ops", "operator")
	var cat, prod map[string]any
	s.Do("POST", "/api/v1/admin/categories", staff, map[string]any{"name": "茶"}).Decode(b, &cat)
	s.Do("POST", "/api/v1/admin/products", staff, map[string]any{"category_id": cat["id"], "title": "普洱",
		"specs": []map[string]any{{"name": "规格", "values": []string{"357g"}}},
		"skus":  []map[string]any{{"specs": map[string]string{"规格": "357g"}, "price": 9900}}, "on_shelf": true}).Decode(b, &prod)
	sku, _ := ids.Parse(prod["skus"].([]any)[0].(map[string]any)["id"].(string))
	if r := s.Do("PUT", "/api/v1/admin/skus/"+sku.String()+"/stock", staff, map[string]any{"stock": 10_000_000}); r.Status != 200 {
		b.Fatal(r.Status, string(r.Body))
	}
	u, _, err := s.App.Users.Register(ctx, user.RegisterInput{Username: "bench", Password: "passw0rd-ok"})
	if err != nil {
		b.Fatal(err)
	}
	yes := true
	a, err := s.App.Users.CreateAddress(ctx, u.ID, user.AddressInput{Recipient: "王五", Phone: "13700000000",
		Province: "云南省", City: "普洱市", District: "思茅区", Detail: "茶城 1 号", IsDefault: &yes})
	if err != nil {
		b.Fatal(err)
	}
	return &bench{s: s, h: s.App.Handler(), sku: sku, buyer: u.ID, address: a.ID}
}

// payAtProvider is a buyer paying an order at the provider; it returns the provider's
// signed success notify, not yet sent.
type payAtProvider func(b *testing.B, o order.Order, k int64) signedNotify

// paidOrders makes n orders with payments by method that the buyer has paid at the
// provider, and returns each one's notify.
func (bn *bench) paidOrders(b *testing.B, n int, method payment.Method, pay payAtProvider) []signedNotify {
	ctx := context.Background()
	out := make([]signedNotify, n)
	for i := range out {
		k := bn.seq.Add(1)
		o, _, err := bn.s.App.Orders.Create(ctx, order.CreateInput{UserID: bn.buyer, AddressID: bn.address,
			Items: []order.LineRef{{SKUID: bn.sku, Quantity: 1}}, IdempotencyKey: fmt.Sprint("o", k), RequestHash: fmt.Sprint(k)})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := bn.s.App.Payments.Initiate(ctx, payment.InitiateInput{UserID: bn.buyer, OrderID: o.ID,
			Method: method, IdempotencyKey: fmt.Sprint("p", k)}); err != nil {
			b.Fatal(err)
		}
		out[i] = pay(b, o, k)
	}
	return out
}

func (bn *bench) paySandbox(b *testing.B, o order.Order, k int64) signedNotify {
	if _, err := bn.s.App.DB.Write().Exec("UPDATE sandbox_trades SET status = 'success', paid_at = ? WHERE out_trade_no = ?",
		time.Now().UTC(), o.OrderNo); err != nil {
		b.Fatal(err)
	}
	body := fmt.Sprintf(`{"kind":"trade","out_trade_no":%q,"transaction_id":"SBX%d","state":"success","amount":%d,"paid_at":%q}`,
		o.OrderNo, k, o.Payable, time.Now().UTC().Format(time.RFC3339Nano))
	return signedNotify{path: "/api/v1/payments/notify/sandbox", header: bn.s.App.Sandbox.Sign([]byte(body), time.Now()), body: body}
}

func (bn *bench) send(b *testing.B, n signedNotify) {
	req := httptest.NewRequest(http.MethodPost, n.path, strings.NewReader(n.body))
	req.Header = n.header.Clone()
	rec := httptest.NewRecorder()
	bn.h.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		b.Fatalf("notify answered %d %s", rec.Code, rec.Body)
	}
}

// drain waits for the consumers to catch up with the events a row wrote.
func (bn *bench) drain(b *testing.B) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n, err := bn.s.App.PendingEvents(context.Background())
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d events still pending", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func perSecond(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func BenchmarkNotify(b *testing.B) {
	bn := newBench(b, map[string]string{})
	b.Run("baseline_healthz", bn.healthz)
	b.Run("sandbox_first", func(b *testing.B) { bn.first(b, payment.SandboxPay, bn.paySandbox) })
	b.Run("sandbox_duplicate", func(b *testing.B) { bn.duplicate(b, payment.SandboxPay, bn.paySandbox) })

	// WeChat Pay's own verification: SHA256-RSA2048 over the body, AES-256-GCM resource.
	fake := wechatpaytest.New(b)
	wb := newBench(b, wechatEnv(b, fake))
	payWeChat := func(b *testing.B, o order.Order, _ int64) signedNotify {
		n, err := fake.Pay(o.OrderNo)
		if err != nil {
			b.Fatal(err)
		}
		return signedNotify{path: "/api/v1/payments/notify/wechat", header: n.Header, body: string(n.Body)}
	}
	b.Run("wechat_first", func(b *testing.B) { wb.first(b, payment.WeChatNative, payWeChat) })
	b.Run("wechat_duplicate", func(b *testing.B) { wb.duplicate(b, payment.WeChatNative, payWeChat) })

	// The production database (skipped without MINIMART_TEST_MYSQL_URL).
	mb := newBench(b, map[string]string{"MINIMART_DB_URL": sqldbtest.MySQLDatabaseURL(b),
		"MINIMART_JWT_SECRET": strings.Repeat("b", 32)})
	b.Run("mariadb_sandbox_first", func(b *testing.B) { mb.first(b, payment.SandboxPay, mb.paySandbox) })
	b.Run("mariadb_sandbox_duplicate", func(b *testing.B) { mb.duplicate(b, payment.SandboxPay, mb.paySandbox) })
}

func (bn *bench) healthz(b *testing.B) {
	b.SetParallelism(parallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			bn.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("healthz %d", rec.Code)
			}
		}
	})
	perSecond(b, "req/s")
}

// first sends b.N different success notifies: each is verified, recorded and applied
// (payment succeeded + payment.succeeded in one transaction), and logged.
func (bn *bench) first(b *testing.B, method payment.Method, pay payAtProvider) {
	notifies := bn.paidOrders(b, b.N, method, pay)
	var next atomic.Int64
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bn.send(b, notifies[next.Add(1)-1])
		}
	})
	perSecond(b, "notifies/s")
	b.StopTimer()
	bn.drain(b)
}

// duplicate sends one already-applied notify b.N times: verified, answered success, logged.
func (bn *bench) duplicate(b *testing.B, method payment.Method, pay payAtProvider) {
	dup := bn.paidOrders(b, 1, method, pay)[0]
	bn.send(b, dup)
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bn.send(b, dup)
		}
	})
	perSecond(b, "notifies/s")
	b.StopTimer()
	bn.drain(b)
}

func wechatEnv(b *testing.B, fake *wechatpaytest.Server) map[string]string {
	dir := b.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(fake.MerchantKey)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&fake.PlatformKey.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	keyFile, pubFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	for path, blk := range map[string]*pem.Block{keyFile: {Type: "PRIVATE KEY", Bytes: key}, pubFile: {Type: "PUBLIC KEY", Bytes: pub}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return map[string]string{"MINIMART_WECHATPAY_MCH_ID": fake.MchID, "MINIMART_WECHATPAY_APPID": fake.AppID,
		"MINIMART_WECHATPAY_MCH_SERIAL": fake.MchSerial, "MINIMART_WECHATPAY_PRIVATE_KEY_FILE": keyFile,
		"MINIMART_WECHATPAY_APIV3_KEY": fake.APIv3Key, "MINIMART_WECHATPAY_PUBLIC_KEY_ID": fake.PlatformKeyID,
		"MINIMART_WECHATPAY_PUBLIC_KEY_FILE": pubFile, "MINIMART_WECHATPAY_API_BASE": fake.URL}
}
