package wechatpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core/consts"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

const (
	signatureTypeHeader = "Wechatpay-Signature-Type"
	signatureType       = "WECHATPAY2-SHA256-RSA2048"
	resourceAlgorithm   = "AEAD_AES_256_GCM"
	// gcmNonceLength is checked before decrypting because crypto/cipher panics on other lengths.
	gcmNonceLength = 12
)

// ParseNotify verifies a WeChat Pay notify and decrypts what it says. The signature over
// "timestamp\nnonce\nbody\n" must verify with the platform key named by Wechatpay-Serial, the
// timestamp must be within five minutes of now (the SDK's validator checks both), and the
// resource must decrypt with the APIv3 key and name our merchant.
func (p *Provider) ParseNotify(ctx context.Context, header http.Header, body []byte) (payment.Notice, error) {
	if st := header.Get(signatureTypeHeader); st != "" && st != signatureType {
		return payment.Notice{}, rejected("unsupported signature type %.64q", st)
	}
	if serial := header.Get(consts.WechatPaySerial); serial != p.cfg.PlatformKeyID {
		return payment.Notice{}, rejected("signed with key %.64q, expected %q", serial, p.cfg.PlatformKeyID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return payment.Notice{}, rejected("%v", err)
	}
	req.Header = header
	if err := p.notifyValidator.Validate(ctx, req); err != nil {
		return payment.Notice{}, rejected("signature check failed: %v", err)
	}

	var envelope notify.Request
	if err := json.Unmarshal(body, &envelope); err != nil {
		return payment.Notice{}, rejected("body is not a notify: %v", err)
	}
	plaintext, err := p.decryptResource(envelope.Resource)
	if err != nil {
		return payment.Notice{}, err
	}
	switch envelope.EventType {
	case "TRANSACTION.SUCCESS":
		return p.tradeNotify(plaintext)
	case "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED":
		return p.refundNotify(plaintext)
	default:
		return payment.Notice{}, rejected("unsupported event_type %.64q", envelope.EventType)
	}
}

func rejected(format string, args ...any) error {
	return payment.ErrNotifyRejected.Withf("wechat pay notify: "+format, args...)
}

func (p *Provider) decryptResource(resource *notify.EncryptedResource) ([]byte, error) {
	if resource == nil {
		return nil, rejected("no resource")
	}
	if resource.Algorithm != resourceAlgorithm {
		return nil, rejected("resource algorithm %.64q, expected %s", resource.Algorithm, resourceAlgorithm)
	}
	if len(resource.Nonce) != gcmNonceLength {
		return nil, rejected("resource nonce is %d bytes, expected %d", len(resource.Nonce), gcmNonceLength)
	}
	plaintext, err := utils.DecryptAES256GCM(p.cfg.APIv3Key, resource.AssociatedData, resource.Nonce, resource.Ciphertext)
	if err != nil {
		return nil, rejected("resource does not decrypt with the APIv3 key: %v", err)
	}
	return []byte(plaintext), nil
}

func (p *Provider) tradeNotify(plaintext []byte) (payment.Notice, error) {
	var tx payments.Transaction
	if err := json.Unmarshal(plaintext, &tx); err != nil {
		return payment.Notice{}, rejected("transaction is not JSON: %v", err)
	}
	if mchID := deref(tx.Mchid); mchID != p.cfg.MchID {
		return payment.Notice{}, rejected("transaction is for merchant %.64q, not %s", mchID, p.cfg.MchID)
	}
	notice, err := tradeNotice(&tx)
	if err != nil {
		return payment.Notice{}, rejected("%v", err)
	}
	return notice, nil
}

// tradeNotice reads a transaction from a notify or a query; PaidAt is in UTC, as the shop
// stores times.
func tradeNotice(tx *payments.Transaction) (payment.Notice, error) {
	state, err := tradeState(deref(tx.TradeState))
	if err != nil {
		return payment.Notice{}, err
	}
	notice := payment.Notice{
		Kind:          payment.NoticeTrade,
		OutTradeNo:    deref(tx.OutTradeNo),
		TransactionID: deref(tx.TransactionId),
		State:         state,
		AppID:         deref(tx.Appid),
	}
	if notice.OutTradeNo == "" {
		return payment.Notice{}, errors.New("transaction has no out_trade_no")
	}
	if tx.Amount != nil && tx.Amount.Total != nil {
		notice.Amount = money.Fen(*tx.Amount.Total)
	}
	if successTime := deref(tx.SuccessTime); successTime != "" {
		paidAt, err := time.Parse(time.RFC3339, successTime)
		if err != nil {
			return payment.Notice{}, fmt.Errorf("transaction success_time: %w", err)
		}
		notice.PaidAt = paidAt.UTC()
	}
	if state == payment.TradeSuccess {
		// A paid trade without these could not be matched to the money.
		switch {
		case notice.TransactionID == "":
			return payment.Notice{}, errors.New("paid transaction has no transaction_id")
		case tx.Amount == nil || tx.Amount.Total == nil:
			return payment.Notice{}, errors.New("paid transaction has no amount.total")
		case notice.PaidAt.IsZero():
			return payment.Notice{}, errors.New("paid transaction has no success_time")
		}
	}
	return notice, nil
}

func tradeState(wxState string) (payment.TradeState, error) {
	switch wxState {
	case "SUCCESS", "REFUND":
		return payment.TradeSuccess, nil
	case "NOTPAY", "USERPAYING":
		return payment.TradePending, nil
	case "CLOSED", "REVOKED", "PAYERROR":
		return payment.TradeClosed, nil
	default:
		return "", fmt.Errorf("unknown trade_state %.64q", wxState)
	}
}

// refundResource is the decrypted resource of a refund notify; the SDK has no type for it.
type refundResource struct {
	MchID         string `json:"mchid"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	OutRefundNo   string `json:"out_refund_no"`
	RefundID      string `json:"refund_id"`
	RefundStatus  string `json:"refund_status"`
	Amount        *struct {
		Total  *int64 `json:"total"`
		Refund *int64 `json:"refund"`
	} `json:"amount"`
}

func (p *Provider) refundNotify(plaintext []byte) (payment.Notice, error) {
	var refund refundResource
	if err := json.Unmarshal(plaintext, &refund); err != nil {
		return payment.Notice{}, rejected("refund is not JSON: %v", err)
	}
	if refund.MchID != p.cfg.MchID {
		return payment.Notice{}, rejected("refund is for merchant %.64q, not %s", refund.MchID, p.cfg.MchID)
	}
	state, err := refundState(refund.RefundStatus)
	if err != nil {
		return payment.Notice{}, rejected("%v", err)
	}
	switch {
	case refund.OutTradeNo == "":
		return payment.Notice{}, rejected("refund has no out_trade_no")
	case refund.OutRefundNo == "":
		return payment.Notice{}, rejected("refund has no out_refund_no")
	case refund.RefundID == "":
		return payment.Notice{}, rejected("refund has no refund_id")
	case refund.Amount == nil || refund.Amount.Refund == nil:
		return payment.Notice{}, rejected("refund has no amount.refund")
	}
	return payment.Notice{
		Kind:          payment.NoticeRefund,
		OutTradeNo:    refund.OutTradeNo,
		TransactionID: refund.TransactionID,
		Amount:        money.Fen(*refund.Amount.Refund),
		OutRefundNo:   refund.OutRefundNo,
		RefundID:      refund.RefundID,
		RefundState:   state,
	}, nil
}

func refundState(status string) (payment.RefundState, error) {
	switch status {
	case "SUCCESS":
		return payment.RefundSucceeded, nil
	case "PROCESSING":
		return payment.RefundPending, nil
	case "ABNORMAL", "CLOSED":
		return payment.RefundFailed, nil
	default:
		return "", fmt.Errorf("unknown refund status %.64q", status)
	}
}

// ackFailure is the body WeChat Pay expects with a refused notify.
type ackFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Acknowledge answers a notify as WeChat Pay expects: 204 when it was handled; otherwise 400
// for a rejected notify and 500 for a failure on our side, both with {"code":"FAIL"}, so that
// WeChat sends it again later.
func (p *Provider) Acknowledge(w http.ResponseWriter, err error) {
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status, message := http.StatusInternalServerError, "temporary failure, try again later"
	if errors.Is(err, payment.ErrNotifyRejected) {
		// Our own rejection reasons are safe to echo; other errors may describe internals.
		status, message = http.StatusBadRequest, payment.ErrNotifyRejected.Message
		if e, ok := errs.As(err); ok && e.Code == payment.ErrNotifyRejected.Code {
			message = e.Message
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ackFailure{Code: "FAIL", Message: message})
}
