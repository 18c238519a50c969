package wechatpay

import (
	"context"
	"net/http"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/jsapi"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

// ErrRefundNotFound is QueryRefund's answer when WeChat Pay has no such refund. Its code is the
// one a payment.ErrRefundNotFound would have, so errors.Is matches either.
var ErrRefundNotFound = errs.New(errs.NotFound, "refund_not_found", "the provider has no such refund")

// Query returns WeChat Pay's view of a payment; payment.ErrTradeNotFound when it has none.
// The query endpoint is the same for JSAPI and Native payments.
func (p *Provider) Query(ctx context.Context, outTradeNo string) (payment.Notice, error) {
	if outTradeNo == "" {
		return payment.Notice{}, requiredField("out_trade_no")
	}
	tx, _, err := p.jsapi.QueryOrderByOutTradeNo(ctx, jsapi.QueryOrderByOutTradeNoRequest{
		OutTradeNo: core.String(outTradeNo),
		Mchid:      core.String(p.cfg.MchID),
	})
	if err != nil {
		if status, code := apiErrorCode(err); code == "ORDER_NOT_EXIST" || status == http.StatusNotFound {
			return payment.Notice{}, failure(payment.ErrTradeNotFound, "query", err)
		}
		return payment.Notice{}, failure(payment.ErrProvider, "query", err)
	}
	notice, err := tradeNotice(tx)
	if err != nil {
		return payment.Notice{}, payment.ErrProvider.Withf("wechat pay query: %v", err)
	}
	if notice.OutTradeNo != outTradeNo {
		return payment.Notice{}, payment.ErrProvider.Withf("wechat pay query: asked for %s, the answer is about %s", outTradeNo, notice.OutTradeNo)
	}
	return notice, nil
}

// Close closes an unpaid payment. WeChat answers ORDERPAID for a paid one; an unknown or
// already closed payment needs no closing.
func (p *Provider) Close(ctx context.Context, outTradeNo string) error {
	if outTradeNo == "" {
		return requiredField("out_trade_no")
	}
	_, err := p.jsapi.CloseOrder(ctx, jsapi.CloseOrderRequest{
		OutTradeNo: core.String(outTradeNo),
		Mchid:      core.String(p.cfg.MchID),
	})
	if err == nil {
		return nil
	}
	switch status, code := apiErrorCode(err); {
	case code == "ORDERPAID":
		return failure(payment.ErrTradePaid, "close", err)
	case code == "ORDER_NOT_EXIST" || code == "ORDERCLOSED" || status == http.StatusNotFound:
		return nil
	default:
		return failure(payment.ErrProvider, "close", err)
	}
}

// Refund asks WeChat Pay for a refund. WeChat keys refunds by out_refund_no, so repeating a
// request returns the refund made the first time.
func (p *Provider) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	var fields errs.Fields
	if req.OutTradeNo == "" {
		fields.Add("out_trade_no", "is required")
	}
	if req.OutRefundNo == "" {
		fields.Add("out_refund_no", "is required")
	}
	if req.Amount <= 0 {
		fields.Add("amount", "must be at least 1 fen")
	}
	if req.Total < req.Amount {
		fields.Add("total", "must be at least the amount refunded")
	}
	if err := fields.Err(); err != nil {
		return payment.RefundResult{}, err
	}
	wxReq := refunddomestic.CreateRequest{
		OutTradeNo:  core.String(req.OutTradeNo),
		OutRefundNo: core.String(req.OutRefundNo),
		Amount: &refunddomestic.AmountReq{
			Refund:   core.Int64(int64(req.Amount)),
			Total:    core.Int64(int64(req.Total)),
			Currency: core.String(money.Currency),
		},
	}
	if req.Reason != "" {
		wxReq.Reason = core.String(req.Reason)
	}
	if req.NotifyURL != "" {
		wxReq.NotifyUrl = core.String(req.NotifyURL)
	}
	refund, _, err := p.refunds.Create(ctx, wxReq)
	if err != nil {
		if _, code := apiErrorCode(err); code == "RESOURCE_NOT_EXISTS" {
			return payment.RefundResult{}, failure(payment.ErrTradeNotFound, "refund", err)
		}
		return payment.RefundResult{}, failure(payment.ErrProvider, "refund", err)
	}
	return refundResult("refund", refund, req.OutTradeNo, req.OutRefundNo)
}

// QueryRefund returns the state of a refund asked for earlier; ErrRefundNotFound when WeChat
// Pay never received it.
func (p *Provider) QueryRefund(ctx context.Context, outTradeNo, outRefundNo string) (payment.RefundResult, error) {
	if outRefundNo == "" {
		return payment.RefundResult{}, requiredField("out_refund_no")
	}
	refund, _, err := p.refunds.QueryByOutRefundNo(ctx, refunddomestic.QueryByOutRefundNoRequest{
		OutRefundNo: core.String(outRefundNo),
	})
	if err != nil {
		if status, code := apiErrorCode(err); code == "RESOURCE_NOT_EXISTS" || status == http.StatusNotFound {
			return payment.RefundResult{}, failure(ErrRefundNotFound, "refund query", err)
		}
		return payment.RefundResult{}, failure(payment.ErrProvider, "refund query", err)
	}
	return refundResult("refund query", refund, outTradeNo, outRefundNo)
}

// refundResult reads WeChat's refund, checking it is the one asked about (outTradeNo "" skips
// that check).
func refundResult(op string, refund *refunddomestic.Refund, outTradeNo, outRefundNo string) (payment.RefundResult, error) {
	if got := deref(refund.OutRefundNo); got != outRefundNo {
		return payment.RefundResult{}, payment.ErrProvider.Withf("wechat pay %s: asked for refund %s, the answer is about %s", op, outRefundNo, got)
	}
	if got := deref(refund.OutTradeNo); outTradeNo != "" && got != outTradeNo {
		return payment.RefundResult{}, payment.ErrProvider.Withf("wechat pay %s: refund %s belongs to %s, not %s", op, outRefundNo, got, outTradeNo)
	}
	state, err := refundState(string(deref(refund.Status)))
	if err != nil {
		return payment.RefundResult{}, payment.ErrProvider.Withf("wechat pay %s: %v", op, err)
	}
	if refund.Amount == nil || refund.Amount.Refund == nil {
		return payment.RefundResult{}, payment.ErrProvider.Withf("wechat pay %s: the answer has no amount.refund", op)
	}
	return payment.RefundResult{
		RefundID: deref(refund.RefundId),
		State:    state,
		Amount:   money.Fen(*refund.Amount.Refund),
	}, nil
}

func requiredField(name string) error {
	var fields errs.Fields
	fields.Add(name, "is required")
	return fields.Err()
}
