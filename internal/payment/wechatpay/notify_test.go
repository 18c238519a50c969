package wechatpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/wechatpay"
	"github.com/minimart/minimart/internal/payment/wechatpay/wechatpaytest"
)

func TestParseNotifyOfAPayment(t *testing.T) {
	fake, provider := setup(t)
	n := paid(t, fake, provider, "20240101000100", 4321)
	trade, _ := fake.TradeInfo("20240101000100")

	notice, err := provider.ParseNotify(t.Context(), n.Header, n.Body)
	if err != nil {
		t.Fatalf("ParseNotify: %v", err)
	}
	want := payment.Notice{
		Kind: payment.NoticeTrade, OutTradeNo: "20240101000100", TransactionID: trade.TransactionID,
		State: payment.TradeSuccess, Amount: 4321, PaidAt: trade.SuccessTime, AppID: fake.AppID,
	}
	if !notice.PaidAt.Equal(want.PaidAt) {
		t.Errorf("PaidAt = %v, want %v", notice.PaidAt, want.PaidAt)
	}
	notice.PaidAt, want.PaidAt = time.Time{}, time.Time{}
	if notice != want {
		t.Errorf("notice = %+v, want %+v", notice, want)
	}
	if n.URL != jsapiRequest("", 0).NotifyURL {
		t.Errorf("the notify goes to %q, want the prepay notify_url", n.URL)
	}
}

func TestParseNotifyRejectsForgeries(t *testing.T) {
	fake, provider := setup(t)
	paid(t, fake, provider, "20240101000101", 100)
	otherKey := generateKey(t)

	build := func(opts ...wechatpaytest.NotifyOption) func() (wechatpaytest.Notification, error) {
		return func() (wechatpaytest.Notification, error) { return fake.TradeNotify("20240101000101", opts...) }
	}
	for _, tc := range []struct {
		name   string
		build  func() (wechatpaytest.Notification, error)
		change func(*wechatpaytest.Notification)
	}{
		{name: "body changed after signing", build: build(), change: func(n *wechatpaytest.Notification) {
			n.Body = bytes.Replace(n.Body, []byte(`"summary":"`), []byte(`"summary":"!`), 1)
		}},
		{name: "signed with another key", build: build(wechatpaytest.WithSigningKey(otherKey))},
		{name: "six minutes old", build: build(wechatpaytest.WithTimestamp(time.Now().Add(-6 * time.Minute)))},
		{name: "six minutes ahead", build: build(wechatpaytest.WithTimestamp(time.Now().Add(6 * time.Minute)))},
		{name: "another key's serial", build: build(wechatpaytest.WithSerial("PUB_KEY_ID_0000000000000000000000000000"))},
		{name: "encrypted with another APIv3 key", build: build(wechatpaytest.WithAPIv3Key(strings.Repeat("k", 32)))},
		{name: "another merchant's payment", build: build(wechatpaytest.WithMchID("1900000000"))},
		{name: "no signature headers", build: build(), change: func(n *wechatpaytest.Notification) { n.Header = nil }},
		{name: "unknown signature type", build: build(), change: func(n *wechatpaytest.Notification) {
			n.Header.Set("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			if tc.change != nil {
				tc.change(&n)
			}
			notice, err := provider.ParseNotify(t.Context(), n.Header, n.Body)
			if !errors.Is(err, payment.ErrNotifyRejected) {
				t.Fatalf("ParseNotify = %+v, %v; want ErrNotifyRejected", notice, err)
			}
			if notice != (payment.Notice{}) {
				t.Errorf("a rejected notify returned %+v", notice)
			}
		})
	}

	// The same builder without a forgery passes, so each case above fails for its own reason.
	n, err := fake.TradeNotify("20240101000101")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.ParseNotify(t.Context(), n.Header, n.Body); err != nil {
		t.Errorf("the unforged notify: %v", err)
	}
}

func TestParseNotifyRejectsSignedButMalformedBodies(t *testing.T) {
	fake, provider := setup(t)
	for name, body := range map[string]string{
		"not JSON":              `{"event_type":`,
		"no resource":           `{"event_type":"TRANSACTION.SUCCESS"}`,
		"another algorithm":     `{"event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_128_GCM","nonce":"123456789012","ciphertext":""}}`,
		"short nonce":           `{"event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"short","ciphertext":"AAAA"}}`,
		"ciphertext not base64": `{"event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"123456789012","ciphertext":"%%%"}}`,
		"ciphertext too short":  `{"event_type":"TRANSACTION.SUCCESS","resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"123456789012","ciphertext":"AAAA"}}`,
	} {
		header, err := fake.SignedHeader([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if notice, err := provider.ParseNotify(t.Context(), header, []byte(body)); !errors.Is(err, payment.ErrNotifyRejected) {
			t.Errorf("%s: ParseNotify = %+v, %v; want ErrNotifyRejected", name, notice, err)
		}
	}
}

func TestParseNotifyReportsWhatThePayloadClaims(t *testing.T) {
	fake, provider := setup(t)
	paid(t, fake, provider, "20240101000102", 100)

	// Correctly signed claims the payment module must compare against its own records.
	n, err := fake.TradeNotify("20240101000102", wechatpaytest.WithAmount(1), wechatpaytest.WithOutTradeNo("20240101000999"))
	if err != nil {
		t.Fatal(err)
	}
	notice, err := provider.ParseNotify(t.Context(), n.Header, n.Body)
	if err != nil || notice.Amount != 1 || notice.OutTradeNo != "20240101000999" {
		t.Errorf("ParseNotify = %+v, %v; want the claimed amount 1 and out_trade_no", notice, err)
	}
}

func TestParseNotifyOfRefundStates(t *testing.T) {
	fake, provider := setup(t)
	for _, tc := range []struct {
		event, status string
		want          payment.RefundState
	}{
		{"REFUND.SUCCESS", "SUCCESS", payment.RefundSucceeded},
		{"REFUND.ABNORMAL", "ABNORMAL", payment.RefundFailed},
		{"REFUND.CLOSED", "CLOSED", payment.RefundFailed},
	} {
		resource := `{"mchid":"` + fake.MchID + `","out_trade_no":"20240101000103","transaction_id":"4200000001",` +
			`"out_refund_no":"R1","refund_id":"50000001","refund_status":"` + tc.status + `",` +
			`"amount":{"total":100,"refund":40,"payer_total":100,"payer_refund":40}}`
		n, err := fake.SignedNotify(tc.event, []byte(resource))
		if err != nil {
			t.Fatal(err)
		}
		notice, err := provider.ParseNotify(t.Context(), n.Header, n.Body)
		if err != nil {
			t.Fatalf("%s: %v", tc.event, err)
		}
		if notice.Kind != payment.NoticeRefund || notice.RefundState != tc.want || notice.Amount != 40 ||
			notice.OutRefundNo != "R1" || notice.RefundID != "50000001" || notice.OutTradeNo != "20240101000103" {
			t.Errorf("%s: notice = %+v, want refund R1 of 40 %s", tc.event, notice, tc.want)
		}
	}

	n, err := fake.SignedNotify("MCHTRANSFER.BILL.FINISHED", []byte(`{"mchid":"`+fake.MchID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.ParseNotify(t.Context(), n.Header, n.Body); !errors.Is(err, payment.ErrNotifyRejected) {
		t.Errorf("an event this adapter does not handle: error = %v, want ErrNotifyRejected", err)
	}
}

func TestAcknowledge(t *testing.T) {
	_, provider := setup(t)
	rejection := payment.ErrNotifyRejected.Withf("wechat pay notify: signature check failed")
	for _, tc := range []struct {
		name        string
		err         error
		wantStatus  int
		wantMessage string
	}{
		{"handled", nil, http.StatusNoContent, ""},
		{"rejected", rejection, http.StatusBadRequest, "wechat pay notify: signature check failed"},
		{"rejected, wrapped", errors.Join(errors.New("payment: notify"), rejection), http.StatusBadRequest, "wechat pay notify: signature check failed"},
		{"our failure", errors.New("database is locked at /var/lib/minimart"), http.StatusInternalServerError, "temporary failure, try again later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			provider.Acknowledge(rec, tc.err)
			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			if tc.err == nil {
				if rec.Body.Len() != 0 {
					t.Errorf("body = %q, want none", rec.Body)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if len(body) != 2 || body["code"] != "FAIL" || body["message"] != tc.wantMessage {
				t.Errorf("body = %v, want code FAIL and message %q", body, tc.wantMessage)
			}
		})
	}
}

// notifyEndpoint is the shop's notify URL in miniature: parse, then acknowledge.
func notifyEndpoint(t *testing.T, provider *wechatpay.Provider, notices chan<- payment.Notice) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			provider.Acknowledge(w, err)
			return
		}
		notice, err := provider.ParseNotify(r.Context(), r.Header, body)
		provider.Acknowledge(w, err)
		if err == nil {
			select {
			case notices <- notice:
			default: // a repeated notify; the test has what it needs
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDeliveredNotifyIsAcknowledged(t *testing.T) {
	fake, provider := setup(t)
	notices := make(chan payment.Notice, 1)
	endpoint := notifyEndpoint(t, provider, notices)
	req := jsapiRequest("20240101000104", 100)
	req.NotifyURL = endpoint.URL
	if _, err := provider.Prepay(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	n, err := fake.Pay(req.OutTradeNo)
	if err != nil {
		t.Fatal(err)
	}

	status, body, err := fake.Deliver(t.Context(), n)
	if err != nil || status != http.StatusNoContent || len(body) != 0 {
		t.Errorf("Deliver = %d %q %v; want 204 without body", status, body, err)
	}
	if notice := <-notices; notice.OutTradeNo != req.OutTradeNo || notice.State != payment.TradeSuccess {
		t.Errorf("endpoint saw %+v", notice)
	}

	forged, err := fake.TradeNotify(req.OutTradeNo, wechatpaytest.WithTimestamp(time.Now().Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	status, body, err = fake.Deliver(t.Context(), forged)
	if err != nil || status != http.StatusBadRequest || !bytes.Contains(body, []byte(`"code":"FAIL"`)) {
		t.Errorf("Deliver(stale) = %d %q %v; want 400 with code FAIL", status, body, err)
	}
}

func TestAutoCompletedRefundNotifiesInTheBackground(t *testing.T) {
	fake, provider := setup(t)
	fake.AutoCompleteRefunds = true
	notices := make(chan payment.Notice, 1)
	endpoint := notifyEndpoint(t, provider, notices)
	paid(t, fake, provider, "20240101000105", 900)

	result, err := provider.Refund(t.Context(), payment.RefundRequest{
		OutTradeNo: "20240101000105", OutRefundNo: "R20240101000105-1", Total: 900, Amount: 900, NotifyURL: endpoint.URL,
	})
	if err != nil || result.State != payment.RefundSucceeded {
		t.Fatalf("Refund = %+v, %v; want succeeded at once", result, err)
	}
	select {
	case notice := <-notices:
		if notice.Kind != payment.NoticeRefund || notice.RefundState != payment.RefundSucceeded || notice.RefundID != result.RefundID || notice.Amount != 900 {
			t.Errorf("refund notice = %+v", notice)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no refund notify arrived")
	}
}

// FuzzParseNotify feeds arbitrary headers and bodies, seeded with a real notify: whatever
// comes in, ParseNotify returns a notice or a rejection, and never panics.
func FuzzParseNotify(f *testing.F) {
	fake, provider := setup(f)
	if _, err := provider.Prepay(context.Background(), jsapiRequest("20240101000200", 100)); err != nil {
		f.Fatal(err)
	}
	n, err := fake.Pay("20240101000200")
	if err != nil {
		f.Fatal(err)
	}
	header := func(key string) string { return n.Header.Get(key) }
	f.Add(header("Wechatpay-Timestamp"), header("Wechatpay-Nonce"), header("Wechatpay-Signature"), header("Wechatpay-Serial"), n.Body)
	f.Add("0", "", "", fake.PlatformKeyID, []byte(`{"resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"short"}}`))
	f.Add("", "", "not base64", "", []byte(nil))

	f.Fuzz(func(t *testing.T, timestamp, nonce, signature, serial string, body []byte) {
		h := http.Header{}
		h.Set("Wechatpay-Timestamp", timestamp)
		h.Set("Wechatpay-Nonce", nonce)
		h.Set("Wechatpay-Signature", signature)
		h.Set("Wechatpay-Serial", serial)
		checkNotifyResult(t, provider, h, body)
	})
}

// FuzzNotifyResource signs and encrypts arbitrary resources, so the fuzzer reaches the
// decoding past the signature check that FuzzParseNotify can hardly get through.
func FuzzNotifyResource(f *testing.F) {
	fake, provider := setup(f)
	f.Add("TRANSACTION.SUCCESS", []byte(`{"mchid":"`+fake.MchID+`","appid":"`+fake.AppID+`","out_trade_no":"1","transaction_id":"42","trade_state":"SUCCESS","success_time":"2024-01-01T10:00:00+08:00","amount":{"total":100}}`))
	f.Add("TRANSACTION.SUCCESS", []byte(`{"mchid":"`+fake.MchID+`","out_trade_no":"1","trade_state":"NOTPAY"}`))
	f.Add("REFUND.SUCCESS", []byte(`{"mchid":"`+fake.MchID+`","out_trade_no":"1","out_refund_no":"R1","refund_id":"5","refund_status":"SUCCESS","amount":{"refund":1}}`))
	f.Add("REFUND.ABNORMAL", []byte(`{"mchid":null,"amount":{"refund":"1"}}`))
	f.Add("", []byte(`[]`))

	f.Fuzz(func(t *testing.T, eventType string, resource []byte) {
		n, err := fake.SignedNotify(eventType, resource)
		if err != nil {
			t.Fatal(err)
		}
		notice := checkNotifyResult(t, provider, n.Header, n.Body)
		if notice.Kind == payment.NoticeTrade && eventType != "TRANSACTION.SUCCESS" ||
			notice.Kind == payment.NoticeRefund && !strings.HasPrefix(eventType, "REFUND.") {
			t.Errorf("event %q gave a %s notice", eventType, notice.Kind)
		}
	})
}

// checkNotifyResult parses and checks the one promise that holds for any input.
func checkNotifyResult(t *testing.T, provider *wechatpay.Provider, header http.Header, body []byte) payment.Notice {
	t.Helper()
	notice, err := provider.ParseNotify(context.Background(), header, body)
	if err != nil {
		if !errors.Is(err, payment.ErrNotifyRejected) {
			t.Fatalf("error %v does not wrap ErrNotifyRejected", err)
		}
		if notice != (payment.Notice{}) {
			t.Fatalf("rejected notify returned %+v", notice)
		}
		return notice
	}
	switch notice.Kind {
	case payment.NoticeTrade:
		if notice.OutTradeNo == "" || notice.State == "" {
			t.Fatalf("trade notice without out_trade_no or state: %+v", notice)
		}
	case payment.NoticeRefund:
		if notice.OutRefundNo == "" || notice.RefundState == "" {
			t.Fatalf("refund notice without out_refund_no or state: %+v", notice)
		}
	default:
		t.Fatalf("notice of kind %q", notice.Kind)
	}
	return notice
}
