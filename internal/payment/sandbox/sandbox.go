// Package sandbox is a payment provider that runs inside Minimart, so the whole payment path
// (cashier, signed asynchronous notify, query, close, refund, bill) can be exercised with no
// merchant account. It behaves like a real provider: it keeps its own books in its own
// tables, signs every notify with its Ed25519 key and sends it over HTTP to the notify URL
// it was given, and retries a notify that was not acknowledged.
package sandbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the sandbox's books.
var Migrations = sqldb.Migrations{Module: "sandbox", FS: migrationFiles, Dir: "migrations"}

// Headers of a sandbox notify, in the manner of WeChat Pay's.
const (
	HeaderTimestamp = "Sandbox-Timestamp"
	HeaderNonce     = "Sandbox-Nonce"
	HeaderSignature = "Sandbox-Signature"
)

// notifyWindow is how old (or how far ahead) a notify's timestamp may be.
const notifyWindow = 5 * time.Minute

// notifyRetries is how long an unacknowledged notify is retried, as real providers do.
var notifyRetries = []time.Duration{0, time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}

// Provider is the sandbox payment provider.
type Provider struct {
	db        *sqldb.DB
	key       ed25519.PrivateKey
	publicURL func() string
	client    *http.Client
	log       *slog.Logger
	now       func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ payment.Provider = (*Provider)(nil)

// New returns the sandbox over db, signing with key; its cashier pages are under publicURL.
// Stop ends notify deliveries still being retried.
func New(db *sqldb.DB, key ed25519.PrivateKey, publicURL func() string, log *slog.Logger) *Provider {
	ctx, cancel := context.WithCancel(context.Background())
	return &Provider{db: db, key: key, publicURL: publicURL, client: &http.Client{Timeout: 10 * time.Second},
		log: log, now: time.Now, ctx: ctx, cancel: cancel}
}

// Stop stops retrying notifies and waits for deliveries in flight.
func (p *Provider) Stop() error {
	p.cancel()
	p.wg.Wait()
	return nil
}

// Name is "sandbox".
func (p *Provider) Name() string { return "sandbox" }

// Methods offers the sandbox cashier.
func (p *Provider) Methods() []payment.Method { return []payment.Method{payment.SandboxPay} }

// CashierURL is the cashier page of a trade.
func (p *Provider) CashierURL(outTradeNo string) string {
	return strings.TrimRight(p.publicURL(), "/") + "/sandbox/pay/" + outTradeNo
}

// Prepay opens the trade in the sandbox's books (again: same numbers, same trade) and
// returns its cashier page.
func (p *Provider) Prepay(ctx context.Context, req payment.PrepayRequest) (payment.Instructions, error) {
	now := sqldb.Time(p.now())
	_, err := p.db.Write().ExecContext(ctx, `INSERT INTO sandbox_trades (out_trade_no, transaction_id, amount, description,
		notify_url, status, expires_at, paid_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, NULL, ?)`,
		req.OutTradeNo, "SBX"+randomHex(12), req.Amount, clip.Bytes(req.Description, 255), req.NotifyURL, sqldb.Time(req.ExpiresAt), now)
	if err != nil && !sqldb.IsUniqueViolation(err) {
		return payment.Instructions{}, fmt.Errorf("%w: sandbox: %v", payment.ErrProvider, err)
	}
	if err != nil {
		t, err := p.trade(ctx, req.OutTradeNo)
		if err != nil {
			return payment.Instructions{}, err
		}
		if t.Amount != req.Amount {
			return payment.Instructions{}, payment.ErrProvider.Withf("sandbox: out_trade_no %s was opened with another amount", req.OutTradeNo)
		}
	}
	return payment.Instructions{PayURL: p.CashierURL(req.OutTradeNo)}, nil
}

// Trade is a trade in the sandbox's books.
type Trade struct {
	OutTradeNo    string     `json:"out_trade_no"`
	TransactionID string     `json:"transaction_id"`
	Amount        money.Fen  `json:"amount"`
	Description   string     `json:"description"`
	NotifyURL     string     `json:"-"`
	Status        string     `json:"status"`
	ExpiresAt     time.Time  `json:"expires_at"`
	PaidAt        *time.Time `json:"paid_at,omitempty"`
}

const tradeColumns = "out_trade_no, transaction_id, amount, description, notify_url, status, expires_at, paid_at"

func scanTrade(row interface{ Scan(...any) error }) (Trade, error) {
	var t Trade
	var paidAt sql.NullTime
	err := row.Scan(&t.OutTradeNo, &t.TransactionID, &t.Amount, &t.Description, &t.NotifyURL, &t.Status, &t.ExpiresAt, &paidAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Trade{}, payment.ErrTradeNotFound
	}
	if err != nil {
		return Trade{}, fmt.Errorf("%w: sandbox: %v", payment.ErrProvider, err)
	}
	t.ExpiresAt = t.ExpiresAt.UTC()
	if paidAt.Valid {
		at := paidAt.Time.UTC()
		t.PaidAt = &at
	}
	return t, nil
}

func (p *Provider) trade(ctx context.Context, outTradeNo string) (Trade, error) {
	return scanTrade(p.db.Read().QueryRowContext(ctx, "SELECT "+tradeColumns+" FROM sandbox_trades WHERE out_trade_no = ?", outTradeNo))
}

// Errors of the cashier.
var (
	ErrTradeClosed  = errs.New(errs.Conflict, "payment_closed", "this payment was closed; it can no longer be paid")
	ErrTradeExpired = errs.New(errs.Conflict, "payment_expired", "this payment's time to pay has run out")
)

// Pay is the buyer clicking Pay: the trade succeeds (once) and its signed notify is sent to
// the shop in the background, retried until acknowledged.
func (p *Provider) Pay(ctx context.Context, outTradeNo string) (Trade, error) {
	var t Trade
	first := false
	err := p.db.InTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		t, err = scanTrade(tx.QueryRowContext(ctx, "SELECT "+tradeColumns+" FROM sandbox_trades WHERE out_trade_no = ?"+tx.ForUpdate(), outTradeNo))
		if err != nil {
			return err
		}
		switch {
		case t.Status == "success":
			return nil
		case t.Status == "closed":
			return ErrTradeClosed
		case p.now().After(t.ExpiresAt):
			return ErrTradeExpired
		}
		now := sqldb.Time(p.now())
		if _, err := tx.ExecContext(ctx, "UPDATE sandbox_trades SET status = 'success', paid_at = ? WHERE out_trade_no = ?", now, outTradeNo); err != nil {
			return err
		}
		t.Status, t.PaidAt, first = "success", &now, true
		return nil
	})
	if err != nil {
		return Trade{}, err
	}
	if first {
		body, err := json.Marshal(notifyBody{Kind: payment.NoticeTrade, OutTradeNo: t.OutTradeNo, TransactionID: t.TransactionID,
			State: payment.TradeSuccess, Amount: t.Amount, PaidAt: t.PaidAt})
		if err != nil {
			return Trade{}, err
		}
		p.deliver(t.NotifyURL, body)
	}
	return t, nil
}

// notifyBody is the JSON a sandbox notify carries.
type notifyBody struct {
	Kind          payment.NoticeKind  `json:"kind"`
	OutTradeNo    string              `json:"out_trade_no"`
	TransactionID string              `json:"transaction_id"`
	State         payment.TradeState  `json:"state,omitempty"`
	Amount        money.Fen           `json:"amount"`
	PaidAt        *time.Time          `json:"paid_at,omitempty"`
	OutRefundNo   string              `json:"out_refund_no,omitempty"`
	RefundID      string              `json:"refund_id,omitempty"`
	RefundState   payment.RefundState `json:"refund_state,omitempty"`
}

// Sign returns the headers that make body a notify from the sandbox signed at "at".
func (p *Provider) Sign(body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := randomHex(16)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSignature, base64.StdEncoding.EncodeToString(ed25519.Sign(p.key, signedMessage(ts, nonce, body))))
	return h
}

func signedMessage(ts, nonce string, body []byte) []byte {
	msg := make([]byte, 0, len(ts)+len(nonce)+len(body)+3)
	msg = append(msg, ts...)
	msg = append(msg, '\n')
	msg = append(msg, nonce...)
	msg = append(msg, '\n')
	msg = append(msg, body...)
	return append(msg, '\n')
}

// deliver posts a signed notify in the background until it is acknowledged with a 2xx.
func (p *Provider) deliver(url string, body []byte) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for _, wait := range notifyRetries {
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(wait):
			}
			if p.post(url, body) {
				return
			}
		}
		p.log.Warn("sandbox notify not acknowledged; the shop's active query will find the result", slog.String("url", url))
	}()
}

func (p *Provider) post(url string, body []byte) bool {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header = p.Sign(body, p.now())
	resp, err := p.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// ParseNotify verifies a sandbox notify's signature and age and decodes it.
func (p *Provider) ParseNotify(_ context.Context, header http.Header, body []byte) (payment.Notice, error) {
	ts, nonce, sig := header.Get(HeaderTimestamp), header.Get(HeaderNonce), header.Get(HeaderSignature)
	if ts == "" || nonce == "" || sig == "" {
		return payment.Notice{}, rejected("missing signature headers")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return payment.Notice{}, rejected("bad timestamp")
	}
	if d := p.now().Sub(time.Unix(unix, 0)); d > notifyWindow || d < -notifyWindow {
		return payment.Notice{}, rejected("timestamp outside five minutes")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !ed25519.Verify(p.key.Public().(ed25519.PublicKey), signedMessage(ts, nonce, body), raw) {
		return payment.Notice{}, rejected("bad signature")
	}
	var n notifyBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return payment.Notice{}, rejected("body is not a sandbox notify")
	}
	out := payment.Notice{Kind: n.Kind, OutTradeNo: n.OutTradeNo, TransactionID: n.TransactionID, State: n.State,
		Amount: n.Amount, OutRefundNo: n.OutRefundNo, RefundID: n.RefundID, RefundState: n.RefundState}
	if n.PaidAt != nil {
		out.PaidAt = n.PaidAt.UTC()
	}
	switch {
	case n.OutTradeNo == "":
		return payment.Notice{}, rejected("out_trade_no missing")
	case n.Kind == payment.NoticeTrade && n.State != payment.TradeSuccess && n.State != payment.TradePending && n.State != payment.TradeClosed:
		return payment.Notice{}, rejected("unknown trade state")
	case n.Kind == payment.NoticeRefund && (n.OutRefundNo == "" || (n.RefundState != payment.RefundSucceeded && n.RefundState != payment.RefundFailed)):
		return payment.Notice{}, rejected("refund notify without a refund number or final state")
	case n.Kind != payment.NoticeTrade && n.Kind != payment.NoticeRefund:
		return payment.Notice{}, rejected("unknown kind")
	}
	return out, nil
}

func rejected(reason string) error {
	return fmt.Errorf("%w: sandbox: %s", payment.ErrNotifyRejected, reason)
}

// Acknowledge answers like WeChat Pay: 204 when accepted, a JSON FAIL otherwise.
func (p *Provider) Acknowledge(w http.ResponseWriter, err error) {
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status, message := http.StatusInternalServerError, "temporary failure; retry later"
	if errors.Is(err, payment.ErrNotifyRejected) {
		// Only the verdict is the provider's business; our internal errors stay in our log.
		status, message = http.StatusBadRequest, clip.Bytes(err.Error(), 200)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": "FAIL", "message": message})
}

// Query reads the trade from the sandbox's books.
func (p *Provider) Query(ctx context.Context, outTradeNo string) (payment.Notice, error) {
	t, err := p.trade(ctx, outTradeNo)
	if err != nil {
		return payment.Notice{}, err
	}
	n := payment.Notice{Kind: payment.NoticeTrade, OutTradeNo: t.OutTradeNo, TransactionID: t.TransactionID,
		State: payment.TradeState(t.Status), Amount: t.Amount}
	if t.PaidAt != nil {
		n.PaidAt = *t.PaidAt
	}
	return n, nil
}

// Close closes an unpaid trade.
func (p *Provider) Close(ctx context.Context, outTradeNo string) error {
	res, err := p.db.Write().ExecContext(ctx, "UPDATE sandbox_trades SET status = 'closed' WHERE out_trade_no = ? AND status = 'pending'", outTradeNo)
	if err != nil {
		return fmt.Errorf("%w: sandbox: %v", payment.ErrProvider, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	t, err := p.trade(ctx, outTradeNo)
	switch {
	case errors.Is(err, payment.ErrTradeNotFound):
		return nil
	case err != nil:
		return err
	case t.Status == "success":
		return payment.ErrTradePaid
	}
	return nil
}

// Refund records a refund (once per refund number, never more than was paid) and settles
// it in the background with a signed refund notify, as providers do.
func (p *Provider) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	var out payment.RefundResult
	created := false
	err := p.db.InTx(ctx, func(tx *sqldb.Tx) error {
		t, err := scanTrade(tx.QueryRowContext(ctx, "SELECT "+tradeColumns+" FROM sandbox_trades WHERE out_trade_no = ?"+tx.ForUpdate(), req.OutTradeNo))
		if err != nil {
			return err
		}
		if existing, err := refundByNo(ctx, tx, req.OutRefundNo); err == nil {
			out = existing
			return nil
		} else if !errors.Is(err, payment.ErrTradeNotFound) {
			return err
		}
		if t.Status != "success" {
			return payment.ErrProvider.Withf("sandbox: trade %s is not paid", req.OutTradeNo)
		}
		var refunded money.Fen
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(SUM(amount), 0) FROM sandbox_refunds WHERE out_trade_no = ?", req.OutTradeNo).Scan(&refunded); err != nil {
			return err
		}
		if req.Amount <= 0 || refunded+req.Amount > t.Amount {
			return payment.ErrProvider.Withf("sandbox: refund of %d fen exceeds what is left of %d", req.Amount, t.Amount-refunded)
		}
		out = payment.RefundResult{RefundID: "SBR" + randomHex(12), State: payment.RefundPending, Amount: req.Amount}
		_, err = tx.ExecContext(ctx, `INSERT INTO sandbox_refunds (out_refund_no, out_trade_no, refund_id, amount, notify_url,
			status, completed_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', NULL, ?)`,
			req.OutRefundNo, req.OutTradeNo, out.RefundID, req.Amount, req.NotifyURL, sqldb.Time(p.now()))
		created = err == nil
		return err
	})
	if err != nil {
		if errors.Is(err, payment.ErrProvider) || errors.Is(err, payment.ErrTradeNotFound) {
			return payment.RefundResult{}, err
		}
		return payment.RefundResult{}, fmt.Errorf("%w: sandbox: %v", payment.ErrProvider, err)
	}
	if created {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.settleRefund(req.OutTradeNo, req.OutRefundNo)
		}()
	}
	return out, nil
}

// settleRefund completes a pending refund and sends its notify.
func (p *Provider) settleRefund(outTradeNo, outRefundNo string) {
	ctx := p.ctx
	now := sqldb.Time(p.now())
	res, err := p.db.Write().ExecContext(ctx, "UPDATE sandbox_refunds SET status = 'succeeded', completed_at = ? WHERE out_refund_no = ? AND status = 'pending'", now, outRefundNo)
	if err != nil {
		p.log.Error("sandbox refund not settled", slog.String("out_refund_no", outRefundNo), slog.String("error", err.Error()))
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return
	}
	r, err := refundByNo(ctx, p.db.Read(), outRefundNo)
	if err != nil {
		return
	}
	var url string
	if err := p.db.Read().QueryRowContext(ctx, "SELECT notify_url FROM sandbox_refunds WHERE out_refund_no = ?", outRefundNo).Scan(&url); err != nil {
		return
	}
	body, err := json.Marshal(notifyBody{Kind: payment.NoticeRefund, OutTradeNo: outTradeNo, OutRefundNo: outRefundNo,
		RefundID: r.RefundID, RefundState: payment.RefundSucceeded, Amount: r.Amount})
	if err != nil {
		return
	}
	p.deliver(url, body)
}

func refundByNo(ctx context.Context, q sqldb.Querier, outRefundNo string) (payment.RefundResult, error) {
	var r payment.RefundResult
	var status string
	err := q.QueryRowContext(ctx, "SELECT refund_id, amount, status FROM sandbox_refunds WHERE out_refund_no = ?", outRefundNo).
		Scan(&r.RefundID, &r.Amount, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return payment.RefundResult{}, payment.ErrTradeNotFound
	}
	if err != nil {
		return payment.RefundResult{}, fmt.Errorf("%w: sandbox: %v", payment.ErrProvider, err)
	}
	r.State = payment.RefundState(status)
	return r, nil
}

// QueryRefund reads a refund from the sandbox's books; one it never received is
// ErrTradeNotFound.
func (p *Provider) QueryRefund(ctx context.Context, _ string, outRefundNo string) (payment.RefundResult, error) {
	return refundByNo(ctx, p.db.Read(), outRefundNo)
}

// Bill lists the day's successful trades and refunds from the sandbox's books.
func (p *Provider) Bill(ctx context.Context, day time.Time) ([]payment.BillLine, error) {
	from, to := sqldb.Time(day), sqldb.Time(day.AddDate(0, 0, 1))
	var out []payment.BillLine
	rows, err := p.db.Read().QueryContext(ctx, `SELECT out_trade_no, transaction_id, amount, paid_at FROM sandbox_trades
		WHERE status = 'success' AND paid_at >= ? AND paid_at < ? ORDER BY paid_at`, from, to)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		l := payment.BillLine{Kind: payment.BillPayment}
		if err := rows.Scan(&l.OutTradeNo, &l.TransactionID, &l.Amount, &l.At); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = p.db.Read().QueryContext(ctx, `SELECT r.out_trade_no, t.transaction_id, r.out_refund_no, r.amount, r.completed_at
		FROM sandbox_refunds r JOIN sandbox_trades t ON t.out_trade_no = r.out_trade_no
		WHERE r.status = 'succeeded' AND r.completed_at >= ? AND r.completed_at < ? ORDER BY r.completed_at`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		l := payment.BillLine{Kind: payment.BillRefund}
		if err := rows.Scan(&l.OutTradeNo, &l.TransactionID, &l.OutRefundNo, &l.Amount, &l.At); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
