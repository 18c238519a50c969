package wechatpay_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/wechatpay"
	"github.com/minimart/minimart/internal/payment/wechatpay/wechatpaytest"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

// setup starts a fake WeChat Pay and an adapter configured for its merchant account.
func setup(t testing.TB) (*wechatpaytest.Server, *wechatpay.Provider) {
	t.Helper()
	fake := wechatpaytest.New(t)
	provider, err := wechatpay.New(context.Background(), fake.Config())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return fake, provider
}

func jsapiRequest(outTradeNo string, amount money.Fen) payment.PrepayRequest {
	return payment.PrepayRequest{
		Method:      payment.WeChatJSAPI,
		OutTradeNo:  outTradeNo,
		Amount:      amount,
		Description: "minimart order " + outTradeNo,
		OpenID:      "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		ClientIP:    "203.0.113.7",
		ExpiresAt:   time.Now().Add(30 * time.Minute),
		NotifyURL:   "https://shop.example/api/v1/payments/notify/wechat",
	}
}

// prepaid creates an unpaid JSAPI payment at the fake.
func prepaid(t *testing.T, provider *wechatpay.Provider, outTradeNo string, amount money.Fen) {
	t.Helper()
	if _, err := provider.Prepay(t.Context(), jsapiRequest(outTradeNo, amount)); err != nil {
		t.Fatalf("Prepay %s: %v", outTradeNo, err)
	}
}

// paid creates a payment and pays it, returning the notify WeChat would send.
func paid(t *testing.T, fake *wechatpaytest.Server, provider *wechatpay.Provider, outTradeNo string, amount money.Fen) wechatpaytest.Notification {
	t.Helper()
	prepaid(t, provider, outTradeNo, amount)
	n, err := fake.Pay(outTradeNo)
	if err != nil {
		t.Fatalf("Pay %s: %v", outTradeNo, err)
	}
	return n
}

func TestNameAndMethods(t *testing.T) {
	_, provider := setup(t)
	if provider.Name() != "wechat" {
		t.Errorf("Name = %q, want wechat", provider.Name())
	}
	methods := provider.Methods()
	if len(methods) != 2 || methods[0] != payment.WeChatJSAPI || methods[1] != payment.WeChatNative {
		t.Errorf("Methods = %v, want [wechat_jsapi wechat_native]", methods)
	}
}

func TestPrepayJSAPIReturnsParamsSignedWithTheMerchantKey(t *testing.T) {
	fake, provider := setup(t)
	req := jsapiRequest("20240101000001", 1999)

	ins, err := provider.Prepay(t.Context(), req)
	if err != nil {
		t.Fatalf("Prepay: %v", err)
	}
	trade, ok := fake.TradeInfo(req.OutTradeNo)
	if !ok {
		t.Fatal("the fake has no record of the payment")
	}
	params := ins.JSAPI
	if params == nil || ins.CodeURL != "" || ins.PayURL != "" {
		t.Fatalf("Instructions = %+v, want only JSAPI", ins)
	}
	if params.AppID != fake.AppID || params.SignType != "RSA" || params.NonceStr == "" {
		t.Errorf("params = %+v, want appId %s, signType RSA and a nonce", params, fake.AppID)
	}
	if want := "prepay_id=" + trade.PrepayID; params.Package != want {
		t.Errorf("package = %q, want %q", params.Package, want)
	}
	stamp, err := strconv.ParseInt(params.TimeStamp, 10, 64)
	if err != nil || time.Since(time.Unix(stamp, 0)).Abs() > time.Minute {
		t.Errorf("timeStamp = %q, want the current Unix time", params.TimeStamp)
	}
	message := params.AppID + "\n" + params.TimeStamp + "\n" + params.NonceStr + "\n" + params.Package + "\n"
	if err := verifyPaySign(&fake.MerchantKey.PublicKey, message, params.PaySign); err != nil {
		t.Errorf("paySign does not verify with the merchant public key: %v", err)
	}
	if err := verifyPaySign(&fake.MerchantKey.PublicKey, strings.Replace(message, "prepay_id=", "prepay_id=x", 1), params.PaySign); err == nil {
		t.Error("paySign also verifies over another package: the check proves nothing")
	}

	if trade.TradeType != "JSAPI" || trade.Amount != req.Amount || trade.OpenID != req.OpenID ||
		trade.NotifyURL != req.NotifyURL || trade.Description != req.Description || trade.State != wechatpaytest.StateNotPay {
		t.Errorf("WeChat recorded %+v, want it to match %+v", trade, req)
	}
	if !trade.TimeExpire.Equal(req.ExpiresAt.Truncate(time.Second)) {
		t.Errorf("time_expire = %v, want %v", trade.TimeExpire, req.ExpiresAt.Truncate(time.Second))
	}
}

func verifyPaySign(key *rsa.PublicKey, message, paySign string) error {
	signature, err := base64.StdEncoding.DecodeString(paySign)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(message))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], signature)
}

func TestPrepayNativeReturnsTheCodeURL(t *testing.T) {
	fake, provider := setup(t)
	req := jsapiRequest("20240101000002", 100)
	req.Method, req.OpenID = payment.WeChatNative, ""

	ins, err := provider.Prepay(t.Context(), req)
	if err != nil {
		t.Fatalf("Prepay: %v", err)
	}
	trade, _ := fake.TradeInfo(req.OutTradeNo)
	if ins.CodeURL == "" || ins.CodeURL != trade.CodeURL || ins.JSAPI != nil {
		t.Errorf("Instructions = %+v, want only code_url %q", ins, trade.CodeURL)
	}
	if trade.TradeType != "NATIVE" || trade.Amount != 100 {
		t.Errorf("WeChat recorded %+v, want a NATIVE payment of 100 fen", trade)
	}
}

func TestPrepayRefusesBadRequestsBeforeCallingWeChat(t *testing.T) {
	fake, provider := setup(t)
	noOpenID := jsapiRequest("20240101000003", 100)
	noOpenID.OpenID = ""
	alipay := jsapiRequest("20240101000004", 100)
	alipay.Method = payment.AlipayWap
	zero := jsapiRequest("20240101000005", 0)

	for _, tc := range []struct {
		name     string
		req      payment.PrepayRequest
		wantCode string
	}{
		{"jsapi without openid", noOpenID, "openid_required"},
		{"another provider's method", alipay, "payment_method_unsupported"},
		{"zero amount", zero, "validation_failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := provider.Prepay(t.Context(), tc.req)
			e, ok := errs.As(err)
			if !ok || e.Code != tc.wantCode || e.Kind != errs.Invalid {
				t.Fatalf("Prepay error = %v, want an Invalid error with code %s", err, tc.wantCode)
			}
			if _, _, ok := fake.Trade(tc.req.OutTradeNo); ok {
				t.Error("the request reached WeChat")
			}
		})
	}
}

func TestPrepayTwiceForOneOrder(t *testing.T) {
	fake, provider := setup(t)
	req := jsapiRequest("20240101000006", 500)
	first, err := provider.Prepay(t.Context(), req)
	if err != nil {
		t.Fatalf("Prepay: %v", err)
	}

	again, err := provider.Prepay(t.Context(), req)
	if err != nil || again.JSAPI.Package != first.JSAPI.Package {
		t.Errorf("repeated Prepay = %+v, %v; want the same prepay_id", again.JSAPI, err)
	}

	changed := req
	changed.Amount = 600
	if _, err := provider.Prepay(t.Context(), changed); !errors.Is(err, payment.ErrProvider) {
		t.Errorf("Prepay with another amount: error = %v, want ErrProvider", err)
	}

	if _, err := fake.Pay(req.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Prepay(t.Context(), req); !errors.Is(err, payment.ErrTradePaid) {
		t.Errorf("Prepay of a paid order: error = %v, want ErrTradePaid", err)
	}
}

func TestRequestsAreSignedAndAnswersVerified(t *testing.T) {
	fake := wechatpaytest.New(t)
	otherKey := generateKey(t)

	wrongMerchantKey := fake.Config()
	wrongMerchantKey.MchPrivateKey = otherKey
	provider, err := wechatpay.New(t.Context(), wrongMerchantKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = provider.Prepay(t.Context(), jsapiRequest("20240101000007", 100))
	if !errors.Is(err, payment.ErrProvider) || !strings.Contains(err.Error(), "SIGN_ERROR") {
		t.Errorf("Prepay signed with another key: error = %v, want ErrProvider with SIGN_ERROR", err)
	}
	if _, _, ok := fake.Trade("20240101000007"); ok {
		t.Error("the fake accepted a request signed with another key")
	}

	wrongPlatformKey := fake.Config()
	wrongPlatformKey.PlatformPublicKey = &otherKey.PublicKey
	provider, err = wechatpay.New(t.Context(), wrongPlatformKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Prepay(t.Context(), jsapiRequest("20240101000008", 100)); !errors.Is(err, payment.ErrProvider) {
		t.Errorf("Prepay answered under another platform key: error = %v, want ErrProvider", err)
	}
}

func generateKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestQuery(t *testing.T) {
	fake, provider := setup(t)
	prepaid(t, provider, "20240101000010", 1234)

	pending, err := provider.Query(t.Context(), "20240101000010")
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if pending.Kind != payment.NoticeTrade || pending.State != payment.TradePending || pending.OutTradeNo != "20240101000010" {
		t.Errorf("unpaid: %+v, want a pending trade notice", pending)
	}

	if _, err := fake.Pay("20240101000010"); err != nil {
		t.Fatal(err)
	}
	trade, _ := fake.TradeInfo("20240101000010")
	got, err := provider.Query(t.Context(), "20240101000010")
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	want := payment.Notice{
		Kind: payment.NoticeTrade, OutTradeNo: "20240101000010", TransactionID: trade.TransactionID,
		State: payment.TradeSuccess, Amount: 1234, AppID: fake.AppID,
	}
	if !got.PaidAt.Equal(trade.SuccessTime) {
		t.Errorf("PaidAt = %v, want %v", got.PaidAt, trade.SuccessTime)
	}
	got.PaidAt = time.Time{}
	if got != want {
		t.Errorf("paid: %+v, want %+v", got, want)
	}

	if _, err := provider.Query(t.Context(), "20249999999999"); !errors.Is(err, payment.ErrTradeNotFound) {
		t.Errorf("unknown payment: error = %v, want ErrTradeNotFound", err)
	}
}

func TestCancelledCallStaysRecognisable(t *testing.T) {
	_, provider := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := provider.Query(ctx, "20240101000011")
	if !errors.Is(err, payment.ErrProvider) || !errors.Is(err, context.Canceled) {
		t.Errorf("Query with a cancelled context: error = %v, want ErrProvider wrapping context.Canceled", err)
	}
}

func TestClose(t *testing.T) {
	fake, provider := setup(t)
	prepaid(t, provider, "20240101000020", 100)

	if err := provider.Close(t.Context(), "20240101000020"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !fake.Closed("20240101000020") {
		t.Error("the fake did not close the payment")
	}
	if n, err := provider.Query(t.Context(), "20240101000020"); err != nil || n.State != payment.TradeClosed {
		t.Errorf("Query after Close = %+v, %v; want closed", n, err)
	}
	if err := provider.Close(t.Context(), "20240101000020"); err != nil {
		t.Errorf("closing twice: %v", err)
	}
	if err := provider.Close(t.Context(), "20249999999999"); err != nil {
		t.Errorf("closing a payment WeChat never saw: %v", err)
	}

	paid(t, fake, provider, "20240101000021", 100)
	if err := provider.Close(t.Context(), "20240101000021"); !errors.Is(err, payment.ErrTradePaid) {
		t.Errorf("closing a paid payment: error = %v, want ErrTradePaid", err)
	}
	if fake.Closed("20240101000021") {
		t.Error("the paid payment was closed")
	}
}

func TestRefund(t *testing.T) {
	fake, provider := setup(t)
	paid(t, fake, provider, "20240101000030", 1000)
	req := payment.RefundRequest{
		OutTradeNo: "20240101000030", OutRefundNo: "R20240101000030-1",
		Total: 1000, Amount: 300, Reason: "out of stock", NotifyURL: "https://shop.example/api/v1/payments/notify/wechat",
	}

	result, err := provider.Refund(t.Context(), req)
	if err != nil {
		t.Fatalf("Refund: %v", err)
	}
	if result.State != payment.RefundPending || result.Amount != 300 || result.RefundID == "" {
		t.Errorf("Refund = %+v, want a pending refund of 300 with an id", result)
	}
	again, err := provider.Refund(t.Context(), req)
	if err != nil || again != result {
		t.Errorf("repeated Refund = %+v, %v; want %+v", again, err, result)
	}
	refunds := fake.Refunds(req.OutTradeNo)
	if len(refunds) != 1 || refunds[0].Amount != 300 || refunds[0].Status != wechatpaytest.RefundProcessing {
		t.Errorf("WeChat holds refunds %+v, want one PROCESSING refund of 300", refunds)
	}
	if state, _, _ := fake.Trade(req.OutTradeNo); state != wechatpaytest.StateRefund {
		t.Errorf("trade state = %s, want REFUND", state)
	}

	queried, err := provider.QueryRefund(t.Context(), req.OutTradeNo, req.OutRefundNo)
	if err != nil || queried != result {
		t.Errorf("QueryRefund = %+v, %v; want %+v", queried, err, result)
	}

	n, err := fake.CompleteRefund(req.OutRefundNo)
	if err != nil {
		t.Fatal(err)
	}
	if n.URL != req.NotifyURL {
		t.Errorf("refund notify goes to %q, want %q", n.URL, req.NotifyURL)
	}
	notice, err := provider.ParseNotify(t.Context(), n.Header, n.Body)
	if err != nil {
		t.Fatalf("ParseNotify(refund): %v", err)
	}
	trade, _ := fake.TradeInfo(req.OutTradeNo)
	wantNotice := payment.Notice{
		Kind: payment.NoticeRefund, OutTradeNo: req.OutTradeNo, TransactionID: trade.TransactionID, Amount: 300,
		OutRefundNo: req.OutRefundNo, RefundID: result.RefundID, RefundState: payment.RefundSucceeded,
	}
	if notice != wantNotice {
		t.Errorf("refund notice = %+v, want %+v", notice, wantNotice)
	}
	if queried, err := provider.QueryRefund(t.Context(), req.OutTradeNo, req.OutRefundNo); err != nil || queried.State != payment.RefundSucceeded {
		t.Errorf("QueryRefund after completion = %+v, %v; want succeeded", queried, err)
	}
	if n, _ := provider.Query(t.Context(), req.OutTradeNo); n.State != payment.TradeSuccess {
		t.Errorf("a refunded payment queries as %s, want success", n.State)
	}

	tooMuch := req
	tooMuch.OutRefundNo, tooMuch.Amount = "R20240101000030-2", 701
	if _, err := provider.Refund(t.Context(), tooMuch); !errors.Is(err, payment.ErrProvider) {
		t.Errorf("refunding more than is left: error = %v, want ErrProvider", err)
	}
	if got := len(fake.Refunds(req.OutTradeNo)); got != 1 {
		t.Errorf("WeChat holds %d refunds, want 1", got)
	}
	if _, err := provider.QueryRefund(t.Context(), req.OutTradeNo, "R-unknown"); !errors.Is(err, wechatpay.ErrRefundNotFound) {
		t.Errorf("QueryRefund of an unknown refund: error = %v, want ErrRefundNotFound", err)
	}

	prepaid(t, provider, "20240101000031", 100)
	unpaid := payment.RefundRequest{OutTradeNo: "20240101000031", OutRefundNo: "R20240101000031-1", Total: 100, Amount: 100}
	if _, err := provider.Refund(t.Context(), unpaid); !errors.Is(err, payment.ErrTradeNotFound) {
		t.Errorf("refunding an unpaid payment: error = %v, want ErrTradeNotFound", err)
	}
}

func TestBillListsPaymentsAndRefundsInExactFen(t *testing.T) {
	fake, provider := setup(t)
	paid(t, fake, provider, "20240101000040", 10)     // 0.10 yuan
	paid(t, fake, provider, "20240101000041", 123456) // 1234.56 yuan
	prepaid(t, provider, "20240101000042", 700)       // never paid: not in the bill
	_, err := provider.Refund(t.Context(), payment.RefundRequest{
		OutTradeNo: "20240101000041", OutRefundNo: "R20240101000041-1", Total: 123456, Amount: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.CompleteRefund("R20240101000041-1"); err != nil {
		t.Fatal(err)
	}
	cheap, _ := fake.TradeInfo("20240101000040")
	dear, _ := fake.TradeInfo("20240101000041")

	// Everything happened now; asking for each day it touched keeps this right at midnight.
	var lines []payment.BillLine
	days := map[string]bool{}
	for _, at := range []time.Time{cheap.SuccessTime, dear.SuccessTime, time.Now()} {
		day := at.In(time.FixedZone("CST", 8*3600))
		if days[day.Format(time.DateOnly)] {
			continue
		}
		days[day.Format(time.DateOnly)] = true
		dayLines, err := provider.Bill(t.Context(), day)
		if err != nil {
			t.Fatalf("Bill %s: %v", day.Format(time.DateOnly), err)
		}
		lines = append(lines, dayLines...)
	}

	got := map[string]payment.BillLine{}
	for _, line := range lines {
		got[string(line.Kind)+" "+line.OutTradeNo] = line
	}
	want := map[string]payment.BillLine{
		"payment 20240101000040": {Kind: payment.BillPayment, OutTradeNo: "20240101000040", TransactionID: cheap.TransactionID, Amount: 10, At: cheap.SuccessTime},
		"payment 20240101000041": {Kind: payment.BillPayment, OutTradeNo: "20240101000041", TransactionID: dear.TransactionID, Amount: 123456, At: dear.SuccessTime},
		"refund 20240101000041":  {Kind: payment.BillRefund, OutTradeNo: "20240101000041", TransactionID: dear.TransactionID, OutRefundNo: "R20240101000041-1", Amount: 5},
	}
	if len(lines) != len(want) {
		t.Errorf("bill has %d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for key, w := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("bill has no line %q", key)
			continue
		}
		if !w.At.IsZero() && !g.At.Equal(w.At) {
			t.Errorf("%s: At = %v, want %v", key, g.At, w.At)
		}
		if g.At.IsZero() {
			t.Errorf("%s: no time", key)
		}
		g.At, w.At = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("%s = %+v, want %+v", key, g, w)
		}
	}

	empty, err := provider.Bill(t.Context(), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || len(empty) != 0 {
		t.Errorf("bill of a day without trades = %v, %v; want no lines", empty, err)
	}
}

func TestConcurrentPaymentsAtOneFake(t *testing.T) {
	fake, provider := setup(t)
	const buyers = 12
	errc := make(chan error, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			outTradeNo := fmt.Sprintf("2024010100%04d", 500+i)
			if _, err := provider.Prepay(t.Context(), jsapiRequest(outTradeNo, money.Fen(100+i))); err != nil {
				errc <- err
				return
			}
			n, err := fake.Pay(outTradeNo)
			if err != nil {
				errc <- err
				return
			}
			notice, err := provider.ParseNotify(t.Context(), n.Header, n.Body)
			if err != nil {
				errc <- err
				return
			}
			queried, err := provider.Query(t.Context(), outTradeNo)
			if err != nil {
				errc <- err
				return
			}
			if notice.Amount != money.Fen(100+i) || queried.State != payment.TradeSuccess {
				errc <- fmt.Errorf("%s: notice %+v, query %+v", outTradeNo, notice, queried)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	_, err := wechatpay.New(t.Context(), wechatpay.Config{})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, field := range []string{"AppID", "MchID", "MchCertSerial", "MchPrivateKey", "APIv3Key", "PlatformKeyID", "PlatformPublicKey"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}

	fake := wechatpaytest.New(t)
	shortKey := fake.Config()
	shortKey.APIv3Key = "too-short"
	if _, err := wechatpay.New(t.Context(), shortKey); err == nil || !strings.Contains(err.Error(), "APIv3Key") {
		t.Errorf("short APIv3Key: error = %v", err)
	}
	withPath := fake.Config()
	withPath.BaseURL = fake.URL + "/prefix"
	if _, err := wechatpay.New(t.Context(), withPath); err == nil || !strings.Contains(err.Error(), "BaseURL") {
		t.Errorf("BaseURL with a path: error = %v", err)
	}
}

func TestSecretsStayOutOfFormattedValues(t *testing.T) {
	fake, provider := setup(t)
	for _, s := range []string{fmt.Sprint(fake.Config()), fmt.Sprintf("%+v", fake.Config()), fmt.Sprintf("%v", provider)} {
		if strings.Contains(s, fake.APIv3Key) {
			t.Errorf("%q shows the APIv3 key", s)
		}
		if !strings.Contains(s, fake.MchID) {
			t.Errorf("%q does not name the merchant", s)
		}
	}
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	key := generateKey(t)
	write := func(name, blockType string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	publicDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Wechatpay platform"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	cert, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}

	private, err := wechatpay.LoadPrivateKey(write("apiclient_key.pem", "PRIVATE KEY", pkcs8))
	if err != nil || !private.Equal(key) {
		t.Errorf("LoadPrivateKey = %v; want the written key", err)
	}
	for _, path := range []string{write("pub_key.pem", "PUBLIC KEY", publicDER), write("wechatpay_cert.pem", "CERTIFICATE", cert)} {
		public, err := wechatpay.LoadPublicKey(path)
		if err != nil || !public.Equal(&key.PublicKey) {
			t.Errorf("LoadPublicKey(%s) = %v; want the written key", filepath.Base(path), err)
		}
	}
	if _, err := wechatpay.LoadPublicKey(write("private_as_public.pem", "PRIVATE KEY", pkcs8)); err == nil {
		t.Error("LoadPublicKey accepted a private key file")
	}
	if _, err := wechatpay.LoadPrivateKey(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("LoadPrivateKey accepted a missing file")
	}
}
