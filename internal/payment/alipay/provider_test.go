package alipay_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"
	"github.com/smartwalle/nsign"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/alipay"
	"github.com/minimart/minimart/internal/payment/alipay/alipaytest"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

// gatewayNow is the fake gateway's clock in every test that reads times back.
var gatewayNow = time.Date(2025, 3, 14, 9, 26, 53, 0, money.ChinaTime())

func newGateway(t *testing.T) (*alipaytest.Server, *alipay.Provider) {
	t.Helper()
	gateway := alipaytest.New(t)
	gateway.SetClock(func() time.Time { return gatewayNow })
	return gateway, newProviderFor(t, gateway)
}

func newProviderFor(t testing.TB, gateway *alipaytest.Server) *alipay.Provider {
	t.Helper()
	provider, err := alipay.New(gateway.Config())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return provider
}

func prepay(t *testing.T, p *alipay.Provider, method payment.Method, outTradeNo string, amount money.Fen) payment.Instructions {
	t.Helper()
	instructions, err := p.Prepay(context.Background(), payment.PrepayRequest{
		Method:      method,
		OutTradeNo:  outTradeNo,
		Amount:      amount,
		Description: "测试订单 " + outTradeNo,
		ExpiresAt:   gatewayNow.Add(30 * time.Minute),
		NotifyURL:   "https://shop.example/api/v1/payments/notify/alipay",
		ReturnURL:   "https://shop.example/orders/" + outTradeNo,
	})
	if err != nil {
		t.Fatalf("Prepay %s %s: %v", method, outTradeNo, err)
	}
	return instructions
}

// paidTrade pre-creates a QR trade and pays it at the gateway.
func paidTrade(t *testing.T, gateway *alipaytest.Server, p *alipay.Provider, outTradeNo string, amount money.Fen) alipaytest.Notification {
	t.Helper()
	prepay(t, p, payment.AlipayQR, outTradeNo, amount)
	notification, err := gateway.Pay(outTradeNo)
	if err != nil {
		t.Fatalf("Pay: %v", err)
	}
	return notification
}

func generateKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func pemBlock(t testing.TB, kind string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
}

// pemBody is the base64 between a PEM's armour lines: the bare form Alipay's key tool gives.
func pemBody(key string) string {
	var body strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(key), "\n") {
		if !strings.HasPrefix(line, "-----") {
			body.WriteString(line)
		}
	}
	return body.String()
}

func TestNewRefusesBadConfigWithoutEchoingKeys(t *testing.T) {
	t.Parallel()
	gateway := alipaytest.New(t)
	valid := gateway.Config()
	secret := pemBody(valid.PrivateKey)[100:140]

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	smallKey := pemBlock(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(generateKey(t, 1024)))
	// A key with one character changed in its middle: still base64, no longer a key.
	damaged := []byte(valid.PrivateKey)
	damaged[len(damaged)/2] ^= 'A' ^ 'B'

	tests := []struct {
		name   string
		change func(*alipay.Config)
		want   string
	}{
		{"no app id", func(c *alipay.Config) { c.AppID = " " }, "AppID"},
		{"no private key", func(c *alipay.Config) { c.PrivateKey = "" }, "PrivateKey"},
		{"private key not a key", func(c *alipay.Config) { c.PrivateKey = "not a key" }, "PrivateKey"},
		{"private key damaged", func(c *alipay.Config) { c.PrivateKey = string(damaged) }, "PrivateKey"},
		{"private key not RSA", func(c *alipay.Config) { c.PrivateKey = pemBlock(t, "PRIVATE KEY", ecDER) }, "PrivateKey"},
		{"private key too small", func(c *alipay.Config) { c.PrivateKey = smallKey }, "1024 bits"},
		{"no alipay public key", func(c *alipay.Config) { c.AlipayPublicKey = "\n" }, "AlipayPublicKey"},
		{"alipay public key not a key", func(c *alipay.Config) { c.AlipayPublicKey = valid.PrivateKey }, "AlipayPublicKey"},
		{"alipay public key is the app's", func(c *alipay.Config) { c.AlipayPublicKey = gateway.AppPublicKeyPEM }, "app's own public key"},
		{"gateway not http", func(c *alipay.Config) { c.Gateway = "ftp://openapi.alipay.com/gateway.do" }, "Gateway"},
		{"gateway not a url", func(c *alipay.Config) { c.Gateway = "openapi.alipay.com" }, "Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			_, err := alipay.New(cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats key material", err)
			}
		})
	}
}

func TestNewAcceptsTheKeyFormsAlipayHandsOut(t *testing.T) {
	t.Parallel()
	gateway := alipaytest.New(t)
	pkcs1 := pemBlock(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(gateway.AppPrivateKey))
	tests := []struct {
		name            string
		privateKey      string
		alipayPublicKey string
	}{
		{"PKCS#8 PEM and PEM", gateway.AppPrivateKeyPEM, gateway.AlipayPublicKeyPEM},
		{"PKCS#1 PEM", pkcs1, gateway.AlipayPublicKeyPEM},
		{"bare base64 from the key tool", pemBody(gateway.AppPrivateKeyPEM), pemBody(gateway.AlipayPublicKeyPEM)},
		{"bare base64 PKCS#1", pemBody(pkcs1), pemBody(gateway.AlipayPublicKeyPEM)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.Config()
			cfg.PrivateKey, cfg.AlipayPublicKey = tt.privateKey, tt.alipayPublicKey
			p, err := alipay.New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			// A call the gateway answers proves the key signs and the public key verifies.
			outTradeNo := "KEYFORM" + string(rune('A'+i))
			if instructions := prepay(t, p, payment.AlipayQR, outTradeNo, 1); instructions.CodeURL == "" {
				t.Fatal("no code URL")
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "app_private_key.pem")
	if err := os.WriteFile(keyPath, []byte("\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := alipay.LoadKey(keyPath)
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	if key != "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----" {
		t.Errorf("key = %q", key)
	}

	emptyPath := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(emptyPath, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := alipay.LoadKey(emptyPath); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: err = %v", err)
	}
	if _, err := alipay.LoadKey(filepath.Join(dir, "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestNameAndMethods(t *testing.T) {
	t.Parallel()
	_, p := newGateway(t)
	if p.Name() != "alipay" {
		t.Errorf("Name = %q", p.Name())
	}
	methods := p.Methods()
	want := []payment.Method{payment.AlipayWap, payment.AlipayPage, payment.AlipayQR}
	if len(methods) != len(want) {
		t.Fatalf("Methods = %v", methods)
	}
	for i := range want {
		if methods[i] != want[i] {
			t.Errorf("Methods = %v, want %v", methods, want)
		}
	}
}

func TestPrepayCashierURLsAreSignedForTheTrade(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	appVerifier := nsign.New(nsign.WithMethod(nsign.NewRSAMethod(crypto.SHA256, nil, gateway.AppPublicKey)), nsign.WithEncoder(sdk.Encoder{}))

	tests := []struct {
		method      payment.Method
		outTradeNo  string
		amount      money.Fen
		apiMethod   string
		productCode string
		totalAmount string
	}{
		{payment.AlipayWap, "WAP1", 10, "alipay.trade.wap.pay", "QUICK_WAP_WAY", "0.10"},
		{payment.AlipayPage, "PAGE1", 123456, "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY", "1234.56"},
	}
	for _, tt := range tests {
		t.Run(string(tt.method), func(t *testing.T) {
			instructions := prepay(t, p, tt.method, tt.outTradeNo, tt.amount)
			if instructions.CodeURL != "" || instructions.JSAPI != nil {
				t.Errorf("instructions set more than PayURL: %+v", instructions)
			}
			payURL, err := url.Parse(instructions.PayURL)
			if err != nil {
				t.Fatal(err)
			}
			if got := payURL.Scheme + "://" + payURL.Host + payURL.Path; got != gateway.URL {
				t.Errorf("pay URL points at %s, want %s", got, gateway.URL)
			}
			query := payURL.Query()
			signature, err := base64.StdEncoding.DecodeString(query.Get("sign"))
			if err != nil {
				t.Fatal(err)
			}
			if err := appVerifier.VerifyValues(query, signature, nsign.WithIgnore("sign")); err != nil {
				t.Errorf("sign does not verify with the app public key: %v", err)
			}
			var biz map[string]any
			if err := json.Unmarshal([]byte(query.Get("biz_content")), &biz); err != nil {
				t.Fatal(err)
			}
			checks := map[string]string{
				"method":     query.Get("method"),
				"app_id":     query.Get("app_id"),
				"sign_type":  query.Get("sign_type"),
				"notify_url": query.Get("notify_url"),
				"return_url": query.Get("return_url"),
			}
			wantChecks := map[string]string{
				"method":     tt.apiMethod,
				"app_id":     gateway.AppID,
				"sign_type":  "RSA2",
				"notify_url": "https://shop.example/api/v1/payments/notify/alipay",
				"return_url": "https://shop.example/orders/" + tt.outTradeNo,
			}
			for k, v := range wantChecks {
				if checks[k] != v {
					t.Errorf("%s = %q, want %q", k, checks[k], v)
				}
			}
			wantBiz := map[string]any{
				"out_trade_no": tt.outTradeNo,
				"total_amount": tt.totalAmount,
				"product_code": tt.productCode,
				"time_expire":  "2025-03-14 09:56:53",
				"subject":      "测试订单 " + tt.outTradeNo,
			}
			for k, v := range wantBiz {
				if biz[k] != v {
					t.Errorf("biz_content %s = %v, want %v", k, biz[k], v)
				}
			}

			// The trade exists at Alipay once the buyer opens the URL.
			if _, err := p.Query(context.Background(), tt.outTradeNo); !errors.Is(err, payment.ErrTradeNotFound) {
				t.Errorf("Query before opening: err = %v, want ErrTradeNotFound", err)
			}
			if err := gateway.Open(instructions.PayURL); err != nil {
				t.Fatalf("Open: %v", err)
			}
			if status, amount, ok := gateway.Trade(tt.outTradeNo); !ok || status != alipaytest.StatusWaitBuyerPay || amount != tt.amount {
				t.Errorf("gateway trade = %s %d %v", status, amount, ok)
			}

			// A URL changed after signing is refused by the gateway.
			biz["total_amount"] = "0.01"
			forged, err := json.Marshal(biz)
			if err != nil {
				t.Fatal(err)
			}
			query.Set("biz_content", string(forged))
			payURL.RawQuery = query.Encode()
			if err := gateway.Open(payURL.String()); err == nil || !strings.Contains(err.Error(), "sign") {
				t.Errorf("Open of a forged URL: err = %v", err)
			}
		})
	}
}

func TestPrepayQRReturnsTheCodeAndTheTradeAppearsWhenScanned(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()

	instructions := prepay(t, p, payment.AlipayQR, "QR1", 123456)
	if !strings.HasPrefix(instructions.CodeURL, "https://qr.alipay.com/") || instructions.PayURL != "" {
		t.Fatalf("instructions = %+v", instructions)
	}
	if status, amount, ok := gateway.Trade("QR1"); !ok || status != alipaytest.StatusWaitBuyerPay || amount != 123456 {
		t.Errorf("gateway trade = %s %d %v", status, amount, ok)
	}
	// Pre-creating again with the same numbers returns the same code.
	if again := prepay(t, p, payment.AlipayQR, "QR1", 123456); again.CodeURL != instructions.CodeURL {
		t.Errorf("second precreate code = %q, want %q", again.CodeURL, instructions.CodeURL)
	}

	if _, err := p.Query(ctx, "QR1"); !errors.Is(err, payment.ErrTradeNotFound) {
		t.Errorf("Query before the scan: err = %v, want ErrTradeNotFound", err)
	}
	if err := gateway.Scan(instructions.CodeURL); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	notice, err := p.Query(ctx, "QR1")
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if notice.State != payment.TradePending || notice.Amount != 123456 {
		t.Errorf("notice = %+v", notice)
	}
}

func TestPrepayRefusesRequestsAlipayWould(t *testing.T) {
	t.Parallel()
	_, p := newGateway(t)
	good := payment.PrepayRequest{Method: payment.AlipayQR, OutTradeNo: "BAD1", Amount: 100, NotifyURL: "https://shop.example/notify"}
	tests := []struct {
		name   string
		change func(*payment.PrepayRequest)
	}{
		{"wechat method", func(r *payment.PrepayRequest) { r.Method = payment.WeChatNative }},
		{"zero amount", func(r *payment.PrepayRequest) { r.Amount = 0 }},
		{"over Alipay's limit", func(r *payment.PrepayRequest) { r.Amount = 100_000_000*100 + 1 }},
		{"no out_trade_no", func(r *payment.PrepayRequest) { r.OutTradeNo = "" }},
		{"long out_trade_no", func(r *payment.PrepayRequest) { r.OutTradeNo = strings.Repeat("1", 65) }},
		{"no notify url", func(r *payment.PrepayRequest) { r.NotifyURL = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := good
			tt.change(&req)
			if _, err := p.Prepay(context.Background(), req); !errors.Is(err, errs.ErrValidation) {
				t.Errorf("err = %v, want a validation error", err)
			}
		})
	}
}

func TestCallsFailAsProviderErrors(t *testing.T) {
	t.Parallel()
	gateway := alipaytest.New(t)
	otherKey := generateKey(t, 2048)
	otherKeyDER, err := x509.MarshalPKIXPublicKey(&otherKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*alipay.Config)
		want   string
	}{
		{"app key the gateway does not know", func(c *alipay.Config) {
			c.PrivateKey = pemBlock(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(otherKey))
		}, "isv.invalid-signature"},
		{"answers signed by another key", func(c *alipay.Config) {
			c.AlipayPublicKey = pemBlock(t, "PUBLIC KEY", otherKeyDER)
		}, "verification"},
		{"another app", func(c *alipay.Config) { c.AppID = "2021000000000000" }, "isv.invalid-app-id"},
		{"gateway down", func(c *alipay.Config) { c.Gateway = "http://127.0.0.1:1/gateway.do" }, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.Config()
			tt.change(&cfg)
			p, err := alipay.New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			_, err = p.Prepay(context.Background(), payment.PrepayRequest{
				Method: payment.AlipayQR, OutTradeNo: "FAIL1", Amount: 100, NotifyURL: "https://shop.example/notify",
			})
			if !errors.Is(err, payment.ErrProvider) {
				t.Fatalf("err = %v, want ErrProvider", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			for _, key := range []string{cfg.PrivateKey, gateway.AppPrivateKeyPEM} {
				if strings.Contains(err.Error(), pemBody(key)[100:140]) {
					t.Errorf("error %q repeats key material", err)
				}
			}
		})
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()

	if _, err := p.Query(ctx, "NOPE"); !errors.Is(err, payment.ErrTradeNotFound) {
		t.Errorf("unknown trade: err = %v, want ErrTradeNotFound", err)
	}

	wap := prepay(t, p, payment.AlipayWap, "Q1", 10)
	if err := gateway.Open(wap.PayURL); err != nil {
		t.Fatal(err)
	}
	pending, err := p.Query(ctx, "Q1")
	if err != nil {
		t.Fatalf("Query pending: %v", err)
	}
	if pending.Kind != payment.NoticeTrade || pending.State != payment.TradePending || pending.Amount != 10 ||
		pending.OutTradeNo != "Q1" || pending.TransactionID == "" || !pending.PaidAt.IsZero() || pending.AppID != gateway.AppID {
		t.Errorf("pending notice = %+v", pending)
	}

	if _, err := gateway.Pay("Q1"); err != nil {
		t.Fatal(err)
	}
	paid, err := p.Query(ctx, "Q1")
	if err != nil {
		t.Fatalf("Query paid: %v", err)
	}
	if paid.State != payment.TradeSuccess || paid.Amount != 10 || paid.TransactionID != pending.TransactionID || !paid.PaidAt.Equal(gatewayNow) {
		t.Errorf("paid notice = %+v", paid)
	}
}

func TestQueryAfterExpiry(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	page := prepay(t, p, payment.AlipayPage, "EXP1", 500)
	if err := gateway.Open(page.PayURL); err != nil {
		t.Fatal(err)
	}
	gateway.SetClock(func() time.Time { return gatewayNow.Add(31 * time.Minute) })
	notice, err := p.Query(context.Background(), "EXP1")
	if err != nil {
		t.Fatal(err)
	}
	if notice.State != payment.TradeClosed {
		t.Errorf("state after time_expire = %s, want closed", notice.State)
	}
	if _, err := gateway.Pay("EXP1"); err == nil {
		t.Error("an expired trade was paid")
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()

	t.Run("never opened", func(t *testing.T) {
		qr := prepay(t, p, payment.AlipayQR, "C1", 100)
		if err := p.Close(ctx, "C1"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// Alipay knew no trade to close: the code can still be paid, which the shop must
		// handle (a payment for a cancelled order is refunded).
		if gateway.Closed("C1") {
			t.Error("the gateway closed a trade it did not have yet")
		}
		if err := gateway.Scan(qr.CodeURL); err != nil {
			t.Errorf("Scan after the close: %v", err)
		}
	})
	t.Run("opened, then closed twice", func(t *testing.T) {
		wap := prepay(t, p, payment.AlipayWap, "C2", 100)
		if err := gateway.Open(wap.PayURL); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(ctx, "C2"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if !gateway.Closed("C2") {
			t.Error("the gateway did not close the trade")
		}
		if err := p.Close(ctx, "C2"); err != nil {
			t.Errorf("second Close: %v", err)
		}
		notice, err := p.Query(ctx, "C2")
		if err != nil || notice.State != payment.TradeClosed {
			t.Errorf("Query after Close = %+v, %v", notice, err)
		}
		if _, err := gateway.Pay("C2"); err == nil {
			t.Error("a closed trade was paid")
		}
	})
	t.Run("paid", func(t *testing.T) {
		paidTrade(t, gateway, p, "C3", 100)
		if err := p.Close(ctx, "C3"); !errors.Is(err, payment.ErrTradePaid) {
			t.Errorf("err = %v, want ErrTradePaid", err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if err := p.Close(ctx, "C4"); err != nil {
			t.Errorf("Close of a trade never created: %v", err)
		}
	})
}

func TestRefund(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()
	paidTrade(t, gateway, p, "R1", 100)
	refund := func(outRefundNo string, amount money.Fen) (payment.RefundResult, error) {
		return p.Refund(ctx, payment.RefundRequest{OutTradeNo: "R1", OutRefundNo: outRefundNo, Total: 100, Amount: amount, Reason: "不想要了"})
	}

	first, err := refund("R1-1", 30)
	if err != nil {
		t.Fatalf("partial refund: %v", err)
	}
	if first.State != payment.RefundSucceeded || first.Amount != 30 {
		t.Errorf("partial refund = %+v", first)
	}
	// The same refund number again is the same refund, not a second one.
	again, err := refund("R1-1", 30)
	if err != nil || again != first {
		t.Errorf("repeated refund = %+v, %v; want %+v", again, err, first)
	}
	if _, err := refund("R1-2", 71); !errors.Is(err, payment.ErrProvider) || !strings.Contains(err.Error(), "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL") {
		t.Errorf("over-refund: err = %v", err)
	}
	rest, err := refund("R1-2", 70)
	if err != nil || rest.State != payment.RefundSucceeded || rest.Amount != 70 {
		t.Fatalf("refund of the rest = %+v, %v", rest, err)
	}
	if _, err := refund("R1-3", 1); !errors.Is(err, payment.ErrProvider) {
		t.Errorf("refund of a fully refunded trade: err = %v", err)
	}

	refunds := gateway.Refunds("R1")
	if len(refunds) != 2 || refunds[0].OutRefundNo != "R1-1" || refunds[0].Amount != 30 || refunds[1].OutRefundNo != "R1-2" || refunds[1].Amount != 70 {
		t.Errorf("gateway refunds = %+v", refunds)
	}
	for outRefundNo, amount := range map[string]money.Fen{"R1-1": 30, "R1-2": 70} {
		result, err := p.QueryRefund(ctx, "R1", outRefundNo)
		if err != nil || result.State != payment.RefundSucceeded || result.Amount != amount {
			t.Errorf("QueryRefund %s = %+v, %v", outRefundNo, result, err)
		}
	}
	if result, err := p.QueryRefund(ctx, "R1", "R1-9"); err != nil || result.State != payment.RefundPending {
		t.Errorf("QueryRefund of an unknown refund = %+v, %v; want pending", result, err)
	}
	// Alipay closes a fully refunded trade; it was still paid.
	if notice, err := p.Query(ctx, "R1"); err != nil || notice.State != payment.TradeSuccess {
		t.Errorf("Query after the full refund = %+v, %v; want success", notice, err)
	}

	if _, err := p.Refund(ctx, payment.RefundRequest{OutTradeNo: "NOPE", OutRefundNo: "X", Total: 100, Amount: 1}); !errors.Is(err, payment.ErrTradeNotFound) {
		t.Errorf("refund of an unknown trade: err = %v", err)
	}
	if _, err := p.QueryRefund(ctx, "NOPE", "X"); !errors.Is(err, payment.ErrTradeNotFound) {
		t.Errorf("QueryRefund of an unknown trade: err = %v", err)
	}
	if _, err := p.Refund(ctx, payment.RefundRequest{OutTradeNo: "R1", OutRefundNo: "R1-4", Total: 100, Amount: 101}); !errors.Is(err, errs.ErrValidation) {
		t.Errorf("refund over the total: err = %v, want a validation error", err)
	}
}

func TestRefundOfAnUnpaidTradeFails(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	wap := prepay(t, p, payment.AlipayWap, "U1", 100)
	if err := gateway.Open(wap.PayURL); err != nil {
		t.Fatal(err)
	}
	_, err := p.Refund(context.Background(), payment.RefundRequest{OutTradeNo: "U1", OutRefundNo: "U1-1", Total: 100, Amount: 100})
	if !errors.Is(err, payment.ErrProvider) || !strings.Contains(err.Error(), "ACQ.TRADE_STATUS_ERROR") {
		t.Errorf("err = %v", err)
	}
}

func TestBill(t *testing.T) {
	t.Parallel()
	gateway, p := newGateway(t)
	ctx := context.Background()
	at := func(seconds int) time.Time { return gatewayNow.Add(time.Duration(seconds) * time.Second) }
	clockAt := func(seconds int) { gateway.SetClock(func() time.Time { return at(seconds) }) }

	wap := prepay(t, p, payment.AlipayWap, "B1", 10)
	if err := gateway.Open(wap.PayURL); err != nil {
		t.Fatal(err)
	}
	clockAt(1)
	if _, err := gateway.Pay("B1"); err != nil {
		t.Fatal(err)
	}
	clockAt(2)
	paidTrade(t, gateway, p, "B2", 123456)
	clockAt(3)
	if _, err := p.Refund(ctx, payment.RefundRequest{OutTradeNo: "B2", OutRefundNo: "B2-R1", Total: 123456, Amount: 56}); err != nil {
		t.Fatal(err)
	}
	// A payment the next day, in the next day's bill (no time_expire, so it is still payable).
	if _, err := p.Prepay(ctx, payment.PrepayRequest{Method: payment.AlipayQR, OutTradeNo: "B3", Amount: 999, NotifyURL: "https://shop.example/notify"}); err != nil {
		t.Fatal(err)
	}
	gateway.SetClock(func() time.Time { return gatewayNow.AddDate(0, 0, 1) })
	if _, err := gateway.Pay("B3"); err != nil {
		t.Fatal(err)
	}

	b1, err := p.Query(ctx, "B1")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := p.Query(ctx, "B2")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := p.Bill(ctx, time.Date(2025, 3, 14, 0, 0, 0, 0, money.ChinaTime()))
	if err != nil {
		t.Fatalf("Bill: %v", err)
	}
	want := []payment.BillLine{
		{Kind: payment.BillPayment, OutTradeNo: "B1", TransactionID: b1.TransactionID, Amount: 10, At: at(1)},
		{Kind: payment.BillPayment, OutTradeNo: "B2", TransactionID: b2.TransactionID, Amount: 123456, At: at(2)},
		{Kind: payment.BillRefund, OutTradeNo: "B2", TransactionID: b2.TransactionID, OutRefundNo: "B2-R1", Amount: 56, At: at(3)},
	}
	if len(lines) != len(want) {
		t.Fatalf("Bill = %+v, want %+v", lines, want)
	}
	for i := range want {
		got := lines[i]
		if got.Kind != want[i].Kind || got.OutTradeNo != want[i].OutTradeNo || got.TransactionID != want[i].TransactionID ||
			got.OutRefundNo != want[i].OutRefundNo || got.Amount != want[i].Amount || !got.At.Equal(want[i].At) {
			t.Errorf("line %d = %+v, want %+v", i, got, want[i])
		}
	}

	// The day is taken in Beijing time: 2025-03-13 20:00 UTC is already the 14th there.
	utcEvening := time.Date(2025, 3, 13, 20, 0, 0, 0, time.UTC)
	if sameDay, err := p.Bill(ctx, utcEvening); err != nil || len(sameDay) != len(want) {
		t.Errorf("Bill(%s) = %d lines, %v", utcEvening, len(sameDay), err)
	}

	_, err = p.Bill(ctx, time.Date(2025, 3, 1, 0, 0, 0, 0, money.ChinaTime()))
	if !errors.Is(err, payment.ErrProvider) || !strings.Contains(err.Error(), "isp.bill_not_exist") {
		t.Errorf("Bill of a day without trades: err = %v", err)
	}
}
