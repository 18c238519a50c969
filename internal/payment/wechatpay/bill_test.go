package wechatpay

import (
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/money"
)

const billHeader = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\n"

// sampleBill is shaped like a real bill: BOM, backtick-prefixed fields, a product name that
// needed quoting, a revoked and a still-processing refund row, then the totals.
const sampleBill = "\uFEFF" + billHeader +
	"`2024-03-01 09:15:02,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200000001202403011234567890,`20240301000001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.10,`0.00,`0,`0,`0.00,`0.00,`,`,`T-shirt,`,`0.00000,`0.60%,`0.10,`0.00,`\n" +
	"`2024-03-01 10:00:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200000001202403011234567891,`20240301000002,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`CMB_CREDIT,`CNY,`1200.00,`34.56,`0,`0,`0.00,`0.00,`,`,\"`Shoes, size 42\",`,`7.20000,`0.60%,`1234.56,`0.00,`\n" +
	"`2024-03-01 11:30:45,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200000001202403011234567891,`20240301000002,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`REFUND,`CMB_CREDIT,`CNY,`0.00,`0.00,`50300000012024030100000001,`R20240301000002-1,`5.00,`0.00,`ORIGINAL,`SUCCESS,\"`Shoes, size 42\",`,`-0.03000,`0.60%,`0.00,`5.00,`\n" +
	"`2024-03-01 11:31:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200000001202403011234567891,`20240301000002,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`REFUND,`CMB_CREDIT,`CNY,`0.00,`0.00,`50300000012024030100000002,`R20240301000002-2,`1.00,`0.00,`ORIGINAL,`PROCESSING,`x,`,`0.00000,`0.60%,`0.00,`1.00,`\n" +
	"`2024-03-01 12:00:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200000001202403011234567892,`20240301000003,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`MICROPAY,`REVOKED,`OTHERS,`CNY,`0.00,`0.00,`0,`0,`0.00,`0.00,`,`,`x,`,`0.00000,`0.60%,`9.99,`0.00,`\n" +
	"总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n" +
	"`3,`1200.10,`5.00,`0.00,`7.17000,`1234.66,`5.00\n"

func TestParseTradeBill(t *testing.T) {
	lines, err := parseTradeBill([]byte(sampleBill))
	if err != nil {
		t.Fatalf("parseTradeBill: %v", err)
	}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation(billTimeLayout, s, money.ChinaTime())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want := []payment.BillLine{
		{Kind: payment.BillPayment, OutTradeNo: "20240301000001", TransactionID: "4200000001202403011234567890", Amount: 10, At: at("2024-03-01 09:15:02")},
		// 订单金额 (what the buyer was asked for), not 应结订单金额 (after a coupon).
		{Kind: payment.BillPayment, OutTradeNo: "20240301000002", TransactionID: "4200000001202403011234567891", Amount: 123456, At: at("2024-03-01 10:00:00")},
		{Kind: payment.BillRefund, OutTradeNo: "20240301000002", TransactionID: "4200000001202403011234567891", OutRefundNo: "R20240301000002-1", Amount: 500, At: at("2024-03-01 11:30:45")},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i := range want {
		if !lines[i].At.Equal(want[i].At) {
			t.Errorf("line %d: At = %v, want %v", i, lines[i].At, want[i].At)
		}
		lines[i].At, want[i].At = time.Time{}, time.Time{}
		if lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, lines[i], want[i])
		}
	}
}

func TestParseTradeBillWithoutTrades(t *testing.T) {
	lines, err := parseTradeBill([]byte(billHeader + "总交易单数,应结订单总金额\n`0,`0.00\n"))
	if err != nil || lines == nil || len(lines) != 0 {
		t.Errorf("parseTradeBill = %v, %v; want an empty list", lines, err)
	}
}

func TestParseTradeBillRefusesMalformedBills(t *testing.T) {
	row := func(amount, outTradeNo, at string) string {
		return "`" + at + ",`wx1,`19,`0,`,`42,`" + outTradeNo + ",`o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`" + amount +
			",`0.00,`0,`0,`0.00,`0.00,`,`,`x,`,`0.00000,`0.60%,`" + amount + ",`0.00,`\n"
	}
	for name, bill := range map[string]string{
		"empty":                     "",
		"no amount column":          "交易时间,微信订单号,商户订单号,交易状态\n`2024-03-01 09:15:02,`42,`1,`SUCCESS\n",
		"no out_trade_no column":    "交易时间,微信订单号,交易状态,订单金额\n`2024-03-01 09:15:02,`42,`SUCCESS,`1.00\n",
		"refund without its column": "交易时间,微信订单号,商户订单号,交易状态,订单金额\n`2024-03-01 09:15:02,`42,`1,`REFUND,`1.00\n",
		"a field too many":          billHeader + strings.Replace(row("1.00", "1", "2024-03-01 09:15:02"), "`x,", "`x,`y,", 1),
		"three decimals":            billHeader + row("1.234", "1", "2024-03-01 09:15:02"),
		"negative amount":           billHeader + row("-1.00", "1", "2024-03-01 09:15:02"),
		"amount is text":            billHeader + row("abc", "1", "2024-03-01 09:15:02"),
		"no out_trade_no":           billHeader + row("1.00", "", "2024-03-01 09:15:02"),
		"bad time":                  billHeader + row("1.00", "1", "2024-03-01T09:15:02Z"),
	} {
		if lines, err := parseTradeBill([]byte(bill)); err == nil {
			t.Errorf("%s: parseTradeBill = %+v, want an error", name, lines)
		}
	}
}

func TestYuanToFen(t *testing.T) {
	for _, tc := range []struct {
		yuan string
		fen  money.Fen
	}{
		{"0.10", 10}, {"0.1", 10}, {"0.01", 1}, {"0", 0}, {"12", 1200}, {"1234.56", 123456},
		{"99999999.99", 9999999999}, {"007.50", 750}, {"999999999999999.99", 99999999999999999},
	} {
		got, err := yuanToFen(tc.yuan)
		if err != nil || got != tc.fen {
			t.Errorf("yuanToFen(%q) = %d, %v; want %d", tc.yuan, got, err, tc.fen)
		}
	}
	for _, bad := range []string{"", ".", "1.", ".5", "1.234", "-1.00", "+1.00", "1,000.00", "1e3", " 1.00", "1.0x", "１.00", "1000000000000000.00"} {
		if got, err := yuanToFen(bad); err == nil {
			t.Errorf("yuanToFen(%q) = %d, want an error", bad, got)
		}
	}
}

// FuzzParseTradeBill: any bytes give an error or lines that keep the parser's promises.
func FuzzParseTradeBill(f *testing.F) {
	f.Add([]byte(sampleBill))
	f.Add([]byte(billHeader))
	f.Add([]byte("交易时间,微信订单号,商户订单号,交易状态,订单金额\n`2024-03-01 09:15:02,`42,`1,`SUCCESS,`1.00\n"))
	f.Add([]byte("交易时间,商户订单号,交易状态,应结订单金额,商户退款单号,退款金额,微信订单号\n\"`2024-03-01 09:15:02\",`1,`REFUND,`0.00,`R1,`0.5,`\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := parseTradeBill(data)
		if err != nil {
			return
		}
		for _, line := range lines {
			if line.OutTradeNo == "" || line.Amount < 0 || line.At.IsZero() {
				t.Fatalf("line breaks the promises: %+v", line)
			}
			switch line.Kind {
			case payment.BillPayment:
				if line.OutRefundNo != "" {
					t.Fatalf("payment line with a refund number: %+v", line)
				}
			case payment.BillRefund:
				if line.OutRefundNo == "" {
					t.Fatalf("refund line without a refund number: %+v", line)
				}
			default:
				t.Fatalf("line of kind %q", line.Kind)
			}
		}
	})
}
