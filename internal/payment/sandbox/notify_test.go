package sandbox_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/sandbox"
	"github.com/minimart/minimart/internal/platform/liveness"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// shop is a notify endpoint that verifies each notify and counts the ones it accepted;
// it refuses the first `refuse` tries.
type shop struct {
	p        *sandbox.Provider
	refuse   atomic.Int32
	mu       sync.Mutex
	accepted []payment.Notice
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n, err := s.p.ParseNotify(r.Context(), r.Header, body)
	if err != nil || s.refuse.Add(-1) >= 0 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.accepted = append(s.accepted, n)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *shop) notices() []payment.Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]payment.Notice(nil), s.accepted...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func owed(t *testing.T, db *sqldb.DB) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM sandbox_notifies").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// run starts a sender on its own instance until the test ends, and returns a stop.
func run(t *testing.T, db *sqldb.DB, p *sandbox.Provider) (stop func()) {
	inst, err := liveness.Register(context.Background(), db, liveness.Options{Every: 20 * time.Millisecond, StaleAfter: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { inst.Run(ctx) })
	wg.Go(func() { p.RunNotifier(ctx, inst) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// TestNotifiesAreDurable: paying writes the notify with the payment, so a sandbox that was
// stopped right after the cashier answered "Paid" — with nothing sent — delivers it once it
// runs again; a refused notify is retried; a refund settles when its notify goes.
func TestNotifiesAreDurable(t *testing.T) {
	sqldbtest.ForEachEngine(t, []sqldb.Migrations{liveness.Migrations, sandbox.Migrations}, func(t *testing.T, db *sqldb.DB) {
		seed := make([]byte, ed25519.SeedSize)
		copy(seed, "fixed seed for the sandbox tests")
		p := sandbox.New(db, ed25519.NewKeyFromSeed(seed), func() string { return "http://shop.example" }, slog.New(slog.DiscardHandler))
		sh := &shop{p: p}
		srv := httptest.NewServer(sh)
		t.Cleanup(srv.Close)
		ctx := context.Background()
		in, err := p.Prepay(ctx, payment.PrepayRequest{OutTradeNo: "T1", Amount: 3500, Description: "茶", NotifyURL: srv.URL,
			ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil || !strings.Contains(in.PayURL, "/sandbox/pay/T1/") {
			t.Fatalf("prepay: %+v %v", in, err)
		}

		// No sender runs: the cashier's "Paid" stands on the written notify alone.
		if tr, err := p.Pay(ctx, "T1"); err != nil || tr.Status != "success" {
			t.Fatalf("pay: %+v %v", tr, err)
		}
		if _, err := p.Pay(ctx, "T1"); err != nil {
			t.Fatalf("pay again: %v", err)
		}
		if n := owed(t, db); n != 1 {
			t.Fatalf("%d notifies owed after paying twice, want 1", n)
		}

		sh.refuse.Store(1) // the shop fails the first try: it is retried
		stop := run(t, db, p)
		waitFor(t, "the notify delivered after a refusal", func() bool { return len(sh.notices()) == 1 && owed(t, db) == 0 })
		if n := sh.notices()[0]; n.OutTradeNo != "T1" || n.State != payment.TradeSuccess || n.Amount != 3500 {
			t.Fatalf("delivered %+v", n)
		}

		r, err := p.Refund(ctx, payment.RefundRequest{OutTradeNo: "T1", OutRefundNo: "R1", Amount: 1000, NotifyURL: srv.URL})
		if err != nil || r.State != payment.RefundPending {
			t.Fatalf("refund: %+v %v", r, err)
		}
		waitFor(t, "the refund settled and notified", func() bool { return len(sh.notices()) == 2 })
		if got, err := p.QueryRefund(ctx, "T1", "R1"); err != nil || got.State != payment.RefundSucceeded {
			t.Fatalf("refund after its notify: %+v %v", got, err)
		}
		stop()
		if n := len(sh.notices()); n != 2 {
			t.Fatalf("%d notices, want each once", n)
		}
	})
}

// TestNotifyClaimOfDeadInstance: a notify claimed by an instance that died (kill -9 while
// sending) is sent by the next one at once, not when the claim would have run out.
func TestNotifyClaimOfDeadInstance(t *testing.T) {
	sqldbtest.ForEachEngine(t, []sqldb.Migrations{liveness.Migrations, sandbox.Migrations}, func(t *testing.T, db *sqldb.DB) {
		seed := make([]byte, ed25519.SeedSize)
		p := sandbox.New(db, ed25519.NewKeyFromSeed(seed), func() string { return "http://shop.example" }, slog.New(slog.DiscardHandler))
		sh := &shop{p: p}
		srv := httptest.NewServer(sh)
		t.Cleanup(srv.Close)
		ctx := context.Background()
		if _, err := p.Prepay(ctx, payment.PrepayRequest{OutTradeNo: "T2", Amount: 100, NotifyURL: srv.URL, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Pay(ctx, "T2"); err != nil {
			t.Fatal(err)
		}
		held := time.Now().Add(time.Hour).UTC()
		if _, err := db.Write().ExecContext(ctx, "UPDATE sandbox_notifies SET claimed_by = 'died', claimed_until = ?", held); err != nil {
			t.Fatal(err)
		}
		run(t, db, p)
		waitFor(t, "the dead instance's notify sent", func() bool { return len(sh.notices()) == 1 })
	})
}
