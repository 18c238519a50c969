package sandbox_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/sandbox"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

func newSandbox(t testing.TB) *sandbox.Provider {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "fixed seed for the sandbox tests")
	p := sandbox.New(sqldbtest.SQLite(t, sandbox.Migrations), ed25519.NewKeyFromSeed(seed),
		func() string { return "http://127.0.0.1:1" }, slog.New(slog.DiscardHandler))
	return p
}

const validBody = `{"kind":"trade","out_trade_no":"20261122000000000001","transaction_id":"SBX1","state":"success","amount":3500,"paid_at":"2026-11-22T08:00:00Z"}`

func TestParseNotify(t *testing.T) {
	p := newSandbox(t)
	n, err := p.ParseNotify(context.Background(), p.Sign([]byte(validBody), time.Now()), []byte(validBody))
	if err != nil || n.OutTradeNo != "20261122000000000001" || n.Amount != 3500 || n.State != payment.TradeSuccess ||
		n.Kind != payment.NoticeTrade || !n.PaidAt.Equal(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("valid notify: %+v %v", n, err)
	}
	refund := `{"kind":"refund","out_trade_no":"1","transaction_id":"","amount":5,"out_refund_no":"R1","refund_id":"SBR1","refund_state":"succeeded"}`
	if n, err := p.ParseNotify(context.Background(), p.Sign([]byte(refund), time.Now()), []byte(refund)); err != nil ||
		n.Kind != payment.NoticeRefund || n.RefundState != payment.RefundSucceeded || n.OutRefundNo != "R1" {
		t.Fatalf("refund notify: %+v %v", n, err)
	}
	for name, body := range map[string]string{
		"unknown field":        `{"kind":"trade","out_trade_no":"1","state":"success","amount":1,"x":1}`,
		"unknown state":        `{"kind":"trade","out_trade_no":"1","state":"maybe","amount":1}`,
		"unknown kind":         `{"kind":"gift","out_trade_no":"1","amount":1}`,
		"no trade number":      `{"kind":"trade","state":"success","amount":1}`,
		"refund without state": `{"kind":"refund","out_trade_no":"1","out_refund_no":"R","amount":1}`,
		"not json":             `kind=trade`,
	} {
		if _, err := p.ParseNotify(context.Background(), p.Sign([]byte(body), time.Now()), []byte(body)); !errors.Is(err, payment.ErrNotifyRejected) {
			t.Errorf("%s: %v, want rejected", name, err)
		}
	}
	h := p.Sign([]byte(validBody), time.Now().Add(6*time.Minute))
	if _, err := p.ParseNotify(context.Background(), h, []byte(validBody)); !errors.Is(err, payment.ErrNotifyRejected) {
		t.Errorf("future timestamp: %v", err)
	}
}

// FuzzParseNotify: any headers and body either verify into a notice or are rejected with
// ErrNotifyRejected; nothing panics. A valid signature over a fuzzed body reaches the
// decoder, so both halves are explored.
func FuzzParseNotify(f *testing.F) {
	p := newSandbox(f)
	good := p.Sign([]byte(validBody), time.Now())
	f.Add(good.Get(sandbox.HeaderTimestamp), good.Get(sandbox.HeaderNonce), good.Get(sandbox.HeaderSignature), validBody, false)
	f.Add("1", "n", "c2ln", `{}`, true)
	f.Add("", "", "", ``, true)
	f.Fuzz(func(t *testing.T, ts, nonce, sig, body string, resign bool) {
		h := http.Header{}
		h.Set(sandbox.HeaderTimestamp, ts)
		h.Set(sandbox.HeaderNonce, nonce)
		h.Set(sandbox.HeaderSignature, sig)
		if resign {
			h = p.Sign([]byte(body), time.Now())
		}
		n, err := p.ParseNotify(context.Background(), h, []byte(body))
		if err != nil {
			if !errors.Is(err, payment.ErrNotifyRejected) {
				t.Fatalf("error is not a rejection: %v", err)
			}
			return
		}
		if n.OutTradeNo == "" || (n.Kind != payment.NoticeTrade && n.Kind != payment.NoticeRefund) {
			t.Fatalf("accepted a notice without a trade number or kind: %+v", n)
		}
		if !resign && !strings.Contains(body, n.OutTradeNo) {
			t.Fatalf("notice %+v does not come from the body", n)
		}
	})
}
