package alipay

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/money"
)

const billHeaderRow = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"

// sampleBill is a detail file laid out as Alipay lays it out: '#' framing, tab-padded numbers,
// a refund written negative, a quoted subject holding a comma, and a business type this
// adapter leaves out.
var sampleBill = strings.Join([]string{
	"#支付宝业务明细查询",
	"#账号：[20881234567890120156]",
	"#起始日期：[2025年03月14日 00:00:00]   终止日期：[2025年03月15日 00:00:00]",
	"#-----------------------------------------业务明细列表----------------------------------------",
	billHeaderRow,
	"2025031422001400000000000001\t,202503140001\t,交易,袜子,2025-03-14 09:00:00,2025-03-14 09:00:05,,,,,buy***@example.com,0.10,0.10,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,",
	"2025031422001400000000000002\t,202503140002\t,交易,\"大衣, 黑色\",2025-03-14 10:00:00,2025-03-14 10:00:07,,,,,buy***@example.com,1234.56,1234.56,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-7.41,0.00,",
	"2025031422001400000000000002\t,202503140002\t,退款,\"大衣, 黑色\",2025-03-14 10:00:00,2025-03-14 11:30:00,,,,,buy***@example.com,-0.56,-0.56,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,R-1\t,0.00,0.00,",
	"2025031422001400000000000003\t,202503140003\t,冻结,袜子,2025-03-14 12:00:00,2025-03-14 12:00:00,,,,,buy***@example.com,5.00,5.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,",
	"#-----------------------------------------业务明细列表结束------------------------------------",
	"#交易合计：2笔，商家实收共1234.66元，商家优惠共0.00元",
	"#导出时间：[2025年03月15日 05:03:21]",
}, "\r\n") + "\r\n"

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	encoded, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(encoded)
}

func chinaDate(hour, minute, second int) time.Time {
	return time.Date(2025, 3, 14, hour, minute, second, 0, money.ChinaTime())
}

func TestParseBillDetail(t *testing.T) {
	lines, err := parseBillDetail(bytes.NewReader(gbk(t, sampleBill)))
	if err != nil {
		t.Fatalf("parseBillDetail: %v", err)
	}
	want := []payment.BillLine{
		{Kind: payment.BillPayment, OutTradeNo: "202503140001", TransactionID: "2025031422001400000000000001", Amount: 10, At: chinaDate(9, 0, 5)},
		{Kind: payment.BillPayment, OutTradeNo: "202503140002", TransactionID: "2025031422001400000000000002", Amount: 123456, At: chinaDate(10, 0, 7)},
		{Kind: payment.BillRefund, OutTradeNo: "202503140002", TransactionID: "2025031422001400000000000002", OutRefundNo: "R-1", Amount: 56, At: chinaDate(11, 30, 0)},
	}
	if len(lines) != len(want) {
		t.Fatalf("lines = %+v", lines)
	}
	for i := range want {
		got := lines[i]
		if !got.At.Equal(want[i].At) {
			t.Errorf("line %d At = %s, want %s", i, got.At, want[i].At)
		}
		got.At = want[i].At
		if got != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got, want[i])
		}
	}
}

func TestParseBillDetailRefusesWhatItCannotReadExactly(t *testing.T) {
	row := "2025031422001400000000000001,202503140001,交易,袜子,2025-03-14 09:00:00,2025-03-14 09:00:05,,,,,x,%s,0.10,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,"
	tests := []struct {
		name string
		bill string
		want string
	}{
		{"amount with three decimals", billHeaderRow + "\n" + strings.Replace(row, "%s", "0.105", 1), "订单金额"},
		{"negative payment", billHeaderRow + "\n" + strings.Replace(row, "%s", "-0.10", 1), "negative"},
		{"unquoted comma shifts columns", billHeaderRow + "\n" + strings.Replace(strings.Replace(row, "%s", "0.10", 1), "袜子", "大衣, 黑色", 1), "cells"},
		{"bad time", billHeaderRow + "\n" + strings.Replace(strings.Replace(row, "%s", "0.10", 1), "2025-03-14 09:00:05", "2025/03/14", 1), "完成时间"},
		{"header without amount", strings.Replace(billHeaderRow, "订单金额（元）", "金额", 1) + "\n", "订单金额"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBillDetail(bytes.NewReader(gbk(t, tt.bill)))
			if err == nil || errors.Is(err, errNotBillDetail) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one about %q", err, tt.want)
			}
		})
	}

	summary := "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数\r\n合计,,2\r\n"
	if _, err := parseBillDetail(bytes.NewReader(gbk(t, summary))); !errors.Is(err, errNotBillDetail) {
		t.Errorf("summary file: err = %v, want errNotBillDetail", err)
	}
}

func TestReadBillArchive(t *testing.T) {
	archive := func(files ...string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i, content := range files {
			w, err := zw.Create(string(rune('a'+i)) + ".csv")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(gbk(t, content)); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	summary := "#汇总\r\n门店编号,门店名称\r\n"

	lines, err := readBillArchive(archive(summary, sampleBill))
	if err != nil || len(lines) != 3 {
		t.Errorf("readBillArchive = %d lines, %v", len(lines), err)
	}
	if _, err := readBillArchive(archive(summary)); err == nil || !strings.Contains(err.Error(), "no detail") {
		t.Errorf("archive without detail: err = %v", err)
	}
	if _, err := readBillArchive([]byte("PK not really")); err == nil {
		t.Error("readBillArchive accepted a non-zip")
	}
}

// FuzzParseBillDetail feeds the bill parser mangled GBK text: it never panics, and every line
// it returns is whole.
func FuzzParseBillDetail(f *testing.F) {
	f.Add(gbk(f, sampleBill))
	f.Add(gbk(f, billHeaderRow+"\n"))
	f.Add([]byte("#only a comment\n"))
	f.Add([]byte{0xff, 0xfe, ',', '"', '\n'})
	f.Fuzz(func(t *testing.T, bill []byte) {
		lines, err := parseBillDetail(bytes.NewReader(bill))
		if err != nil {
			return
		}
		for _, line := range lines {
			if (line.Kind != payment.BillPayment && line.Kind != payment.BillRefund) ||
				line.Amount < 0 || line.TransactionID == "" || line.At.IsZero() {
				t.Fatalf("parsed line %+v", line)
			}
		}
	})
}
