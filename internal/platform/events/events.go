// Package events is the seam every module publishes through. A module writes its events
// to the outbox in the same transaction as the state change (Outbox.Write); a Relay
// publishes them to a Bus — InProc in the embedded shape, AMQP (RabbitMQ) in production —
// and marks them published only once the bus has accepted them. Delivery is
// at-least-once, so every Handler must be idempotent.
//
// Each consumer has a queue of its own, so that one that is slow or failing holds up no
// other: on RabbitMQ a durable queue with a retry and a dead-letter queue beside it; in
// process a row per (consumer, event) in the event_deliveries table, which the consumer's
// worker claims in event order, deletes once handled, retries with backoff and, after
// InProcOptions.MaxAttempts failures, moves to dead_letters. The relay's publish to InProc
// inserts those rows, ignoring any already there, and only then marks the outbox row
// published; a crash between the two publishes the event again, and a delivery still
// waiting is not queued twice. Per-consumer rows rather than a per-consumer cursor over
// the outbox: event ids are taken before the transaction commits, so a cursor could pass
// an event that commits after a later one, and retries and dead letters need a record
// per consumer and event anyway.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
)

// Event is the envelope every message travels in. Its JSON form is the message body on
// the broker and the payload column of the outbox.
type Event struct {
	ID         ids.ID          `json:"id"`
	Type       string          `json:"type"`        // e.g. "user.registered"; the routing key
	OccurredAt time.Time       `json:"occurred_at"` // UTC
	Key        string          `json:"key"`         // aggregate id
	Version    int             `json:"version"`     // payload schema version, starts at 1
	Payload    json.RawMessage `json:"payload"`
	// Origin is the request and trace that caused the event, carried beside the envelope
	// (see Origin). Outbox.Write sets it from its context when it is empty.
	Origin Origin `json:"-"`
}

// maxTypeLen bounds an event type so it fits the outbox column and an AMQP routing key.
const maxTypeLen = 191

// maxKeyLen bounds the aggregate key so it fits the outbox column.
const maxKeyLen = 191

// New makes an event of version 1 that occurred now, with payload marshalled to JSON.
func New(id ids.ID, typ, key string, payload any) (Event, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("event %s: marshal payload: %w", typ, err)
	}
	ev := Event{ID: id, Type: typ, OccurredAt: time.Now().UTC(), Key: key, Version: 1, Payload: raw}
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Validate reports whether the envelope can be stored and routed: a positive id, a type
// made of dot-separated words without wildcards, a time, a version of at least 1 and a
// JSON payload.
func (e Event) Validate() error {
	if e.ID <= 0 {
		return fmt.Errorf("event %q: id must be positive", e.Type)
	}
	if err := validType(e.Type); err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	if len(e.Key) > maxKeyLen {
		return fmt.Errorf("event %s: key longer than %d bytes", e.ID, maxKeyLen)
	}
	if e.OccurredAt.IsZero() {
		return fmt.Errorf("event %s: occurred_at is missing", e.ID)
	}
	if e.Version < 1 {
		return fmt.Errorf("event %s: version must be at least 1", e.ID)
	}
	if len(e.Payload) == 0 || !json.Valid(e.Payload) {
		return fmt.Errorf("event %s: payload is not JSON", e.ID)
	}
	return nil
}

func validType(t string) error {
	if t == "" {
		return errors.New("type is empty")
	}
	if len(t) > maxTypeLen {
		return fmt.Errorf("type longer than %d bytes", maxTypeLen)
	}
	for _, w := range strings.Split(t, ".") {
		if w == "" {
			return fmt.Errorf("type %q has an empty word", t)
		}
		if strings.ContainsAny(w, "*#") {
			return fmt.Errorf("type %q contains a wildcard", t)
		}
	}
	return nil
}

// Decode reads an envelope from a message body and validates it. It is the parser for
// everything that arrives from the broker.
func Decode(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	e.OccurredAt = e.OccurredAt.UTC()
	return e, nil
}

// Handler consumes one event. It must be idempotent: an event can arrive more than once.
// Returning an error asks for the event again later, for this consumer only.
type Handler func(ctx context.Context, e Event) error

// Publisher sends events. Publish returns nil only once every event has been accepted:
// confirmed by the broker, or recorded durably for every matching in-process consumer.
// When only some were accepted it returns a *PublishError naming the others. Accepted is
// not handled: each consumer is then given the event, retried and dead-lettered by the bus.
type Publisher interface {
	Publish(ctx context.Context, evs ...Event) error
}

// Subscriber registers handlers. consumer is the consuming module's name: each consumer
// gets every matching event once (on RabbitMQ, through its own durable queue). types are
// AMQP topic patterns: words separated by ".", "*" matches exactly one word and "#" zero
// or more ("catalog.#").
type Subscriber interface {
	Subscribe(consumer string, types []string, h Handler) error
}

// Bus is a Publisher and Subscriber with a life cycle. Subscriptions made before Start
// begin consuming at Start; later ones begin at once.
type Bus interface {
	Publisher
	Subscriber
	Start(ctx context.Context) error
	Ping(ctx context.Context) error
	Close() error
}

var (
	// ErrClosed is returned by a bus used after Close.
	ErrClosed = errors.New("events: bus closed")
	// ErrNotConnected is returned while the broker connection is down.
	ErrNotConnected = errors.New("events: not connected to the broker")
	// ErrNacked is the reason for an event the broker refused to accept.
	ErrNacked = errors.New("events: broker did not confirm the event")
)

// PublishError reports the events of one Publish call that were not accepted; every other
// event of the call was. The relay uses it to mark the accepted ones published.
type PublishError struct {
	Failed []FailedEvent
}

// FailedEvent is one event that was not accepted and why.
type FailedEvent struct {
	ID  ids.ID
	Err error
}

func (e *PublishError) Error() string {
	if len(e.Failed) == 1 {
		return fmt.Sprintf("event %s not accepted: %v", e.Failed[0].ID, e.Failed[0].Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d events not accepted", len(e.Failed))
	for i, f := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; %s: %v", f.ID, f.Err)
	}
	return b.String()
}

// Unwrap gives the reasons, so errors.Is finds a handler's error.
func (e *PublishError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Err
	}
	return out
}

type attemptKey struct{}

// Attempt is the 1-based number of this try at handling the event, as a Handler sees it
// in its context: 1 the first time, n+1 after n failures of the consumer (on RabbitMQ
// counted in the message's x-attempts header, in process in the consumer's delivery row).
// It is 1 when the bus does not know.
func Attempt(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok && n > 0 {
		return n
	}
	return 1
}

func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// subscription is one Subscribe call.
type subscription struct {
	consumer string
	patterns []string
	h        Handler
}

func newSubscription(consumer string, types []string, h Handler) (subscription, error) {
	if consumer == "" {
		return subscription{}, errors.New("events: subscribe: consumer name is empty")
	}
	if strings.ContainsAny(consumer, " \t\r\n") || len(consumer) > 100 {
		return subscription{}, fmt.Errorf("events: subscribe: bad consumer name %q", consumer)
	}
	if h == nil {
		return subscription{}, fmt.Errorf("events: subscribe %s: nil handler", consumer)
	}
	if len(types) == 0 {
		return subscription{}, fmt.Errorf("events: subscribe %s: no event types", consumer)
	}
	for _, p := range types {
		if p == "" || len(p) > 255 {
			return subscription{}, fmt.Errorf("events: subscribe %s: bad pattern %q", consumer, p)
		}
		for _, w := range strings.Split(p, ".") {
			if w == "" || (len(w) > 1 && strings.ContainsAny(w, "*#")) {
				return subscription{}, fmt.Errorf("events: subscribe %s: bad pattern %q", consumer, p)
			}
		}
	}
	return subscription{consumer: consumer, patterns: append([]string(nil), types...), h: h}, nil
}

func (s subscription) matches(typ string) bool {
	for _, p := range s.patterns {
		if matchTopic(p, typ) {
			return true
		}
	}
	return false
}

// call runs the handler, turning a panic into an error so that one bad handler neither
// kills the process nor loses the event.
// callMatching runs every subscription in subs that matches e and joins their errors;
// matched is false when none did.
func callMatching(ctx context.Context, subs []subscription, e Event) (matched bool, err error) {
	var errs []error
	for _, s := range subs {
		if !s.matches(e.Type) {
			continue
		}
		matched = true
		if err := s.call(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	return matched, errors.Join(errs...)
}

func (s subscription) call(ctx context.Context, e Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return s.h(ctx, e)
}

// matchTopic reports whether routing key key matches AMQP topic pattern pattern.
func matchTopic(pattern, key string) bool {
	return matchWords(strings.Split(pattern, "."), strings.Split(key, "."))
}

func matchWords(p, k []string) bool {
	for len(p) > 0 {
		switch p[0] {
		case "#":
			// Collapse consecutive "#"; then try every split point.
			rest := p[1:]
			for len(rest) > 0 && rest[0] == "#" {
				rest = rest[1:]
			}
			if len(rest) == 0 {
				return true
			}
			for i := 0; i <= len(k); i++ {
				if matchWords(rest, k[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(k) == 0 {
				return false
			}
		default:
			if len(k) == 0 || k[0] != p[0] {
				return false
			}
		}
		p, k = p[1:], k[1:]
	}
	return len(k) == 0
}
