package promotion

import (
	"context"
	"sync"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
)

// Verdict is the admission filter's answer to an attempt.
type Verdict int

const (
	// VerdictUnknown: the filter holds nothing about the sale (never loaded, a restarted
	// process, a flushed Redis); load it from the database, then ask again.
	VerdictUnknown Verdict = iota
	// VerdictAdmitted: the filter took the units off its remaining and added them to the
	// buyer's count; the database decides next.
	VerdictAdmitted
	// VerdictSoldOut: the filter's remaining is below the quantity.
	VerdictSoldOut
	// VerdictLimitReached: the buyer's count plus the quantity is over the per-buyer limit.
	VerdictLimitReached
)

// FilterSale is what the filter needs of a sale.
type FilterSale struct {
	ID           ids.ID
	PerUserLimit int
	// Until is when the filter may forget the sale: its state is of no use after the sale.
	Until time.Time
}

// filterSale is the filter's view of s: kept an hour past the end, while its last attempts
// may still be given back.
func filterSale(s Sale) FilterSale {
	return FilterSale{ID: s.ID, PerUserLimit: s.PerUserLimit, Until: s.EndsAt.Add(time.Hour)}
}

// FilterState is what the filter holds of a sale: its remaining units, each buyer's count,
// and the keys of the attempts it admitted.
type FilterState struct {
	Remaining int
	Bought    map[ids.ID]int
	Keys      []BuyerKey
}

// Admission is the fast filter in front of the database: a sale's remaining units, each
// buyer's count and the keys of admitted attempts, kept where checking them costs no
// database work. It may be behind or
// ahead of the database (a process restarted, Redis flushed, a give-back that did not reach
// it): the database decides every attempt the filter lets through, so an out-of-date filter
// costs work or answers, never stock. Every method is safe for concurrent use.
type Admission interface {
	// Admit takes quantity off the sale's remaining and adds it to the buyer's count, when
	// the remaining covers it and the count stays within the sale's limit — atomically, so
	// concurrent attempts never pass on the same units — and remembers the attempt's key.
	// known says an attempt under the key was admitted before (or loaded): only then can a
	// refused request be the retry of a recorded attempt, so a sold-out answer to any other
	// costs no database read.
	Admit(ctx context.Context, sale FilterSale, attempt BuyerKey, quantity int) (v Verdict, known bool, err error)
	// Return gives quantity back to the sale's remaining and takes it off the buyer's count
	// (never below zero); nothing when the filter does not hold the sale.
	Return(ctx context.Context, saleID, userID ids.ID, quantity int) error
	// Load sets the sale's state unless the filter already holds the sale, so that
	// concurrent loaders agree on one state; loaded says whether this call set it.
	Load(ctx context.Context, sale FilterSale, state FilterState) (loaded bool, err error)
	// SetRemaining overwrites the sale's remaining with what the database said, when the
	// filter holds the sale.
	SetRemaining(ctx context.Context, saleID ids.ID, remaining int) error
	// SetBought overwrites a buyer's count with what the database said, when the filter
	// holds the sale.
	SetBought(ctx context.Context, saleID, userID ids.ID, bought int) error
	// Remember adds the key of an attempt the database recorded without the filter, when the
	// filter holds the sale, so that its retries are known.
	Remember(ctx context.Context, saleID ids.ID, attempt BuyerKey) error
}

// MemoryAdmission is the Admission of one process, for the shape without Redis. Each
// process keeps its own counts, so with several processes each lets through up to the
// whole remaining and the database refuses the surplus.
type MemoryAdmission struct {
	mu    sync.Mutex
	sales map[ids.ID]*memorySale
	now   func() time.Time
}

type memorySale struct {
	remaining int
	bought    map[ids.ID]int
	keys      map[BuyerKey]struct{}
	until     time.Time
}

var _ Admission = (*MemoryAdmission)(nil)

// NewMemoryAdmission returns an empty in-process filter.
func NewMemoryAdmission() *MemoryAdmission {
	return &MemoryAdmission{sales: map[ids.ID]*memorySale{}, now: time.Now}
}

func (m *MemoryAdmission) Admit(_ context.Context, sale FilterSale, attempt BuyerKey, quantity int) (Verdict, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.sales[sale.ID]
	if !ok {
		return VerdictUnknown, false, nil
	}
	userID := attempt.UserID
	bought := st.bought[userID]
	_, known := st.keys[attempt]
	switch {
	case bought+quantity > sale.PerUserLimit:
		return VerdictLimitReached, known, nil
	case st.remaining < quantity:
		return VerdictSoldOut, known, nil
	}
	st.remaining -= quantity
	st.bought[userID] = bought + quantity
	st.keys[attempt] = struct{}{}
	return VerdictAdmitted, known, nil
}

func (m *MemoryAdmission) Return(_ context.Context, saleID, userID ids.ID, quantity int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.sales[saleID]
	if !ok {
		return nil
	}
	st.remaining += quantity
	if bought, ok := st.bought[userID]; ok {
		st.bought[userID] = max(bought-quantity, 0)
	}
	return nil
}

func (m *MemoryAdmission) Load(_ context.Context, sale FilterSale, state FilterState) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sales[sale.ID]; ok {
		return false, nil
	}
	// Loads are rare (once per sale and process), so they also drop sales that are over:
	// the map never grows past the sales of the last hour or so.
	now := m.now()
	for id, st := range m.sales {
		if now.After(st.until) {
			delete(m.sales, id)
		}
	}
	st := &memorySale{remaining: state.Remaining, bought: make(map[ids.ID]int, len(state.Bought)),
		keys: make(map[BuyerKey]struct{}, len(state.Keys)), until: sale.Until}
	for user, n := range state.Bought {
		st.bought[user] = n
	}
	for _, k := range state.Keys {
		st.keys[k] = struct{}{}
	}
	m.sales[sale.ID] = st
	return true, nil
}

func (m *MemoryAdmission) SetRemaining(_ context.Context, saleID ids.ID, remaining int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.sales[saleID]; ok {
		st.remaining = remaining
	}
	return nil
}

func (m *MemoryAdmission) Remember(_ context.Context, saleID ids.ID, attempt BuyerKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.sales[saleID]; ok {
		st.keys[attempt] = struct{}{}
	}
	return nil
}

func (m *MemoryAdmission) SetBought(_ context.Context, saleID, userID ids.ID, bought int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.sales[saleID]; ok {
		st.bought[userID] = bought
	}
	return nil
}
