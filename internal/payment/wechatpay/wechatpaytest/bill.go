package wechatpaytest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/minimart/minimart/internal/platform/money"
)

// billHeader is the column list of WeChat Pay's bill_type=ALL trade bill.
var billHeader = []string{
	"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
	"交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号",
	"商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包",
	"手续费", "费率", "订单金额", "申请退款金额", "费率备注",
}

var billSummaryHeader = []string{"总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"}

const billTimeLayout = "2006-01-02 15:04:05"

type billRow struct {
	at     time.Time
	fields []string
}

// billLocked writes the trade bill of day (China time): payments that succeeded and refunds
// that completed that day, every field prefixed with "`" as WeChat Pay does, then the totals.
// It also returns the number of trade rows. The caller holds s.mu.
func (s *Server) billLocked(day time.Time) ([]byte, int) {
	date := day.Format(time.DateOnly)
	onDay := func(t time.Time) bool { return !t.IsZero() && t.In(money.ChinaTime()).Format(time.DateOnly) == date }
	var rows []billRow
	var paid, refunded money.Fen
	for _, tr := range s.trades {
		if !onDay(tr.successTime) {
			continue
		}
		paid += tr.amount
		rows = append(rows, billRow{at: tr.successTime, fields: s.billFields(tr, nil)})
	}
	for _, rf := range s.refunds {
		if rf.status != RefundSuccess || !onDay(rf.successTime) {
			continue
		}
		refunded += rf.amount
		rows = append(rows, billRow{at: rf.successTime, fields: s.billFields(s.trades[rf.outTradeNo], rf)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].at.Before(rows[j].at) })

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(billHeader)
	for _, row := range rows {
		_ = w.Write(row.fields)
	}
	_ = w.Write(billSummaryHeader)
	_ = w.Write(billCells(strconv.Itoa(len(rows)), yuan(paid), yuan(refunded), "0.00", "0.00000", yuan(paid), yuan(refunded)))
	w.Flush()
	return buf.Bytes(), len(rows)
}

// billFields is the row of a payment (rf nil) or of one of its refunds.
func (s *Server) billFields(tr *trade, rf *refund) []string {
	at, state := tr.successTime, "SUCCESS"
	refundID, outRefundNo, refundAmount, refundType, refundStatus := "0", "0", "0.00", "", ""
	if rf != nil {
		at, state = rf.successTime, "REFUND"
		refundID, outRefundNo, refundAmount, refundType, refundStatus = rf.refundID, rf.outRefundNo, yuan(rf.amount), "ORIGINAL", "SUCCESS"
	}
	return billCells(
		at.In(money.ChinaTime()).Format(billTimeLayout), tr.appID, s.MchID, "0", "", tr.transactionID, tr.outTradeNo, tr.openID,
		tr.tradeType, state, "OTHERS", "CNY", yuan(tr.amount), "0.00", refundID,
		outRefundNo, refundAmount, "0.00", refundType, refundStatus, tr.description, "",
		"0.00000", "0.60%", yuan(tr.amount), refundAmount, "",
	)
}

// billCells marks every field as text for spreadsheets, as WeChat Pay's bills do.
func billCells(values ...string) []string {
	cells := make([]string, len(values))
	for i, v := range values {
		cells[i] = "`" + v
	}
	return cells
}

// yuan writes fen as a yuan amount with two decimals, e.g. 10 → "0.10".
func yuan(f money.Fen) string {
	return fmt.Sprintf("%d.%02d", f/100, f%100)
}
