package payment

import (
	"context"
	"net/http"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

// Method is how a buyer pays; each belongs to one provider.
type Method string

const (
	WeChatJSAPI  Method = "wechat_jsapi"
	WeChatNative Method = "wechat_native"
	AlipayWap    Method = "alipay_wap"
	AlipayPage   Method = "alipay_page"
	AlipayQR     Method = "alipay_qr"
	SandboxPay   Method = "sandbox"
)

// Provider is one payment service (WeChat Pay, Alipay, the built-in sandbox) behind the
// calls the payment module makes. Adapters use the provider's SDK for signing and
// verification; every call is safe to repeat with the same numbers.
type Provider interface {
	// Name is "wechat", "alipay" or "sandbox": the notify path segment and the stored provider.
	Name() string
	// Methods lists the methods this provider offers.
	Methods() []Method
	// Prepay creates the payment at the provider and returns what the buyer's client needs.
	Prepay(ctx context.Context, req PrepayRequest) (Instructions, error)
	// ParseNotify verifies a notify (its headers and exact body) and returns what it says.
	// A notify that fails verification returns an error wrapping ErrNotifyRejected.
	ParseNotify(ctx context.Context, header http.Header, body []byte) (Notice, error)
	// Acknowledge writes the answer the provider expects: accepted when err is nil, refused
	// (so the provider retries later) otherwise.
	Acknowledge(w http.ResponseWriter, err error)
	// Query returns the provider's view of a payment; ErrTradeNotFound when it has none.
	Query(ctx context.Context, outTradeNo string) (Notice, error)
	// Close closes an unpaid payment so it can no longer be paid. Closing one that is already
	// closed or was never created is not an error; closing a paid one returns ErrTradePaid.
	Close(ctx context.Context, outTradeNo string) error
	// Refund asks for a refund; repeating it with the same OutRefundNo returns the same refund.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// QueryRefund returns the state of a refund asked for earlier.
	QueryRefund(ctx context.Context, outTradeNo, outRefundNo string) (RefundResult, error)
	// Bill returns the provider's record of the successful payments and refunds of one day
	// (in China Standard Time, as the providers' bills are).
	Bill(ctx context.Context, day time.Time) ([]BillLine, error)
}

// PrepayRequest is a payment to create at the provider.
type PrepayRequest struct {
	Method      Method
	OutTradeNo  string
	Amount      money.Fen
	Description string
	// OpenID is the payer's openid under the mini-program appid (wechat_jsapi only).
	OpenID    string
	ClientIP  string
	ExpiresAt time.Time
	NotifyURL string
	// ReturnURL is where a browser goes after paying (alipay_wap, alipay_page); may be "".
	ReturnURL string
}

// Instructions is what the buyer's client needs to pay; exactly one field is set.
type Instructions struct {
	// JSAPI is the argument of wx.requestPayment (wechat_jsapi).
	JSAPI *JSAPIParams `json:"jsapi,omitempty"`
	// PayURL is a page to open: Alipay's cashier or the sandbox's.
	PayURL string `json:"pay_url,omitempty"`
	// CodeURL is the content of a QR code to scan (wechat_native, alipay_qr).
	CodeURL string `json:"code_url,omitempty"`
}

// JSAPIParams are wx.requestPayment's parameters, signed with the merchant key.
type JSAPIParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// NoticeKind says whether a notice is about a payment or a refund.
type NoticeKind string

const (
	NoticeTrade  NoticeKind = "trade"
	NoticeRefund NoticeKind = "refund"
)

// TradeState is a payment's state at the provider, reduced to what the shop acts on.
type TradeState string

const (
	TradePending TradeState = "pending" // created, not (yet) paid
	TradeSuccess TradeState = "success" // paid (also when refunded afterwards)
	TradeClosed  TradeState = "closed"  // closed, revoked or failed: will never be paid
)

// RefundState is a refund's state at the provider.
type RefundState string

const (
	RefundPending   RefundState = "pending"
	RefundSucceeded RefundState = "succeeded"
	RefundFailed    RefundState = "failed"
)

// Notice is what a verified notify or a query says about a payment or a refund.
type Notice struct {
	Kind       NoticeKind
	OutTradeNo string
	// TransactionID is the provider's number for the payment.
	TransactionID string
	// State is set for trade notices.
	State TradeState
	// Amount is what the payer paid (trade) or what was refunded (refund), in fen.
	Amount money.Fen
	PaidAt time.Time
	// Refund notices only.
	OutRefundNo string
	RefundID    string
	RefundState RefundState
	// AppID is the merchant application the notice is for, when the provider says.
	AppID string
}

// RefundRequest is a refund to ask the provider for.
type RefundRequest struct {
	OutTradeNo  string
	OutRefundNo string
	// Total is the payment's amount; Amount is what to refund now.
	Total     money.Fen
	Amount    money.Fen
	Reason    string
	NotifyURL string
}

// RefundResult is a refund's state at the provider.
type RefundResult struct {
	RefundID string
	State    RefundState
	Amount   money.Fen
}

// BillKind says whether a bill line is a payment or a refund.
type BillKind string

const (
	BillPayment BillKind = "payment"
	BillRefund  BillKind = "refund"
)

// BillLine is one successful payment or refund in a provider's daily bill.
type BillLine struct {
	Kind          BillKind
	OutTradeNo    string
	TransactionID string
	OutRefundNo   string
	Amount        money.Fen
	At            time.Time
}

// Errors providers return, with their stable codes.
var (
	ErrNotifyRejected = errs.New(errs.Invalid, "notify_rejected", "the notification failed verification")
	ErrTradeNotFound  = errs.New(errs.NotFound, "trade_not_found", "the provider has no such payment")
	ErrTradePaid      = errs.New(errs.Conflict, "trade_paid", "the payment is already paid at the provider")
	ErrProvider       = errs.New(errs.Unavailable, "payment_provider_error", "the payment provider did not accept the request; try again later")
)
