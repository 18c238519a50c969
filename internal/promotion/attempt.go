package promotion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/minimart/minimart/internal/platform/batch"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// AttemptInput is a buyer's try at a sale.
type AttemptInput struct {
	SaleID    ids.ID
	UserID    ids.ID
	AddressID ids.ID
	Quantity  int
	// IdempotencyKey and RequestHash make a retried request return the attempt it recorded.
	IdempotencyKey string
	RequestHash    string
}

// recorded is the database's decision on one attempt of a batch.
type recorded struct {
	attempt  Attempt
	replayed bool
	// decided says the batch ran and remaining and bought are the database's figures when
	// this attempt was decided, with which a refusal corrects the filter.
	decided   bool
	remaining int
	bought    int
}

// Admit decides a buyer's attempt at a sale: accepted (the unit is theirs; the order follows,
// see AttemptOf), or refused with ErrSoldOut, ErrLimitReached, ErrNotStarted, ErrEnded or
// ErrSaleCancelled, recording nothing. replayed is true when the Idempotency-Key had already
// recorded this attempt; the same key with another request is ErrIdempotencyMismatch.
// A refused request records nothing, so its retry is decided afresh.
func (s *Service) Admit(ctx context.Context, in AttemptInput) (a Attempt, replayed bool, err error) {
	if !validKey(in.IdempotencyKey) {
		return Attempt{}, false, ErrIdempotencyNeeded
	}
	sale, err := s.saleForAttempt(ctx, in.SaleID)
	if err != nil {
		return Attempt{}, false, err
	}
	if err := admissible(sale, s.now()); err != nil {
		if p := sale.PhaseAt(s.now()); p == PhaseEnded || p == PhaseCancelled {
			// A retry of an attempt accepted before the end still answers that attempt.
			return s.replayOr(ctx, sale, in, err)
		}
		return Attempt{}, false, err
	}
	var f errs.Fields
	if in.Quantity < 1 || in.Quantity > sale.PerUserLimit {
		f.Add("quantity", fmt.Sprintf("must be 1 to %d, the per-buyer limit of this sale", sale.PerUserLimit))
	}
	if in.AddressID <= 0 {
		f.Add("address_id", "is required")
	}
	if err := f.Err(); err != nil {
		return Attempt{}, false, err
	}
	counted, prior, err := s.filterAttempt(ctx, sale, in)
	if err != nil || prior.ID != 0 {
		return prior, prior.ID != 0, err
	}
	// The address is checked only for what the filter let through: a sold-out sale costs
	// the user module nothing.
	if err := s.addresses.CheckAddress(ctx, in.UserID, in.AddressID); err != nil {
		if counted {
			s.undoFilter(ctx, sale.ID, in, recorded{}, err)
		}
		return Attempt{}, false, err
	}
	rec, err := s.recorder.Do(ctx, Attempt{ID: s.ids.New(), SaleID: sale.ID, UserID: in.UserID, AddressID: in.AddressID,
		Quantity: in.Quantity, Status: Accepted, IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash})
	if counted && (err != nil || rec.replayed) {
		s.undoFilter(ctx, sale.ID, in, rec, err)
	}
	if err != nil {
		return Attempt{}, false, err
	}
	if !counted && !rec.replayed {
		// Recorded past the filter: without its key, a retry refused by the filter as sold
		// out would not look for it. A filter still down misses it; such a retry is then
		// answered sold_out, though the attempt stands and becomes an order.
		if err := s.filter.Remember(context.WithoutCancel(ctx), sale.ID, BuyerKey{UserID: in.UserID, Key: in.IdempotencyKey}); err != nil {
			s.filterDown(ctx, sale.ID, err)
		}
	}
	return rec.attempt, rec.replayed, nil
}

// replayOr answers the attempt recorded under the request's key, if there is one, else
// refusal.
func (s *Service) replayOr(ctx context.Context, sale Sale, in AttemptInput, refusal error) (Attempt, bool, error) {
	_, prior, found, err := s.store.BuyerRecord(ctx, sale.ID, in.UserID, in.IdempotencyKey)
	switch {
	case err != nil:
		return Attempt{}, false, err
	case !found:
		return Attempt{}, false, refusal
	case prior.RequestHash != in.RequestHash:
		return Attempt{}, false, ErrIdempotencyMismatch
	}
	return prior, true, nil
}

// validKey reports whether an Idempotency-Key can be stored: 1–64 printable ASCII characters
// (a header may carry other bytes, which a key column need not know how to compare).
func validKey(key string) bool {
	if key == "" || len(key) > MaxIdemKeyBytes {
		return false
	}
	for _, c := range []byte(key) {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// AttemptOf is a buyer's own attempt; another buyer's is ErrAttemptNotFound.
func (s *Service) AttemptOf(ctx context.Context, userID, attemptID ids.ID) (Attempt, error) {
	a, err := s.store.Attempt(ctx, attemptID)
	if err != nil {
		return Attempt{}, err
	}
	if a.UserID != userID {
		return Attempt{}, ErrAttemptNotFound
	}
	return a, nil
}

// admissible says whether a sale takes attempts at now, and if not, why.
func admissible(s Sale, now time.Time) error {
	switch s.PhaseAt(now) {
	case PhaseActive:
		return nil
	case PhasePending, PhaseUpcoming:
		return ErrNotStarted.With(map[string]any{"starts_at": s.StartsAt})
	case PhaseCancelled:
		return ErrSaleCancelled
	case PhaseFailed:
		return ErrSaleNotFound
	default:
		return ErrEnded
	}
}

// saleForAttempt reads a sale for an attempt, sharing the read with the attempts of the
// last saleFresh: a flash sale's attempts all want the same row.
func (s *Service) saleForAttempt(ctx context.Context, id ids.ID) (Sale, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.sales[id]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < saleFresh {
		return c.sale, nil
	}
	v, err, _ := s.loads.Do("sale:"+id.String(), func() (any, error) {
		// Shared by several requests: the first one leaving must not fail the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		return s.store.Sale(ctx, id)
	})
	if err != nil {
		return Sale{}, err
	}
	sale := v.(Sale)
	s.mu.Lock()
	defer s.mu.Unlock()
	for other, c := range s.sales { // few entries: the sales being tried now
		if now.Sub(c.at) >= saleFresh {
			delete(s.sales, other)
		}
	}
	s.sales[id] = cachedSale{sale: sale, at: now}
	return sale, nil
}

// attemptsThroughFilter bounds the rounds of asking the filter for one attempt: a filter that
// keeps disagreeing with the database (being flushed or reloaded meanwhile) is passed by.
const attemptsThroughFilter = 3

// filterAttempt asks the filter. counted says the filter took the units, to be given back
// if the database refuses the attempt. A refusal of an attempt whose key the filter knows
// may be its retry: prior is the recorded attempt. Over the limit, the database's count is
// read as well, in case the filter's is ahead of it. When the filter cannot answer, or
// keeps disagreeing with the database, the database decides alone (counted is false).
func (s *Service) filterAttempt(ctx context.Context, sale Sale, in AttemptInput) (counted bool, prior Attempt, err error) {
	fs := filterSale(sale)
	for range attemptsThroughFilter {
		v, known, err := s.filter.Admit(ctx, fs, BuyerKey{UserID: in.UserID, Key: in.IdempotencyKey}, in.Quantity)
		if err != nil {
			s.filterDown(ctx, sale.ID, err)
			return false, Attempt{}, nil
		}
		switch v {
		case VerdictAdmitted:
			return true, Attempt{}, nil
		case VerdictUnknown:
			if err := s.loadFilter(ctx, sale); err != nil {
				return false, Attempt{}, err
			}
			continue
		}
		refusal, again := ErrSoldOut, false
		if v == VerdictLimitReached {
			refusal = ErrLimitReached
		}
		if known || v == VerdictLimitReached {
			bought, p, found, err := s.store.BuyerRecord(ctx, sale.ID, in.UserID, in.IdempotencyKey)
			switch {
			case err != nil:
				return false, Attempt{}, err
			case found && p.RequestHash != in.RequestHash:
				return false, Attempt{}, ErrIdempotencyMismatch
			case found:
				return false, p, nil
			case v == VerdictLimitReached && bought+in.Quantity <= sale.PerUserLimit:
				// The filter is behind the database: a give-back did not reach it.
				if err := s.filter.SetBought(ctx, sale.ID, in.UserID, bought); err != nil {
					s.filterDown(ctx, sale.ID, err)
					return false, Attempt{}, nil
				}
				again = true
			}
		}
		if v == VerdictSoldOut && s.soldOutCheckDue(sale.ID) {
			db, err := s.store.Sale(ctx, sale.ID)
			if err != nil {
				return false, Attempt{}, err
			}
			if db.Remaining >= in.Quantity {
				// Behind the database: units came back (a failed attempt, a cancelled order)
				// without the filter hearing of it, or it was loaded from an old read.
				if err := s.filter.SetRemaining(ctx, sale.ID, db.Remaining); err != nil {
					s.filterDown(ctx, sale.ID, err)
					return false, Attempt{}, nil
				}
				again = true
			}
		}
		if !again {
			return false, Attempt{}, refusal
		}
	}
	return false, Attempt{}, nil
}

// filterDown logs a filter that could not answer (the database then decides alone), at most
// once per filterWarnEvery: while Redis is down every attempt would say so.
func (s *Service) filterDown(ctx context.Context, saleID ids.ID, err error) {
	now := s.now()
	s.mu.Lock()
	due := now.Sub(s.filterWarned) >= filterWarnEvery
	if due {
		s.filterWarned = now
	}
	s.mu.Unlock()
	if due {
		s.log.WarnContext(ctx, "flash-sale filter unavailable; the database decides alone",
			slog.String("sale_id", saleID.String()), slog.String("error", err.Error()))
	}
}

// filterWarnEvery is how often a filter that cannot answer is logged.
const filterWarnEvery = 10 * time.Second

// soldOutCheckDue says whether the sold-out filter of a sale may be checked against the
// database now, and if so notes the check.
func (s *Service) soldOutCheckDue(saleID ids.ID) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.soldOutChecked[saleID]) < soldOutRecheck {
		return false
	}
	for id, at := range s.soldOutChecked { // few entries: the sales being tried now
		if now.Sub(at) >= soldOutRecheck {
			delete(s.soldOutChecked, id)
		}
	}
	s.soldOutChecked[saleID] = now
	return true
}

// loadTimeout bounds one rebuild of the filter from the database.
const loadTimeout = 5 * time.Second

// loadFilter rebuilds the filter's state of a sale from the database. Concurrent attempts
// of this process share one read; the filter keeps the first state written by any process.
// A filter that cannot take it is logged: the next question to it fails the same way and
// the database decides.
func (s *Service) loadFilter(ctx context.Context, sale Sale) error {
	_, err, _ := s.loads.Do("filter:"+sale.ID.String(), func() (any, error) {
		// Shared by several requests: the first one leaving must not fail the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		state, err := s.store.AdmissionSnapshot(ctx, sale.ID)
		if err != nil {
			return nil, err
		}
		loaded, err := s.filter.Load(ctx, filterSale(sale), state)
		if err != nil {
			s.log.WarnContext(ctx, "flash-sale filter not loaded", slog.String("sale_id", sale.ID.String()), slog.String("error", err.Error()))
		} else if loaded {
			s.log.InfoContext(ctx, "flash-sale filter loaded from the database", slog.String("sale_id", sale.ID.String()),
				slog.Int("remaining", state.Remaining), slog.Int("buyers", len(state.Bought)), slog.Int("attempts", len(state.Keys)))
		}
		return nil, nil
	})
	return err
}

// undoFilter gives the filter back what it took for an attempt the database did not take,
// and when the database refused it as sold out or over the limit, brings the filter to the
// database's figures, so that it stops letting through what the database refuses.
func (s *Service) undoFilter(ctx context.Context, saleID ids.ID, in AttemptInput, rec recorded, refusal error) {
	ctx = context.WithoutCancel(ctx) // the buyer may have left; the filter must still be put right
	err := s.filter.Return(ctx, saleID, in.UserID, in.Quantity)
	if err == nil && rec.decided {
		switch {
		case errors.Is(refusal, ErrSoldOut):
			err = s.filter.SetRemaining(ctx, saleID, rec.remaining)
		case errors.Is(refusal, ErrLimitReached):
			err = s.filter.SetBought(ctx, saleID, in.UserID, rec.bought)
		}
	}
	if err != nil {
		s.log.WarnContext(ctx, "flash-sale filter not given back what the database refused", slog.String("sale_id", saleID.String()),
			slog.String("error", err.Error()))
	}
}

// recordBatch decides a batch of attempts that the filter let through, in arrival order, in
// one transaction under the locks of their sales: the database is the authority.
func (s *Service) recordBatch(ctx context.Context, items []Attempt) ([]batch.Result[recorded], error) {
	var q AdmissionQuery
	seenSale, seenBuyer, seenKey := map[ids.ID]bool{}, map[SaleBuyer]bool{}, map[BuyerKey]bool{}
	for _, a := range items {
		sb, bk := SaleBuyer{SaleID: a.SaleID, UserID: a.UserID}, BuyerKey{UserID: a.UserID, Key: a.IdempotencyKey}
		if !seenSale[a.SaleID] {
			seenSale[a.SaleID] = true
			q.SaleIDs = append(q.SaleIDs, a.SaleID)
		}
		if !seenBuyer[sb] {
			seenBuyer[sb] = true
			q.Buyers = append(q.Buyers, sb)
		}
		if !seenKey[bk] {
			seenKey[bk] = true
			q.Keys = append(q.Keys, bk)
		}
	}
	results := make([]batch.Result[recorded], len(items))
	accepted := 0
	err := s.store.RecordAttempts(ctx, q, func(st AdmissionState) ([]Attempt, error) {
		now := s.stamp()
		remaining := map[ids.ID]int{}
		bought := make(map[SaleBuyer]int, len(st.Bought))
		for k, v := range st.Bought {
			bought[k] = v
		}
		keys := make(map[BuyerKey]Attempt, len(st.Keys))
		for k, v := range st.Keys {
			keys[k] = v
		}
		var accept []Attempt
		for i, a := range items {
			results[i] = batch.Result[recorded]{}
			sale, ok := st.Sales[a.SaleID]
			if !ok {
				results[i].Err = ErrSaleNotFound
				continue
			}
			if _, ok := remaining[sale.ID]; !ok {
				remaining[sale.ID] = sale.Remaining
			}
			sb, bk := SaleBuyer{SaleID: sale.ID, UserID: a.UserID}, BuyerKey{UserID: a.UserID, Key: a.IdempotencyKey}
			rec := recorded{decided: true, remaining: remaining[sale.ID], bought: bought[sb]}
			if prior, ok := keys[bk]; ok {
				if prior.RequestHash != a.RequestHash {
					results[i] = batch.Result[recorded]{Value: rec, Err: ErrIdempotencyMismatch}
					continue
				}
				rec.attempt, rec.replayed = prior, true
				results[i].Value = rec
				continue
			}
			refusal := admissible(sale, now)
			switch {
			case refusal != nil:
			case bought[sb]+a.Quantity > sale.PerUserLimit:
				refusal = ErrLimitReached
			case remaining[sale.ID] < a.Quantity:
				refusal = ErrSoldOut
			}
			if refusal != nil {
				results[i] = batch.Result[recorded]{Value: rec, Err: refusal}
				continue
			}
			remaining[sale.ID] -= a.Quantity
			bought[sb] += a.Quantity
			a.Status, a.CreatedAt, a.UpdatedAt, a.Tries = Accepted, now, now, 0
			keys[bk] = a
			rec.attempt = a
			results[i].Value = rec
			accept = append(accept, a)
		}
		accepted = len(accept)
		return accept, nil
	})
	if err != nil {
		return nil, err
	}
	if accepted > 0 {
		s.wakeWorker()
	}
	return results, nil
}

// wakeWorker tells the order worker there is work, without waiting for it.
func (s *Service) wakeWorker() {
	select {
	case s.wake <- struct{}{}:
	default: // already told
	}
}
