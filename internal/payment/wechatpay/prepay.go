package wechatpay

import (
	"context"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/jsapi"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

// Prepay creates the payment at WeChat Pay: for JSAPI the signed wx.requestPayment
// parameters, for Native the code_url to show as a QR code.
func (p *Provider) Prepay(ctx context.Context, req payment.PrepayRequest) (payment.Instructions, error) {
	if req.Method != payment.WeChatJSAPI && req.Method != payment.WeChatNative {
		return payment.Instructions{}, ErrMethodUnsupported.Withf("WeChat Pay does not offer %q", req.Method)
	}
	if req.Method == payment.WeChatJSAPI && req.OpenID == "" {
		return payment.Instructions{}, ErrOpenIDRequired
	}
	if err := validatePrepay(req); err != nil {
		return payment.Instructions{}, err
	}
	if req.Method == payment.WeChatJSAPI {
		return p.prepayJSAPI(ctx, req)
	}
	return p.prepayNative(ctx, req)
}

// validatePrepay refuses what WeChat would refuse anyway, so a caller's mistake is reported
// as one instead of as a provider failure to retry.
func validatePrepay(req payment.PrepayRequest) error {
	var fields errs.Fields
	if req.OutTradeNo == "" {
		fields.Add("out_trade_no", "is required")
	}
	if req.Amount <= 0 {
		fields.Add("amount", "must be at least 1 fen")
	}
	if req.Description == "" {
		fields.Add("description", "is required")
	}
	if req.NotifyURL == "" {
		fields.Add("notify_url", "is required")
	}
	return fields.Err()
}

func (p *Provider) prepayJSAPI(ctx context.Context, req payment.PrepayRequest) (payment.Instructions, error) {
	wxReq := jsapi.PrepayRequest{
		Appid:       core.String(p.cfg.AppID),
		Mchid:       core.String(p.cfg.MchID),
		Description: core.String(req.Description),
		OutTradeNo:  core.String(req.OutTradeNo),
		TimeExpire:  timeExpire(req.ExpiresAt),
		NotifyUrl:   core.String(req.NotifyURL),
		Amount:      &jsapi.Amount{Total: core.Int64(int64(req.Amount)), Currency: core.String(money.Currency)},
		Payer:       &jsapi.Payer{Openid: core.String(req.OpenID)},
	}
	if req.ClientIP != "" {
		wxReq.SceneInfo = &jsapi.SceneInfo{PayerClientIp: core.String(req.ClientIP)}
	}
	resp, _, err := p.jsapi.PrepayWithRequestPayment(ctx, wxReq)
	if err != nil {
		return payment.Instructions{}, prepayFailure(err)
	}
	if deref(resp.PrepayId) == "" {
		return payment.Instructions{}, payment.ErrProvider.Withf("wechat pay prepay: the answer has no prepay_id")
	}
	return payment.Instructions{JSAPI: &payment.JSAPIParams{
		AppID:     deref(resp.Appid),
		TimeStamp: deref(resp.TimeStamp),
		NonceStr:  deref(resp.NonceStr),
		Package:   deref(resp.Package),
		SignType:  deref(resp.SignType),
		PaySign:   deref(resp.PaySign),
	}}, nil
}

func (p *Provider) prepayNative(ctx context.Context, req payment.PrepayRequest) (payment.Instructions, error) {
	wxReq := native.PrepayRequest{
		Appid:       core.String(p.cfg.AppID),
		Mchid:       core.String(p.cfg.MchID),
		Description: core.String(req.Description),
		OutTradeNo:  core.String(req.OutTradeNo),
		TimeExpire:  timeExpire(req.ExpiresAt),
		NotifyUrl:   core.String(req.NotifyURL),
		Amount:      &native.Amount{Total: core.Int64(int64(req.Amount)), Currency: core.String(money.Currency)},
	}
	if req.ClientIP != "" {
		wxReq.SceneInfo = &native.SceneInfo{PayerClientIp: core.String(req.ClientIP)}
	}
	resp, _, err := p.native.Prepay(ctx, wxReq)
	if err != nil {
		return payment.Instructions{}, prepayFailure(err)
	}
	if deref(resp.CodeUrl) == "" {
		return payment.Instructions{}, payment.ErrProvider.Withf("wechat pay prepay: the answer has no code_url")
	}
	return payment.Instructions{CodeURL: *resp.CodeUrl}, nil
}

// prepayFailure tells a payment WeChat already took apart from a failure worth retrying.
func prepayFailure(err error) error {
	if _, code := apiErrorCode(err); code == "ORDERPAID" {
		return failure(payment.ErrTradePaid, "prepay", err)
	}
	return failure(payment.ErrProvider, "prepay", err)
}

// timeExpire is the SDK's time_expire in the form WeChat documents,
// yyyy-MM-DDTHH:mm:ss+08:00 (no fractional seconds); nil when the caller set no expiry.
func timeExpire(at time.Time) *time.Time {
	if at.IsZero() {
		return nil
	}
	t := at.Truncate(time.Second).In(money.ChinaTime())
	return &t
}
