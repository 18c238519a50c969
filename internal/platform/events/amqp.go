package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/logging"
)

// AMQPOptions tunes an AMQP bus; zero fields take their defaults.
type AMQPOptions struct {
	// Exchange is the durable topic exchange every event is published to.
	// Default "minimart.events".
	Exchange string
	// QueuePrefix is put before the consumer name to name its durable queue.
	// Default "minimart.".
	QueuePrefix string
	// Prefetch bounds the unacknowledged messages each consumer holds. Default 32.
	Prefetch int
	// RetryBase is how long a message whose handler failed first waits in the consumer's
	// retry queue ("<queue>.retry") before it is handled again; each further failure
	// doubles the wait, up to RetryMax. Default 1s.
	RetryBase time.Duration
	// RetryMax bounds the wait in the retry queue. Default 30s.
	RetryMax time.Duration
	// MaxAttempts is how many times a message is handled: after that many failures it is
	// moved to the consumer's dead-letter queue "<queue>.dlq". Default 5.
	MaxAttempts int
	// RetryDelay is how long a failed message is held before it is returned to its queue
	// when it could not be moved to the retry or dead-letter queue (the broker did not
	// confirm the move). Default 1s.
	RetryDelay time.Duration
	// Metrics, if not nil, counts handler failures, retries and dead letters of this
	// bus's consumers.
	Metrics *Metrics
	// Tracer, if not nil, makes a consumer span for each handling of a message, a child of
	// the span that published it (its traceparent header); nil is tracing off.
	Tracer trace.Tracer
}

func (o AMQPOptions) withDefaults() AMQPOptions {
	if o.Exchange == "" {
		o.Exchange = "minimart.events"
	}
	if o.QueuePrefix == "" {
		o.QueuePrefix = "minimart."
	}
	if o.Prefetch <= 0 {
		o.Prefetch = 32
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	o.RetryMax = max(o.RetryMax, o.RetryBase)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	return o
}

// retryWait is how long a message stays in the retry queue after its n-th failure.
func (o AMQPOptions) retryWait(n int) time.Duration {
	d := o.RetryBase
	for i := 1; i < n && d < o.RetryMax; i++ {
		d *= 2
	}
	return min(d, o.RetryMax)
}

// Headers the bus sets on messages it moves to a retry or dead-letter queue.
const (
	// HeaderAttempts counts the failed tries at handling the message.
	HeaderAttempts = "x-attempts"
	// HeaderLastError is the error of the last failed try (retry queue).
	HeaderLastError = "x-last-error"
	// HeaderError is the error that dead-lettered the message.
	HeaderError = "x-error"
	// HeaderConsumer names the consumer that gave up on the message.
	HeaderConsumer = "x-consumer"
	// HeaderFailedAt is when the message was dead-lettered (RFC 3339, UTC).
	HeaderFailedAt = "x-failed-at"
	// HeaderRoutingKey keeps the routing key the message was first published with (the
	// event type), which a retried message no longer has; use it to replay a dead letter.
	HeaderRoutingKey = "x-original-routing-key"
)

// moveTimeout bounds the wait for the broker to confirm a message moved to a retry or
// dead-letter queue.
const moveTimeout = 10 * time.Second

// maxHeaderError bounds the error text carried in a header.
const maxHeaderError = 1000

// reconnectMax bounds the wait between attempts to reach the broker again.
const reconnectMax = 5 * time.Second

// AMQP is the RabbitMQ bus. Events go to a durable topic exchange with the event type as
// routing key, as persistent JSON messages, and Publish waits for the broker's publisher
// confirms. Each consumer has a durable queue QueuePrefix+consumer bound to its
// patterns; messages are acknowledged only after the handler returned nil.
//
// A message whose handler failed is republished, with publisher confirms, to the
// consumer's durable retry queue "<queue>.retry" with x-attempts incremented, x-last-error
// and an expiration of RetryBase doubled per failure up to RetryMax; when it expires the
// broker dead-letters it back to "<queue>" (and only there). The retry queue expires
// messages in order, so a retry can wait behind a longer one: never more than RetryMax.
// After MaxAttempts failures, or at once if its body is not an envelope, it is published
// to the durable "<queue>.dlq" with x-error, x-attempts, x-consumer and x-failed-at, logged
// at error level, and the consumer moves on. The original is acknowledged only after the
// broker confirmed the copy; if it did not, the original goes back to its queue after
// RetryDelay. Nothing is lost, and a message may be handled again, so handlers must be
// idempotent. A handler sees its try's number through Attempt.
//
// When the connection drops, the bus reconnects with backoff and declares its exchange,
// queues, bindings and consumers again.
type AMQP struct {
	url    string
	target string // url without credentials, for messages
	opts   AMQPOptions
	log    *slog.Logger

	mu        sync.Mutex
	conn      *amqp.Connection // nil while disconnected
	pub       *amqp.Channel    // confirm-mode channel for Publish
	consumers map[string]*amqpConsumer
	order     []string // consumer names in subscription order
	started   bool
	runCtx    context.Context // consumption lifetime: from Start, ended by its ctx or Close
	stopRun   context.CancelFunc
	closed    bool

	done    chan struct{}  // closed by Close
	wg      sync.WaitGroup // the supervisor
	running sync.WaitGroup // consume loops
}

var _ Bus = (*AMQP)(nil)

type amqpConsumer struct {
	name  string
	queue string // its retry queue is queue+".retry", its dead-letter queue queue+".dlq"

	mu   sync.RWMutex
	subs []subscription

	ch *amqp.Channel // consuming channel while running; guarded by AMQP.mu
}

// NewAMQP connects to the broker at url and declares the exchange. It fails if the broker
// cannot be reached now, so a wrong URL or password shows at start-up; later outages are
// ridden out by reconnecting. log may be nil.
func NewAMQP(rawURL string, opts AMQPOptions, log *slog.Logger) (*AMQP, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	uri, err := amqp.ParseURI(rawURL)
	if err != nil {
		return nil, fmt.Errorf("events: AMQP URL: %w", err)
	}
	b := &AMQP{
		url:       rawURL,
		target:    RedactAMQP(uri),
		opts:      opts.withDefaults(),
		log:       log,
		consumers: map[string]*amqpConsumer{},
		done:      make(chan struct{}),
	}
	conn, err := b.dial()
	if err != nil {
		return nil, fmt.Errorf("events: connect to %s: %w", b.target, err)
	}
	b.mu.Lock()
	err = b.setupLocked(conn)
	b.mu.Unlock()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("events: set up %s: %w", b.target, err)
	}
	b.wg.Add(1)
	go b.supervise(conn)
	return b, nil
}

// RedactAMQP names the broker without credentials, for logs and errors.
func RedactAMQP(uri amqp.URI) string {
	vhost := uri.Vhost
	if vhost == "/" {
		vhost = ""
	}
	return uri.Scheme + "://" + net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port)) + "/" + url.PathEscape(vhost)
}

func (b *AMQP) dial() (*amqp.Connection, error) { return DialAMQP(b.url, "minimart") }

// DialAMQP connects to the broker as clientName (shown in RabbitMQ's management UI), with
// heartbeats and a dial timeout, so a dead broker is noticed.
func DialAMQP(url, clientName string) (*amqp.Connection, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(clientName)
	return amqp.DialConfig(url, amqp.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Dial:       amqp.DefaultDial(5 * time.Second),
		Properties: props,
	})
}

// setupLocked declares the topology on a fresh connection and, once started, resumes
// every consumer. b.mu is held.
func (b *AMQP) setupLocked(conn *amqp.Connection) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	if err := ch.ExchangeDeclare(b.opts.Exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %s: %w", b.opts.Exchange, err)
	}
	if err := ch.Confirm(false); err != nil {
		return fmt.Errorf("publisher confirms: %w", err)
	}
	for _, name := range b.order {
		c := b.consumers[name]
		c.mu.RLock()
		patterns := c.patternsLocked()
		c.mu.RUnlock()
		if err := b.declare(conn, c.queue, patterns); err != nil {
			return err
		}
	}
	b.conn, b.pub = conn, ch
	// A channel error (say the exchange was deleted under us) closes the publishing
	// channel but not the connection; drop the connection so that everything is set up
	// again instead of every later Publish failing.
	pubClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if reason, ok := <-pubClosed; ok && reason != nil && !conn.IsClosed() {
			b.log.Warn("events: publishing channel closed; resetting the connection", "err", reason)
			_ = conn.Close()
		}
	}()
	for _, c := range b.consumers {
		c.ch = nil // any channel still recorded belongs to a dead connection
	}
	if b.consuming() {
		for _, name := range b.order {
			if err := b.startConsumerLocked(b.consumers[name]); err != nil {
				b.conn, b.pub = nil, nil
				return err
			}
		}
	}
	return nil
}

// consuming reports whether consumers should run now. b.mu is held.
func (b *AMQP) consuming() bool {
	return b.started && !b.closed && b.runCtx.Err() == nil
}

// declare makes queue, its retry queue and its dead-letter queue durable and binds queue
// to patterns, on a channel of its own so that a refused declaration does not close a
// channel in use.
func (b *AMQP) declare(conn *amqp.Connection, queue string, patterns []string) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close() //nolint:errcheck // a failed declaration already closed it
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare queue %s: %w", queue, err)
	}
	// Expired messages (each carries its own expiration) go back to queue through the
	// default exchange, so a retry reaches only the consumer that failed it.
	if _, err := ch.QueueDeclare(queue+".retry", true, false, false, false, amqp.Table{
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": queue,
	}); err != nil {
		return fmt.Errorf("declare queue %s.retry: %w", queue, err)
	}
	if _, err := ch.QueueDeclare(queue+".dlq", true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare queue %s.dlq: %w", queue, err)
	}
	for _, p := range patterns {
		if err := ch.QueueBind(queue, p, b.opts.Exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %s to %s: %w", queue, p, err)
		}
	}
	return nil
}

// startConsumerLocked opens c's consuming channel on the current connection. b.mu is held.
func (b *AMQP) startConsumerLocked(c *amqpConsumer) error {
	if c.ch != nil {
		return nil
	}
	conn := b.conn
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("consumer %s: open channel: %w", c.name, err)
	}
	if err := ch.Qos(b.opts.Prefetch, 0, false); err != nil {
		_ = ch.Close()
		return fmt.Errorf("consumer %s: qos: %w", c.name, err)
	}
	// Failed messages are moved to the retry and dead-letter queues on a confirming
	// channel of the consumer's own: one move at a time, so a returned (unroutable) move
	// is told apart from a confirmed one.
	mch, err := conn.Channel()
	if err != nil {
		_ = ch.Close()
		return fmt.Errorf("consumer %s: open channel: %w", c.name, err)
	}
	if err := mch.Confirm(false); err != nil {
		_, _ = ch.Close(), mch.Close()
		return fmt.Errorf("consumer %s: publisher confirms: %w", c.name, err)
	}
	mv := &mover{ch: mch, returns: mch.NotifyReturn(make(chan amqp.Return, 4))}
	deliveries, err := ch.Consume(c.queue, "", false, false, false, false, nil)
	if err != nil {
		_, _ = ch.Close(), mch.Close()
		return fmt.Errorf("consumer %s: consume %s: %w", c.name, c.queue, err)
	}
	c.ch = ch
	b.running.Add(1)
	go b.consume(b.runCtx, conn, ch, mv, c, deliveries)
	return nil
}

// Subscribe registers h for the event types matching types under consumer. The queue and
// its bindings are declared at once (when connected), so events published from now on
// wait in the queue even before Start.
func (b *AMQP) Subscribe(consumer string, types []string, h Handler) error {
	s, err := newSubscription(consumer, types, h)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	c, existed := b.consumers[consumer]
	if !existed {
		c = &amqpConsumer{name: consumer, queue: b.opts.QueuePrefix + consumer}
		b.consumers[consumer] = c
		b.order = append(b.order, consumer)
		b.opts.Metrics.consumerStarted(consumer)
	}
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	if b.conn == nil {
		return nil // declared when the connection is back
	}
	err = b.declare(b.conn, c.queue, s.patterns)
	if err == nil && b.consuming() {
		err = b.startConsumerLocked(c)
	}
	if err != nil {
		// Undo, so that a failed Subscribe leaves no handler behind.
		c.mu.Lock()
		c.subs = c.subs[:len(c.subs)-1]
		c.mu.Unlock()
		if !existed {
			delete(b.consumers, consumer)
			b.order = b.order[:len(b.order)-1]
		}
		return fmt.Errorf("events: subscribe %s: %w", consumer, err)
	}
	return nil
}

// Start begins consuming for every subscription. ctx bounds consumption: handlers get a
// context derived from it, and consumers stop when it is done (Close stops them too).
func (b *AMQP) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.started {
		return errors.New("events: AMQP bus already started")
	}
	b.started = true
	b.runCtx, b.stopRun = context.WithCancel(ctx)
	if b.conn == nil {
		return nil // consumers start when the connection is back
	}
	for _, name := range b.order {
		if err := b.startConsumerLocked(b.consumers[name]); err != nil {
			return fmt.Errorf("events: start: %w", err)
		}
	}
	return nil
}

// Ping reports whether the broker connection is up.
func (b *AMQP) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.conn == nil || b.conn.IsClosed() {
		return ErrNotConnected
	}
	return nil
}

// Close stops the consumers, waits for running handlers and closes the connection.
// Unacknowledged messages go back to their queues.
func (b *AMQP) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	if b.stopRun != nil {
		b.stopRun()
	}
	conn := b.conn
	b.conn, b.pub = nil, nil
	b.mu.Unlock()
	close(b.done)

	// Handlers see their context cancelled. Consumers finish the message in hand, ack it
	// and close their channels, returning prefetched messages, before the connection goes.
	b.running.Wait()
	var err error
	if conn != nil {
		if err = conn.Close(); errors.Is(err, amqp.ErrClosed) {
			err = nil
		}
	}
	b.wg.Wait()
	return err
}

// Publish sends evs and waits for the broker to confirm each. It returns nil only if all
// were confirmed; a *PublishError if some were not; an error wrapping ErrNotConnected if
// none could be sent because the connection is down.
func (b *AMQP) Publish(ctx context.Context, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	b.mu.Lock()
	conn, ch, closed := b.conn, b.pub, b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if ch == nil || conn.IsClosed() {
		return ErrNotConnected
	}
	var failed []FailedEvent
	confirms := make([]*amqp.DeferredConfirmation, len(evs))
	for i, e := range evs {
		if err := e.Validate(); err != nil {
			failed = append(failed, FailedEvent{ID: e.ID, Err: err})
			continue
		}
		body, err := json.Marshal(e)
		if err != nil {
			failed = append(failed, FailedEvent{ID: e.ID, Err: err})
			continue
		}
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, b.opts.Exchange, e.Type, false, false, amqp.Publishing{
			Headers:      originHeaders(e.Origin),
			ContentType:  "application/json",
			DeliveryMode: amqp.Persistent,
			MessageId:    e.ID.String(),
			Timestamp:    e.OccurredAt,
			Type:         e.Type,
			Body:         body,
		})
		if err != nil {
			failed = append(failed, FailedEvent{ID: e.ID, Err: err})
			continue
		}
		confirms[i] = dc
	}
	for i, dc := range confirms {
		if dc == nil {
			continue
		}
		ok, err := dc.WaitContext(ctx)
		switch {
		case err != nil:
			failed = append(failed, FailedEvent{ID: evs[i].ID, Err: err})
		case !ok:
			failed = append(failed, FailedEvent{ID: evs[i].ID, Err: ErrNacked})
		}
	}
	if len(failed) == 0 {
		return nil
	}
	if len(failed) == len(evs) && (ch.IsClosed() || conn.IsClosed() || errors.Is(failed[0].Err, amqp.ErrClosed)) {
		return fmt.Errorf("%w: %w", ErrNotConnected, failed[0].Err)
	}
	return &PublishError{Failed: failed}
}

// supervise waits for the connection to drop and brings it back, until Close.
func (b *AMQP) supervise(conn *amqp.Connection) {
	defer b.wg.Done()
	for {
		lost := conn.NotifyClose(make(chan *amqp.Error, 1))
		var reason *amqp.Error
		select {
		case <-b.done:
			return
		case reason = <-lost:
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return
		}
		b.conn, b.pub = nil, nil
		for _, c := range b.consumers {
			c.ch = nil
		}
		b.mu.Unlock()
		if reason != nil {
			b.log.Warn("events: lost RabbitMQ connection, reconnecting", "target", b.target, "err", reason)
		} else {
			b.log.Warn("events: RabbitMQ connection closed, reconnecting", "target", b.target)
		}
		if conn = b.reconnect(); conn == nil {
			return
		}
	}
}

// reconnect dials with backoff until the topology is set up again; nil after Close.
func (b *AMQP) reconnect() *amqp.Connection {
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(Backoff(attempt, 100*time.Millisecond, reconnectMax))
		select {
		case <-b.done:
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := b.dial()
		if err != nil {
			b.log.Warn("events: RabbitMQ still unreachable", "target", b.target, "attempt", attempt, "err", err)
			continue
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			_ = conn.Close()
			return nil
		}
		err = b.setupLocked(conn)
		b.mu.Unlock()
		if err != nil {
			_ = conn.Close()
			b.log.Warn("events: RabbitMQ set-up failed", "target", b.target, "attempt", attempt, "err", err)
			continue
		}
		b.log.Info("events: reconnected to RabbitMQ", "target", b.target, "attempts", attempt)
		return conn
	}
}

// consume handles c's deliveries on ch one at a time until the channel closes or ctx ends.
// Failed messages are moved through mv.
func (b *AMQP) consume(ctx context.Context, conn *amqp.Connection, ch *amqp.Channel, mv *mover, c *amqpConsumer, deliveries <-chan amqp.Delivery) {
	defer b.running.Done()
	defer mv.ch.Close() //nolint:errcheck // closed with the connection already, perhaps
	moverClosed := mv.ch.NotifyClose(make(chan *amqp.Error, 1))
	var tmu sync.Mutex
	requeues := map[uint64]*time.Timer{}
	defer func() {
		tmu.Lock()
		for _, t := range requeues {
			t.Stop() // the channel is closing: the broker requeues them itself
		}
		tmu.Unlock()
	}()
	requeueLater := func(d amqp.Delivery) {
		tag := d.DeliveryTag
		tmu.Lock()
		requeues[tag] = time.AfterFunc(b.opts.RetryDelay, func() {
			tmu.Lock()
			delete(requeues, tag)
			tmu.Unlock()
			_ = d.Nack(false, true) // if the channel is gone, the broker requeued it already
		})
		tmu.Unlock()
	}
loop:
	for {
		var d amqp.Delivery
		var ok bool
		select {
		case <-ctx.Done():
			b.stopConsumer(c, ch)
			return
		case <-moverClosed:
			// Failed messages could no longer be moved: set everything up again.
			break loop
		case d, ok = <-deliveries:
		}
		if !ok {
			break
		}
		b.process(ctx, conn, c, mv, d, requeueLater)
	}
	// The channel closed under us. If the connection went, the supervisor reconnects;
	// otherwise the channel failed alone (say the queue was deleted), and dropping the
	// connection makes the supervisor set everything up again.
	if ctx.Err() != nil {
		b.stopConsumer(c, ch)
		return
	}
	b.mu.Lock()
	if c.ch == ch {
		c.ch = nil
	}
	b.mu.Unlock()
	if !conn.IsClosed() {
		b.log.Warn("events: consumer channel closed; resetting the connection", "consumer", c.name)
		_ = conn.Close()
	}
}

func (b *AMQP) stopConsumer(c *amqpConsumer, ch *amqp.Channel) {
	b.mu.Lock()
	if c.ch == ch {
		c.ch = nil
	}
	b.mu.Unlock()
	_ = ch.Close()
}

// process handles one delivery and settles it: acknowledged once handled, or once a copy
// is safely in the retry or dead-letter queue; requeued after RetryDelay if the copy could
// not be made; left unacknowledged (and so returned by the broker) if ctx ended.
func (b *AMQP) process(ctx context.Context, conn *amqp.Connection, c *amqpConsumer, mv *mover, d amqp.Delivery, requeueLater func(amqp.Delivery)) {
	failures := headerInt(d.Headers, HeaderAttempts)
	e, err := Decode(d.Body)
	if err != nil {
		b.giveUp(conn, c, mv, d, failures+1, err, requeueLater)
		return
	}
	e.Origin = originOf(d.Headers)
	hctx, end := startConsumer(withAttempt(ctx, failures+1), b.opts.Tracer, c.name, e)
	err = b.handle(hctx, c, e)
	end(err)
	if err == nil {
		b.opts.Metrics.observeConsumerLag(c.name, e.OccurredAt)
		b.ack(c, d)
		return
	}
	if ctx.Err() != nil {
		return // stopping: not the handler's fault; the message goes back when the channel closes
	}
	n := failures + 1
	b.opts.Metrics.incFailure(c.name)
	if n >= b.opts.MaxAttempts {
		b.giveUp(conn, c, mv, d, n, err, requeueLater)
		return
	}
	wait := b.opts.retryWait(n)
	h := carriedHeaders(d)
	h[HeaderAttempts] = int32(n)
	h[HeaderLastError] = clip.Bytes(err.Error(), maxHeaderError)
	p := forward(d, h)
	p.Expiration = strconv.FormatInt(max(wait.Milliseconds(), 1), 10)
	if err := b.move(conn, c, mv, c.queue+".retry", p); err != nil {
		b.log.WarnContext(hctx, "events: handler failed and the message could not be moved to the retry queue; requeued",
			"consumer", c.name, "event_type", e.Type, "event_id", e.ID, "attempt", n,
			"retry_in", b.opts.RetryDelay, "err", err)
		requeueLater(d)
		return
	}
	b.opts.Metrics.incRetried(c.name)
	b.log.WarnContext(hctx, "events: handler failed; message will be retried", "consumer", c.name,
		"event_type", e.Type, "event_id", e.ID, "attempt", n, "retry_in", wait, "err", err)
	b.ack(c, d)
}

// giveUp moves d to c's dead-letter queue with the reason, then acknowledges it.
func (b *AMQP) giveUp(conn *amqp.Connection, c *amqpConsumer, mv *mover, d amqp.Delivery, attempts int, cause error, requeueLater func(amqp.Delivery)) {
	h := carriedHeaders(d)
	h[HeaderAttempts] = int32(attempts)
	h[HeaderError] = clip.Bytes(cause.Error(), maxHeaderError)
	h[HeaderConsumer] = c.name
	h[HeaderFailedAt] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := b.move(conn, c, mv, c.queue+".dlq", forward(d, h)); err != nil {
		b.log.Warn("events: message could not be moved to the dead-letter queue; requeued",
			"consumer", c.name, "message_id", d.MessageId, "retry_in", b.opts.RetryDelay, "err", err)
		requeueLater(d)
		return
	}
	b.opts.Metrics.incDeadLettered(c.name)
	b.log.ErrorContext(originOf(d.Headers).Context(context.Background()), "events: message dead-lettered", "consumer", c.name, "queue", c.queue+".dlq",
		"message_id", d.MessageId, "routing_key", h[HeaderRoutingKey], "attempts", attempts, "err", cause)
	b.ack(c, d)
}

func (b *AMQP) ack(c *amqpConsumer, d amqp.Delivery) {
	if err := d.Ack(false); err != nil {
		b.log.Warn("events: ack failed; the message will be delivered again",
			"consumer", c.name, "message_id", d.MessageId, "err", err)
	}
}

// move publishes p to queue through mv. An unroutable message means the queue is gone:
// its topology is declared again before the error is returned.
func (b *AMQP) move(conn *amqp.Connection, c *amqpConsumer, mv *mover, queue string, p amqp.Publishing) error {
	err := mv.publish(queue, p)
	if errors.Is(err, errUnroutable) {
		c.mu.RLock()
		patterns := c.patternsLocked()
		c.mu.RUnlock()
		if derr := b.declare(conn, c.queue, patterns); derr != nil {
			b.log.Warn("events: declaring the queues again failed", "consumer", c.name, "err", derr)
		}
	}
	return err
}

// errUnroutable is a moved message the broker returned: its queue does not exist.
var errUnroutable = errors.New("events: no such queue")

// mover publishes one message at a time, mandatory and confirmed, on a channel of its own.
type mover struct {
	ch      *amqp.Channel
	returns chan amqp.Return
}

func (m *mover) publish(queue string, p amqp.Publishing) error {
	m.drain() // returns of earlier moves that timed out
	// Not cancelled by shutdown: a move the broker confirms must be followed by the ack.
	ctx, cancel := context.WithTimeout(context.Background(), moveTimeout)
	defer cancel()
	dc, err := m.ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false, p)
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(ctx)
	switch {
	case err != nil:
		return err
	case !ok:
		return ErrNacked
	}
	// The broker sends basic.return before the confirm, and the client hands it over
	// before it completes the confirmation.
	if m.drain() {
		return fmt.Errorf("%w: %s", errUnroutable, queue)
	}
	return nil
}

// drain empties the returns channel and reports whether anything was returned.
func (m *mover) drain() bool {
	returned := false
	for {
		select {
		case _, ok := <-m.returns:
			if !ok {
				return returned
			}
			returned = true
		default:
			return returned
		}
	}
}

// forward is a copy of d to publish again, persistent, with headers h.
func forward(d amqp.Delivery, h amqp.Table) amqp.Publishing {
	return amqp.Publishing{
		Headers:         h,
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		Priority:        d.Priority,
		CorrelationId:   d.CorrelationId,
		ReplyTo:         d.ReplyTo,
		MessageId:       d.MessageId,
		Timestamp:       d.Timestamp,
		Type:            d.Type,
		AppId:           d.AppId,
		Body:            d.Body,
	}
}

// carriedHeaders are d's headers without the broker's dead-lettering bookkeeping, plus
// the original routing key.
func carriedHeaders(d amqp.Delivery) amqp.Table {
	h := amqp.Table{}
	for k, v := range d.Headers {
		if k == "x-death" || strings.HasPrefix(k, "x-first-death-") || strings.HasPrefix(k, "x-last-death-") {
			continue
		}
		h[k] = v
	}
	if _, ok := h[HeaderRoutingKey].(string); !ok {
		h[HeaderRoutingKey] = d.RoutingKey
	}
	return h
}

// originHeaders are the message headers that carry o; nil when it is empty.
func originHeaders(o Origin) amqp.Table {
	if o == (Origin{}) {
		return nil
	}
	h := amqp.Table{}
	if o.TraceParent != "" {
		h[HeaderTraceParent] = o.TraceParent
	}
	if o.RequestID != "" {
		h[HeaderRequestID] = o.RequestID
	}
	return h
}

// originOf reads an event's origin from its message's headers.
func originOf(h amqp.Table) Origin {
	var o Origin
	// Headers come from whoever can publish to the broker and go into outbox and delivery
	// rows: a traceparent is kept as re-formatted from what it parses to, a request id only
	// if valid; anything else is dropped.
	if tp, _ := h[HeaderTraceParent].(string); tp != "" {
		ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{HeaderTraceParent: tp})
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			o.TraceParent = traceParent(sc)
		}
	}
	if rid, _ := h[HeaderRequestID].(string); logging.ValidRequestID(rid) {
		o.RequestID = rid
	}
	return o
}

// headerInt reads a non-negative integer header; 0 if absent or not a number.
func headerInt(h amqp.Table, key string) int {
	var n int64
	switch v := h[key].(type) {
	case int8:
		n = int64(v)
	case int16:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case int:
		n = int64(v)
	case uint8:
		n = int64(v)
	case uint16:
		n = int64(v)
	case uint32:
		n = int64(v)
	case string:
		n, _ = strconv.ParseInt(v, 10, 32)
	}
	return int(min(max(n, 0), 1<<30))
}

// handle runs every matching handler of c on e; their errors are joined.
func (b *AMQP) handle(ctx context.Context, c *amqpConsumer, e Event) error {
	c.mu.RLock()
	subs := c.subs
	c.mu.RUnlock()
	matched, err := callMatching(ctx, subs, e)
	if !matched {
		// A binding left from an earlier subscription; no handler of this process wants it.
		b.log.WarnContext(ctx, "events: no handler for event; acknowledged", "consumer", c.name,
			"event_type", e.Type, "event_id", e.ID)
		return nil
	}
	return err
}

func (c *amqpConsumer) patternsLocked() []string {
	var out []string
	for _, s := range c.subs {
		for _, p := range s.patterns {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}
