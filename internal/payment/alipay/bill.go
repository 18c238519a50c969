package alipay

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	sdk "github.com/smartwalle/alipay/v3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/money"
)

// Bounds on what a bill download may cost. A busy shop's daily detail file is tens of
// megabytes; the bounds are there to stop a broken or hostile archive, not a real bill.
const (
	maxBillZipBytes  = 256 << 20
	maxBillFileBytes = 2 << 30
)

// The detail file's columns this adapter reads. Alipay says the order of columns may change,
// so they are found by name.
const (
	columnTradeNo     = "支付宝交易号"
	columnOutTradeNo  = "商户订单号"
	columnType        = "业务类型"
	columnFinishedAt  = "完成时间"
	columnOrderAmount = "订单金额（元）"
	columnOutRefundNo = "退款批次号/请求号"

	typePayment = "交易"
	typeRefund  = "退款"
)

// errNotBillDetail marks a file of the bill archive that is not the detail list (the archive
// also holds a summary file).
var errNotBillDetail = errors.New("not the bill's detail file")

// Bill downloads the trade bill of one day (Beijing time) and returns its payments and
// refunds. A line's Amount is the 订单金额 column: the trade's total for a payment, the
// refunded amount for a refund (Alipay writes those negative; Amount is positive). Lines of
// other business types are left out, as payment.BillLine has no kind for them.
//
// Alipay has no bill for a day whose bill is not generated yet (around 09:00 the next day)
// and, for some merchants, for a day without trades; both are an error wrapping
// payment.ErrProvider whose text says isp.bill_not_exist.
func (p *Provider) Bill(ctx context.Context, day time.Time) ([]payment.BillLine, error) {
	date := day.In(money.ChinaTime()).Format("2006-01-02")
	rsp, err := p.client.BillDownloadURLQuery(ctx, sdk.BillDownloadURLQuery{BillType: "trade", BillDate: date})
	var answer sdk.Error
	if rsp != nil {
		answer = rsp.Error
	}
	if failure := checkAnswer(apiBillURL, err, answer); failure != nil {
		return nil, failure
	}
	if rsp.BillDownloadURL == "" {
		return nil, &gatewayError{api: apiBillURL, cause: errors.New("the answer has no bill_download_url")}
	}
	archive, err := p.download(ctx, rsp.BillDownloadURL)
	if err != nil {
		return nil, &gatewayError{api: apiBillURL, cause: fmt.Errorf("download the %s bill: %w", date, err)}
	}
	lines, err := readBillArchive(archive)
	if err != nil {
		return nil, &gatewayError{api: apiBillURL, cause: fmt.Errorf("read the %s bill: %w", date, err)}
	}
	return lines, nil
}

// download fetches the bill archive. The URL is one Alipay signed over in a verified answer;
// it carries its own short-lived token and needs no signature.
func (p *Provider) download(ctx context.Context, billURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, billURL, nil)
	if err != nil {
		return nil, err
	}
	rsp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", rsp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(rsp.Body, maxBillZipBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBillZipBytes {
		return nil, fmt.Errorf("the archive is over %d bytes", maxBillZipBytes)
	}
	return data, nil
}

// readBillArchive reads Alipay's bill zip: GBK-encoded CSV files, a detail list and a
// summary. File names are GBK too and not flagged as such, so files are told apart by their
// header row, not their names.
func readBillArchive(archive []byte) ([]payment.BillLine, error) {
	reader, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	var lines []payment.BillLine
	foundDetail := false
	for _, file := range reader.File {
		fileLines, err := readBillFile(file)
		if errors.Is(err, errNotBillDetail) {
			continue
		}
		if err != nil {
			return nil, err
		}
		foundDetail = true
		lines = append(lines, fileLines...)
	}
	if !foundDetail {
		return nil, errors.New("the archive has no detail file")
	}
	return lines, nil
}

func readBillFile(file *zip.File) ([]payment.BillLine, error) {
	content, err := file.Open()
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", file.Name, err)
	}
	defer content.Close()
	limited := &limitedReader{r: content, left: maxBillFileBytes}
	lines, err := parseBillDetail(limited)
	if limited.exceeded {
		return nil, fmt.Errorf("a file in the archive is over %d bytes", int64(maxBillFileBytes))
	}
	return lines, err
}

// limitedReader is io.LimitReader that remembers hitting the limit, so a truncated file is
// an error instead of a short bill.
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitedReader) Read(b []byte) (int, error) {
	if l.left <= 0 {
		l.exceeded = true
		return 0, io.EOF
	}
	if int64(len(b)) > l.left {
		b = b[:l.left]
	}
	n, err := l.r.Read(b)
	l.left -= int64(n)
	return n, err
}

// parseBillDetail parses one GBK-encoded file of the bill. Alipay frames the table with
// lines starting with '#' and pads cells with tabs (so spreadsheets keep long numbers as
// text). A file whose first row is not the detail header is errNotBillDetail. A row whose
// cell count differs from the header's is an error rather than a guess, since a shifted
// column would misread an amount.
func parseBillDetail(gbk io.Reader) ([]payment.BillLine, error) {
	// GB18030 decodes everything GBK does and more; Alipay calls its encoding GBK.
	rows := csv.NewReader(simplifiedchinese.GB18030.NewDecoder().Reader(gbk))
	rows.Comment = '#'
	rows.FieldsPerRecord = -1
	rows.LazyQuotes = true

	header, err := rows.Read()
	if errors.Is(err, io.EOF) {
		return nil, errNotBillDetail
	}
	if err != nil {
		return nil, fmt.Errorf("bill header: %w", err)
	}
	column := make(map[string]int, len(header))
	for i, name := range header {
		column[strings.TrimSpace(name)] = i
	}
	if _, ok := column[columnTradeNo]; !ok {
		return nil, errNotBillDetail
	}
	for _, name := range []string{columnOutTradeNo, columnType, columnFinishedAt, columnOrderAmount, columnOutRefundNo} {
		if _, ok := column[name]; !ok {
			return nil, fmt.Errorf("the bill's detail header has no %s column", name)
		}
	}

	var lines []payment.BillLine
	for {
		row, err := rows.Read()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bill row: %w", err)
		}
		rowNumber, _ := rows.FieldPos(0)
		if len(row) != len(header) {
			return nil, fmt.Errorf("bill line %d has %d cells; the header has %d", rowNumber, len(row), len(header))
		}
		cell := func(name string) string { return strings.TrimSpace(row[column[name]]) }
		line, keep, err := billLine(cell)
		if err != nil {
			return nil, fmt.Errorf("bill line %d: %w", rowNumber, err)
		}
		if keep {
			lines = append(lines, line)
		}
	}
}

// billLine reads one detail row; keep is false for business types other than payment and
// refund.
func billLine(cell func(name string) string) (line payment.BillLine, keep bool, err error) {
	switch cell(columnType) {
	case typePayment:
		line.Kind = payment.BillPayment
	case typeRefund:
		line.Kind = payment.BillRefund
		line.OutRefundNo = cell(columnOutRefundNo)
	default:
		return payment.BillLine{}, false, nil
	}
	line.TransactionID = cell(columnTradeNo)
	line.OutTradeNo = cell(columnOutTradeNo)
	if line.TransactionID == "" {
		return payment.BillLine{}, false, fmt.Errorf("%s is empty", columnTradeNo)
	}
	amount, err := parseYuan(cell(columnOrderAmount))
	if err != nil {
		return payment.BillLine{}, false, fmt.Errorf("%s: %w", columnOrderAmount, err)
	}
	switch {
	case line.Kind == payment.BillRefund && amount < 0:
		amount = -amount
	case amount < 0:
		return payment.BillLine{}, false, fmt.Errorf("a payment of %s yuan is negative", cell(columnOrderAmount))
	}
	line.Amount = amount
	if line.At, err = parseChinaTime(cell(columnFinishedAt)); err != nil {
		return payment.BillLine{}, false, fmt.Errorf("%s: %w", columnFinishedAt, err)
	}
	return line, true, nil
}
