package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/payment/paymentevents"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/money"
)

// Config holds the payment rules operators tune.
type Config struct {
	// PublicURL is the shop's address as providers and browsers reach it; notify URLs and
	// the sandbox cashier are under it. It is a function because an embedded shop on a
	// random port knows it only once it listens.
	PublicURL func() string
	// QueryAfter is how long a payment may stay pending before the provider is asked about
	// it; later queries back off up to QueryMaxInterval.
	QueryAfter       time.Duration
	QueryMaxInterval time.Duration
	// ReturnURL is where Alipay's web cashier sends the browser after paying ("" = none).
	ReturnURL string
}

// settledCacheSize bounds the memory of succeeded payments kept for duplicate notifies.
const settledCacheSize = 100_000

// closeGrace is how long past its deadline a payment is still asked about before it is
// closed as unpaid, so that a buyer paying in the last second is not closed under them.
const closeGrace = 5 * time.Minute

// Service is the payment use cases.
type Service struct {
	store     Storer
	providers map[string]Provider
	byMethod  map[Method]Provider
	orders    Orders
	buyers    Buyers
	ids       *ids.Generator
	cfg       Config
	log       *slog.Logger
	notifyLog *notificationLog
	metrics   *metrics
	// settled remembers payments known to have succeeded, by provider and out_trade_no,
	// with their amount. Success is final, so the entry never goes stale on any instance;
	// it lets a provider's repeated notifies be answered without reading the database.
	settled *otter.Cache[string, money.Fen]
	now     func() time.Time
}

// NewService wires the payment service with the configured providers (at least one).
// Close stops its notification log writer.
func NewService(store Storer, providers []Provider, orders Orders, buyers Buyers, gen *ids.Generator,
	cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if len(providers) == 0 {
		return nil, errors.New("payment: no provider configured")
	}
	if cfg.QueryAfter <= 0 {
		cfg.QueryAfter = 2 * time.Minute
	}
	if cfg.QueryMaxInterval < cfg.QueryAfter {
		cfg.QueryMaxInterval = max(10*time.Minute, cfg.QueryAfter)
	}
	s := &Service{store: store, providers: map[string]Provider{}, byMethod: map[Method]Provider{},
		orders: orders, buyers: buyers, ids: gen, cfg: cfg, log: log, now: time.Now}
	for _, p := range providers {
		s.providers[p.Name()] = p
		for _, m := range p.Methods() {
			s.byMethod[m] = p
		}
	}
	var err error
	if s.metrics, err = newMetrics(reg, s.providers); err != nil {
		return nil, err
	}
	s.notifyLog = newNotificationLog(store, log)
	s.settled = otter.Must(&otter.Options[string, money.Fen]{MaximumSize: settledCacheSize})
	return s, nil
}

// Close writes the notifications still buffered and stops the writer.
func (s *Service) Close() error { return s.notifyLog.close() }

// Methods lists the methods offered, in a stable order.
func (s *Service) Methods() []Method {
	out := make([]Method, 0, len(s.byMethod))
	for m := range s.byMethod {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Provider returns a configured provider by name.
func (s *Service) Provider(name string) (Provider, error) {
	p, ok := s.providers[name]
	if !ok {
		return nil, ErrUnknownProvider
	}
	return p, nil
}

func (s *Service) notifyURL(p Provider) string {
	return strings.TrimRight(s.cfg.PublicURL(), "/") + "/api/v1/payments/notify/" + p.Name()
}

// InitiateInput is a buyer's request to pay an order.
type InitiateInput struct {
	UserID         ids.ID
	OrderID        ids.ID
	Method         Method
	ClientIP       string
	IdempotencyKey string
}

// Initiate starts paying an order with a method and returns the payment with what the
// buyer's client needs. Asking again (with a new key) returns the same payment with fresh
// instructions; the same key and body return the first answer, replayed = true.
func (s *Service) Initiate(ctx context.Context, in InitiateInput) (p Payment, replayed bool, err error) {
	if err := checkKey(in.IdempotencyKey); err != nil {
		return Payment{}, false, err
	}
	prov, ok := s.byMethod[in.Method]
	if !ok {
		return Payment{}, false, ErrMethodUnavailable.With(map[string]any{"methods": s.Methods()})
	}
	scope := "user:" + in.UserID.String()
	hash := requestHash("initiate", in.OrderID.String(), string(in.Method))
	if id, found, err := s.usedKey(ctx, scope, in.IdempotencyKey, hash); err != nil {
		return Payment{}, false, err
	} else if found {
		p, err := s.store.Payment(ctx, id)
		return p, err == nil, err
	}

	o, err := s.orders.Order(ctx, in.UserID, in.OrderID)
	if err != nil {
		return Payment{}, false, err
	}
	now := s.now().UTC()
	switch {
	case o.Status != orderevents.PendingPayment:
		return Payment{}, false, ErrOrderNotPayable.Withf("the order is %s", o.Status)
	case !now.Before(o.PayDeadline):
		return Payment{}, false, ErrPayDeadlinePassed
	}
	var openID string
	if in.Method == WeChatJSAPI {
		if openID, err = s.buyers.OpenID(ctx, in.UserID); err != nil {
			return Payment{}, false, err
		}
		if openID == "" {
			return Payment{}, false, ErrOpenIDRequired
		}
	}

	// The payment is stored before the provider hears of it, so a notify can never arrive
	// for a payment we do not know.
	next := now.Add(s.cfg.QueryAfter)
	p, err = s.store.StartPayment(ctx, Payment{ID: s.ids.New(), OrderID: o.ID, OrderNo: o.OrderNo, UserID: o.UserID,
		Provider: prov.Name(), Method: in.Method, Amount: o.Payable, Status: Pending, ExpiresAt: o.PayDeadline,
		NextQueryAt: &next, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return Payment{}, false, err
	}
	switch p.Status {
	case Succeeded:
		return Payment{}, false, ErrOrderNotPayable.Withf("the order is already paid")
	case Closed:
		return Payment{}, false, ErrOrderNotPayable.Withf("its payment was closed")
	}
	instr, err := prov.Prepay(ctx, PrepayRequest{Method: in.Method, OutTradeNo: p.OrderNo, Amount: p.Amount,
		Description: o.Description, OpenID: openID, ClientIP: in.ClientIP, ExpiresAt: p.ExpiresAt,
		NotifyURL: s.notifyURL(prov), ReturnURL: s.cfg.ReturnURL})
	if err != nil {
		return Payment{}, false, err
	}
	if err := s.store.SetInstructions(ctx, p.ID, instr); err != nil {
		return Payment{}, false, err
	}
	p.Instructions = instr
	if existing, saved, err := s.store.SaveKey(ctx, Idempotency{Scope: scope, Key: in.IdempotencyKey,
		RequestHash: hash, ResultID: p.ID, CreatedAt: now}); err != nil {
		return Payment{}, false, err
	} else if !saved && existing.RequestHash != hash {
		return Payment{}, false, ErrIdempotencyMismatch
	}
	return p, false, nil
}

// usedKey looks up an Idempotency-Key: for a key used by the same request it returns what
// that request made; for a key used by another request, ErrIdempotencyMismatch; for a new
// key, found = false.
func (s *Service) usedKey(ctx context.Context, scope, key, hash string) (resultID ids.ID, found bool, err error) {
	k, found, err := s.store.Key(ctx, scope, key)
	if err != nil || !found {
		return 0, false, err
	}
	if k.RequestHash != hash {
		return 0, false, ErrIdempotencyMismatch
	}
	return k.ResultID, true, nil
}

func checkKey(key string) error {
	if key == "" || len(key) > MaxIdemKeyBytes {
		return ErrIdempotencyRequired
	}
	return nil
}

func requestHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// Payments lists an order's payments; a buyer sees only their own orders' (userID 0: staff).
func (s *Service) Payments(ctx context.Context, userID, orderID ids.ID) ([]Payment, error) {
	if _, err := s.orders.Order(ctx, userID, orderID); err != nil {
		return nil, err
	}
	return s.store.PaymentsOfOrder(ctx, orderID)
}

// Refunds lists an order's refunds, for staff.
func (s *Service) Refunds(ctx context.Context, orderID ids.ID) ([]Refund, error) {
	if _, err := s.orders.Order(ctx, 0, orderID); err != nil {
		return nil, err
	}
	return s.store.RefundsOfOrder(ctx, orderID)
}

// Notifications lists logged notifies, newest first, at most 100: those about an order
// number, or those with an outcome (refused ones carry no order number: their content is not
// trusted).
func (s *Service) Notifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	return s.store.Notifications(ctx, f, 100)
}

// HandleNotify verifies and applies a provider's notify. A nil error means the provider
// should be told success: the result was applied now or before, or there was nothing to
// apply. Every notify is logged with its outcome.
func (s *Service) HandleNotify(ctx context.Context, prov Provider, header http.Header, body []byte) error {
	entry := Notification{ID: s.ids.New(), Provider: prov.Name(), Headers: headerText(header),
		Body:       strings.ToValidUTF8(string(body), "\uFFFD"),
		ReceivedAt: s.now().UTC()}
	n, err := prov.ParseNotify(ctx, header, body)
	var outcome Outcome
	if err == nil {
		entry.Verified = true
		entry.Kind, entry.OutTradeNo, entry.OutRefundNo = string(n.Kind), n.OutTradeNo, n.OutRefundNo
		// out_trade_no is the order number: the notify's log lines and access line name the order.
		logging.SetOrderNo(ctx, n.OutTradeNo)
		if n.Kind == NoticeRefund {
			outcome, err = s.applyRefundNotice(ctx, prov, n, "notify")
		} else {
			outcome, err = s.applyTrade(ctx, prov, n, "notify")
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrNotifyRejected):
		outcome = OutcomeRejected
		s.log.WarnContext(ctx, "payment notify refused", slog.String("provider", prov.Name()),
			slog.String("out_trade_no", n.OutTradeNo), slog.String("reason", err.Error()))
	default:
		// Our own failure (the database, say): the provider is told to retry.
		s.log.ErrorContext(ctx, "payment notify could not be applied", slog.String("provider", prov.Name()),
			slog.String("out_trade_no", n.OutTradeNo), slog.String("error", err.Error()))
		outcome = OutcomeError
	}
	if err != nil {
		entry.Reason = err.Error()
	}
	entry.Outcome = outcome
	s.metrics.notifies.WithLabelValues(prov.Name(), string(outcome)).Inc()
	s.notifyLog.add(ctx, entry)
	return err
}

func headerText(h http.Header) string {
	var b strings.Builder
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "Authorization" || k == "Cookie" {
			continue
		}
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.ToValidUTF8(v, "\uFFFD"))
		}
	}
	return b.String()
}

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotifyRejected, fmt.Sprintf(format, args...))
}

// applyTrade applies what a provider says about a payment, from a notify or a query: a
// success marks the payment succeeded and writes payment.succeeded in the same
// transaction, once.
func (s *Service) applyTrade(ctx context.Context, prov Provider, n Notice, source string) (Outcome, error) {
	settledKey := prov.Name() + "\x00" + n.OutTradeNo
	if amount, ok := s.settled.GetIfPresent(settledKey); ok && n.State == TradeSuccess && n.Amount == amount {
		return OutcomeDuplicate, nil
	}
	p, err := s.store.PaymentByTradeNo(ctx, prov.Name(), n.OutTradeNo)
	if errors.Is(err, ErrPaymentNotFound) {
		return OutcomeRejected, rejected("out_trade_no %q is not a payment of ours", n.OutTradeNo)
	}
	if err != nil {
		return "", err
	}
	if n.State != TradeSuccess {
		return OutcomeIgnored, nil
	}
	if n.Amount != p.Amount {
		// Money arrived that does not match the order: never mark it paid, and tell people.
		s.log.ErrorContext(ctx, "ALERT payment amount differs from the order", slog.String("provider", prov.Name()),
			slog.String("out_trade_no", n.OutTradeNo), slog.Int64("expected", int64(p.Amount)),
			slog.Int64("notified", int64(n.Amount)), slog.String("source", source))
		return OutcomeRejected, rejected("amount %d fen, but the payment is %d fen", n.Amount, p.Amount)
	}
	if p.Status == Succeeded {
		// Read without a lock: a payment once succeeded stays succeeded, so this answer is
		// final and duplicates cost no write.
		s.settled.Set(settledKey, p.Amount)
		return OutcomeDuplicate, nil
	}
	if p.Status == Closed {
		// Paid although we closed it (a race with the close, or a provider that let it
		// through): the money is real, so it counts; the order decides what follows.
		s.log.WarnContext(ctx, "payment closed here succeeded at the provider", slog.String("out_trade_no", p.OrderNo))
	}
	now := s.now().UTC()
	paidAt := n.PaidAt.UTC()
	if n.PaidAt.IsZero() {
		paidAt = now
	}
	ev, err := events.New(s.ids.New(), paymentevents.TypeSucceeded, p.ID.String(), paymentevents.Paid{PaymentID: p.ID, OrderID: p.OrderID,
		OrderNo: p.OrderNo, Provider: p.Provider, Method: string(p.Method), Amount: p.Amount, TransactionID: n.TransactionID,
		PaidAt: paidAt, Source: source})
	if err != nil {
		return "", err
	}
	// One conditional update decides between concurrent notifies: the one that changes the
	// row writes the event in the same transaction; the others changed nothing.
	applied, err := s.store.MarkSucceeded(ctx, p.ID, n.TransactionID, paidAt, now, ev)
	if err != nil {
		return "", err
	}
	outcome := OutcomeDuplicate
	if applied {
		outcome = OutcomeApplied
	}
	s.settled.Set(settledKey, p.Amount)
	return outcome, nil
}

// applyRefundNotice applies a provider's word on a refund.
func (s *Service) applyRefundNotice(ctx context.Context, prov Provider, n Notice, source string) (Outcome, error) {
	r, err := s.store.RefundByOutNo(ctx, n.OutRefundNo)
	if errors.Is(err, ErrRefundNotFound) {
		return OutcomeRejected, rejected("out_refund_no %q is not a refund of ours", n.OutRefundNo)
	}
	if err != nil {
		return "", err
	}
	p, err := s.store.Payment(ctx, r.PaymentID)
	if err != nil {
		return "", err
	}
	if p.Provider != prov.Name() || (n.OutTradeNo != "" && n.OutTradeNo != p.OrderNo) {
		return OutcomeRejected, rejected("refund %q belongs to another payment", n.OutRefundNo)
	}
	if n.Amount != 0 && n.Amount != r.Amount {
		return OutcomeRejected, rejected("refund amount %d fen, but the refund is %d fen", n.Amount, r.Amount)
	}
	return s.applyRefundResult(ctx, r.ID, RefundResult{RefundID: n.RefundID, State: n.RefundState, Amount: n.Amount}, source)
}

// applyRefundResult records a refund's final state once; a success writes
// payment.refunded with the payment's new refunded total.
func (s *Service) applyRefundResult(ctx context.Context, refundID ids.ID, res RefundResult, source string) (Outcome, error) {
	if res.State == RefundPending {
		return OutcomeIgnored, nil
	}
	outcome := OutcomeDuplicate
	_, err := s.store.UpdateRefund(ctx, refundID, func(r *Refund, p *Payment) ([]events.Event, error) {
		if r.Status != RefundRequested {
			return nil, nil
		}
		now := s.now().UTC()
		outcome = OutcomeApplied
		r.CompletedAt, r.NextQueryAt = &now, nil
		if res.RefundID != "" {
			r.RefundID = res.RefundID
		}
		if res.State == RefundFailed {
			r.Status = RefundRejected
			s.log.ErrorContext(ctx, "ALERT refund failed at the provider; money was not returned", slog.String("order_no", r.OrderNo),
				slog.String("out_refund_no", r.OutRefundNo), slog.String("source", source))
			return nil, nil
		}
		r.Status = RefundDone
		p.Refunded += r.Amount
		p.UpdatedAt = now
		ev, err := events.New(s.ids.New(), paymentevents.TypeRefunded, p.ID.String(), paymentevents.Refunded{RefundID: r.ID, PaymentID: p.ID,
			OrderID: p.OrderID, OrderNo: p.OrderNo, Amount: r.Amount, RefundedTotal: p.Refunded, Paid: p.Amount,
			Full: p.Refunded == p.Amount, Automatic: r.Automatic})
		if err != nil {
			return nil, err
		}
		return []events.Event{ev}, nil
	})
	return outcome, err
}

// RefundInput is a staff request to return money for an order.
type RefundInput struct {
	Staff          string // actor, e.g. "staff:123"
	OrderID        ids.ID
	Amount         money.Fen
	Reason         string
	IdempotencyKey string
}

// RequestRefund refunds all or part of an order's payment through its provider. A refund
// that returns the rest of the payment moves the order to refunding (and to refunded once
// the provider confirms); partial refunds leave the order's status alone.
func (s *Service) RequestRefund(ctx context.Context, in RefundInput) (Refund, bool, error) {
	var f errs.Fields
	if in.Amount <= 0 {
		f.Add("amount", "must be a positive number of fen")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || utf8.RuneCountInString(in.Reason) > MaxReasonRunes {
		f.Add("reason", fmt.Sprintf("required, at most %d characters", MaxReasonRunes))
	}
	if err := f.Err(); err != nil {
		return Refund{}, false, err
	}
	if err := checkKey(in.IdempotencyKey); err != nil {
		return Refund{}, false, err
	}
	scope := in.Staff
	hash := requestHash("refund", in.OrderID.String(), fmt.Sprint(int64(in.Amount)), in.Reason)
	if id, found, err := s.usedKey(ctx, scope, in.IdempotencyKey, hash); err != nil {
		return Refund{}, false, err
	} else if found {
		r, err := s.store.Refund(ctx, id)
		return r, err == nil, err
	}

	o, err := s.orders.Order(ctx, 0, in.OrderID)
	if err != nil {
		return Refund{}, false, err
	}
	switch o.Status {
	case orderevents.Paid, orderevents.Shipped, orderevents.Completed, orderevents.Refunding:
	default:
		return Refund{}, false, ErrNotRefundable.Withf("the order is %s", o.Status)
	}
	paid, err := s.paidPayment(ctx, o.ID)
	if err != nil {
		return Refund{}, false, err
	}
	full := false
	// The refund number comes from the key, so concurrent requests with one key make one
	// refund: the store returns the refund the first one made.
	r, created, err := s.store.CreateRefund(ctx, Refund{ID: s.ids.New(), PaymentID: paid.ID, OrderID: o.ID, OrderNo: o.OrderNo,
		OutRefundNo: "R" + requestHash(scope, in.IdempotencyKey)[:30], Amount: in.Amount, Reason: in.Reason,
		Status: RefundRequested, RequestedBy: in.Staff, NextQueryAt: s.refundQueryAt(), CreatedAt: s.now().UTC()},
		func(p Payment, refunds []Refund) error {
			held := heldByRefunds(refunds)
			if held+in.Amount > p.Amount {
				return ErrRefundTooLarge.With(map[string]any{"refundable": p.Amount - held})
			}
			full = held+in.Amount == p.Amount
			return nil
		})
	if err != nil {
		return Refund{}, false, err
	}
	if !created {
		if r.OrderID != o.ID || r.Amount != in.Amount || r.Reason != in.Reason {
			return Refund{}, false, ErrIdempotencyMismatch
		}
		return r, true, nil
	}
	if existing, saved, err := s.store.SaveKey(ctx, Idempotency{Scope: scope, Key: in.IdempotencyKey,
		RequestHash: hash, ResultID: r.ID, CreatedAt: s.now().UTC()}); err != nil {
		return Refund{}, false, err
	} else if !saved && existing.RequestHash != hash {
		return Refund{}, false, ErrIdempotencyMismatch
	}
	if full && (o.Status == orderevents.Paid || o.Status == orderevents.Shipped) {
		if err := s.orders.StartFullRefund(ctx, o.ID, in.Staff, in.Reason); err != nil {
			return Refund{}, false, err
		}
	}
	r, err = s.submitRefund(ctx, r)
	return r, false, err
}

// refundQueryAt is when a new refund is first asked about, should its answer or notify not
// settle it.
func (s *Service) refundQueryAt() *time.Time {
	at := s.now().UTC().Add(s.cfg.QueryAfter)
	return &at
}

// heldByRefunds is what refunds that did not fail take from a payment.
func heldByRefunds(refunds []Refund) money.Fen {
	var held money.Fen
	for _, r := range refunds {
		if r.Status != RefundRejected {
			held += r.Amount
		}
	}
	return held
}

// paidPayment is the order's successful payment with money left to refund (an order paid
// twice has two; the extra one is refunded automatically).
func (s *Service) paidPayment(ctx context.Context, orderID ids.ID) (Payment, error) {
	pays, err := s.store.PaymentsOfOrder(ctx, orderID)
	if err != nil {
		return Payment{}, err
	}
	for _, p := range pays {
		if p.Status == Succeeded && p.Refunded < p.Amount {
			return p, nil
		}
	}
	return Payment{}, ErrNotPaid
}

// submitRefund asks the provider for a stored refund and applies the answer. A provider
// that cannot be reached leaves the refund pending; the query sweep asks again.
func (s *Service) submitRefund(ctx context.Context, r Refund) (Refund, error) {
	if r.Status != RefundRequested {
		return r, nil
	}
	p, err := s.store.Payment(ctx, r.PaymentID)
	if err != nil {
		return Refund{}, err
	}
	prov, err := s.Provider(p.Provider)
	if err != nil {
		return Refund{}, fmt.Errorf("refund %s: provider %s is no longer configured", r.OutRefundNo, p.Provider)
	}
	res, err := prov.Refund(ctx, RefundRequest{OutTradeNo: p.OrderNo, OutRefundNo: r.OutRefundNo, Total: p.Amount,
		Amount: r.Amount, Reason: r.Reason, NotifyURL: s.notifyURL(prov)})
	if err != nil {
		s.log.WarnContext(ctx, "refund request failed; it will be retried", slog.String("out_refund_no", r.OutRefundNo),
			slog.String("error", err.Error()))
		return r, nil
	}
	if res.RefundID != "" && res.State == RefundPending {
		if _, err := s.store.UpdateRefund(ctx, r.ID, func(r *Refund, _ *Payment) ([]events.Event, error) {
			r.RefundID = res.RefundID
			return nil, nil
		}); err != nil {
			return Refund{}, err
		}
	}
	if _, err := s.applyRefundResult(ctx, r.ID, res, "refund"); err != nil {
		return Refund{}, err
	}
	return s.store.Refund(ctx, r.ID)
}

// RefundUnwanted returns the whole of a payment nobody should have made: its order was
// cancelled before the money arrived, or the order was already paid another way. Calling
// it again for the same payment changes nothing.
func (s *Service) RefundUnwanted(ctx context.Context, paymentID ids.ID, reason string) error {
	p, err := s.store.Payment(ctx, paymentID)
	if err != nil {
		return err
	}
	if p.Status != Succeeded {
		return fmt.Errorf("payment %s is %s, not succeeded: nothing to refund", paymentID, p.Status)
	}
	reason = clip.Runes(reason, MaxReasonRunes)
	r, created, err := s.store.CreateRefund(ctx, Refund{ID: s.ids.New(), PaymentID: p.ID, OrderID: p.OrderID,
		OrderNo: p.OrderNo, OutRefundNo: "A" + p.ID.String(), Amount: p.Amount - p.Refunded, Reason: reason,
		Status: RefundRequested, Automatic: true, RequestedBy: "system", NextQueryAt: s.refundQueryAt(), CreatedAt: s.now().UTC()},
		func(p Payment, refunds []Refund) error {
			if heldByRefunds(refunds) > 0 {
				return ErrRefundTooLarge.Withf("payment %s already has refunds; settle it by hand", p.ID)
			}
			return nil
		})
	if err != nil {
		return err
	}
	if created {
		s.log.ErrorContext(ctx, "ALERT payment arrived for an order that cannot take it; refunding it in full",
			slog.String("order_no", p.OrderNo), slog.String("payment_id", p.ID.String()),
			slog.Int64("amount", int64(p.Amount)), slog.String("reason", reason))
	}
	_, err = s.submitRefund(ctx, r)
	return err
}
