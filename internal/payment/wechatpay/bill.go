package wechatpay

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/consts"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/money"
)

// maxBillBytes bounds a downloaded bill held in memory; a shop's daily bill is far smaller.
const maxBillBytes = 256 << 20

// tradeBill is the signed answer of GET /v3/bill/tradebill.
type tradeBill struct {
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
	DownloadURL string `json:"download_url"`
}

// Bill returns the successful payments and refunds of day (a China-time date) from WeChat
// Pay's trade bill. A day without trades has no bill (NO_STATEMENT_EXIST) and gives no lines.
func (p *Provider) Bill(ctx context.Context, day time.Time) ([]payment.BillLine, error) {
	date := day.In(money.ChinaTime()).Format(time.DateOnly)
	result, err := p.client.Request(ctx, http.MethodGet, consts.WechatPayAPIServer+"/v3/bill/tradebill", nil,
		url.Values{"bill_date": {date}, "bill_type": {"ALL"}}, nil, consts.ApplicationJSON)
	if err != nil {
		if _, code := apiErrorCode(err); code == "NO_STATEMENT_EXIST" {
			return []payment.BillLine{}, nil
		}
		return nil, failure(payment.ErrProvider, "trade bill "+date, err)
	}
	var bill tradeBill
	if err := core.UnMarshalResponse(result.Response, &bill); err != nil {
		return nil, failure(payment.ErrProvider, "trade bill "+date, err)
	}
	if bill.DownloadURL == "" {
		return nil, payment.ErrProvider.Withf("wechat pay trade bill %s: the answer has no download_url", date)
	}
	data, err := p.download(ctx, bill)
	if err != nil {
		return nil, failure(payment.ErrProvider, "trade bill "+date+" download", err)
	}
	lines, err := parseTradeBill(data)
	if err != nil {
		return nil, payment.ErrProvider.Withf("wechat pay trade bill %s: %v", date, err)
	}
	return lines, nil
}

// download fetches the bill file with a signed request. WeChat does not sign the file, so it
// is checked against the hash in the signed tradebill answer.
func (p *Provider) download(ctx context.Context, bill tradeBill) ([]byte, error) {
	result, err := p.downloadClient.Get(ctx, bill.DownloadURL)
	if err != nil {
		return nil, err
	}
	defer result.Response.Body.Close()
	data, err := io.ReadAll(io.LimitReader(result.Response.Body, maxBillBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBillBytes {
		return nil, fmt.Errorf("bill is larger than %d bytes", maxBillBytes)
	}
	if !strings.EqualFold(bill.HashType, "SHA1") {
		return nil, fmt.Errorf("unsupported hash_type %.64q", bill.HashType)
	}
	// SHA-1 is what WeChat states the hash in; the answer carrying it is signed.
	sum := sha1.Sum(data)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), bill.HashValue) {
		return nil, errors.New("bill file does not match hash_value")
	}
	return data, nil
}

// Trade-bill columns this parser reads. Amounts prefer what the shop asked for (订单金额,
// 申请退款金额) over what settles after coupons, falling back to the latter.
const (
	colTime          = "交易时间"
	colTransactionID = "微信订单号"
	colOutTradeNo    = "商户订单号"
	colTradeState    = "交易状态"
	colOrderAmount   = "订单金额"
	colSettleAmount  = "应结订单金额"
	colOutRefundNo   = "商户退款单号"
	colAskedRefund   = "申请退款金额"
	colRefundAmount  = "退款金额"
	colRefundState   = "退款状态"
	// summaryFirstColumn starts the totals after the last trade row.
	summaryFirstColumn = "总交易单数"
)

const billTimeLayout = "2006-01-02 15:04:05"

// parseTradeBill reads a bill_type=ALL trade bill: a header row, one row per trade or refund
// with every field prefixed by "`" (so spreadsheets keep it text), then a totals section.
// Rows must have as many fields as the header, because a stray comma would otherwise shift
// amounts into the wrong column without any error. Times come back in UTC.
func parseTradeBill(data []byte) ([]payment.BillLine, error) {
	reader := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	reader.FieldsPerRecord = -1
	// Fields start with "`", never with a quote, so quotes inside them are plain text.
	reader.LazyQuotes = true

	header, err := reader.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("bill is empty")
	}
	if err != nil {
		return nil, fmt.Errorf("bill header: %w", err)
	}
	columns := make(map[string]int, len(header))
	for i, name := range header {
		columns[billField(name)] = i
	}
	for _, name := range []string{colTime, colTransactionID, colOutTradeNo, colTradeState} {
		if _, ok := columns[name]; !ok {
			return nil, fmt.Errorf("bill header has no %s column", name)
		}
	}
	paymentAmount, ok := firstColumn(columns, colOrderAmount, colSettleAmount)
	if !ok {
		return nil, fmt.Errorf("bill header has no %s or %s column", colOrderAmount, colSettleAmount)
	}
	refundAmount, hasRefundAmount := firstColumn(columns, colAskedRefund, colRefundAmount)
	_, hasOutRefundNo := columns[colOutRefundNo]

	lines := []payment.BillLine{}
	for {
		record, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bill: %w", err)
		}
		if billField(record[0]) == summaryFirstColumn {
			return lines, nil
		}
		lineNo, _ := reader.FieldPos(0)
		if len(record) != len(header) {
			return nil, fmt.Errorf("bill line %d has %d fields, the header has %d", lineNo, len(record), len(header))
		}
		field := func(name string) string { return billField(record[columns[name]]) }

		var line payment.BillLine
		switch state := field(colTradeState); state {
		case "SUCCESS":
			line.Kind = payment.BillPayment
			line.Amount, err = yuanToFen(billField(record[paymentAmount]))
		case "REFUND":
			if !hasOutRefundNo || !hasRefundAmount {
				return nil, fmt.Errorf("bill line %d is a refund, but the header has no refund columns", lineNo)
			}
			if refundState, ok := columns[colRefundState]; ok && billField(record[refundState]) != "SUCCESS" {
				continue
			}
			line.Kind = payment.BillRefund
			line.OutRefundNo = field(colOutRefundNo)
			if line.OutRefundNo == "" {
				return nil, fmt.Errorf("bill line %d: refund without %s", lineNo, colOutRefundNo)
			}
			line.Amount, err = yuanToFen(billField(record[refundAmount]))
		default:
			// Revoked and other unsuccessful rows moved no money.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("bill line %d: %w", lineNo, err)
		}
		line.OutTradeNo = field(colOutTradeNo)
		if line.OutTradeNo == "" {
			return nil, fmt.Errorf("bill line %d: no %s", lineNo, colOutTradeNo)
		}
		line.TransactionID = field(colTransactionID)
		at, err := time.ParseInLocation(billTimeLayout, field(colTime), money.ChinaTime())
		if err != nil {
			return nil, fmt.Errorf("bill line %d: %s: %w", lineNo, colTime, err)
		}
		line.At = at.UTC()
		lines = append(lines, line)
	}
}

// billField is a bill cell without its spreadsheet-protecting "`".
func billField(cell string) string {
	return strings.TrimPrefix(strings.TrimSpace(cell), "`")
}

func firstColumn(columns map[string]int, names ...string) (int, bool) {
	for _, name := range names {
		if i, ok := columns[name]; ok {
			return i, true
		}
	}
	return 0, false
}

// maxYuanDigits keeps yuan*100 far inside int64.
const maxYuanDigits = 15

// yuanToFen converts a bill amount such as "1234.56", "0.1" or "12" to fen exactly, without
// floating point. Negative amounts and more than two decimals are refused: bill amounts have
// neither.
func yuanToFen(s string) (money.Fen, error) {
	yuan, cents, hasPoint := strings.Cut(s, ".")
	if !isDigits(yuan) || len(yuan) > maxYuanDigits {
		return 0, fmt.Errorf("amount %.32q is not a yuan amount", s)
	}
	if hasPoint && (!isDigits(cents) || len(cents) > 2) {
		return 0, fmt.Errorf("amount %.32q is not a yuan amount with at most two decimals", s)
	}
	cents = (cents + "00")[:2]
	y, err := strconv.ParseInt(yuan, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %.32q: %w", s, err)
	}
	c, err := strconv.ParseInt(cents, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %.32q: %w", s, err)
	}
	return money.Fen(y*100 + c), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
