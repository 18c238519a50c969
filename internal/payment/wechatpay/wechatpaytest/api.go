package wechatpaytest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/jsapi"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/minimart/minimart/internal/platform/money"
)

// prepayArgs is what both prepay endpoints take, read from the SDK's request types.
type prepayArgs struct {
	tradeType   string
	appID       string
	mchID       string
	outTradeNo  string
	description string
	notifyURL   string
	amount      *int64
	currency    *string
	openID      string
	timeExpire  *time.Time
}

func (s *Server) prepayJSAPI(w http.ResponseWriter, r *http.Request) {
	var req jsapi.PrepayRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "请求体不是有效的JSON")
		return
	}
	args := prepayArgs{
		tradeType: "JSAPI", appID: deref(req.Appid), mchID: deref(req.Mchid), outTradeNo: deref(req.OutTradeNo),
		description: deref(req.Description), notifyURL: deref(req.NotifyUrl), timeExpire: req.TimeExpire,
	}
	if req.Amount != nil {
		args.amount, args.currency = req.Amount.Total, req.Amount.Currency
	}
	if req.Payer != nil {
		args.openID = deref(req.Payer.Openid)
	}
	if args.openID == "" {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "输入源“/body/payer/openid”映射到值字段“用户标识”字符串规则校验失败，字符数 0，小于最小值 1")
		return
	}
	tr, ok := s.prepay(w, r, args)
	if ok {
		s.reply(w, r, http.StatusOK, jsapi.PrepayResponse{PrepayId: core.String(tr.prepayID)})
	}
}

func (s *Server) prepayNative(w http.ResponseWriter, r *http.Request) {
	var req native.PrepayRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "请求体不是有效的JSON")
		return
	}
	args := prepayArgs{
		tradeType: "NATIVE", appID: deref(req.Appid), mchID: deref(req.Mchid), outTradeNo: deref(req.OutTradeNo),
		description: deref(req.Description), notifyURL: deref(req.NotifyUrl), timeExpire: req.TimeExpire,
	}
	if req.Amount != nil {
		args.amount, args.currency = req.Amount.Total, req.Amount.Currency
	}
	tr, ok := s.prepay(w, r, args)
	if ok {
		s.reply(w, r, http.StatusOK, native.PrepayResponse{CodeUrl: core.String(tr.codeURL)})
	}
}

// prepay records a new payment, or finds the same one asked for again, as WeChat Pay does
// within a prepay_id's validity. It writes the error answer itself and then returns false.
func (s *Server) prepay(w http.ResponseWriter, r *http.Request, args prepayArgs) (trade, bool) {
	switch {
	case args.mchID != s.MchID:
		s.fail(w, r, http.StatusBadRequest, "MCH_NOT_EXISTS", "商户号不存在")
		return trade{}, false
	case args.appID != s.AppID:
		s.fail(w, r, http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
		return trade{}, false
	case args.outTradeNo == "" || args.description == "" || args.notifyURL == "":
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "缺少参数 out_trade_no, description 或 notify_url")
		return trade{}, false
	case args.amount == nil || *args.amount < 1:
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "amount.total 必须大于0")
		return trade{}, false
	case args.currency != nil && *args.currency != money.Currency:
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "币种只支持CNY")
		return trade{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tr, ok := s.trades[args.outTradeNo]; ok {
		switch {
		case tr.state == StateSuccess || tr.state == StateRefund:
			s.fail(w, r, http.StatusBadRequest, "ORDERPAID", "该订单已支付")
			return trade{}, false
		case tr.state == StateClosed:
			s.fail(w, r, http.StatusBadRequest, "ORDERCLOSED", "该订单已关闭")
			return trade{}, false
		case tr.tradeType != args.tradeType || tr.amount != money.Fen(*args.amount) || tr.openID != args.openID:
			s.fail(w, r, http.StatusBadRequest, "INVALID_REQUEST", "201 商户订单号重复")
			return trade{}, false
		}
		return *tr, true
	}
	tr := &trade{
		tradeType:   args.tradeType,
		appID:       args.appID,
		outTradeNo:  args.outTradeNo,
		description: args.description,
		amount:      money.Fen(*args.amount),
		openID:      args.openID,
		notifyURL:   args.notifyURL,
		state:       StateNotPay,
	}
	if args.timeExpire != nil {
		tr.timeExpire = *args.timeExpire
	}
	if args.tradeType == "JSAPI" {
		tr.prepayID = "wx" + time.Now().In(money.ChinaTime()).Format("20060102150405") + randomHex(10)
	} else {
		tr.codeURL = "weixin://wxpay/bizpayurl?pr=" + randomHex(4)
	}
	s.trades[tr.outTradeNo] = tr
	return *tr, true
}

func (s *Server) queryTrade(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("mchid") != s.MchID {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "mchid 与请求方不一致")
		return
	}
	s.mu.Lock()
	tr, ok := s.trades[r.PathValue("no")]
	var tx payments.Transaction
	if ok {
		tx = s.transaction(tr)
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, r, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
		return
	}
	s.reply(w, r, http.StatusOK, tx)
}

var tradeStateDescriptions = map[string]string{
	StateNotPay:  "订单未支付",
	StateSuccess: "支付成功",
	StateRefund:  "转入退款",
	StateClosed:  "订单已关闭",
}

// transaction is the payment as WeChat Pay describes it in queries and notifies. The caller
// holds s.mu.
func (s *Server) transaction(tr *trade) payments.Transaction {
	tx := payments.Transaction{
		Appid:          core.String(tr.appID),
		Mchid:          core.String(s.MchID),
		OutTradeNo:     core.String(tr.outTradeNo),
		TradeState:     core.String(tr.state),
		TradeStateDesc: core.String(tradeStateDescriptions[tr.state]),
		Amount: &payments.TransactionAmount{
			Total:         core.Int64(int64(tr.amount)),
			Currency:      core.String(money.Currency),
			PayerCurrency: core.String(money.Currency),
		},
	}
	if tr.transactionID != "" {
		tx.TransactionId = core.String(tr.transactionID)
		tx.TradeType = core.String(tr.tradeType)
		tx.BankType = core.String("OTHERS")
		tx.SuccessTime = core.String(tr.successTime.In(money.ChinaTime()).Format(time.RFC3339))
		tx.Payer = &payments.TransactionPayer{Openid: core.String(tr.openID)}
		tx.Amount.PayerTotal = core.Int64(int64(tr.amount))
	}
	return tx
}

type closeRequest struct {
	MchID string `json:"mchid"`
}

func (s *Server) closeTrade(w http.ResponseWriter, r *http.Request) {
	var req closeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MchID != s.MchID {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "mchid 与请求方不一致")
		return
	}
	s.mu.Lock()
	tr, ok := s.trades[r.PathValue("no")]
	paid := ok && (tr.state == StateSuccess || tr.state == StateRefund)
	if ok && !paid {
		tr.state, tr.closed = StateClosed, true
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.fail(w, r, http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
	case paid:
		s.fail(w, r, http.StatusBadRequest, "ORDERPAID", "订单已支付")
	default:
		s.reply(w, r, http.StatusNoContent, nil)
	}
}

func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) {
	var req refunddomestic.CreateRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "请求体不是有效的JSON")
		return
	}
	outRefundNo := deref(req.OutRefundNo)
	if outRefundNo == "" || req.Amount == nil || req.Amount.Refund == nil || req.Amount.Total == nil || *req.Amount.Refund < 1 {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "缺少参数 out_refund_no 或 amount")
		return
	}
	if req.Amount.Currency != nil && *req.Amount.Currency != money.Currency {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "币种只支持CNY")
		return
	}
	autoComplete := s.AutoCompleteRefunds
	amount, total := money.Fen(*req.Amount.Refund), money.Fen(*req.Amount.Total)

	s.mu.Lock()
	tr := s.findTrade(deref(req.OutTradeNo), deref(req.TransactionId))
	var status int
	var code, message string
	var created *refund
	switch existing, repeated := s.refunds[outRefundNo]; {
	case tr == nil || tr.transactionID == "":
		status, code, message = http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付"
	case repeated && (existing.outTradeNo != tr.outTradeNo || existing.amount != amount):
		status, code, message = http.StatusBadRequest, "INVALID_REQUEST", "同一退款单号的退款参数不一致"
	case repeated:
		created = existing
	case total != tr.amount:
		status, code, message = http.StatusBadRequest, "INVALID_REQUEST", "订单金额与实际支付金额不一致"
	case s.refundedLocked(tr.outTradeNo)+amount > tr.amount:
		status, code, message = http.StatusBadRequest, "INVALID_REQUEST", "申请退款金额超过订单可退金额"
	default:
		now := time.Now()
		created = &refund{
			refundID:    "50" + randomDigits(27),
			outRefundNo: outRefundNo,
			outTradeNo:  tr.outTradeNo,
			amount:      amount,
			reason:      deref(req.Reason),
			notifyURL:   deref(req.NotifyUrl),
			status:      RefundProcessing,
			createTime:  now,
		}
		if autoComplete {
			created.status, created.successTime = RefundSuccess, now
		}
		s.refunds[outRefundNo] = created
		s.refundOrder[tr.outTradeNo] = append(s.refundOrder[tr.outTradeNo], outRefundNo)
		tr.state = StateRefund
	}
	var answer refunddomestic.Refund
	if created != nil {
		answer = s.refundAnswer(created)
	}
	s.mu.Unlock()

	if created == nil {
		s.fail(w, r, status, code, message)
		return
	}
	s.reply(w, r, http.StatusOK, answer)
	if autoComplete && created.notifyURL != "" {
		s.deliverInBackground(outRefundNo)
	}
}

// findTrade finds a payment by out_trade_no or transaction_id. The caller holds s.mu.
func (s *Server) findTrade(outTradeNo, transactionID string) *trade {
	if outTradeNo != "" {
		return s.trades[outTradeNo]
	}
	for _, tr := range s.trades {
		if transactionID != "" && tr.transactionID == transactionID {
			return tr
		}
	}
	return nil
}

// refundedLocked is what the refunds of a payment take from it. The caller holds s.mu.
func (s *Server) refundedLocked(outTradeNo string) money.Fen {
	var sum money.Fen
	for _, no := range s.refundOrder[outTradeNo] {
		sum += s.refunds[no].amount
	}
	return sum
}

// refundAnswer is a refund as the create and query endpoints describe it. The caller holds s.mu.
func (s *Server) refundAnswer(rf *refund) refunddomestic.Refund {
	tr := s.trades[rf.outTradeNo]
	createTime := rf.createTime.In(money.ChinaTime()).Truncate(time.Second)
	answer := refunddomestic.Refund{
		RefundId:            core.String(rf.refundID),
		OutRefundNo:         core.String(rf.outRefundNo),
		TransactionId:       core.String(tr.transactionID),
		OutTradeNo:          core.String(rf.outTradeNo),
		Channel:             refunddomestic.CHANNEL_ORIGINAL.Ptr(),
		UserReceivedAccount: core.String("支付用户零钱"),
		CreateTime:          &createTime,
		Status:              refunddomestic.Status(rf.status).Ptr(),
		FundsAccount:        refunddomestic.FUNDSACCOUNT_AVAILABLE.Ptr(),
		Amount: &refunddomestic.Amount{
			Total:            core.Int64(int64(tr.amount)),
			Refund:           core.Int64(int64(rf.amount)),
			PayerTotal:       core.Int64(int64(tr.amount)),
			PayerRefund:      core.Int64(int64(rf.amount)),
			SettlementTotal:  core.Int64(int64(tr.amount)),
			SettlementRefund: core.Int64(int64(rf.amount)),
			DiscountRefund:   core.Int64(0),
			Currency:         core.String(money.Currency),
		},
	}
	if !rf.successTime.IsZero() {
		successTime := rf.successTime.In(money.ChinaTime()).Truncate(time.Second)
		answer.SuccessTime = &successTime
	}
	return answer
}

func (s *Server) queryRefund(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rf, ok := s.refunds[r.PathValue("no")]
	var answer refunddomestic.Refund
	if ok {
		answer = s.refundAnswer(rf)
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, r, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
		return
	}
	s.reply(w, r, http.StatusOK, answer)
}

type tradeBillAnswer struct {
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
	DownloadURL string `json:"download_url"`
}

// tradeBill answers GET /v3/bill/tradebill. Unlike WeChat Pay, the fake serves the bill of
// the current day too, so tests need not wait for tomorrow.
func (s *Server) tradeBill(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	day, err := time.ParseInLocation(time.DateOnly, query.Get("bill_date"), money.ChinaTime())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "bill_date 格式应为 yyyy-MM-DD")
		return
	}
	if billType := query.Get("bill_type"); billType != "" && billType != "ALL" {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "wechatpaytest 只提供 bill_type=ALL")
		return
	}
	if query.Get("tar_type") != "" {
		s.fail(w, r, http.StatusBadRequest, "PARAM_ERROR", "wechatpaytest 不提供压缩账单")
		return
	}
	s.mu.Lock()
	bill, rows := s.billLocked(day)
	token := randomHex(16)
	if rows > 0 {
		s.bills[token] = bill
	}
	s.mu.Unlock()
	if rows == 0 {
		s.fail(w, r, http.StatusBadRequest, "NO_STATEMENT_EXIST", "账单文件不存在")
		return
	}
	sum := sha1.Sum(bill)
	s.reply(w, r, http.StatusOK, tradeBillAnswer{
		HashType:    "SHA1",
		HashValue:   hex.EncodeToString(sum[:]),
		DownloadURL: apiOrigin + "/v3/billdownload/file?token=" + token,
	})
}

// downloadBill serves a bill file. Like WeChat Pay it does not sign the file: the tradebill
// answer's hash vouches for it.
func (s *Server) downloadBill(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	bill, ok := s.bills[r.URL.Query().Get("token")]
	s.mu.Unlock()
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "INVALID_REQUEST", "token 无效")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(bill)
}

func deref[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}
