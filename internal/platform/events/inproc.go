package events

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/minimart/minimart/internal/platform/ids"
)

// InProc is the bus of the embedded shape: Publish calls every matching handler
// synchronously, in subscription order, and returns their errors. Behind the outbox relay
// that gives the same guarantee as the broker: an event a handler failed stays in the
// outbox and is delivered again later, with the relay's backoff (to every matching
// consumer, so handlers must be idempotent); after RelayOptions.MaxAttempts handler
// failures the relay moves it to the dead_letters table.
type InProc struct {
	log *slog.Logger

	mu     sync.RWMutex
	subs   []subscription
	closed bool
}

var _ Bus = (*InProc)(nil)

// NewInProc returns an empty in-process bus. log may be nil.
func NewInProc(log *slog.Logger) *InProc {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &InProc{log: log}
}

// Subscribe adds h for the events whose type matches one of types.
func (b *InProc) Subscribe(consumer string, types []string, h Handler) error {
	s, err := newSubscription(consumer, types, h)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.subs = append(b.subs, s)
	return nil
}

// Publish delivers each event to every matching subscriber before it returns. It returns
// nil when every handler succeeded, otherwise a *PublishError naming the events some
// handler failed; each FailedEvent.Err is the failing consumer's *HandlerError (several
// joined with errors.Join when more than one consumer failed the event). An event no one subscribed to is
// accepted, as a topic exchange without a matching binding would.
func (b *InProc) Publish(ctx context.Context, evs ...Event) error {
	b.mu.RLock()
	subs, closed := b.subs, b.closed
	b.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	attempts, _ := ctx.Value(attemptsKey{}).(map[ids.ID]int) // set by the relay
	var failed []FailedEvent
	for _, e := range evs {
		if err := ctx.Err(); err != nil {
			failed = append(failed, FailedEvent{ID: e.ID, Err: err})
			continue
		}
		if err := e.Validate(); err != nil {
			failed = append(failed, FailedEvent{ID: e.ID, Err: err})
			continue
		}
		hctx := ctx
		if n := attempts[e.ID]; n > 0 {
			hctx = withAttempt(ctx, n)
		}
		var errs []error
		for _, s := range subs {
			if !s.matches(e.Type) {
				continue
			}
			if err := s.call(hctx, e); err != nil {
				b.log.WarnContext(ctx, "event handler failed", "consumer", s.consumer,
					"event_type", e.Type, "event_id", e.ID, "attempt", Attempt(hctx), "err", err)
				errs = append(errs, &HandlerError{Consumer: s.consumer, Err: err})
			}
		}
		switch len(errs) {
		case 0:
		case 1:
			failed = append(failed, FailedEvent{ID: e.ID, Err: errs[0]})
		default:
			failed = append(failed, FailedEvent{ID: e.ID, Err: errors.Join(errs...)})
		}
	}
	if len(failed) > 0 {
		return &PublishError{Failed: failed}
	}
	return nil
}

// Start does nothing: in-process delivery needs no set-up.
func (b *InProc) Start(ctx context.Context) error { return b.Ping(ctx) }

// Ping fails only after Close.
func (b *InProc) Ping(context.Context) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	return nil
}

// Close makes further Publish and Subscribe calls fail with ErrClosed.
func (b *InProc) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}
