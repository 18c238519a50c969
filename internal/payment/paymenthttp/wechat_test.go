package paymenthttp_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/payment/wechatpay/wechatpaytest"
)

// wechatShop is a shop whose only provider is WeChat Pay, played by a local fake that
// signs with keys generated for the test.
func wechatShop(t *testing.T) (*shop, *wechatpaytest.Server) {
	t.Helper()
	fake := wechatpaytest.New(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "apiclient_key.pem")
	pubFile := filepath.Join(dir, "wechatpay_pub.pem")
	writePEM(t, keyFile, "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(fake.MerchantKey)))
	writePEM(t, pubFile, "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&fake.PlatformKey.PublicKey)))
	sh := newShop(t, map[string]string{
		"MINIMART_WECHATPAY_MCH_ID": fake.MchID, "MINIMART_WECHATPAY_APPID": fake.AppID,
		"MINIMART_WECHATPAY_MCH_SERIAL": fake.MchSerial, "MINIMART_WECHATPAY_PRIVATE_KEY_FILE": keyFile,
		"MINIMART_WECHATPAY_APIV3_KEY": fake.APIv3Key, "MINIMART_WECHATPAY_PUBLIC_KEY_ID": fake.PlatformKeyID,
		"MINIMART_WECHATPAY_PUBLIC_KEY_FILE": pubFile, "MINIMART_WECHATPAY_API_BASE": fake.URL,
	})
	return sh, fake
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (sh *shop) deliverWeChat(fake *wechatpaytest.Server, n wechatpaytest.Notification) (int, string) {
	sh.t.Helper()
	status, body, err := fake.Deliver(context.Background(), n)
	if err != nil {
		sh.t.Fatal(err)
	}
	return status, string(body)
}

func TestWeChatJSAPIAndNotify(t *testing.T) {
	sh, fake := wechatShop(t)
	if got := sh.must(200, "GET", "/api/v1/payment-methods", "", nil)["methods"].([]any); len(got) != 2 {
		t.Fatalf("methods = %v, want the two WeChat ones (no sandbox)", got)
	}
	orderID, orderNo := sh.order(1)
	if r := sh.pay(orderID, "wechat_jsapi", "j0"); r.Status != 400 || r.ErrorCode() != "openid_required" {
		t.Fatalf("jsapi without openid: %d %s", r.Status, r.Body)
	}
	// The buyer as if logged in through the mini-program.
	if _, err := sh.db().Exec("UPDATE users SET wechat_openid = 'o-test-openid' WHERE username = 'buyer'"); err != nil {
		t.Fatal(err)
	}
	r := sh.pay(orderID, "wechat_jsapi", "j1")
	if r.Status != 201 {
		t.Fatalf("jsapi: %d %s", r.Status, r.Body)
	}
	var p struct {
		JSAPI struct{ AppID, TimeStamp, NonceStr, Package, SignType, PaySign string } `json:"jsapi"`
	}
	r.Decode(t, &p)
	info, ok := fake.TradeInfo(orderNo)
	if !ok || info.OpenID != "o-test-openid" || info.Amount != 3500 || p.JSAPI.Package != "prepay_id="+info.PrepayID {
		t.Fatalf("trade at WeChat %+v, params %+v", info, p.JSAPI)
	}
	// wx.requestPayment's signature verifies with the merchant's public key.
	msg := p.JSAPI.AppID + "\n" + p.JSAPI.TimeStamp + "\n" + p.JSAPI.NonceStr + "\n" + p.JSAPI.Package + "\n"
	sig, err := base64.StdEncoding.DecodeString(p.JSAPI.PaySign)
	sum := sha256.Sum256([]byte(msg))
	if err != nil || p.JSAPI.SignType != "RSA" || p.JSAPI.AppID != fake.AppID ||
		rsa.VerifyPKCS1v15(&fake.MerchantKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		t.Fatalf("paySign does not verify with the merchant public key: %+v", p.JSAPI)
	}

	good, err := fake.Pay(orderNo)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	bad := func(opts ...wechatpaytest.NotifyOption) wechatpaytest.Notification {
		n, err := fake.TradeNotify(orderNo, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tampered := good
	tampered.Body = append([]byte(nil), good.Body...)
	tampered.Body[len(tampered.Body)/2] ^= 1
	refused := map[string]wechatpaytest.Notification{
		"tampered body":        tampered,
		"wrong key":            bad(wechatpaytest.WithSigningKey(otherKey)),
		"old timestamp":        bad(wechatpaytest.WithTimestamp(time.Now().Add(-6 * time.Minute))),
		"wrong amount":         bad(wechatpaytest.WithAmount(1)),
		"unknown out_trade_no": bad(wechatpaytest.WithOutTradeNo("20990101000000000009")),
	}
	for name, n := range refused {
		t.Run(name, func(t *testing.T) {
			if status, body := sh.deliverWeChat(fake, n); status < 400 || !containsAll(body, `"code":"FAIL"`) {
				t.Fatalf("answered %d %s, want a FAIL", status, body)
			}
			if got := sh.orderStatus(orderID); got != "pending_payment" {
				t.Fatalf("order is %s", got)
			}
		})
	}
	if status, body := sh.deliverWeChat(fake, good); status != 204 || body != "" {
		t.Fatalf("valid notify answered %d %q", status, body)
	}
	apptest.Eventually(t, "order paid", func() bool { return sh.orderStatus(orderID) == "paid" })
	apptest.Eventually(t, "stock sold", func() bool { return sh.level().Sold == 1 })
	if status, _ := sh.deliverWeChat(fake, good); status != 204 {
		t.Fatalf("duplicate notify answered %d", status)
	}

	// A full refund through WeChat's refund API, settled by its refund notify.
	if r := sh.refund(orderID, "wr1", 3500, "缺货"); r.Status != 201 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	if got := sh.orderStatus(orderID); got != "refunding" {
		t.Fatalf("order is %s, want refunding", got)
	}
	refunds := fake.Refunds(orderNo)
	if len(refunds) != 1 || refunds[0].Amount != 3500 {
		t.Fatalf("refunds at WeChat: %+v", refunds)
	}
	n, err := fake.CompleteRefund(refunds[0].OutRefundNo)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := sh.deliverWeChat(fake, n); status != 204 {
		t.Fatalf("refund notify answered %d", status)
	}
	apptest.Eventually(t, "order refunded", func() bool { return sh.orderStatus(orderID) == "refunded" })
}

// Native pay: a code_url and its QR code; cancelling the order closes the trade at WeChat.
func TestWeChatNativeClosedOnCancel(t *testing.T) {
	sh, fake := wechatShop(t)
	orderID, orderNo := sh.order(1)
	r := sh.pay(orderID, "wechat_native", "n1")
	var p map[string]any
	r.Decode(t, &p)
	if r.Status != 201 || p["code_url"] == "" || !containsAll(p["qr_code"].(string), "data:image/png;base64,") {
		t.Fatalf("native: %d %s", r.Status, r.Body)
	}
	sh.must(200, "POST", "/api/v1/orders/"+orderID+"/cancel", sh.buyer, nil)
	apptest.Eventually(t, "trade closed at WeChat", func() bool { return fake.Closed(orderNo) })
	apptest.Eventually(t, "payment closed", func() bool {
		pays, _ := sh.payments(orderID)
		return pays[0]["status"] == "closed"
	})
}
