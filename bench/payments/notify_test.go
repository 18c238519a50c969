// Package payments benchmarks notify handling — verify, record, write the event — through
// the whole app in process (the HTTP handler chain, SQLite, the relay and the consumers
// running behind it), against GET /healthz through the same chain in the same run.
//
//	go test -run XXX -bench Notify -benchtime 4000x ./bench/payments/
//
// -benchtime must be a count (Nx): each first-notify row prepares that many paid-at-the-
// provider orders before its timer starts.
package payments_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/user"
)

// parallelism × GOMAXPROCS requests are in flight at once, as from a provider's many
// connections.
const parallelism = 8

type signedNotify struct {
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

func newBench(b *testing.B) *bench {
	s := apptest.Start(b, map[string]string{"MINIMART_DEMO": "0", "MINIMART_PAYMENT_QUERY_AFTER": "1h"})
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

// paidAtProvider makes n orders with sandbox payments the buyer has paid at the sandbox,
// and returns each one's signed success notify, not yet sent.
func (bn *bench) paidAtProvider(b *testing.B, n int) []signedNotify {
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
			Method: payment.SandboxPay, IdempotencyKey: fmt.Sprint("p", k)}); err != nil {
			b.Fatal(err)
		}
		if _, err := bn.s.App.DB.Write().ExecContext(ctx, "UPDATE sandbox_trades SET status = 'success', paid_at = ? WHERE out_trade_no = ?",
			time.Now().UTC(), o.OrderNo); err != nil {
			b.Fatal(err)
		}
		body := fmt.Sprintf(`{"kind":"trade","out_trade_no":%q,"transaction_id":"SBX%d","state":"success","amount":%d,"paid_at":%q}`,
			o.OrderNo, k, o.Payable, time.Now().UTC().Format(time.RFC3339Nano))
		out[i] = signedNotify{header: bn.s.App.Sandbox.Sign([]byte(body), time.Now()), body: body}
	}
	return out
}

func (bn *bench) send(b *testing.B, n signedNotify) {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/payments/notify/sandbox", strings.NewReader(n.body))
	req.Header = n.header.Clone()
	rec := httptest.NewRecorder()
	bn.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
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
	bn := newBench(b)
	b.Run("baseline_healthz", func(b *testing.B) {
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
	})
	b.Run("sandbox_first", func(b *testing.B) {
		notifies := bn.paidAtProvider(b, b.N)
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
	})
	b.Run("sandbox_duplicate", func(b *testing.B) {
		dup := bn.paidAtProvider(b, 1)[0]
		bn.send(b, dup)
		b.SetParallelism(parallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bn.send(b, dup)
			}
		})
		perSecond(b, "notifies/s")
	})
}
