package peer

import (
	"slices"
	"sync"
	"time"
)

// pool is the current address list with round-robin choice and a per-address cooldown,
// so one dead instance costs one failed attempt per cooldown rather than one in every N
// calls.
type pool struct {
	cooldown time.Duration

	mu      sync.Mutex
	addrs   []string
	next    int
	cooling map[string]time.Time // address → end of its cooldown
}

func newPool(addrs []string, cooldown time.Duration) *pool {
	return &pool{addrs: addrs, cooldown: cooldown, cooling: map[string]time.Time{}}
}

// pick returns the next address in turn, preferring in order: one not yet tried by this
// call and not cooling; one not tried; one not cooling; any. A cooling address is thus
// still used when nothing better exists, which keeps a fully failed peer reachable the
// moment it recovers. ok is false only while no address is known.
func (p *pool) pick(tried []string) (addr string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.addrs)
	if n == 0 {
		return "", false
	}
	now := time.Now()
	best, bestRank := 0, 4
	for i := range n {
		idx := (p.next + i) % n
		a := p.addrs[idx]
		rank := 0
		if slices.Contains(tried, a) {
			rank += 2
		}
		if now.Before(p.cooling[a]) {
			rank++
		}
		if rank < bestRank {
			best, bestRank = idx, rank
		}
		if rank == 0 {
			break
		}
	}
	p.next = best + 1
	return p.addrs[best], true
}

// cool takes addr out of rotation for the cooldown.
func (p *pool) cool(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cooling[addr] = time.Now().Add(p.cooldown)
}

// healthy ends addr's cooldown early: it just answered.
func (p *pool) healthy(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.cooling, addr)
}

// set replaces the address list; it reports whether the list changed. Cooldowns of
// addresses still listed are kept, so a re-resolution does not revive a dead instance.
func (p *pool) set(addrs []string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if slices.Equal(p.addrs, addrs) {
		return false
	}
	p.addrs = addrs
	for a := range p.cooling {
		if !slices.Contains(addrs, a) {
			delete(p.cooling, a)
		}
	}
	return true
}
