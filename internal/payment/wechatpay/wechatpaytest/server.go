// Package wechatpaytest is a fake WeChat Pay API v3 server for tests. It keys itself with
// freshly generated RSA keys, verifies every request's merchant signature and signs every
// answer and notify with its platform key the way WeChat Pay does, so the official SDK's own
// checks run against it unchanged. Tests drive the buyer's side through Pay, CompleteRefund
// and the notify builders.
package wechatpaytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/signers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/consts"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/minimart/minimart/internal/payment/wechatpay"
	"github.com/minimart/minimart/internal/platform/money"
)

// Trade states, as WeChat Pay names them.
const (
	StateNotPay  = "NOTPAY"
	StateSuccess = "SUCCESS"
	StateRefund  = "REFUND"
	StateClosed  = "CLOSED"
)

// Refund statuses, as WeChat Pay names them.
const (
	RefundProcessing = "PROCESSING"
	RefundSuccess    = "SUCCESS"
)

const (
	authorizationScheme = "WECHATPAY2-SHA256-RSA2048"
	// maxClockSkew is how far a request's timestamp may be from now, as at WeChat Pay.
	maxClockSkew = 5 * time.Minute
	maxBodyBytes = 1 << 20
	// apiOrigin is where WeChat's bill download_url points; clients reroute it here.
	apiOrigin = "https://api.mch.weixin.qq.com"
)

// Server is a running fake. Its exported fields are the merchant account it serves; they
// must not be changed, except AutoCompleteRefunds before the first request. All methods are
// safe for concurrent use.
type Server struct {
	URL           string
	AppID         string
	MchID         string
	MchSerial     string
	APIv3Key      string
	PlatformKeyID string
	// MerchantKey is the merchant's API key pair: requests must be signed with it.
	MerchantKey *rsa.PrivateKey
	// PlatformKey signs answers and notifies; its public half is WeChat Pay's public key.
	PlatformKey *rsa.PrivateKey
	// AutoCompleteRefunds makes a refund succeed at once: the create answer says SUCCESS
	// and the REFUND.SUCCESS notify is posted to its notify_url in the background.
	AutoCompleteRefunds bool

	httpServer       *httptest.Server
	merchantVerifier *verifiers.SHA256WithRSAPubkeyVerifier
	deliverClient    *http.Client
	background       sync.WaitGroup
	backgroundCtx    context.Context
	stopBackground   context.CancelFunc

	mu      sync.Mutex
	trades  map[string]*trade
	refunds map[string]*refund
	// refundOrder lists out_refund_no per out_trade_no in creation order.
	refundOrder map[string][]string
	bills       map[string][]byte
}

type trade struct {
	tradeType     string // JSAPI or NATIVE
	appID         string
	outTradeNo    string
	description   string
	amount        money.Fen
	openID        string
	notifyURL     string
	timeExpire    time.Time
	prepayID      string
	codeURL       string
	state         string
	transactionID string
	successTime   time.Time
	closed        bool
}

type refund struct {
	refundID    string
	outRefundNo string
	outTradeNo  string
	amount      money.Fen
	reason      string
	notifyURL   string
	status      string
	createTime  time.Time
	successTime time.Time
}

// New starts a fake with a new merchant account and keys; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	merchantKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("wechatpaytest: merchant key: %v", err)
	}
	platformKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("wechatpaytest: platform key: %v", err)
	}
	apiV3Key, err := utils.GenerateNonce() // 32 letters and digits, like a key from the merchant platform
	if err != nil {
		t.Fatalf("wechatpaytest: APIv3 key: %v", err)
	}
	s := &Server{
		AppID:         "wx" + randomHex(8),
		MchID:         "19" + randomDigits(8),
		MchSerial:     strings.ToUpper(randomHex(20)),
		APIv3Key:      apiV3Key,
		PlatformKeyID: "PUB_KEY_ID_" + randomDigits(30),
		MerchantKey:   merchantKey,
		PlatformKey:   platformKey,
		deliverClient: &http.Client{Timeout: 10 * time.Second},
		trades:        map[string]*trade{},
		refunds:       map[string]*refund{},
		refundOrder:   map[string][]string{},
		bills:         map[string][]byte{},
	}
	s.merchantVerifier = verifiers.NewSHA256WithRSAPubkeyVerifier(s.MchSerial, merchantKey.PublicKey)
	s.backgroundCtx, s.stopBackground = context.WithCancel(context.Background())
	s.httpServer = httptest.NewServer(s.routes())
	s.URL = s.httpServer.URL
	t.Cleanup(func() {
		// Close waits for running handlers, so every background delivery is counted before Wait.
		s.httpServer.Close()
		s.stopBackground()
		s.background.Wait()
	})
	return s
}

// Config is the adapter configuration for this fake's merchant account.
func (s *Server) Config() wechatpay.Config {
	return wechatpay.Config{
		AppID:             s.AppID,
		MchID:             s.MchID,
		MchCertSerial:     s.MchSerial,
		MchPrivateKey:     s.MerchantKey,
		APIv3Key:          s.APIv3Key,
		PlatformKeyID:     s.PlatformKeyID,
		PlatformPublicKey: &s.PlatformKey.PublicKey,
		BaseURL:           s.URL,
		HTTPClient:        s.httpServer.Client(),
	}
}

// TradeInfo is what the fake recorded about a payment.
type TradeInfo struct {
	TradeType     string // JSAPI or NATIVE
	OutTradeNo    string
	Description   string
	Amount        money.Fen
	OpenID        string
	NotifyURL     string
	TimeExpire    time.Time
	PrepayID      string
	CodeURL       string
	State         string
	TransactionID string
	SuccessTime   time.Time
}

// TradeInfo returns the recorded payment outTradeNo.
func (s *Server) TradeInfo(outTradeNo string) (TradeInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr, ok := s.trades[outTradeNo]
	if !ok {
		return TradeInfo{}, false
	}
	return TradeInfo{
		TradeType:     tr.tradeType,
		OutTradeNo:    tr.outTradeNo,
		Description:   tr.description,
		Amount:        tr.amount,
		OpenID:        tr.openID,
		NotifyURL:     tr.notifyURL,
		TimeExpire:    tr.timeExpire,
		PrepayID:      tr.prepayID,
		CodeURL:       tr.codeURL,
		State:         tr.state,
		TransactionID: tr.transactionID,
		SuccessTime:   tr.successTime,
	}, true
}

// Trade returns a payment's state (NOTPAY, SUCCESS, REFUND, CLOSED) and amount.
func (s *Server) Trade(outTradeNo string) (state string, amount money.Fen, ok bool) {
	info, ok := s.TradeInfo(outTradeNo)
	return info.State, info.Amount, ok
}

// Closed reports whether the payment was closed through the close endpoint.
func (s *Server) Closed(outTradeNo string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr, ok := s.trades[outTradeNo]
	return ok && tr.closed
}

// RefundInfo is one refund of a payment.
type RefundInfo struct {
	OutRefundNo string
	RefundID    string
	Amount      money.Fen
	Status      string // PROCESSING or SUCCESS
}

// Refunds lists the refunds of a payment in the order they were asked for.
func (s *Server) Refunds(outTradeNo string) []RefundInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var infos []RefundInfo
	for _, no := range s.refundOrder[outTradeNo] {
		r := s.refunds[no]
		infos = append(infos, RefundInfo{OutRefundNo: r.outRefundNo, RefundID: r.refundID, Amount: r.amount, Status: r.status})
	}
	return infos
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/pay/transactions/jsapi", s.prepayJSAPI)
	mux.HandleFunc("POST /v3/pay/transactions/native", s.prepayNative)
	mux.HandleFunc("GET /v3/pay/transactions/out-trade-no/{no}", s.queryTrade)
	mux.HandleFunc("POST /v3/pay/transactions/out-trade-no/{no}/close", s.closeTrade)
	mux.HandleFunc("POST /v3/refund/domestic/refunds", s.createRefund)
	mux.HandleFunc("GET /v3/refund/domestic/refunds/{no}", s.queryRefund)
	mux.HandleFunc("GET /v3/bill/tradebill", s.tradeBill)
	mux.HandleFunc("GET /v3/billdownload/file", s.downloadBill)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "请求体无法读取")
			return
		}
		if err := s.authenticate(r, body); err != nil {
			s.fail(w, r, http.StatusUnauthorized, "SIGN_ERROR", "签名错误: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mux.ServeHTTP(w, r)
	})
}

// authenticate checks the Authorization header WeChat Pay requires:
// WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"
// signed over "method\nURI\ntimestamp\nnonce\nbody\n" with the merchant key.
func (s *Server) authenticate(r *http.Request, body []byte) error {
	scheme, params, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != authorizationScheme {
		return fmt.Errorf("authorization scheme %q is not %s", scheme, authorizationScheme)
	}
	fields := map[string]string{}
	for _, param := range strings.Split(params, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		fields[key] = strings.Trim(value, `"`)
	}
	if fields["mchid"] != s.MchID {
		return fmt.Errorf("mchid %q is not this merchant", fields["mchid"])
	}
	timestamp, err := strconv.ParseInt(fields["timestamp"], 10, 64)
	if err != nil {
		return errors.New("timestamp is not a number")
	}
	if skew := time.Since(time.Unix(timestamp, 0)); skew > maxClockSkew || skew < -maxClockSkew {
		return errors.New("timestamp is too far from now")
	}
	message := fmt.Sprintf("%s\n%s\n%s\n%s\n%s\n", r.Method, r.RequestURI, fields["timestamp"], fields["nonce_str"], body)
	return s.merchantVerifier.Verify(r.Context(), fields["serial_no"], message, fields["signature"])
}

// signedHeader holds WeChat Pay's signature headers over "timestamp\nnonce\nbody\n".
func (s *Server) signedHeader(ctx context.Context, body []byte, key *rsa.PrivateKey, serial string, at time.Time) (http.Header, error) {
	nonce, err := utils.GenerateNonce()
	if err != nil {
		return nil, err
	}
	signer := &signers.SHA256WithRSASigner{MchID: s.MchID, CertificateSerialNo: serial, PrivateKey: key}
	signature, err := signer.Sign(ctx, fmt.Sprintf("%d\n%s\n%s\n", at.Unix(), nonce, body))
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	header.Set(consts.WechatPayTimestamp, strconv.FormatInt(at.Unix(), 10))
	header.Set(consts.WechatPayNonce, nonce)
	header.Set(consts.WechatPaySignature, signature.Signature)
	header.Set(consts.WechatPaySerial, serial)
	header.Set("Wechatpay-Signature-Type", authorizationScheme)
	return header, nil
}

// reply writes a signed answer; v nil means no body (204).
func (s *Server) reply(w http.ResponseWriter, r *http.Request, status int, v any) {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	header, err := s.signedHeader(r.Context(), body, s.PlatformKey, s.PlatformKeyID, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for key, values := range header {
		w.Header()[key] = values
	}
	w.Header().Set(consts.RequestID, randomHex(16))
	if body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// apiError is WeChat Pay's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fail writes WeChat Pay's error body, signed like every answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	s.reply(w, r, status, apiError{Code: code, Message: message})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
