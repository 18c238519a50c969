package alipaytest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/smartwalle/nsign"

	"github.com/minimart/minimart/internal/platform/money"
)

// Notification is an asynchronous notify as Alipay would POST it to the trade's notify_url.
type Notification struct {
	URL    string
	Header http.Header
	Body   []byte
}

// NotifyOption changes a notify before it is signed, to forge the ones a shop must refuse.
type NotifyOption func(*notifyOptions)

type notifyOptions struct {
	signingKey *rsa.PrivateKey
	fields     []field
}

type field struct{ key, value string }

// WithSigningKey signs the notify with key instead of the Alipay private key.
func WithSigningKey(key *rsa.PrivateKey) NotifyOption {
	return func(o *notifyOptions) { o.signingKey = key }
}

// WithAmount sets total_amount.
func WithAmount(amount money.Fen) NotifyOption {
	return WithField("total_amount", formatYuan(amount))
}

// WithAppID sets app_id.
func WithAppID(appID string) NotifyOption { return WithField("app_id", appID) }

// WithOutTradeNo sets out_trade_no.
func WithOutTradeNo(outTradeNo string) NotifyOption { return WithField("out_trade_no", outTradeNo) }

// WithStatus sets trade_status.
func WithStatus(status string) NotifyOption { return WithField("trade_status", status) }

// WithField sets any field to value, or removes it when value is "". Options apply in order.
func WithField(key, value string) NotifyOption {
	return func(o *notifyOptions) { o.fields = append(o.fields, field{key, value}) }
}

// Pay is the buyer paying: the trade turns TRADE_SUCCESS now (by the gateway clock) and Pay
// returns the signed notify Alipay would send, without sending it (see Deliver).
func (s *Server) Pay(outTradeNo string) (Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.tradeLocked(outTradeNo)
	if tr == nil {
		return Notification{}, fmt.Errorf("alipaytest: pay: no trade %q", outTradeNo)
	}
	if tr.status != StatusWaitBuyerPay {
		return Notification{}, fmt.Errorf("alipaytest: pay: trade %s is %s", outTradeNo, tr.status)
	}
	tr.started = true
	tr.status = StatusSuccess
	tr.paidAt = s.nowLocked()
	return s.notificationLocked(tr, s.tradeFieldsLocked(tr), nil)
}

// TradeNotify is the signed trade status notify for the trade as it stands, changed by opts.
func (s *Server) TradeNotify(outTradeNo string, opts ...NotifyOption) (Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.tradeLocked(outTradeNo)
	if tr == nil {
		return Notification{}, fmt.Errorf("alipaytest: notify: no trade %q", outTradeNo)
	}
	return s.notificationLocked(tr, s.tradeFieldsLocked(tr), opts)
}

// RefundNotify is the signed notify Alipay sends after a refund: the trade's status notify
// carrying out_biz_no (the refund's out_request_no), refund_fee (the total refunded so far,
// this refund included) and gmt_refund.
func (s *Server) RefundNotify(outTradeNo, outRefundNo string, opts ...NotifyOption) (Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.tradeLocked(outTradeNo)
	if tr == nil {
		return Notification{}, fmt.Errorf("alipaytest: refund notify: no trade %q", outTradeNo)
	}
	var refundedSoFar money.Fen
	for _, r := range tr.refunds {
		refundedSoFar += r.Amount
		if r.OutRefundNo != outRefundNo {
			continue
		}
		values := s.tradeFieldsLocked(tr)
		values.Set("trade_status", StatusSuccess)
		if refundedSoFar == tr.amount {
			values.Set("trade_status", StatusClosed)
		}
		values.Set("out_biz_no", r.OutRefundNo)
		values.Set("refund_fee", formatYuan(refundedSoFar))
		values.Set("gmt_refund", r.At.Format("2006-01-02 15:04:05.000"))
		return s.notificationLocked(tr, values, opts)
	}
	return Notification{}, fmt.Errorf("alipaytest: refund notify: trade %s has no refund %q", outTradeNo, outRefundNo)
}

// tradeFieldsLocked is the fields of Alipay's trade_status_sync notify; s.mu is held.
func (s *Server) tradeFieldsLocked(tr *trade) url.Values {
	now := s.nowLocked()
	values := url.Values{}
	values.Set("notify_time", now.Format(timeLayout))
	values.Set("notify_type", "trade_status_sync")
	values.Set("notify_id", randomHex(16))
	values.Set("app_id", s.AppID)
	values.Set("auth_app_id", s.AppID)
	values.Set("charset", "utf-8")
	values.Set("version", "1.0")
	values.Set("trade_no", tr.tradeNo)
	values.Set("out_trade_no", tr.outTradeNo)
	values.Set("subject", tr.subject)
	values.Set("total_amount", formatYuan(tr.amount))
	values.Set("trade_status", tr.status)
	values.Set("seller_id", s.PartnerID)
	values.Set("gmt_create", tr.createdAt.Format(timeLayout))
	if !tr.paidAt.IsZero() {
		values.Set("gmt_payment", tr.paidAt.Format(timeLayout))
		values.Set("buyer_id", "2088000000000001")
		values.Set("buyer_pay_amount", formatYuan(tr.amount))
		values.Set("receipt_amount", formatYuan(tr.amount))
		values.Set("invoice_amount", formatYuan(tr.amount))
		values.Set("point_amount", "0.00")
		values.Set("fund_bill_list", `[{"amount":"`+formatYuan(tr.amount)+`","fundChannel":"ALIPAYACCOUNT"}]`)
	}
	return values
}

// notificationLocked applies opts to values and signs them as Alipay signs a notify: every
// field but sign and sign_type, sorted, RSA2. s.mu is held.
func (s *Server) notificationLocked(tr *trade, values url.Values, opts []NotifyOption) (Notification, error) {
	var o notifyOptions
	for _, opt := range opts {
		opt(&o)
	}
	for _, f := range o.fields {
		if f.value == "" {
			values.Del(f.key)
		} else {
			values.Set(f.key, f.value)
		}
	}
	signer := s.alipaySigner
	if o.signingKey != nil {
		signer = newSigner(o.signingKey, nil)
	}
	signature, err := signer.SignValues(values, nsign.WithIgnore("sign", "sign_type"))
	if err != nil {
		return Notification{}, fmt.Errorf("alipaytest: sign notify: %w", err)
	}
	values.Set("sign_type", "RSA2")
	values.Set("sign", base64.StdEncoding.EncodeToString(signature))
	header := http.Header{}
	header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return Notification{URL: tr.notifyURL, Header: header, Body: []byte(values.Encode())}, nil
}

// Deliver POSTs the notify to its URL as Alipay does and returns the shop's answer; Alipay
// counts only the body "success" as received.
func (s *Server) Deliver(ctx context.Context, n Notification) (status int, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(n.Body))
	if err != nil {
		return 0, nil, fmt.Errorf("alipaytest: deliver: %w", err)
	}
	req.Header = n.Header.Clone()
	client := &http.Client{Timeout: 10 * time.Second}
	rsp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("alipaytest: deliver: %w", err)
	}
	defer rsp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(rsp.Body, 1<<20))
	if err != nil {
		return rsp.StatusCode, nil, fmt.Errorf("alipaytest: deliver: read answer: %w", err)
	}
	return rsp.StatusCode, body, nil
}
