package wechatpaytest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/minimart/minimart/internal/platform/money"
)

// Notification is a notify as WeChat Pay would POST it: to URL, with these headers and
// this exact body.
type Notification struct {
	URL    string
	Header http.Header
	Body   []byte
}

// NotifyOption changes how a notify is built, to make bad ones for tests.
type NotifyOption func(*notifyOptions)

type notifyOptions struct {
	signingKey *rsa.PrivateKey
	serial     string
	timestamp  time.Time
	apiV3Key   string
	amount     *money.Fen
	outTradeNo *string
	mchID      *string
}

// WithSigningKey signs the notify with key instead of the platform key (the Wechatpay-Serial
// header still names the platform key).
func WithSigningKey(key *rsa.PrivateKey) NotifyOption {
	return func(o *notifyOptions) { o.signingKey = key }
}

// WithSerial puts serial in the Wechatpay-Serial header.
func WithSerial(serial string) NotifyOption {
	return func(o *notifyOptions) { o.serial = serial }
}

// WithTimestamp signs the notify as sent at t.
func WithTimestamp(t time.Time) NotifyOption {
	return func(o *notifyOptions) { o.timestamp = t }
}

// WithAPIv3Key encrypts the resource with key instead of the merchant's APIv3 key.
func WithAPIv3Key(key string) NotifyOption {
	return func(o *notifyOptions) { o.apiV3Key = key }
}

// WithAmount claims amount in the resource (amount.total of a payment, amount.refund of a
// refund) whatever was really paid or refunded.
func WithAmount(amount money.Fen) NotifyOption {
	return func(o *notifyOptions) { o.amount = &amount }
}

// WithOutTradeNo claims outTradeNo in the resource.
func WithOutTradeNo(outTradeNo string) NotifyOption {
	return func(o *notifyOptions) { o.outTradeNo = &outTradeNo }
}

// WithMchID claims mchID as the merchant in the resource.
func WithMchID(mchID string) NotifyOption {
	return func(o *notifyOptions) { o.mchID = &mchID }
}

func (s *Server) notifyOptions(opts []NotifyOption) notifyOptions {
	o := notifyOptions{signingKey: s.PlatformKey, serial: s.PlatformKeyID, timestamp: time.Now(), apiV3Key: s.APIv3Key}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Pay marks an unpaid payment paid, as the buyer paying would, and returns the
// TRANSACTION.SUCCESS notify WeChat Pay would send to its notify_url, without sending it.
// Paying a paid payment again returns a notify for the first payment.
func (s *Server) Pay(outTradeNo string) (Notification, error) {
	s.mu.Lock()
	tr, ok := s.trades[outTradeNo]
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("wechatpaytest: no payment %q", outTradeNo)
	case tr.state == StateClosed:
		err = fmt.Errorf("wechatpaytest: payment %q is closed", outTradeNo)
	case tr.state == StateNotPay && !tr.timeExpire.IsZero() && time.Now().After(tr.timeExpire):
		err = fmt.Errorf("wechatpaytest: payment %q expired at %s", outTradeNo, tr.timeExpire)
	case tr.state == StateNotPay:
		tr.state = StateSuccess
		tr.transactionID = "4200" + randomDigits(24)
		tr.successTime = time.Now().Truncate(time.Second)
		if tr.openID == "" {
			tr.openID = "o" + randomHex(14)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return Notification{}, err
	}
	return s.TradeNotify(outTradeNo)
}

// TradeNotify builds the TRANSACTION.SUCCESS notify of a payment as it stands, signed and
// encrypted as WeChat Pay does unless opts say otherwise.
func (s *Server) TradeNotify(outTradeNo string, opts ...NotifyOption) (Notification, error) {
	o := s.notifyOptions(opts)
	s.mu.Lock()
	tr, ok := s.trades[outTradeNo]
	var tx []byte
	var notifyURL string
	var err error
	if ok {
		transaction := s.transaction(tr)
		if o.amount != nil {
			transaction.Amount.Total = core.Int64(int64(*o.amount))
			transaction.Amount.PayerTotal = core.Int64(int64(*o.amount))
		}
		if o.outTradeNo != nil {
			transaction.OutTradeNo = o.outTradeNo
		}
		if o.mchID != nil {
			transaction.Mchid = o.mchID
		}
		notifyURL = tr.notifyURL
		tx, err = json.Marshal(transaction)
	}
	s.mu.Unlock()
	if !ok {
		return Notification{}, fmt.Errorf("wechatpaytest: no payment %q", outTradeNo)
	}
	if err != nil {
		return Notification{}, err
	}
	n, err := s.notification("TRANSACTION.SUCCESS", "transaction", "支付成功", tx, o)
	n.URL = notifyURL
	return n, err
}

// CompleteRefund makes a PROCESSING refund succeed and returns the REFUND.SUCCESS notify
// WeChat Pay would send to its notify_url, without sending it.
func (s *Server) CompleteRefund(outRefundNo string) (Notification, error) {
	s.mu.Lock()
	rf, ok := s.refunds[outRefundNo]
	if ok && rf.status == RefundProcessing {
		rf.status, rf.successTime = RefundSuccess, time.Now().Truncate(time.Second)
	}
	s.mu.Unlock()
	if !ok {
		return Notification{}, fmt.Errorf("wechatpaytest: no refund %q", outRefundNo)
	}
	return s.RefundNotify(outRefundNo)
}

// refundResource is the decrypted resource of a refund notify.
type refundResource struct {
	MchID               string       `json:"mchid"`
	OutTradeNo          string       `json:"out_trade_no"`
	TransactionID       string       `json:"transaction_id"`
	OutRefundNo         string       `json:"out_refund_no"`
	RefundID            string       `json:"refund_id"`
	RefundStatus        string       `json:"refund_status"`
	SuccessTime         string       `json:"success_time,omitempty"`
	UserReceivedAccount string       `json:"user_received_account"`
	Amount              refundAmount `json:"amount"`
}

type refundAmount struct {
	Total       int64 `json:"total"`
	Refund      int64 `json:"refund"`
	PayerTotal  int64 `json:"payer_total"`
	PayerRefund int64 `json:"payer_refund"`
}

// RefundNotify builds the notify of a refund as it stands (REFUND.SUCCESS once it succeeded),
// signed and encrypted as WeChat Pay does unless opts say otherwise.
func (s *Server) RefundNotify(outRefundNo string, opts ...NotifyOption) (Notification, error) {
	o := s.notifyOptions(opts)
	s.mu.Lock()
	rf, ok := s.refunds[outRefundNo]
	var resource refundResource
	var notifyURL string
	if ok {
		tr := s.trades[rf.outTradeNo]
		resource = refundResource{
			MchID:               s.MchID,
			OutTradeNo:          rf.outTradeNo,
			TransactionID:       tr.transactionID,
			OutRefundNo:         rf.outRefundNo,
			RefundID:            rf.refundID,
			RefundStatus:        rf.status,
			UserReceivedAccount: "支付用户零钱",
			Amount: refundAmount{
				Total: int64(tr.amount), Refund: int64(rf.amount),
				PayerTotal: int64(tr.amount), PayerRefund: int64(rf.amount),
			},
		}
		if !rf.successTime.IsZero() {
			resource.SuccessTime = rf.successTime.In(money.ChinaTime()).Format(time.RFC3339)
		}
		notifyURL = rf.notifyURL
	}
	s.mu.Unlock()
	if !ok {
		return Notification{}, fmt.Errorf("wechatpaytest: no refund %q", outRefundNo)
	}
	if o.amount != nil {
		resource.Amount.Refund, resource.Amount.PayerRefund = int64(*o.amount), int64(*o.amount)
	}
	if o.outTradeNo != nil {
		resource.OutTradeNo = *o.outTradeNo
	}
	if o.mchID != nil {
		resource.MchID = *o.mchID
	}
	plaintext, err := json.Marshal(resource)
	if err != nil {
		return Notification{}, err
	}
	n, err := s.notification("REFUND."+resource.RefundStatus, "refund", "退款状态变更", plaintext, o)
	n.URL = notifyURL
	return n, err
}

// SignedNotify builds a notify of any event around any resource plaintext, encrypted and
// signed like the others; its URL is empty. WithAmount, WithOutTradeNo and WithMchID do not
// apply: the resource is taken as given.
func (s *Server) SignedNotify(eventType string, resource []byte, opts ...NotifyOption) (Notification, error) {
	originalType := "transaction"
	if strings.HasPrefix(eventType, "REFUND.") {
		originalType = "refund"
	}
	return s.notification(eventType, originalType, "通知", resource, s.notifyOptions(opts))
}

// notifyBody is a notify's JSON body. The SDK's notify.Request would also write its own
// fields (RawRequest, Plaintext) that WeChat Pay never sends.
type notifyBody struct {
	ID           string         `json:"id"`
	CreateTime   string         `json:"create_time"`
	EventType    string         `json:"event_type"`
	ResourceType string         `json:"resource_type"`
	Resource     notifyResource `json:"resource"`
	Summary      string         `json:"summary"`
}

type notifyResource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// notification encrypts plaintext into a notify body and signs it.
func (s *Server) notification(eventType, originalType, summary string, plaintext []byte, o notifyOptions) (Notification, error) {
	nonce, err := utils.GenerateNonce()
	if err != nil {
		return Notification{}, err
	}
	nonce = nonce[:12] // WeChat Pay's resource nonces are 12 characters: the GCM nonce size
	ciphertext, err := sealAES256GCM(o.apiV3Key, nonce, originalType, plaintext)
	if err != nil {
		return Notification{}, err
	}
	createTime := o.timestamp.In(money.ChinaTime()).Truncate(time.Second)
	body, err := json.Marshal(notifyBody{
		ID:           randomHex(16),
		CreateTime:   createTime.Format(time.RFC3339),
		EventType:    eventType,
		ResourceType: "encrypt-resource",
		Summary:      summary,
		Resource: notifyResource{
			Algorithm:      "AEAD_AES_256_GCM",
			Ciphertext:     ciphertext,
			AssociatedData: originalType,
			Nonce:          nonce,
			OriginalType:   originalType,
		},
	})
	if err != nil {
		return Notification{}, err
	}
	header, err := s.notifyHeader(body, o)
	if err != nil {
		return Notification{}, err
	}
	return Notification{Header: header, Body: body}, nil
}

// SignedHeader returns the headers WeChat Pay would send with a notify of exactly this body,
// to test bodies the other builders cannot make. WithSigningKey, WithSerial and
// WithTimestamp apply.
func (s *Server) SignedHeader(body []byte, opts ...NotifyOption) (http.Header, error) {
	return s.notifyHeader(body, s.notifyOptions(opts))
}

func (s *Server) notifyHeader(body []byte, o notifyOptions) (http.Header, error) {
	header, err := s.signedHeader(context.Background(), body, o.signingKey, o.serial, o.timestamp)
	if err != nil {
		return nil, err
	}
	header.Set("Content-Type", "application/json")
	return header, nil
}

// sealAES256GCM encrypts a notify resource; the SDK only has the decrypting half.
func sealAES256GCM(key, nonce, associatedData string, plaintext []byte) (string, error) {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))), nil
}

// Deliver POSTs a notify to its URL as WeChat Pay would and returns the answer.
func (s *Server) Deliver(ctx context.Context, n Notification) (status int, body []byte, err error) {
	if n.URL == "" {
		return 0, nil, errors.New("wechatpaytest: the notify has no URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(n.Body))
	if err != nil {
		return 0, nil, err
	}
	if n.Header != nil {
		req.Header = n.Header.Clone()
	}
	resp, err := s.deliverClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	return resp.StatusCode, body, err
}

// deliverInBackground posts a refund's notify once, best effort, as AutoCompleteRefunds promises.
func (s *Server) deliverInBackground(outRefundNo string) {
	n, err := s.RefundNotify(outRefundNo)
	if err != nil {
		return
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(s.backgroundCtx, 10*time.Second)
		defer cancel()
		_, _, _ = s.Deliver(ctx, n)
	}()
}
