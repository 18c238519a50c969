// Package sandbox is a payment provider that runs inside Minimart, so the whole payment path
// (cashier, signed asynchronous notify, query, close, refund, bill) can be exercised with no
// merchant account. It behaves like a real provider: it keeps its own books in its own
// tables, signs every notify with its Ed25519 key and sends it over HTTP to the notify URL
// it was given, and retries a notify that was not acknowledged — from a table written with
// the payment, so a crash right after the cashier said "Paid" loses nothing. Its cashier pays
// only through the pay link the payment API returned (signed, expiring), never by order
// number alone.
package sandbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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

// notifyRetries is the wait before each further try of an unacknowledged notify, as real
// providers retry; after the last the notify is tried every maxNotifyWait until
// notifyGiveUp has passed since the payment.
var notifyRetries = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}

const (
	maxNotifyWait = 30 * time.Minute
	notifyGiveUp  = 24 * time.Hour
	// notifyLease bounds one delivery try; a claim is also freed as soon as its instance dies.
	notifyLease = 30 * time.Second
	// notifyBatch is how many due notifies one round claims.
	notifyBatch = 20
	// linkGrace keeps a pay link working this long after its trade expires, so the cashier
	// can still say the payment expired rather than refuse the link.
	linkGrace = time.Hour
)

// Provider is the sandbox payment provider.
type Provider struct {
	db        *sqldb.DB
	key       ed25519.PrivateKey
	linkKey   []byte
	publicURL func() string
	client    *http.Client
	log       *slog.Logger
	now       func() time.Time
	// wake tells the notify sender that a notify was just written.
	wake chan struct{}
}

var _ payment.Provider = (*Provider)(nil)

// New returns the sandbox over db, signing with key; its cashier pages are under publicURL.
// RunNotifier delivers its notifies.
func New(db *sqldb.DB, key ed25519.PrivateKey, publicURL func() string, log *slog.Logger) *Provider {
	mac := sha256.Sum256(append([]byte("minimart sandbox pay link\x00"), key.Seed()...))
	return &Provider{db: db, key: key, linkKey: mac[:], publicURL: publicURL, client: &http.Client{Timeout: 10 * time.Second},
		log: log, now: time.Now, wake: make(chan struct{}, 1)}
}

// Name is "sandbox".
func (p *Provider) Name() string { return "sandbox" }

// Methods offers the sandbox cashier.
func (p *Provider) Methods() []payment.Method { return []payment.Method{payment.SandboxPay} }

// CashierURL is the cashier page of a trade: its pay link, working until the trade expires
// (and linkGrace more).
func (p *Provider) CashierURL(outTradeNo string, expiresAt time.Time) string {
	return strings.TrimRight(p.publicURL(), "/") + "/sandbox/pay/" + outTradeNo + "/" + p.linkToken(outTradeNo, expiresAt.Add(linkGrace))
}

// ErrPayLink is the cashier's answer to a link the payment API did not hand out, or one
// whose time is up.
var ErrPayLink = errs.New(errs.Forbidden, "pay_link_invalid",
	"this pay link is not valid or has expired; open the pay_url the payment API returned")

// linkToken is "<unix expiry>.<HMAC of the trade and the expiry>": only this shop can make
// one, so an order number alone pays nothing.
func (p *Provider) linkToken(outTradeNo string, until time.Time) string {
	exp := strconv.FormatInt(until.Unix(), 10)
	return exp + "." + base64.RawURLEncoding.EncodeToString(p.linkMAC(outTradeNo, exp))
}

func (p *Provider) linkMAC(outTradeNo, exp string) []byte {
	m := hmac.New(sha256.New, p.linkKey)
	m.Write([]byte(outTradeNo + "\n" + exp))
	return m.Sum(nil)
}

// checkLink accepts a token linkToken made for this trade that has not run out.
func (p *Provider) checkLink(outTradeNo, token string) error {
	exp, sig, ok := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(raw, p.linkMAC(outTradeNo, exp)) {
		return ErrPayLink
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || p.now().After(time.Unix(unix, 0)) {
		return ErrPayLink
	}
	return nil
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
	expiresAt := req.ExpiresAt
	if err != nil {
		t, err := p.trade(ctx, req.OutTradeNo)
		if err != nil {
			return payment.Instructions{}, err
		}
		if t.Amount != req.Amount {
			return payment.Instructions{}, payment.ErrProvider.Withf("sandbox: out_trade_no %s was opened with another amount", req.OutTradeNo)
		}
		expiresAt = t.ExpiresAt
	}
	return payment.Instructions{PayURL: p.CashierURL(req.OutTradeNo, expiresAt)}, nil
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

// Pay is the buyer clicking Pay: the trade succeeds (once) and its signed notify is written
// in the same transaction, for RunNotifier to deliver until acknowledged.
func (p *Provider) Pay(ctx context.Context, outTradeNo string) (Trade, error) {
	var t Trade
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
		t.Status, t.PaidAt = "success", &now
		body, err := json.Marshal(notifyBody{Kind: payment.NoticeTrade, OutTradeNo: t.OutTradeNo, TransactionID: t.TransactionID,
			State: payment.TradeSuccess, Amount: t.Amount, PaidAt: t.PaidAt})
		if err != nil {
			return err
		}
		return p.owe(ctx, tx, "trade:"+t.OutTradeNo, t.NotifyURL, body)
	})
	if err != nil {
		return Trade{}, err
	}
	return t, nil
}

// owe records a notify to deliver and wakes the sender once the transaction commits.
func (p *Provider) owe(ctx context.Context, tx *sqldb.Tx, id, url string, body []byte) error {
	now := sqldb.Time(p.now())
	if _, err := tx.ExecContext(ctx, "INSERT INTO sandbox_notifies (id, url, body, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 0, ?, ?)",
		id, url, string(body), now, now); err != nil {
		return err
	}
	tx.AfterCommit(func() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	})
	return nil
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

// Claimant is the process's liveness registration (liveness.Instance): the sender's claims
// name it, and notifies claimed by an instance that died are taken over at once.
type Claimant interface {
	ID() string
	Dead(column string) (cond string, arg any)
}

// RunNotifier delivers the notifies the sandbox owes until ctx ends: each is posted, signed,
// until the shop acknowledges it with a 2xx, retried as providers retry. Several instances
// may run it: a claim naming c keeps the others off a notify while it is being sent, and
// claims of an instance that died are taken over at once.
func (p *Provider) RunNotifier(ctx context.Context, c payment.Claimant) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		n, err := p.sendDue(ctx, c)
		if err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "sandbox notifies not sent; trying again", slog.String("error", err.Error()))
		}
		if n == notifyBatch {
			continue // more are due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-t.C:
		}
	}
}

type owed struct {
	id, url, body string
	attempts      int
	createdAt     time.Time
}

// sendDue claims due notifies, posts each and records the outcome; it returns how many it
// claimed.
func (p *Provider) sendDue(ctx context.Context, c payment.Claimant) (int, error) {
	var due []owed
	now := sqldb.Time(p.now())
	dead, deadArg := c.Dead("claimed_by")
	err := p.db.InTx(ctx, func(tx *sqldb.Tx) error {
		due = due[:0]
		// This instance's own claims are free as well: one sender runs per instance, so any it
		// holds belong to a round that failed before recording its outcome.
		rows, err := tx.QueryContext(ctx, "SELECT id, url, body, attempts, created_at FROM sandbox_notifies WHERE next_attempt_at <= ?"+
			" AND (claimed_until IS NULL OR claimed_until <= ? OR "+dead+" OR claimed_by = ?) ORDER BY next_attempt_at, id LIMIT ?"+p.db.SkipLocked(),
			now, now, deadArg, c.ID(), notifyBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var o owed
			if err := rows.Scan(&o.id, &o.url, &o.body, &o.attempts, &o.createdAt); err != nil {
				rows.Close()
				return err
			}
			due = append(due, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(due) == 0 {
			return err
		}
		list := make([]string, len(due))
		for i, o := range due {
			list[i] = o.id
		}
		in, args := sqldb.InList(list)
		_, err = tx.ExecContext(ctx, "UPDATE sandbox_notifies SET claimed_by = ?, claimed_until = ? WHERE id IN ("+in+")",
			append([]any{c.ID(), now.Add(notifyLease)}, args...)...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("claim sandbox notifies: %w", err)
	}
	var errList []error
	for _, o := range due {
		if err := p.send(ctx, o); err != nil {
			errList = append(errList, err)
		}
	}
	return len(due), errors.Join(errList...)
}

// send delivers one notify (settling its refund first, as a provider settles before it
// tells) and records the outcome.
func (p *Provider) send(ctx context.Context, o owed) error {
	if no, ok := strings.CutPrefix(o.id, "refund:"); ok {
		if _, err := p.db.Write().ExecContext(ctx, "UPDATE sandbox_refunds SET status = 'succeeded', completed_at = ? WHERE out_refund_no = ? AND status = 'pending'",
			sqldb.Time(p.now()), no); err != nil {
			return fmt.Errorf("settle sandbox refund %s: %w", no, err)
		}
	}
	if p.post(ctx, o.url, []byte(o.body)) {
		_, err := p.db.Write().ExecContext(ctx, "DELETE FROM sandbox_notifies WHERE id = ?", o.id)
		return err
	}
	if p.now().Sub(o.createdAt) > notifyGiveUp {
		p.log.WarnContext(ctx, "sandbox notify never acknowledged; giving up (the shop's active query finds the result)",
			slog.String("notify", o.id), slog.String("url", o.url), slog.Int("attempts", o.attempts+1))
		_, err := p.db.Write().ExecContext(ctx, "DELETE FROM sandbox_notifies WHERE id = ?", o.id)
		return err
	}
	wait := maxNotifyWait
	if o.attempts < len(notifyRetries) {
		wait = notifyRetries[o.attempts]
	}
	_, err := p.db.Write().ExecContext(ctx, "UPDATE sandbox_notifies SET attempts = attempts + 1, next_attempt_at = ?,"+
		" claimed_by = NULL, claimed_until = NULL WHERE id = ?", sqldb.Time(p.now().Add(wait)), o.id)
	return err
}

func (p *Provider) post(ctx context.Context, url string, body []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, notifyLease/2)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_refunds (out_refund_no, out_trade_no, refund_id, amount, notify_url,
			status, completed_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', NULL, ?)`,
			req.OutRefundNo, req.OutTradeNo, out.RefundID, req.Amount, req.NotifyURL, sqldb.Time(p.now())); err != nil {
			return err
		}
		// Settled when its notify is sent (see send), as a provider settles, then tells.
		body, err := json.Marshal(notifyBody{Kind: payment.NoticeRefund, OutTradeNo: req.OutTradeNo, OutRefundNo: req.OutRefundNo,
			RefundID: out.RefundID, RefundState: payment.RefundSucceeded, Amount: req.Amount})
		if err != nil {
			return err
		}
		return p.owe(ctx, tx, "refund:"+req.OutRefundNo, req.NotifyURL, body)
	})
	if err != nil {
		if errors.Is(err, payment.ErrProvider) || errors.Is(err, payment.ErrTradeNotFound) {
			return payment.RefundResult{}, err
		}
		return payment.RefundResult{}, fmt.Errorf("%w: sandbox: %v", payment.ErrProvider, err)
	}
	return out, nil
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
