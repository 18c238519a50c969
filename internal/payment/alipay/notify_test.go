package alipay_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/alipay/alipaytest"
)

func TestParseNotifyOfAPayment(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()
	notification := paidTrade(t, gateway, p, "N1", 123456)
	if notification.URL != "https://shop.example/api/v1/payments/notify/alipay" {
		t.Errorf("notify URL = %q", notification.URL)
	}

	notice, err := p.ParseNotify(ctx, notification.Header, notification.Body)
	if err != nil {
		t.Fatalf("ParseNotify: %v", err)
	}
	queried, err := p.Query(ctx, "N1")
	if err != nil {
		t.Fatal(err)
	}
	want := payment.Notice{
		Kind:          payment.NoticeTrade,
		OutTradeNo:    "N1",
		TransactionID: queried.TransactionID,
		State:         payment.TradeSuccess,
		Amount:        123456,
		PaidAt:        gatewayNow,
		AppID:         gateway.AppID,
	}
	if !notice.PaidAt.Equal(want.PaidAt) {
		t.Errorf("PaidAt = %s, want %s", notice.PaidAt, want.PaidAt)
	}
	notice.PaidAt = want.PaidAt
	if notice != want {
		t.Errorf("notice = %+v\nwant     %+v", notice, want)
	}
}

func TestParseNotifyTradeStates(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	paidTrade(t, gateway, p, "S1", 100)
	unpaid := prepay(t, p, payment.AlipayWap, "S2", 100)
	if err := gateway.Open(unpaid.PayURL); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		outTradeNo string
		status     string
		want       payment.TradeState
	}{
		{"S2", alipaytest.StatusWaitBuyerPay, payment.TradePending},
		{"S1", alipaytest.StatusSuccess, payment.TradeSuccess},
		{"S1", alipaytest.StatusFinished, payment.TradeSuccess},
		{"S2", alipaytest.StatusClosed, payment.TradeClosed},
		// Closed after a payment is Alipay's word for fully refunded.
		{"S1", alipaytest.StatusClosed, payment.TradeSuccess},
	}
	for _, tt := range tests {
		notification, err := gateway.TradeNotify(tt.outTradeNo, alipaytest.WithStatus(tt.status))
		if err != nil {
			t.Fatal(err)
		}
		notice, err := p.ParseNotify(context.Background(), notification.Header, notification.Body)
		if err != nil {
			t.Errorf("%s %s: %v", tt.outTradeNo, tt.status, err)
			continue
		}
		if notice.State != tt.want {
			t.Errorf("%s %s: state %s, want %s", tt.outTradeNo, tt.status, notice.State, tt.want)
		}
	}
}

func TestParseNotifyOfARefund(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()
	paidTrade(t, gateway, p, "NR1", 1000)
	for _, outRefundNo := range []string{"NR1-1", "NR1-2"} {
		if _, err := p.Refund(ctx, payment.RefundRequest{OutTradeNo: "NR1", OutRefundNo: outRefundNo, Total: 1000, Amount: 500}); err != nil {
			t.Fatal(err)
		}
	}
	queried, err := p.Query(ctx, "NR1")
	if err != nil {
		t.Fatal(err)
	}
	for _, outRefundNo := range []string{"NR1-1", "NR1-2"} {
		notification, err := gateway.RefundNotify("NR1", outRefundNo)
		if err != nil {
			t.Fatal(err)
		}
		notice, err := p.ParseNotify(ctx, notification.Header, notification.Body)
		if err != nil {
			t.Fatalf("ParseNotify %s: %v", outRefundNo, err)
		}
		want := payment.Notice{
			Kind:          payment.NoticeRefund,
			OutTradeNo:    "NR1",
			TransactionID: queried.TransactionID,
			OutRefundNo:   outRefundNo,
			RefundState:   payment.RefundSucceeded,
			AppID:         gateway.AppID,
		}
		if notice != want {
			t.Errorf("notice = %+v\nwant     %+v", notice, want)
		}
	}
}

// changeField rewrites one field of a signed notify body without signing it again.
func changeField(t *testing.T, body []byte, key, value string) []byte {
	t.Helper()
	values, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if value == "" {
		values.Del(key)
	} else {
		values.Set(key, value)
	}
	return []byte(values.Encode())
}

func TestParseNotifyRejects(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()
	paid := paidTrade(t, gateway, p, "X1", 100)
	if _, err := p.Refund(ctx, payment.RefundRequest{OutTradeNo: "X1", OutRefundNo: "X1-1", Total: 100, Amount: 10}); err != nil {
		t.Fatal(err)
	}
	strangerKey := generateKey(t, 2048)

	signed := func(opts ...alipaytest.NotifyOption) []byte {
		t.Helper()
		notification, err := gateway.TradeNotify("X1", opts...)
		if err != nil {
			t.Fatal(err)
		}
		return notification.Body
	}
	signedRefund := func(opts ...alipaytest.NotifyOption) []byte {
		t.Helper()
		notification, err := gateway.RefundNotify("X1", "X1-1", opts...)
		if err != nil {
			t.Fatal(err)
		}
		return notification.Body
	}

	tests := []struct {
		name string
		body []byte
		why  string
	}{
		{"amount changed after signing", changeField(t, paid.Body, "total_amount", "0.01"), "signature"},
		{"status changed after signing", changeField(t, paid.Body, "trade_status", "TRADE_FINISHED"), "signature"},
		{"signed with another key", signed(alipaytest.WithSigningKey(strangerKey)), "signature"},
		{"signed by Alipay for another app", signed(alipaytest.WithAppID("2021000000000000")), "app_id"},
		{"amount with three decimals", signed(alipaytest.WithField("total_amount", "1.001")), "total_amount"},
		{"amount not a number", signed(alipaytest.WithField("total_amount", "1e2")), "total_amount"},
		{"amount zero", signed(alipaytest.WithAmount(0)), "total_amount"},
		{"amount missing", signed(alipaytest.WithField("total_amount", "")), "total_amount"},
		{"unknown status", signed(alipaytest.WithStatus("TRADE_PENDING")), "trade_status"},
		{"payment time malformed", signed(alipaytest.WithField("gmt_payment", "2025/03/14")), "gmt_payment"},
		{"no out_trade_no", signed(alipaytest.WithOutTradeNo("")), "out_trade_no"},
		{"no trade_no", signed(alipaytest.WithField("trade_no", "")), "trade_no"},
		{"refund fee malformed", signedRefund(alipaytest.WithField("refund_fee", "0.1.0")), "refund_fee"},
		{"certificate mode", signed(alipaytest.WithField("alipay_cert_sn", "0123456789abcdef")), "certificate"},
		{"unsigned", changeField(t, paid.Body, "sign", ""), "not signed"},
		{"sign not base64", changeField(t, paid.Body, "sign", "!!!"), "signature"},
		{"repeated field", append(append([]byte(nil), paid.Body...), "&total_amount=1.00"...), "appears 2 times"},
		{"not a form", []byte("%zz"), "not a form"},
		{"empty", nil, "not signed"},
		{"json", []byte(`{"trade_status":"TRADE_SUCCESS"}`), "not signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notice, err := p.ParseNotify(ctx, http.Header{}, tt.body)
			if !errors.Is(err, payment.ErrNotifyRejected) {
				t.Fatalf("ParseNotify = %+v, %v; want ErrNotifyRejected", notice, err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

func TestAcknowledge(t *testing.T) {
	t.Parallel()
	_, p := newGateway(t)
	tests := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"accepted", nil, http.StatusOK, "success"},
		{"rejected", payment.ErrNotifyRejected, http.StatusBadRequest, "fail"},
		{"not recorded", errors.New("database is down"), http.StatusInternalServerError, "fail"},
	}
	for _, tt := range tests {
		recorder := httptest.NewRecorder()
		p.Acknowledge(recorder, tt.err)
		if recorder.Code != tt.status || recorder.Body.String() != tt.body {
			t.Errorf("%s: %d %q, want %d %q", tt.name, recorder.Code, recorder.Body.String(), tt.status, tt.body)
		}
		if contentType := recorder.Header().Get("Content-Type"); !strings.HasPrefix(contentType, "text/plain") {
			t.Errorf("%s: Content-Type %q", tt.name, contentType)
		}
	}
}

func TestDeliverPostsTheNotifyToTheShop(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	notices := make(chan payment.Notice, 1)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		notice, err := p.ParseNotify(r.Context(), r.Header, body)
		if err == nil {
			notices <- notice
		}
		p.Acknowledge(w, err)
	}))
	t.Cleanup(shop.Close)

	instructions, err := p.Prepay(context.Background(), payment.PrepayRequest{
		Method: payment.AlipayQR, OutTradeNo: "D1", Amount: 100, NotifyURL: shop.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := gateway.Scan(instructions.CodeURL); err != nil {
		t.Fatal(err)
	}
	notification, err := gateway.Pay("D1")
	if err != nil {
		t.Fatal(err)
	}
	status, body, err := gateway.Deliver(context.Background(), notification)
	if err != nil || status != http.StatusOK || string(body) != "success" {
		t.Errorf("Deliver = %d %q %v", status, body, err)
	}
	select {
	case notice := <-notices:
		if notice.OutTradeNo != "D1" || notice.State != payment.TradeSuccess {
			t.Errorf("the shop saw %+v", notice)
		}
	default:
		t.Error("the shop accepted no notice")
	}
}

// FuzzParseNotify feeds ParseNotify mangled notifies. Inputs that reach the RSA check are
// slow under the fuzzer's instrumentation, and minimizing one may take the default 60 s:
// run it with a short -fuzzminimizetime, e.g.
//
//	go test -run '^$' -fuzz FuzzParseNotify -fuzztime 20s -fuzzminimizetime 2s
func FuzzParseNotify(f *testing.F) {
	gateway := alipaytest.New(f)
	p := newProviderFor(f, gateway)
	ctx := context.Background()
	if _, err := p.Prepay(ctx, payment.PrepayRequest{Method: payment.AlipayQR, OutTradeNo: "F1", Amount: 1000, NotifyURL: "https://shop.example/notify"}); err != nil {
		f.Fatal(err)
	}
	paid, err := gateway.Pay("F1")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := p.Refund(ctx, payment.RefundRequest{OutTradeNo: "F1", OutRefundNo: "F1-1", Total: 1000, Amount: 1}); err != nil {
		f.Fatal(err)
	}
	refund, err := gateway.RefundNotify("F1", "F1-1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(paid.Body)
	f.Add(refund.Body)
	f.Add([]byte("sign=AAAA&app_id=" + gateway.AppID))
	f.Add([]byte("%"))
	f.Fuzz(func(t *testing.T, body []byte) {
		notice, err := p.ParseNotify(ctx, http.Header{}, body)
		if err != nil {
			if !errors.Is(err, payment.ErrNotifyRejected) {
				t.Fatalf("error %v does not wrap ErrNotifyRejected", err)
			}
			return
		}
		if notice.AppID != gateway.AppID || notice.OutTradeNo == "" || notice.TransactionID == "" {
			t.Fatalf("accepted notice %+v", notice)
		}
		switch notice.Kind {
		case payment.NoticeTrade:
			if notice.Amount <= 0 || notice.State == "" {
				t.Fatalf("accepted trade notice %+v", notice)
			}
		case payment.NoticeRefund:
			if notice.OutRefundNo == "" || notice.RefundState != payment.RefundSucceeded {
				t.Fatalf("accepted refund notice %+v", notice)
			}
		default:
			t.Fatalf("accepted notice of kind %q", notice.Kind)
		}
	})
}
