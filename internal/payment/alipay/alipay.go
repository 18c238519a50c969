// Package alipay is the Alipay adapter of the payment module: it implements payment.Provider
// on top of github.com/smartwalle/alipay/v3, which does every request signature, response
// verification and notify verification (RSA2 with the Alipay public key, not certificates).
//
// Alipay answers amounts as yuan strings and times in Beijing time without a zone; this
// package turns them into money.Fen and time.Time exactly and nowhere else.
package alipay

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	sdk "github.com/smartwalle/alipay/v3"
	"github.com/smartwalle/ncrypto"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

// Config is what the adapter needs to talk to Alipay. Keys are the strings Alipay's key tool
// and open platform give out: PEM, or the bare base64 body.
type Config struct {
	AppID string
	// PrivateKey is the app's RSA private key (PKCS#1 or PKCS#8), which signs requests.
	PrivateKey string
	// AlipayPublicKey is Alipay's RSA public key (PKIX), which verifies answers and notifies.
	// It is not the app's own public key.
	AlipayPublicKey string
	// Gateway is the OpenAPI gateway; "" is Alipay's production gateway. Tests point it at
	// alipaytest.
	Gateway string
	// HTTPClient carries the calls and the bill download; nil is a client with a timeout.
	HTTPClient *http.Client
}

// defaultTimeout bounds one call to Alipay when the caller gives no client; it also has to
// cover downloading a day's bill.
const defaultTimeout = 30 * time.Second

// minKeyBits is the size Alipay requires of RSA2 keys.
const minKeyBits = 2048

// Provider is the Alipay payment.Provider. It is safe for concurrent use.
type Provider struct {
	appID  string
	client *sdk.Client
	http   *http.Client
}

var _ payment.Provider = (*Provider)(nil)

// New checks cfg and builds the provider. Errors name the bad setting and never repeat key
// material.
func New(cfg Config) (*Provider, error) {
	appID := strings.TrimSpace(cfg.AppID)
	if appID == "" {
		return nil, errors.New("alipay: AppID is missing")
	}
	privateKeyText := strings.TrimSpace(cfg.PrivateKey)
	if privateKeyText == "" {
		return nil, errors.New("alipay: PrivateKey (the app private key) is missing")
	}
	publicKeyText := strings.TrimSpace(cfg.AlipayPublicKey)
	if publicKeyText == "" {
		return nil, errors.New("alipay: AlipayPublicKey is missing")
	}
	privateKey, err := decodePrivateKey(privateKeyText)
	if err != nil {
		return nil, fmt.Errorf("alipay: PrivateKey: %w", err)
	}
	if strings.Contains(publicKeyText, "PRIVATE KEY") {
		return nil, errors.New("alipay: AlipayPublicKey holds a private key; it must be the Alipay public key")
	}
	alipayKey, err := ncrypto.DecodePublicKey([]byte(publicKeyText)).PKIX().RSAPublicKey()
	if err != nil {
		return nil, fmt.Errorf("alipay: AlipayPublicKey is not a PEM or base64 PKIX RSA public key (%v)", err)
	}
	if alipayKey.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("alipay: AlipayPublicKey has %d bits; RSA2 needs %d", alipayKey.N.BitLen(), minKeyBits)
	}
	if alipayKey.Equal(privateKey.Public()) {
		return nil, errors.New("alipay: AlipayPublicKey is the app's own public key; use the Alipay public key from the open platform")
	}
	gateway := strings.TrimSpace(cfg.Gateway)
	if gateway != "" {
		u, err := url.Parse(gateway)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("alipay: Gateway %q is not an http(s) URL", gateway)
		}
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: defaultTimeout}
	}

	// production=true makes the SDK use the gateway given here (or Alipay's production one);
	// the sandbox switch would ignore it.
	client, err := sdk.New(appID, privateKeyText, true,
		sdk.WithProductionGateway(gateway),
		sdk.WithHTTPClient(httpClient),
		sdk.WithTimeLocation(money.ChinaTime()))
	if err != nil {
		return nil, fmt.Errorf("alipay: PrivateKey is not usable (%v)", err)
	}
	if err := client.LoadAliPayPublicKey(publicKeyText); err != nil {
		return nil, fmt.Errorf("alipay: AlipayPublicKey is not usable (%v)", err)
	}
	return &Provider{appID: appID, client: client, http: httpClient}, nil
}

// decodePrivateKey parses the app key the way the SDK will (PKCS#1, then PKCS#8), to say
// precisely what is wrong before the SDK's terser errors would.
func decodePrivateKey(text string) (*rsa.PrivateKey, error) {
	key, err := ncrypto.DecodePrivateKey([]byte(text)).PKCS1().RSAPrivateKey()
	if err != nil {
		key, err = ncrypto.DecodePrivateKey([]byte(text)).PKCS8().RSAPrivateKey()
	}
	if err != nil {
		return nil, fmt.Errorf("not a PEM or base64 RSA private key in PKCS#1 or PKCS#8 (%v)", err)
	}
	if key.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("the key has %d bits; RSA2 needs %d", key.N.BitLen(), minKeyBits)
	}
	return key, nil
}

// maxKeyFileBytes is far above any RSA key file; a bigger file is the wrong file.
const maxKeyFileBytes = 64 << 10

// LoadKey reads a key file (PEM or bare base64) for Config, trimmed of surrounding space.
func LoadKey(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("alipay: read key file: %w", err)
	}
	if len(data) > maxKeyFileBytes {
		return "", fmt.Errorf("alipay: key file %s is %d bytes; a key is a few kilobytes", path, len(data))
	}
	key := strings.TrimSpace(string(data))
	if key == "" {
		return "", fmt.Errorf("alipay: key file %s is empty", path)
	}
	return key, nil
}

// Name is the notify path segment and the stored provider name.
func (p *Provider) Name() string { return "alipay" }

// Methods are Alipay's mobile web, desktop web and QR (face-to-face) payments.
func (p *Provider) Methods() []payment.Method {
	return []payment.Method{payment.AlipayWap, payment.AlipayPage, payment.AlipayQR}
}

// Alipay's product codes, one per method, and the trade and refund words this adapter reads.
const (
	productWap  = "QUICK_WAP_WAY"
	productPage = "FAST_INSTANT_TRADE_PAY"
	productQR   = "FACE_TO_FACE_PAYMENT"

	subCodeTradeNotExist    = "ACQ.TRADE_NOT_EXIST"
	subCodeTradeStatusError = "ACQ.TRADE_STATUS_ERROR"

	refundStatusSuccess = "REFUND_SUCCESS"
	fundChanged         = "Y"
)

// Alipay's limits on the fields this adapter sends.
const (
	maxOutNoLength  = 64
	maxSubjectRunes = 256
	maxReasonRunes  = 256
	minAmount       = money.Fen(1)
	maxAmount       = money.Fen(100_000_000 * 100)
)

// The OpenAPI methods this adapter calls, named as Alipay names them in errors and logs.
const (
	apiWapPay      = "alipay.trade.wap.pay"
	apiPagePay     = "alipay.trade.page.pay"
	apiPreCreate   = "alipay.trade.precreate"
	apiQuery       = "alipay.trade.query"
	apiClose       = "alipay.trade.close"
	apiRefund      = "alipay.trade.refund"
	apiRefundQuery = "alipay.trade.fastpay.refund.query"
	apiBillURL     = "alipay.data.dataservice.bill.downloadurl.query"
)

// Prepay creates the payment. Wap and page payments are signed cashier URLs that Alipay
// turns into a trade only when the buyer opens them; QR payments are pre-created at Alipay
// and return the code's content.
func (p *Provider) Prepay(ctx context.Context, req payment.PrepayRequest) (payment.Instructions, error) {
	if err := validatePrepay(req); err != nil {
		return payment.Instructions{}, err
	}
	trade := sdk.Trade{
		NotifyURL:   req.NotifyURL,
		ReturnURL:   req.ReturnURL,
		Subject:     subject(req),
		OutTradeNo:  req.OutTradeNo,
		TotalAmount: formatYuan(req.Amount),
	}
	timeExpire := ""
	if !req.ExpiresAt.IsZero() {
		timeExpire = req.ExpiresAt.In(money.ChinaTime()).Format(alipayTimeLayout)
	}

	switch req.Method {
	case payment.AlipayWap:
		trade.ProductCode = productWap
		// TradeWapPay declares its own time_expire, which shadows the one in Trade.
		payURL, err := p.client.TradeWapPay(sdk.TradeWapPay{Trade: trade, TimeExpire: timeExpire})
		if err != nil {
			return payment.Instructions{}, fmt.Errorf("alipay: sign %s url: %w", apiWapPay, err)
		}
		return payment.Instructions{PayURL: payURL.String()}, nil
	case payment.AlipayPage:
		trade.ProductCode = productPage
		trade.TimeExpire = timeExpire
		payURL, err := p.client.TradePagePay(sdk.TradePagePay{Trade: trade})
		if err != nil {
			return payment.Instructions{}, fmt.Errorf("alipay: sign %s url: %w", apiPagePay, err)
		}
		return payment.Instructions{PayURL: payURL.String()}, nil
	default: // payment.AlipayQR; validatePrepay refused every other method
		trade.ProductCode = productQR
		trade.TimeExpire = timeExpire
		rsp, err := p.client.TradePreCreate(ctx, sdk.TradePreCreate{Trade: trade})
		var answer sdk.Error
		if rsp != nil {
			answer = rsp.Error
		}
		if failure := checkAnswer(apiPreCreate, err, answer); failure != nil {
			return payment.Instructions{}, failure
		}
		if rsp.QRCode == "" {
			return payment.Instructions{}, &gatewayError{api: apiPreCreate, cause: errors.New("the answer has no qr_code")}
		}
		return payment.Instructions{CodeURL: rsp.QRCode}, nil
	}
}

func validatePrepay(req payment.PrepayRequest) error {
	var fields errs.Fields
	switch req.Method {
	case payment.AlipayWap, payment.AlipayPage, payment.AlipayQR:
	default:
		fields.Add("method", fmt.Sprintf("%q is not an Alipay method", req.Method))
	}
	validateOutNo(&fields, "out_trade_no", req.OutTradeNo)
	if req.Amount < minAmount || req.Amount > maxAmount {
		fields.Add("amount", "must be between 1 fen and 100000000 yuan")
	}
	if req.NotifyURL == "" {
		fields.Add("notify_url", "is required: Alipay reports the payment there")
	}
	return fields.Err()
}

func validateOutNo(fields *errs.Fields, name, value string) {
	if value == "" || len(value) > maxOutNoLength {
		fields.Add(name, fmt.Sprintf("must be 1 to %d characters", maxOutNoLength))
	}
}

// subject is the trade title the buyer sees; Alipay requires one.
func subject(req payment.PrepayRequest) string {
	if req.Description == "" {
		return req.OutTradeNo
	}
	return clip.Runes(req.Description, maxSubjectRunes)
}

// Query asks Alipay for the trade. Alipay creates wap, page and QR trades only when the buyer
// opens the cashier or scans the code, so a payment nobody started is ErrTradeNotFound.
func (p *Provider) Query(ctx context.Context, outTradeNo string) (payment.Notice, error) {
	rsp, err := p.client.TradeQuery(ctx, sdk.TradeQuery{OutTradeNo: outTradeNo})
	var answer sdk.Error
	if rsp != nil {
		answer = rsp.Error
	}
	if failure := checkAnswer(apiQuery, err, answer); failure != nil {
		if failure.subCode == subCodeTradeNotExist {
			return payment.Notice{}, fmt.Errorf("alipay: %s %q: %w", apiQuery, outTradeNo, payment.ErrTradeNotFound)
		}
		return payment.Notice{}, failure
	}
	amount, err := parseYuan(rsp.TotalAmount)
	if err != nil {
		return payment.Notice{}, &gatewayError{api: apiQuery, cause: fmt.Errorf("total_amount: %w", err)}
	}
	paidAt, err := parseOptionalChinaTime(rsp.SendPayDate)
	if err != nil {
		return payment.Notice{}, &gatewayError{api: apiQuery, cause: fmt.Errorf("send_pay_date: %w", err)}
	}
	state, ok := tradeState(rsp.TradeStatus, !paidAt.IsZero())
	if !ok {
		return payment.Notice{}, &gatewayError{api: apiQuery, cause: fmt.Errorf("unknown trade_status %q", shorten(string(rsp.TradeStatus)))}
	}
	return payment.Notice{
		Kind:          payment.NoticeTrade,
		OutTradeNo:    rsp.OutTradeNo,
		TransactionID: rsp.TradeNo,
		State:         state,
		Amount:        amount,
		PaidAt:        paidAt,
		AppID:         p.appID,
	}, nil
}

// tradeState reduces Alipay's trade_status. Alipay also reports a trade it refunded in full
// as TRADE_CLOSED; paid tells that one (it carries a payment time) from a trade closed
// unpaid, and payment.TradeSuccess covers paid-then-refunded.
func tradeState(status sdk.TradeStatus, paid bool) (payment.TradeState, bool) {
	switch status {
	case sdk.TradeStatusWaitBuyerPay:
		return payment.TradePending, true
	case sdk.TradeStatusSuccess, sdk.TradeStatusFinished:
		return payment.TradeSuccess, true
	case sdk.TradeStatusClosed:
		if paid {
			return payment.TradeSuccess, true
		}
		return payment.TradeClosed, true
	default:
		return "", false
	}
}

// Close closes an unpaid trade. Alipay answers TRADE_NOT_EXIST for a payment the buyer never
// opened or scanned, which is fine to close; it answers TRADE_STATUS_ERROR both for a paid
// trade and for one already closed, so a query tells them apart.
func (p *Provider) Close(ctx context.Context, outTradeNo string) error {
	rsp, err := p.client.TradeClose(ctx, sdk.TradeClose{OutTradeNo: outTradeNo})
	var answer sdk.Error
	if rsp != nil {
		answer = rsp.Error
	}
	failure := checkAnswer(apiClose, err, answer)
	if failure == nil {
		return nil
	}
	switch failure.subCode {
	case subCodeTradeNotExist:
		return nil
	case subCodeTradeStatusError:
		notice, err := p.Query(ctx, outTradeNo)
		if err != nil {
			return fmt.Errorf("%w (and the query to tell paid from closed failed: %v)", failure, err)
		}
		switch notice.State {
		case payment.TradeClosed:
			return nil
		case payment.TradeSuccess:
			return fmt.Errorf("alipay: %s %q: %w", apiClose, outTradeNo, payment.ErrTradePaid)
		}
	}
	return failure
}

// Refund refunds part or all of a paid trade. Alipay refunds synchronously: an accepted
// request has moved the money (fund_change "Y"). Repeating an out_request_no returns
// fund_change "N" without saying how much that earlier refund was, so the refund query
// answers instead. Alipay has no refund id of its own; RefundID stays "". Alipay sends refund
// notifies to the trade's notify_url, so req.NotifyURL is not used.
func (p *Provider) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	var fields errs.Fields
	validateOutNo(&fields, "out_trade_no", req.OutTradeNo)
	validateOutNo(&fields, "out_refund_no", req.OutRefundNo)
	if req.Amount < minAmount || (req.Total > 0 && req.Amount > req.Total) {
		fields.Add("amount", "must be at least 1 fen and at most the payment's total")
	}
	if err := fields.Err(); err != nil {
		return payment.RefundResult{}, err
	}

	rsp, err := p.client.TradeRefund(ctx, sdk.TradeRefund{
		OutTradeNo:   req.OutTradeNo,
		RefundAmount: formatYuan(req.Amount),
		RefundReason: clip.Runes(req.Reason, maxReasonRunes),
		OutRequestNo: req.OutRefundNo,
	})
	var answer sdk.Error
	if rsp != nil {
		answer = rsp.Error
	}
	if failure := checkAnswer(apiRefund, err, answer); failure != nil {
		if failure.subCode == subCodeTradeNotExist {
			return payment.RefundResult{}, fmt.Errorf("alipay: %s %q: %w", apiRefund, req.OutTradeNo, payment.ErrTradeNotFound)
		}
		return payment.RefundResult{}, failure
	}
	if rsp.FundChange == fundChanged {
		return payment.RefundResult{State: payment.RefundSucceeded, Amount: req.Amount}, nil
	}
	return p.QueryRefund(ctx, req.OutTradeNo, req.OutRefundNo)
}

// QueryRefund asks Alipay about a refund. Only refund_status REFUND_SUCCESS counts as done;
// Alipay leaves the status out both for a request it never received and for one it has not
// finished, and a refund asked for again with the same number is safe, so anything else is
// pending rather than failed.
func (p *Provider) QueryRefund(ctx context.Context, outTradeNo, outRefundNo string) (payment.RefundResult, error) {
	rsp, err := p.client.TradeFastPayRefundQuery(ctx, sdk.TradeFastPayRefundQuery{
		OutTradeNo:   outTradeNo,
		OutRequestNo: outRefundNo,
	})
	var answer sdk.Error
	if rsp != nil {
		answer = rsp.Error
	}
	if failure := checkAnswer(apiRefundQuery, err, answer); failure != nil {
		if failure.subCode == subCodeTradeNotExist {
			return payment.RefundResult{}, fmt.Errorf("alipay: %s %q: %w", apiRefundQuery, outTradeNo, payment.ErrTradeNotFound)
		}
		return payment.RefundResult{}, failure
	}
	if rsp.RefundStatus != refundStatusSuccess {
		return payment.RefundResult{State: payment.RefundPending}, nil
	}
	amount, err := parseYuan(rsp.RefundAmount)
	if err != nil {
		return payment.RefundResult{}, &gatewayError{api: apiRefundQuery, cause: fmt.Errorf("refund_amount: %w", err)}
	}
	return payment.RefundResult{State: payment.RefundSucceeded, Amount: amount}, nil
}

// gatewayError is a call that Alipay refused or that got no verified answer. It wraps
// payment.ErrProvider (and the transport error, if any) for errors.Is; its text names the
// API and Alipay's codes for the logs and carries nothing secret.
type gatewayError struct {
	api     string
	code    sdk.Code
	subCode string
	subMsg  string
	cause   error
}

func (e *gatewayError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("alipay: %s: %v", e.api, e.cause)
	}
	return fmt.Sprintf("alipay: %s: refused with code %s %s: %s", e.api, e.code, e.subCode, e.subMsg)
}

func (e *gatewayError) Unwrap() []error {
	if e.cause != nil {
		return []error{payment.ErrProvider, e.cause}
	}
	return []error{payment.ErrProvider}
}

// checkAnswer folds the SDK's two ways of reporting a failed call into one: err for a
// transport or signature failure, or for an unsigned refusal (Alipay does not sign the answer
// to a badly signed request; the SDK hands those over as *sdk.Error), and a verified answer
// whose code is not 10000. It returns nil only for a verified 10000.
func checkAnswer(api string, err error, answer sdk.Error) *gatewayError {
	if err != nil {
		var refusal *sdk.Error
		if errors.As(err, &refusal) && refusal.Code.IsFailure() {
			return &gatewayError{api: api, code: refusal.Code, subCode: refusal.SubCode, subMsg: refusal.SubMsg}
		}
		return &gatewayError{api: api, cause: err}
	}
	if answer.Code != sdk.CodeSuccess {
		return &gatewayError{api: api, code: answer.Code, subCode: answer.SubCode, subMsg: answer.SubMsg}
	}
	return nil
}
