package alipaytest

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/minimart/minimart/internal/platform/money"
)

// billHeader is the detail file's header row, as Alipay writes it.
var billHeader = []string{
	"支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
	"操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）",
	"支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）",
	"退款批次号/请求号", "服务费（元）", "分润（元）", "备注",
}

// billEntry is one payment or refund in a day's bill.
type billEntry struct {
	tr          *trade
	refund      bool
	outRefundNo string
	amount      money.Fen
	at          time.Time
}

// billURL answers alipay.data.dataservice.bill.downloadurl.query with a one-off download URL
// of the day's bill, built from the trades the gateway holds; s.mu is held.
func (s *Server) billURL(req request) answer {
	if req.BillType != "trade" {
		return businessFailure("isp.bill_type_not_support", "账单类型不支持")
	}
	day, err := time.ParseInLocation("2006-01-02", req.BillDate, money.ChinaTime())
	if err != nil {
		return businessFailure("isp.bill_date_error", "账单日期格式不正确")
	}
	entries := s.billEntriesLocked(day)
	if len(entries) == 0 {
		return businessFailure("isp.bill_not_exist", "账单不存在")
	}
	archive, err := s.billArchive(day, entries)
	if err != nil {
		return businessFailure("isp.unknown-error", err.Error())
	}
	token := randomHex(16)
	s.bills[token] = archive
	return success(answer{"bill_download_url": s.server.URL + "/bill/" + token + "?fileType=csv.zip&bizDates=" + day.Format("20060102")})
}

func (s *Server) serveBill(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	archive, ok := s.bills[r.PathValue("token")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/oct-stream") // sic, as Alipay sends it
	_, _ = w.Write(archive)
}

// billEntriesLocked is the day's payments and refunds, in time order; s.mu is held.
func (s *Server) billEntriesLocked(day time.Time) []billEntry {
	sameDay := func(t time.Time) bool {
		return !t.IsZero() && t.In(money.ChinaTime()).Format("2006-01-02") == day.Format("2006-01-02")
	}
	var entries []billEntry
	for _, tr := range s.trades {
		if sameDay(tr.paidAt) {
			entries = append(entries, billEntry{tr: tr, amount: tr.amount, at: tr.paidAt})
		}
		for _, r := range tr.refunds {
			if sameDay(r.At) {
				entries = append(entries, billEntry{tr: tr, refund: true, outRefundNo: r.OutRefundNo, amount: r.Amount, at: r.At})
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].at.Equal(entries[j].at) {
			return entries[i].at.Before(entries[j].at)
		}
		if entries[i].tr.tradeNo != entries[j].tr.tradeNo {
			return entries[i].tr.tradeNo < entries[j].tr.tradeNo
		}
		return entries[i].outRefundNo < entries[j].outRefundNo
	})
	return entries
}

// billArchive builds the zip Alipay serves: a detail file and a summary file, GBK-encoded,
// with GBK file names not flagged as UTF-8, '#' framing lines and tab-padded numbers.
func (s *Server) billArchive(day time.Time, entries []billEntry) ([]byte, error) {
	gbk := encoding.ReplaceUnsupported(simplifiedchinese.GBK.NewEncoder())
	prefix := s.PartnerID + "0156_" + day.Format("20060102")
	detail, err := s.billDetail(day, entries)
	if err != nil {
		return nil, err
	}
	files := []struct{ name, content string }{
		{prefix + "_业务明细.csv", detail},
		{prefix + "_业务明细(汇总).csv", s.billSummary(day, entries)},
	}
	var archive bytes.Buffer
	zw := zip.NewWriter(&archive)
	for _, f := range files {
		name, err := gbk.String(f.name)
		if err != nil {
			return nil, err
		}
		content, err := gbk.String(f.content)
		if err != nil {
			return nil, err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, NonUTF8: true})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(content)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return archive.Bytes(), nil
}

func (s *Server) billPreamble(b *strings.Builder, title string, day time.Time) {
	fmt.Fprintf(b, "#%s\r\n", title)
	fmt.Fprintf(b, "#账号：[%s0156]\r\n", s.PartnerID)
	fmt.Fprintf(b, "#起始日期：[%s 00:00:00]   终止日期：[%s 00:00:00]\r\n",
		day.Format("2006年01月02日"), day.AddDate(0, 0, 1).Format("2006年01月02日"))
}

func (s *Server) billDetail(day time.Time, entries []billEntry) (string, error) {
	var b strings.Builder
	s.billPreamble(&b, "支付宝业务明细查询", day)
	b.WriteString("#-----------------------------------------业务明细列表----------------------------------------\r\n")
	table := csv.NewWriter(&b)
	table.UseCRLF = true
	if err := table.Write(billHeader); err != nil {
		return "", err
	}
	var paid, refunded money.Fen
	payments, refunds := 0, 0
	for _, e := range entries {
		kind, amount, outRefundNo := "交易", e.amount, ""
		if e.refund {
			kind, amount, outRefundNo = "退款", -e.amount, e.outRefundNo+"\t"
			refunds++
			refunded += e.amount
		} else {
			payments++
			paid += e.amount
		}
		row := []string{
			e.tr.tradeNo + "\t", e.tr.outTradeNo + "\t", kind, e.tr.subject,
			e.tr.createdAt.Format(timeLayout), e.at.Format(timeLayout), "", "", "", "", "buy***@example.com",
			formatYuan(amount), formatYuan(amount), "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00",
			outRefundNo, "0.00", "0.00", "",
		}
		if err := table.Write(row); err != nil {
			return "", err
		}
	}
	table.Flush()
	if err := table.Error(); err != nil {
		return "", err
	}
	b.WriteString("#-----------------------------------------业务明细列表结束------------------------------------\r\n")
	fmt.Fprintf(&b, "#交易合计：%d笔，商家实收共%s元，商家优惠共0.00元\r\n", payments, formatYuan(paid))
	fmt.Fprintf(&b, "#退款合计：%d笔，商家实收退款共%s元，商家优惠退款共0.00元\r\n", refunds, formatYuan(-refunded))
	fmt.Fprintf(&b, "#导出时间：[%s]\r\n", s.nowLocked().Format("2006年01月02日 15:04:05"))
	return b.String(), nil
}

func (s *Server) billSummary(day time.Time, entries []billEntry) string {
	var paid, refunded money.Fen
	payments, refunds := 0, 0
	for _, e := range entries {
		if e.refund {
			refunds++
			refunded += e.amount
		} else {
			payments++
			paid += e.amount
		}
	}
	var b strings.Builder
	s.billPreamble(&b, "支付宝业务汇总查询", day)
	b.WriteString("门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\r\n")
	fmt.Fprintf(&b, "合计,,%d,%d,%s,%s,0.00,0.00,0.00,0.00,0.00,%s\r\n",
		payments, refunds, formatYuan(paid-refunded), formatYuan(paid-refunded), formatYuan(paid-refunded))
	fmt.Fprintf(&b, "#导出时间：[%s]\r\n", s.nowLocked().Format("2006年01月02日 15:04:05"))
	return b.String()
}
