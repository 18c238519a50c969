// Package alipaytest is a fake Alipay OpenAPI gateway for tests. It checks every request's
// RSA2 signature with the app's public key and signs every answer and notify with its own
// Alipay key, both through the SDK's signing code (nsign with alipay.Encoder), so the adapter
// under test runs its real verification. Keys are RSA 2048, generated per server.
//
// It mimics the Alipay behaviour that callers trip over: a wap or page trade exists only once
// the buyer opens the cashier URL (Open), a QR trade only once the code is scanned (Scan) or
// paid; until then queries and closes answer ACQ.TRADE_NOT_EXIST, and closing does not stop a
// later payment. Refunds are synchronous, repeatable by out_request_no, and a full refund
// turns the trade TRADE_CLOSED.
package alipaytest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/smartwalle/alipay/v3"
	"github.com/smartwalle/nsign"

	"github.com/minimart/minimart/internal/payment/alipay"
	"github.com/minimart/minimart/internal/platform/money"
)

// Alipay's trade statuses, as the fake reports them.
const (
	StatusWaitBuyerPay = "WAIT_BUYER_PAY"
	StatusSuccess      = "TRADE_SUCCESS"
	StatusFinished     = "TRADE_FINISHED"
	StatusClosed       = "TRADE_CLOSED"
)

// timeLayout is how Alipay writes times: without a zone, meaning Beijing time.
const timeLayout = "2006-01-02 15:04:05"

// Server is a running fake gateway. Its fields are read-only after New; its methods are safe
// for concurrent use.
type Server struct {
	// URL is the gateway URL to put in alipay.Config.Gateway.
	URL string
	// AppID is the merchant app the gateway serves; requests for another app are refused.
	AppID string
	// PartnerID is the merchant's 2088… account id, written in bills and notifies.
	PartnerID string

	// The app's key pair: the adapter signs with the private key, the gateway verifies with
	// the public one.
	AppPrivateKey    *rsa.PrivateKey
	AppPublicKey     *rsa.PublicKey
	AppPrivateKeyPEM string // PKCS#8
	AppPublicKeyPEM  string // PKIX
	// Alipay's key pair: the gateway signs answers and notifies, the adapter verifies.
	AlipayPrivateKey    *rsa.PrivateKey
	AlipayPublicKey     *rsa.PublicKey
	AlipayPrivateKeyPEM string // PKCS#8
	AlipayPublicKeyPEM  string // PKIX

	server       *httptest.Server
	appVerifier  nsign.Signer
	alipaySigner nsign.Signer

	mu       sync.Mutex
	now      func() time.Time
	trades   map[string]*trade
	bills    map[string][]byte // download token → bill archive
	sequence int
}

// trade is one trade as Alipay holds it.
type trade struct {
	outTradeNo string
	tradeNo    string
	subject    string
	amount     money.Fen
	notifyURL  string
	qrCode     string
	createdAt  time.Time
	expiresAt  time.Time
	// started is whether the trade exists at Alipay yet: the buyer opened the cashier or
	// scanned the code.
	started bool
	status  string
	paidAt  time.Time
	refunds []RefundInfo
}

// RefundInfo is one refund the gateway made.
type RefundInfo struct {
	OutRefundNo string
	Amount      money.Fen
	At          time.Time
}

// New starts a fake gateway with fresh keys and app id; t's cleanup stops it.
func New(t testing.TB) *Server {
	t.Helper()
	appKey := generateKey(t)
	alipayKey := generateKey(t)
	s := &Server{
		AppID:               "2021" + randomDigits(t, 12),
		PartnerID:           "2088" + randomDigits(t, 12),
		AppPrivateKey:       appKey,
		AppPublicKey:        &appKey.PublicKey,
		AppPrivateKeyPEM:    privateKeyPEM(t, appKey),
		AppPublicKeyPEM:     publicKeyPEM(t, &appKey.PublicKey),
		AlipayPrivateKey:    alipayKey,
		AlipayPublicKey:     &alipayKey.PublicKey,
		AlipayPrivateKeyPEM: privateKeyPEM(t, alipayKey),
		AlipayPublicKeyPEM:  publicKeyPEM(t, &alipayKey.PublicKey),
		appVerifier:         newSigner(nil, &appKey.PublicKey),
		alipaySigner:        newSigner(alipayKey, nil),
		now:                 time.Now,
		trades:              make(map[string]*trade),
		bills:               make(map[string][]byte),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /gateway.do", s.serveGateway)
	mux.HandleFunc("GET /bill/{token}", s.serveBill)
	s.server = httptest.NewServer(mux)
	t.Cleanup(s.server.Close)
	s.URL = s.server.URL + "/gateway.do"
	return s
}

// Config is an adapter configuration that talks to this gateway.
func (s *Server) Config() alipay.Config {
	return alipay.Config{
		AppID:           s.AppID,
		PrivateKey:      s.AppPrivateKeyPEM,
		AlipayPublicKey: s.AlipayPublicKeyPEM,
		Gateway:         s.URL,
		HTTPClient:      s.server.Client(),
	}
}

// SetClock replaces the gateway's clock (time.Now), which stamps payments and refunds,
// decides expiry and so which day's bill a line lands in.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

func generateKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("alipaytest: generate RSA key: %v", err)
	}
	return key
}

func privateKeyPEM(t testing.TB, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("alipaytest: encode private key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func publicKeyPEM(t testing.TB, key *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatalf("alipaytest: encode public key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func randomDigits(t testing.TB, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			t.Fatalf("alipaytest: random digits: %v", err)
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// newSigner is the SDK's own RSA2 signer and verifier: SHA-256 over the sorted
// "key=value&…" string that alipay.Encoder builds.
func newSigner(private *rsa.PrivateKey, public *rsa.PublicKey) nsign.Signer {
	return nsign.New(nsign.WithMethod(nsign.NewRSAMethod(crypto.SHA256, private, public)), nsign.WithEncoder(sdk.Encoder{}))
}

// verifyRequest checks a request's (or a cashier URL's) app_id and signature. Alipay signs
// every parameter but sign itself, sign_type included.
func (s *Server) verifyRequest(form url.Values) error {
	if form.Get("app_id") != s.AppID {
		return fmt.Errorf("app_id %q is not this gateway's app", form.Get("app_id"))
	}
	if form.Get("sign_type") != "RSA2" {
		return fmt.Errorf("sign_type %q is not RSA2", form.Get("sign_type"))
	}
	signature, err := base64.StdEncoding.DecodeString(form.Get("sign"))
	if err != nil || len(signature) == 0 {
		return errors.New("sign is missing or not base64")
	}
	if err := s.appVerifier.VerifyValues(form, signature, nsign.WithIgnore("sign")); err != nil {
		return fmt.Errorf("sign does not verify with the app public key: %w", err)
	}
	return nil
}

// request is the biz_content fields of every method the gateway serves.
type request struct {
	OutTradeNo   string `json:"out_trade_no"`
	TotalAmount  string `json:"total_amount"`
	Subject      string `json:"subject"`
	ProductCode  string `json:"product_code"`
	TimeExpire   string `json:"time_expire"`
	RefundAmount string `json:"refund_amount"`
	OutRequestNo string `json:"out_request_no"`
	BillType     string `json:"bill_type"`
	BillDate     string `json:"bill_date"`
}

// answer is the body of an xxx_response: every value Alipay sends here is a string.
type answer map[string]string

func success(fields answer) answer {
	fields["code"] = "10000"
	fields["msg"] = "Success"
	return fields
}

func businessFailure(subCode, subMsg string) answer {
	return answer{"code": "40004", "msg": "Business Failed", "sub_code": subCode, "sub_msg": subMsg}
}

func invalidArguments(subCode, subMsg string) answer {
	return answer{"code": "40002", "msg": "Invalid Arguments", "sub_code": subCode, "sub_msg": subMsg}
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	form := r.Form
	method := form.Get("method")
	if form.Get("app_id") != s.AppID {
		s.writeAnswer(w, method, invalidArguments("isv.invalid-app-id", "无效的AppID参数"), false)
		return
	}
	// Alipay does not sign its answer to a request whose signature fails.
	if err := s.verifyRequest(form); err != nil {
		s.writeAnswer(w, method, invalidArguments("isv.invalid-signature", "验签出错: "+err.Error()), false)
		return
	}
	var req request
	if err := json.Unmarshal([]byte(form.Get("biz_content")), &req); err != nil {
		s.writeAnswer(w, method, invalidArguments("isv.invalid-parameter", "biz_content 不是 JSON"), true)
		return
	}

	s.mu.Lock()
	var result answer
	switch method {
	case "alipay.trade.precreate":
		result = s.preCreate(req, form.Get("notify_url"))
	case "alipay.trade.query":
		result = s.query(req)
	case "alipay.trade.close":
		result = s.close(req)
	case "alipay.trade.refund":
		result = s.refund(req)
	case "alipay.trade.fastpay.refund.query":
		result = s.refundQuery(req)
	case "alipay.data.dataservice.bill.downloadurl.query":
		result = s.billURL(req)
	default:
		s.mu.Unlock()
		s.writeAnswer(w, method, invalidArguments("isv.invalid-method", "不存在的方法名"), false)
		return
	}
	s.mu.Unlock()
	s.writeAnswer(w, method, result, true)
}

// writeAnswer writes {"<method>_response": {...}, "sign": "..."}, signing the exact bytes of
// the response object as Alipay does.
func (s *Server) writeAnswer(w http.ResponseWriter, method string, a answer, signed bool) {
	content, err := json.Marshal(a)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	field := strings.ReplaceAll(method, ".", "_") + "_response"
	body := `{"` + field + `":` + string(content)
	if signed {
		signature, err := s.alipaySigner.SignBytes(content)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body += `,"sign":"` + base64.StdEncoding.EncodeToString(signature) + `"`
	}
	body += "}"
	w.Header().Set("Content-Type", "text/html;charset=utf-8") // what Alipay sends
	_, _ = w.Write([]byte(body))
}

var yuanPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$`)

// parseAmount reads a request's yuan amount the strict way Alipay does: positive, at most
// two decimals, at most 100000000.
func parseAmount(yuan string) (money.Fen, bool) {
	if !yuanPattern.MatchString(yuan) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(yuan, ".")
	frac = (frac + "00")[:2]
	var fen int64
	for _, d := range whole + frac {
		fen = fen*10 + int64(d-'0')
	}
	if fen <= 0 || fen > 100_000_000*100 {
		return 0, false
	}
	return money.Fen(fen), true
}

func formatYuan(f money.Fen) string {
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	return fmt.Sprintf("%s%d.%02d", sign, int64(f)/100, int64(f)%100)
}

// nowLocked is the gateway clock in Beijing time to the second; s.mu is held.
func (s *Server) nowLocked() time.Time {
	return s.now().In(money.ChinaTime()).Truncate(time.Second)
}

// newTradeLocked records a trade; s.mu is held.
func (s *Server) newTradeLocked(req request, amount money.Fen, notifyURL string) (*trade, error) {
	var expiresAt time.Time
	if req.TimeExpire != "" {
		t, err := time.ParseInLocation(timeLayout, req.TimeExpire, money.ChinaTime())
		if err != nil {
			return nil, fmt.Errorf("time_expire %q is not %q", req.TimeExpire, timeLayout)
		}
		expiresAt = t
	}
	now := s.nowLocked()
	s.sequence++
	tr := &trade{
		outTradeNo: req.OutTradeNo,
		tradeNo:    fmt.Sprintf("%s22001%015d", now.Format("20060102"), s.sequence),
		subject:    req.Subject,
		amount:     amount,
		notifyURL:  notifyURL,
		createdAt:  now,
		expiresAt:  expiresAt,
		status:     StatusWaitBuyerPay,
	}
	s.trades[tr.outTradeNo] = tr
	return tr, nil
}

// tradeLocked finds a trade and applies its expiry: Alipay closes an unpaid trade at
// time_expire. s.mu is held.
func (s *Server) tradeLocked(outTradeNo string) *trade {
	tr := s.trades[outTradeNo]
	if tr != nil && tr.status == StatusWaitBuyerPay && !tr.expiresAt.IsZero() && s.nowLocked().After(tr.expiresAt) {
		tr.status = StatusClosed
	}
	return tr
}

// startedTradeLocked is the trade as Alipay's query, close and refund APIs see it: nil until
// the buyer started paying. s.mu is held.
func (s *Server) startedTradeLocked(outTradeNo string) *trade {
	tr := s.tradeLocked(outTradeNo)
	if tr == nil || !tr.started {
		return nil
	}
	return tr
}

func (tr *trade) refunded() money.Fen {
	var total money.Fen
	for _, r := range tr.refunds {
		total += r.Amount
	}
	return total
}

func (s *Server) preCreate(req request, notifyURL string) answer {
	amount, ok := parseAmount(req.TotalAmount)
	if req.OutTradeNo == "" || req.Subject == "" || !ok {
		return businessFailure("ACQ.INVALID_PARAMETER", "参数无效: out_trade_no, subject, total_amount")
	}
	tr := s.tradeLocked(req.OutTradeNo)
	switch {
	case tr == nil:
		created, err := s.newTradeLocked(req, amount, notifyURL)
		if err != nil {
			return businessFailure("ACQ.INVALID_PARAMETER", err.Error())
		}
		tr = created
	case tr.status == StatusSuccess || tr.status == StatusFinished:
		return businessFailure("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
	case tr.status == StatusClosed:
		return businessFailure("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
	case tr.amount != amount:
		return businessFailure("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
	}
	if tr.qrCode == "" {
		tr.qrCode = "https://qr.alipay.com/bax" + randomHex(12)
	}
	return success(answer{"out_trade_no": tr.outTradeNo, "qr_code": tr.qrCode})
}

func (s *Server) query(req request) answer {
	tr := s.startedTradeLocked(req.OutTradeNo)
	if tr == nil {
		return businessFailure("ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	a := answer{
		"trade_no":       tr.tradeNo,
		"out_trade_no":   tr.outTradeNo,
		"buyer_logon_id": "buy***@example.com",
		"trade_status":   tr.status,
		"total_amount":   formatYuan(tr.amount),
	}
	if !tr.paidAt.IsZero() {
		a["buyer_pay_amount"] = formatYuan(tr.amount)
		a["receipt_amount"] = formatYuan(tr.amount)
		a["send_pay_date"] = tr.paidAt.Format(timeLayout)
	}
	return success(a)
}

func (s *Server) close(req request) answer {
	tr := s.startedTradeLocked(req.OutTradeNo)
	if tr == nil {
		return businessFailure("ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	if tr.status != StatusWaitBuyerPay {
		return businessFailure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	}
	tr.status = StatusClosed
	return success(answer{"trade_no": tr.tradeNo, "out_trade_no": tr.outTradeNo})
}

func (s *Server) refund(req request) answer {
	tr := s.startedTradeLocked(req.OutTradeNo)
	if tr == nil {
		return businessFailure("ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	amount, ok := parseAmount(req.RefundAmount)
	if !ok {
		return businessFailure("ACQ.INVALID_PARAMETER", "参数无效: refund_amount")
	}
	outRequestNo := req.OutRequestNo
	if outRequestNo == "" {
		outRequestNo = tr.outTradeNo // Alipay's rule when out_request_no is left out
	}
	refundAnswer := func(fundChange string, at time.Time) answer {
		return success(answer{
			"trade_no":       tr.tradeNo,
			"out_trade_no":   tr.outTradeNo,
			"buyer_logon_id": "buy***@example.com",
			"fund_change":    fundChange,
			"refund_fee":     formatYuan(tr.refunded()),
			"gmt_refund_pay": at.Format(timeLayout),
		})
	}
	for _, earlier := range tr.refunds {
		if earlier.OutRefundNo == outRequestNo {
			return refundAnswer("N", earlier.At)
		}
	}
	switch {
	case tr.status == StatusFinished:
		return businessFailure("ACQ.TRADE_HAS_FINISHED", "交易已完结")
	case tr.status == StatusClosed && !tr.paidAt.IsZero():
		return businessFailure("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
	case tr.status != StatusSuccess:
		return businessFailure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
	case tr.refunded()+amount > tr.amount:
		return businessFailure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
	}
	now := s.nowLocked()
	tr.refunds = append(tr.refunds, RefundInfo{OutRefundNo: outRequestNo, Amount: amount, At: now})
	if tr.refunded() == tr.amount {
		tr.status = StatusClosed
	}
	return refundAnswer("Y", now)
}

func (s *Server) refundQuery(req request) answer {
	tr := s.startedTradeLocked(req.OutTradeNo)
	if tr == nil {
		return businessFailure("ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	outRequestNo := req.OutRequestNo
	if outRequestNo == "" {
		outRequestNo = tr.outTradeNo
	}
	for _, r := range tr.refunds {
		if r.OutRefundNo == outRequestNo {
			return success(answer{
				"trade_no":       tr.tradeNo,
				"out_trade_no":   tr.outTradeNo,
				"out_request_no": r.OutRefundNo,
				"total_amount":   formatYuan(tr.amount),
				"refund_amount":  formatYuan(r.Amount),
				"refund_status":  "REFUND_SUCCESS",
				"gmt_refund_pay": r.At.Format(timeLayout),
			})
		}
	}
	// Alipay answers success without a refund_status for a refund it does not know.
	return success(answer{"trade_no": tr.tradeNo, "out_trade_no": tr.outTradeNo})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// Open is the buyer opening a wap or page cashier URL the adapter made: the gateway checks
// the URL's signature, then records the trade, which from then on exists for queries.
func (s *Server) Open(payURL string) error {
	u, err := url.Parse(payURL)
	if err != nil {
		return fmt.Errorf("alipaytest: open: %w", err)
	}
	if u.Scheme+"://"+u.Host+u.Path != s.URL {
		return fmt.Errorf("alipaytest: open: %s is not this gateway", u.Redacted())
	}
	form := u.Query()
	if err := s.verifyRequest(form); err != nil {
		return fmt.Errorf("alipaytest: open: %w", err)
	}
	wantProduct := map[string]string{
		"alipay.trade.wap.pay":  "QUICK_WAP_WAY",
		"alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY",
	}[form.Get("method")]
	if wantProduct == "" {
		return fmt.Errorf("alipaytest: open: method %q is not a cashier page", form.Get("method"))
	}
	var req request
	if err := json.Unmarshal([]byte(form.Get("biz_content")), &req); err != nil {
		return fmt.Errorf("alipaytest: open: biz_content: %w", err)
	}
	if req.ProductCode != wantProduct {
		return fmt.Errorf("alipaytest: open: product_code %q, want %q", req.ProductCode, wantProduct)
	}
	amount, ok := parseAmount(req.TotalAmount)
	if req.OutTradeNo == "" || req.Subject == "" || !ok {
		return errors.New("alipaytest: open: out_trade_no, subject or total_amount is missing or invalid")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.tradeLocked(req.OutTradeNo)
	switch {
	case tr == nil:
		if tr, err = s.newTradeLocked(req, amount, form.Get("notify_url")); err != nil {
			return fmt.Errorf("alipaytest: open: %w", err)
		}
	case tr.amount != amount:
		return fmt.Errorf("alipaytest: open: trade %s exists with another amount (ACQ.CONTEXT_INCONSISTENT)", req.OutTradeNo)
	case tr.status != StatusWaitBuyerPay:
		return fmt.Errorf("alipaytest: open: trade %s is %s", req.OutTradeNo, tr.status)
	}
	tr.started = true
	return nil
}

// Scan is the buyer scanning a pre-created QR code: the trade exists from then on.
func (s *Server) Scan(codeURL string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for outTradeNo, tr := range s.trades {
		if tr.qrCode != "" && tr.qrCode == codeURL {
			if tr = s.tradeLocked(outTradeNo); tr.status != StatusWaitBuyerPay {
				return fmt.Errorf("alipaytest: scan: trade %s is %s", outTradeNo, tr.status)
			}
			tr.started = true
			return nil
		}
	}
	return fmt.Errorf("alipaytest: scan: no trade has code %q", codeURL)
}

// Trade reports a recorded trade (started or not) as Alipay holds it.
func (s *Server) Trade(outTradeNo string) (status string, amount money.Fen, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.tradeLocked(outTradeNo)
	if tr == nil {
		return "", 0, false
	}
	return tr.status, tr.amount, true
}

// Refunds lists the refunds made on a trade, oldest first.
func (s *Server) Refunds(outTradeNo string) []RefundInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.trades[outTradeNo]
	if tr == nil {
		return nil
	}
	return append([]RefundInfo(nil), tr.refunds...)
}

// Closed reports whether the trade was closed unpaid (by a close call or by expiring). A
// close that Alipay answered with ACQ.TRADE_NOT_EXIST (the buyer had not started paying)
// closes nothing, so the trade is not Closed and can still be paid.
func (s *Server) Closed(outTradeNo string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.tradeLocked(outTradeNo)
	return tr != nil && tr.status == StatusClosed && tr.paidAt.IsZero()
}
