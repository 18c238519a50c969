package alipay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	sdk "github.com/smartwalle/alipay/v3"

	"github.com/minimart/minimart/internal/payment"
)

// The notify fields this adapter reads beyond what sdk.Notification names.
const (
	// fieldCertSN marks a notify signed in certificate mode. The SDK would look the serial
	// number up and, failing that, download the certificate from the gateway: a network call
	// chosen by whoever posted the notify. This adapter verifies with the public key only.
	fieldCertSN = "alipay_cert_sn"
	fieldSign   = "sign"
)

// ParseNotify verifies Alipay's asynchronous notify (an application/x-www-form-urlencoded
// body signed RSA2 with Alipay's key) and says what it reports. Every failure wraps
// payment.ErrNotifyRejected and says why, for the logs. The header is not used: Alipay signs
// the form fields only.
func (p *Provider) ParseNotify(ctx context.Context, _ http.Header, body []byte) (payment.Notice, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return payment.Notice{}, rejectf("the body is not a form (%v)", err)
	}
	for key, vs := range values {
		// Alipay never repeats a field; a repeated one could be read differently by the
		// signature check (all values) and by this code (the first).
		if len(vs) != 1 {
			return payment.Notice{}, rejectf("field %q appears %d times", shorten(key), len(vs))
		}
	}
	if values.Get(fieldSign) == "" {
		return payment.Notice{}, rejectf("the notify is not signed")
	}
	if values.Has(fieldCertSN) {
		return payment.Notice{}, rejectf("the notify is signed in certificate mode; this adapter is set up with Alipay's public key")
	}
	notification, err := p.client.DecodeNotification(ctx, values)
	if err != nil {
		return payment.Notice{}, rejectf("the signature does not verify with Alipay's public key (%v)", err)
	}
	if notification.AppId != p.appID {
		return payment.Notice{}, rejectf("app_id %q is not this app's", shorten(notification.AppId))
	}
	if notification.OutTradeNo == "" || notification.TradeNo == "" {
		return payment.Notice{}, rejectf("out_trade_no or trade_no is missing")
	}
	if notification.OutBizNo != "" && notification.RefundFee != "" {
		return refundNotice(notification)
	}
	return tradeNotice(notification)
}

// refundNotice reads Alipay's notify of a refund (a trade status notify that carries
// out_biz_no, the refund's out_request_no, and refund_fee). Amount is 0: refund_fee is the
// trade's cumulative refunded total, not this refund's amount, so the caller takes the amount
// from its own refund record or from QueryRefund.
func refundNotice(n *sdk.Notification) (payment.Notice, error) {
	refunded, err := parseYuan(n.RefundFee)
	if err != nil || refunded <= 0 {
		return payment.Notice{}, rejectf("refund_fee %q is not a positive yuan amount", shorten(n.RefundFee))
	}
	return payment.Notice{
		Kind:          payment.NoticeRefund,
		OutTradeNo:    n.OutTradeNo,
		TransactionID: n.TradeNo,
		OutRefundNo:   n.OutBizNo,
		RefundState:   payment.RefundSucceeded,
		AppID:         n.AppId,
	}, nil
}

// tradeNotice reads a trade status notify. A missing gmt_payment leaves PaidAt zero: the
// notify is Alipay's, and refusing it would only make Alipay repeat it.
func tradeNotice(n *sdk.Notification) (payment.Notice, error) {
	amount, err := parseYuan(n.TotalAmount)
	if err != nil || amount <= 0 {
		return payment.Notice{}, rejectf("total_amount %q is not a positive yuan amount", shorten(n.TotalAmount))
	}
	paidAt, err := parseOptionalChinaTime(n.GmtPayment)
	if err != nil {
		return payment.Notice{}, rejectf("gmt_payment: %v", err)
	}
	state, ok := tradeState(n.TradeStatus, !paidAt.IsZero())
	if !ok {
		return payment.Notice{}, rejectf("trade_status %q is unknown", shorten(string(n.TradeStatus)))
	}
	return payment.Notice{
		Kind:          payment.NoticeTrade,
		OutTradeNo:    n.OutTradeNo,
		TransactionID: n.TradeNo,
		State:         state,
		Amount:        amount,
		PaidAt:        paidAt,
		AppID:         n.AppId,
	}, nil
}

func rejectf(format string, args ...any) error {
	return fmt.Errorf("alipay: %w: %s", payment.ErrNotifyRejected, fmt.Sprintf(format, args...))
}

// Acknowledge answers the notify. Alipay stops only on the exact body "success" and retries
// anything else (over about 25 hours), so a refusal is "fail": 400 for a notify that failed
// verification, 500 when the shop could not record a good one.
func (p *Provider) Acknowledge(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("success"))
	case errors.Is(err, payment.ErrNotifyRejected):
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("fail"))
	default:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("fail"))
	}
}
