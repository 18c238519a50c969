package paymenthttp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/payment/alipay/alipaytest"
)

// alipayShop is a shop whose only provider is Alipay, played by a local fake gateway.
func alipayShop(t *testing.T) (*shop, *alipaytest.Server) {
	t.Helper()
	fake := alipaytest.New(t)
	dir := t.TempDir()
	keyFile, pubFile := filepath.Join(dir, "app_private.pem"), filepath.Join(dir, "alipay_public.pem")
	for path, pem := range map[string]string{keyFile: fake.AppPrivateKeyPEM, pubFile: fake.AlipayPublicKeyPEM} {
		if err := os.WriteFile(path, []byte(pem), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sh := newShop(t, map[string]string{"MINIMART_ALIPAY_APPID": fake.AppID, "MINIMART_ALIPAY_PRIVATE_KEY_FILE": keyFile,
		"MINIMART_ALIPAY_PUBLIC_KEY_FILE": pubFile, "MINIMART_ALIPAY_GATEWAY": fake.URL})
	return sh, fake
}

func (sh *shop) deliverAlipay(fake *alipaytest.Server, n alipaytest.Notification) (int, string) {
	sh.t.Helper()
	status, body, err := fake.Deliver(context.Background(), n)
	if err != nil {
		sh.t.Fatal(err)
	}
	return status, string(body)
}

func TestAlipayQRNotifyAndRefund(t *testing.T) {
	sh, fake := alipayShop(t)
	orderID, orderNo := sh.order(1)
	r := sh.pay(orderID, "alipay_qr", "a1")
	var p map[string]any
	r.Decode(t, &p)
	if r.Status != 201 || p["code_url"] == nil || !containsAll(p["qr_code"].(string), "data:image/png;base64,") {
		t.Fatalf("alipay_qr: %d %s", r.Status, r.Body)
	}
	if err := fake.Scan(p["code_url"].(string)); err != nil {
		t.Fatal(err)
	}
	good, err := fake.Pay(orderNo)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	bad := func(opts ...alipaytest.NotifyOption) alipaytest.Notification {
		n, err := fake.TradeNotify(orderNo, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tampered := good
	tampered.Body = []byte(string(good.Body) + "&buyer_logon_id=someone")
	refused := map[string]alipaytest.Notification{
		"tampered body":        tampered,
		"wrong key":            bad(alipaytest.WithSigningKey(otherKey)),
		"other app_id":         bad(alipaytest.WithAppID("2021000000000000")),
		"wrong amount":         bad(alipaytest.WithAmount(1)),
		"unknown out_trade_no": bad(alipaytest.WithOutTradeNo("20990101000000000009")),
	}
	for name, n := range refused {
		t.Run(name, func(t *testing.T) {
			if status, body := sh.deliverAlipay(fake, n); body == "success" {
				t.Fatalf("answered %d %q, want a refusal", status, body)
			}
			if got := sh.orderStatus(orderID); got != "pending_payment" {
				t.Fatalf("order is %s", got)
			}
		})
	}
	if status, body := sh.deliverAlipay(fake, good); status != 200 || body != "success" {
		t.Fatalf("valid notify answered %d %q", status, body)
	}
	apptest.Eventually(t, "order paid", func() bool { return sh.orderStatus(orderID) == "paid" })
	if _, body := sh.deliverAlipay(fake, good); body != "success" {
		t.Fatalf("duplicate notify answered %q", body)
	}

	// Alipay refunds answer at once: the partial refund is settled by the API answer.
	if r := sh.refund(orderID, "ar1", 1200, "破损补偿"); r.Status != 201 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	apptest.Eventually(t, "refund settled", func() bool {
		_, refunds := sh.payments(orderID)
		return len(refunds) == 1 && refunds[0]["status"] == "succeeded"
	})
	if got := fake.Refunds(orderNo); len(got) != 1 || got[0].Amount != 1200 {
		t.Fatalf("refunds at Alipay: %+v", got)
	}
	if got := sh.orderStatus(orderID); got != "paid" {
		t.Fatalf("after a partial refund the order is %s", got)
	}
}

func TestAlipayWapURL(t *testing.T) {
	sh, fake := alipayShop(t)
	orderID, orderNo := sh.order(1)
	r := sh.pay(orderID, "alipay_wap", "w1")
	var p map[string]any
	r.Decode(t, &p)
	if r.Status != 201 || p["pay_url"] == nil {
		t.Fatalf("alipay_wap: %d %s", r.Status, r.Body)
	}
	if err := fake.Open(p["pay_url"].(string)); err != nil {
		t.Fatalf("the pay URL does not open at Alipay: %v", err)
	}
	if _, amount, ok := fake.Trade(orderNo); !ok || amount != 3500 {
		t.Fatalf("trade at Alipay: %v %v", amount, ok)
	}
}
