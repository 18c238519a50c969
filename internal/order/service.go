package order

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/batch"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Config holds the order rules operators tune.
type Config struct {
	// PayTimeout is how long a buyer has to pay before the order is cancelled.
	PayTimeout time.Duration
	// AutoComplete is how long after shipping an order completes without the buyer.
	AutoComplete time.Duration
	// ReservationGrace keeps stock held this long past the payment deadline, so the
	// timeout cancel (not inventory's expiry sweep) is what normally frees it.
	ReservationGrace time.Duration
	// RecordWithin bounds the time from asking for the stock hold to committing the order;
	// inventory's unplaced sweep must wait longer than this before releasing a hold whose
	// order it cannot find.
	RecordWithin time.Duration
	// Liveness, when set, tells whether the process holding an Idempotency-Key is alive.
	Liveness Liveness
	// ShippingFee is charged unless the items total reaches FreeShippingOver (0: never free).
	ShippingFee      money.Fen
	FreeShippingOver money.Fen
	// Metrics counts orders by the state they reach; nil counts nothing.
	Metrics *Metrics
}

// Liveness is the process registry claims are tied to (liveness.Instance satisfies it).
type Liveness interface {
	ID() string
	Alive(ctx context.Context, id string) (bool, error)
}

// DefaultRecordWithin is Config.RecordWithin when none is set.
const DefaultRecordWithin = 20 * time.Second

// Service is the order use cases.
type Service struct {
	store     Storer
	catalog   Catalog
	stock     Stock
	addresses Addresses
	cart      Cart
	ids       *ids.Generator
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	// claims and creates group concurrent requests into shared transactions.
	claims  *batch.Batcher[Idempotency, KeyClaim]
	creates *batch.Batcher[NewOrder, struct{}]
}

// writeBatchSize bounds a group-committed batch of claims or orders.
const writeBatchSize = 64

// NewService wires the order service.
func NewService(store Storer, catalog Catalog, stock Stock, addresses Addresses, cart Cart,
	gen *ids.Generator, cfg Config, log *slog.Logger) *Service {
	if cfg.RecordWithin <= 0 {
		cfg.RecordWithin = DefaultRecordWithin
	}
	opts := batch.Options{MaxBatch: writeBatchSize, Concurrency: store.WriteConcurrency()}
	return &Service{store: store, catalog: catalog, stock: stock, addresses: addresses, cart: cart,
		ids: gen, cfg: cfg, log: log, now: time.Now,
		claims: batch.New(store.ClaimKeys, opts), creates: batch.New(store.CreateBatch, opts)}
}

// CreateInput is a buyer's order request: either Items, or FromCart for the selected cart
// lines.
type CreateInput struct {
	UserID    ids.ID
	Items     []LineRef
	FromCart  bool
	AddressID ids.ID
	Remark    string
	// IdempotencyKey and RequestHash make a retried request return the first result.
	IdempotencyKey string
	RequestHash    string
	// sale, when set, prices the one line at the sale's price and takes its stock from the
	// sale's hold (CreateForSale); buyers' requests cannot set it.
	sale *SaleInput
}

// SaleInput is the order of an accepted flash-sale attempt: one line of SKUID × Quantity at
// UnitPrice, its stock taken out of the sale's hold StockRef.
type SaleInput struct {
	AttemptID ids.ID
	SaleID    ids.ID
	UserID    ids.ID
	SKUID     ids.ID
	AddressID ids.ID
	Quantity  int
	UnitPrice money.Fen
	StockRef  string
}

// CreateForSale places the order of an accepted flash-sale attempt. It is idempotent by
// AttemptID: a repeat (a retry after a crash, or by another instance) returns the same order.
func (s *Service) CreateForSale(ctx context.Context, in SaleInput) (Order, error) {
	var f errs.Fields
	if in.AttemptID <= 0 {
		f.Add("attempt_id", "is required")
	}
	if in.UnitPrice <= 0 {
		f.Add("unit_price", "must be positive")
	}
	if in.StockRef == "" {
		f.Add("stock_ref", "is required")
	}
	if err := f.Err(); err != nil {
		return Order{}, err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "sale:%d:%d:%d:%d:%d:%d:%s", in.SaleID, in.UserID, in.SKUID, in.AddressID,
		in.Quantity, in.UnitPrice, in.StockRef))
	o, _, err := s.Create(ctx, CreateInput{UserID: in.UserID, Items: []LineRef{{SKUID: in.SKUID, Quantity: in.Quantity}},
		AddressID: in.AddressID, IdempotencyKey: "flash-attempt:" + in.AttemptID.String(), RequestHash: hex.EncodeToString(sum[:]),
		sale: &in})
	return o, err
}

// claimWait bounds how long a request waits for another one with the same Idempotency-Key;
// a claim older than claimAbandoned belongs to a request whose process died and is taken over.
const (
	claimWait      = 10 * time.Second
	claimAbandoned = 2 * time.Minute
)

// Create places an order: it holds stock for every line (all or none), then records the
// order with price and address snapshots. replayed is true when the Idempotency-Key had
// already created this order.
func (s *Service) Create(ctx context.Context, in CreateInput) (o Order, replayed bool, err error) {
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > MaxIdemKeyBytes {
		return Order{}, false, ErrIdempotencyRequired
	}
	if err := validateCreate(in); err != nil {
		return Order{}, false, err
	}
	existing, mine, err := s.claim(ctx, in)
	if err != nil || existing.ID != 0 {
		return existing, existing.ID != 0, err
	}
	o, err = s.create(ctx, in)
	if err != nil {
		// The request failed as a whole: free the key so the buyer can retry with it.
		if dropErr := s.store.DropKey(context.WithoutCancel(ctx), mine); dropErr != nil {
			// The key stays claimed; a retry takes it over once it is known abandoned.
			s.log.WarnContext(ctx, "drop idempotency key", slog.String("error", dropErr.Error()))
		}
		return Order{}, false, err
	}
	return o, false, nil
}

func validateCreate(in CreateInput) error {
	var f errs.Fields
	if in.FromCart && len(in.Items) > 0 {
		f.Add("items", "give items or from_cart, not both")
	}
	if len(in.Items) > MaxLines {
		f.Add("items", fmt.Sprintf("at most %d lines", MaxLines))
	}
	seen := map[ids.ID]bool{}
	for i, l := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		if l.SKUID <= 0 {
			f.Add(field+".sku_id", "is required")
		}
		if seen[l.SKUID] {
			f.Add(field+".sku_id", "appears twice; put the whole quantity on one line")
		}
		seen[l.SKUID] = true
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			f.Add(field+".quantity", fmt.Sprintf("must be 1 to %d", MaxQuantity))
		}
	}
	if in.AddressID <= 0 {
		f.Add("address_id", "is required")
	}
	if utf8.RuneCountInString(in.Remark) > MaxRemarkRunes || !utf8.ValidString(in.Remark) {
		f.Add("remark", fmt.Sprintf("must be at most %d characters", MaxRemarkRunes))
	}
	if err := f.Err(); err != nil {
		return err
	}
	if !in.FromCart && len(in.Items) == 0 {
		return ErrEmptyOrder
	}
	return nil
}

// claim takes the Idempotency-Key (returning the claim), or returns the order an earlier
// request with it made. A request still in progress is waited for, so concurrent retries all
// answer alike; one whose process died is taken over.
func (s *Service) claim(ctx context.Context, in CreateInput) (Order, Idempotency, error) {
	deadline := time.Now().Add(claimWait)
	// Keys are almost always new, so the first try is the claim itself; once another request
	// holds the key, waiting polls with reads and claims again only if the key went away.
	tryClaim := true
	for {
		var existing Idempotency
		var claimed bool
		var err error
		if tryClaim {
			var c KeyClaim
			c, err = s.claims.Do(ctx, Idempotency{UserID: in.UserID, Key: in.IdempotencyKey,
				RequestHash: in.RequestHash, CreatedAt: s.now().UTC(), ClaimedBy: s.instanceID()})
			existing, claimed = c.Existing, c.Claimed
		} else {
			var found bool
			existing, found, err = s.store.Key(ctx, in.UserID, in.IdempotencyKey)
			if err == nil && !found {
				tryClaim = true
				continue
			}
		}
		tryClaim = false
		if err != nil {
			return Order{}, Idempotency{}, err
		}
		if claimed {
			return Order{}, existing, nil
		}
		abandoned := existing.OrderID == 0 && s.now().Sub(existing.CreatedAt) > claimAbandoned
		if !abandoned && existing.OrderID == 0 {
			if abandoned, err = s.holderDied(ctx, existing); err != nil {
				return Order{}, Idempotency{}, err
			}
		}
		switch {
		case abandoned:
			if err := s.store.DropKey(ctx, existing); err != nil {
				return Order{}, Idempotency{}, err
			}
			tryClaim = true
			continue
		case existing.RequestHash != in.RequestHash:
			return Order{}, Idempotency{}, ErrIdempotencyMismatch
		case existing.OrderID != 0:
			o, err := s.store.Order(ctx, existing.OrderID, in.UserID)
			return o, Idempotency{}, err
		case time.Now().After(deadline):
			return Order{}, Idempotency{}, ErrRequestInProgress
		}
		select {
		case <-ctx.Done():
			return Order{}, Idempotency{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// instanceID names this process in claims ("" without liveness).
func (s *Service) instanceID() string {
	if s.cfg.Liveness == nil {
		return ""
	}
	return s.cfg.Liveness.ID()
}

// holderDied reports whether the process holding an in-progress key is known to be dead, so
// a retry after a crash need not wait out claimAbandoned. A holder it cannot tell about
// (an old claim, or no liveness) is not judged dead.
func (s *Service) holderDied(ctx context.Context, k Idempotency) (bool, error) {
	if s.cfg.Liveness == nil || k.ClaimedBy == "" {
		return false, nil
	}
	alive, err := s.cfg.Liveness.Alive(ctx, k.ClaimedBy)
	return !alive, err
}

func (s *Service) create(ctx context.Context, in CreateInput) (Order, error) {
	lines := in.Items
	if in.FromCart {
		var err error
		if lines, err = s.cart.Selected(ctx, in.UserID); err != nil {
			return Order{}, err
		}
		if len(lines) == 0 {
			return Order{}, ErrEmptyOrder
		}
		if len(lines) > MaxLines {
			var f errs.Fields
			f.Add("from_cart", fmt.Sprintf("%d cart lines are selected; an order takes at most %d", len(lines), MaxLines))
			return Order{}, f.Err()
		}
	}
	address, err := s.addresses.Address(ctx, in.UserID, in.AddressID)
	if err != nil {
		return Order{}, err
	}
	o, err := s.price(ctx, in, lines)
	if err != nil {
		return Order{}, err
	}
	o.Address = address

	refs := make([]LineRef, len(o.Lines))
	for i, l := range o.Lines {
		refs[i] = LineRef{SKUID: l.SKUID, ProductID: l.ProductID, Quantity: l.Quantity}
	}
	// The hold must be followed by the order within RecordWithin: inventory releases a hold
	// whose order it cannot find once the hold is older than that (and some), so an order
	// written later could find its stock gone. The deadline covers the write itself.
	recordCtx, cancel := context.WithTimeout(ctx, s.cfg.RecordWithin)
	defer cancel()
	reserve := s.stock.Reserve
	if in.sale != nil {
		reserve = func(ctx context.Context, orderNo string, lines []LineRef, expiresAt time.Time) error {
			return s.stock.ReserveFrom(ctx, orderNo, in.sale.StockRef, lines, expiresAt)
		}
	}
	if err := reserve(recordCtx, o.OrderNo, refs, o.PayDeadline.Add(s.cfg.ReservationGrace)); err != nil {
		return Order{}, s.undoReserve(ctx, o, unavailableIfLate(recordCtx, ctx, err))
	}
	ev, err := s.event(orderevents.TypeCreated, o, "")
	if err != nil {
		return Order{}, s.undoReserve(ctx, o, err)
	}
	// Written in a batch with other requests' orders, under the batch's context: the event
	// keeps this request's id and trace.
	ev.Origin = events.OriginFrom(ctx)
	t := Transition{To: PendingPayment, Actor: actorUser(in.UserID), Reason: "order placed", CreatedAt: o.CreatedAt}
	if _, err := s.creates.Do(recordCtx, NewOrder{Order: o, Transition: t, Key: in.IdempotencyKey, Event: ev}); err != nil {
		return Order{}, s.undoReserve(ctx, o, unavailableIfLate(recordCtx, ctx, err))
	}
	s.cfg.Metrics.reached(o)
	if !in.FromCart {
		return o, nil // "buy now" and sale orders leave the cart as it is
	}
	skuIDs := make([]ids.ID, len(o.Lines))
	for i, l := range o.Lines {
		skuIDs[i] = l.SKUID
	}
	// Ordered lines leave the cart. The order stands either way, so a failure is only logged.
	if err := s.cart.Remove(ctx, in.UserID, skuIDs); err != nil {
		s.log.WarnContext(ctx, "remove ordered lines from cart", slog.String("order_no", o.OrderNo), slog.String("error", err.Error()))
	}
	return o, nil
}

// unavailableIfLate turns running out of RecordWithin (while the buyer still waits) into a
// clear 503 rather than an internal error.
func unavailableIfLate(recordCtx, requestCtx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && recordCtx.Err() != nil && requestCtx.Err() == nil {
		return ErrTooSlow
	}
	return err
}

// undoReserve frees the stock of an order that was not recorded (a hold that may or may not
// have been made: releasing an unknown one changes nothing). If that fails too, inventory's
// unplaced sweep frees it; the original error is what the buyer sees.
func (s *Service) undoReserve(ctx context.Context, o Order, cause error) error {
	if err := s.stock.Release(context.WithoutCancel(ctx), o.OrderNo, "order not recorded"); err != nil {
		s.log.WarnContext(ctx, "release reservation of an unrecorded order; inventory's unplaced sweep will free it",
			slog.String("order_no", o.OrderNo), slog.String("error", err.Error()))
	}
	return cause
}

// price builds the order from live catalog prices: every SKU must exist and be on sale.
func (s *Service) price(ctx context.Context, in CreateInput, lines []LineRef) (Order, error) {
	skuIDs := make([]ids.ID, len(lines))
	for i, l := range lines {
		skuIDs[i] = l.SKUID
	}
	items, err := s.catalog.Items(ctx, skuIDs)
	if err != nil {
		return Order{}, err
	}
	var unavailable []ids.ID
	now := s.now().UTC()
	id := s.ids.New()
	o := Order{ID: id, OrderNo: OrderNo(now, id), UserID: in.UserID, Status: PendingPayment, Remark: in.Remark,
		PayDeadline: now.Add(s.cfg.PayTimeout), CreatedAt: now, UpdatedAt: now}
	for _, l := range lines {
		it, ok := items[l.SKUID]
		if !ok || !it.OnSale {
			unavailable = append(unavailable, l.SKUID)
			continue
		}
		price := it.Price
		if in.sale != nil {
			price = in.sale.UnitPrice
		}
		total := price * money.Fen(l.Quantity)
		o.Lines = append(o.Lines, Line{SKUID: it.SKUID, ProductID: it.ProductID, Title: it.Title, Specs: it.Specs,
			Image: it.Image, UnitPrice: price, Quantity: l.Quantity, LineTotal: total})
		o.ItemsTotal += total
	}
	if len(unavailable) > 0 {
		return Order{}, ErrSKUUnavailable.With(map[string]any{"skus": unavailable})
	}
	o.ShippingFee = s.cfg.ShippingFee
	if s.cfg.FreeShippingOver > 0 && o.ItemsTotal >= s.cfg.FreeShippingOver {
		o.ShippingFee = 0
	}
	o.Payable = o.ItemsTotal + o.ShippingFee
	return o, nil
}

// OrderNo is the human-readable order number, also the payment's out_trade_no: the UTC date
// then the order id, all digits, unique because the id is.
func OrderNo(at time.Time, id ids.ID) string {
	return at.UTC().Format("20060102") + fmt.Sprintf("%019d", int64(id))
}

func actorUser(id ids.ID) string { return "user:" + id.String() }

func (s *Service) event(typ string, o Order, reason string) (events.Event, error) {
	refs := make([]LineRef, len(o.Lines))
	for i, l := range o.Lines {
		refs[i] = LineRef{SKUID: l.SKUID, ProductID: l.ProductID, Quantity: l.Quantity}
	}
	return events.New(s.ids.New(), typ, o.ID.String(), orderevents.Changed{OrderID: o.ID, OrderNo: o.OrderNo, UserID: o.UserID,
		Status: o.Status, Payable: o.Payable, Lines: refs, Reason: reason})
}

// eventFor names the event a transition to a status publishes.
var eventFor = map[Status]string{
	Paid: orderevents.TypePaid, Cancelled: orderevents.TypeCancelled, Shipped: orderevents.TypeShipped, Completed: orderevents.TypeCompleted,
	Refunding: orderevents.TypeRefunding, Refunded: orderevents.TypeRefunded,
}

// transition moves the order to `to` if the state machine allows it, stamping times,
// recording who and why, and publishing the matching event; apply makes further changes.
func (s *Service) transition(ctx context.Context, id ids.ID, to Status, actor, reason string, check func(*Order) error, apply func(*Order, time.Time)) (Order, error) {
	o, err := s.store.Update(ctx, id, func(o *Order) (Transition, *events.Event, error) {
		if check != nil {
			if err := check(o); err != nil {
				return Transition{}, nil, err
			}
		}
		return s.transitionTo(o, to, actor, reason, apply)
	})
	if err == nil {
		s.cfg.Metrics.reached(o)
	}
	return o, err
}

// transitionTo changes a loaded (locked) order to `to`, for the store's Update.
func (s *Service) transitionTo(o *Order, to Status, actor, reason string, apply func(*Order, time.Time)) (Transition, *events.Event, error) {
	if !CanTransition(o.Status, to) {
		return Transition{}, nil, ErrInvalidState.Withf("the order is %s; it cannot become %s", o.Status, to)
	}
	now := s.now().UTC()
	from := o.Status
	o.Status, o.UpdatedAt = to, now
	switch to {
	case Paid:
		o.PaidAt = &now
	case Cancelled:
		o.CancelledAt = &now
	case Shipped:
		o.ShippedAt = &now
		at := now.Add(s.cfg.AutoComplete)
		o.AutoCompleteAt = &at
	case Completed:
		o.CompletedAt = &now
	}
	if apply != nil {
		apply(o, now)
	}
	var ev *events.Event
	if typ, ok := eventFor[to]; ok {
		e, err := s.event(typ, *o, reason)
		if err != nil {
			return Transition{}, nil, err
		}
		ev = &e
	}
	return Transition{From: from, To: to, Actor: actor, Reason: reason, CreatedAt: now}, ev, nil
}

func owner(userID ids.ID) func(*Order) error {
	return func(o *Order) error {
		if o.UserID != userID {
			return ErrOrderNotFound
		}
		return nil
	}
}

// Cancel cancels a buyer's unpaid order; inventory frees its stock on order.cancelled.
func (s *Service) Cancel(ctx context.Context, userID, id ids.ID) (Order, error) {
	return s.transition(ctx, id, Cancelled, actorUser(userID), "cancelled by the buyer", owner(userID), nil)
}

// ConfirmReceipt completes a buyer's shipped order.
func (s *Service) ConfirmReceipt(ctx context.Context, userID, id ids.ID) (Order, error) {
	return s.transition(ctx, id, Completed, actorUser(userID), "receipt confirmed by the buyer", owner(userID), nil)
}

// Ship hands a paid order to a carrier.
func (s *Service) Ship(ctx context.Context, staff string, id ids.ID, carrier, trackingNo string) (Order, error) {
	var f errs.Fields
	if strings.TrimSpace(carrier) == "" || utf8.RuneCountInString(carrier) > 32 {
		f.Add("carrier", "is required, at most 32 characters")
	}
	if strings.TrimSpace(trackingNo) == "" || len(trackingNo) > 64 {
		f.Add("tracking_no", "is required, at most 64 characters")
	}
	if err := f.Err(); err != nil {
		return Order{}, err
	}
	return s.transition(ctx, id, Shipped, staff, "shipped with "+carrier, nil, func(o *Order, _ time.Time) {
		o.Carrier, o.TrackingNo = carrier, trackingNo
	})
}

// Note sets the staff note on an order; it changes no status.
func (s *Service) Note(ctx context.Context, id ids.ID, note string) (Order, error) {
	if utf8.RuneCountInString(note) > 500 || !utf8.ValidString(note) {
		var f errs.Fields
		f.Add("note", "must be at most 500 characters")
		return Order{}, f.Err()
	}
	return s.store.Update(ctx, id, func(o *Order) (Transition, *events.Event, error) {
		o.StaffNote, o.UpdatedAt = note, s.now().UTC()
		return Transition{}, nil, nil
	})
}

// Order returns a buyer's order; anyone else's is not found.
func (s *Service) Order(ctx context.Context, userID, id ids.ID) (Order, error) {
	return s.store.Order(ctx, id, userID)
}

// MaxPlacedQuery bounds one Placed question.
const MaxPlacedQuery = 500

// Placed returns the order numbers among orderNos that name a recorded order; inventory
// asks it before releasing a hold whose order it has not seen.
func (s *Service) Placed(ctx context.Context, orderNos []string) ([]string, error) {
	if len(orderNos) > MaxPlacedQuery {
		var f errs.Fields
		f.Add("order_nos", fmt.Sprintf("at most %d per call", MaxPlacedQuery))
		return nil, f.Err()
	}
	return s.store.Placed(ctx, orderNos)
}

// StaffOrder returns any order with its full history.
func (s *Service) StaffOrder(ctx context.Context, id ids.ID) (Order, []Transition, error) {
	o, err := s.store.Order(ctx, id, 0)
	if err != nil {
		return Order{}, nil, err
	}
	h, err := s.store.History(ctx, id)
	return o, h, err
}

// Orders lists orders matching f, newest first.
func (s *Service) Orders(ctx context.Context, f ListFilter) ([]Order, int, error) {
	if f.Status != "" && !f.Status.Valid() {
		var fe errs.Fields
		fe.Add("status", "must be one of "+joinStatuses())
		return nil, 0, fe.Err()
	}
	return s.store.Orders(ctx, f)
}

func joinStatuses() string {
	names := make([]string, len(Statuses))
	for i, st := range Statuses {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// errNotDue marks an order a scheduler pass found already handled (by the buyer, a payment
// or another instance) or not yet due; it is skipped, not an error.
var errNotDue = errors.New("order no longer due")

// CancelOverdue cancels unpaid orders past their payment deadline and reports how many.
// Several instances may run it at once: the status check under the row lock lets exactly
// one of them cancel each order.
func (s *Service) CancelOverdue(ctx context.Context) (int, error) {
	return s.sweep(ctx, PendingPayment, Cancelled, "payment timeout", func(o *Order, now time.Time) bool {
		return now.After(o.PayDeadline)
	})
}

// CompleteDue completes shipped orders whose auto-complete time has passed.
func (s *Service) CompleteDue(ctx context.Context) (int, error) {
	return s.sweep(ctx, Shipped, Completed, "completed automatically after delivery time", func(o *Order, now time.Time) bool {
		return o.AutoCompleteAt != nil && now.After(*o.AutoCompleteAt)
	})
}

func (s *Service) sweep(ctx context.Context, from, to Status, reason string, due func(*Order, time.Time) bool) (int, error) {
	done := 0
	for {
		idList, err := s.store.Due(ctx, from, s.now().UTC(), 100)
		if err != nil || len(idList) == 0 {
			return done, err
		}
		progressed := false
		for _, id := range idList {
			_, err := s.transition(ctx, id, to, "system", reason, func(o *Order) error {
				if o.Status != from || !due(o, s.now().UTC()) {
					return errNotDue
				}
				return nil
			}, nil)
			switch {
			case err == nil:
				done++
				progressed = true
			case errors.Is(err, errNotDue), errors.Is(err, ErrInvalidState):
			default:
				return done, err
			}
		}
		if !progressed {
			return done, nil
		}
	}
}

// RunScheduler cancels overdue orders and completes delivered ones every interval until ctx
// ends. The schedule is the orders table itself, so a restart loses nothing.
func (s *Service) RunScheduler(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, run := range []func(context.Context) (int, error){s.CancelOverdue, s.CompleteDue} {
			if n, err := run(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "order schedule", slog.String("error", err.Error()))
			} else if n > 0 {
				s.log.InfoContext(ctx, "order schedule", slog.Int("orders", n))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
