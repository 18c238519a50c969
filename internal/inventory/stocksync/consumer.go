package stocksync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
)

// DefaultQueue is the seed's queue name.
const DefaultQueue = "inventory_update"

// DeadLetterSuffix is appended to the queue name to name its dead-letter queue.
const DeadLetterSuffix = ".dlq"

// Headers of a dead-lettered message, besides the ones it came with.
const (
	// HeaderError says why the message was refused.
	HeaderError = "x-error"
	// HeaderErrorCode is the stable code of the refusal ("invalid_message", "sku_not_found", …).
	HeaderErrorCode = "x-error-code"
	// HeaderFailedAt is when it was refused (RFC 3339, UTC).
	HeaderFailedAt = "x-failed-at"
	// HeaderQueue is the queue it was taken from.
	HeaderQueue = "x-original-queue"
)

// CodeInvalidMessage is the x-error-code of a message Parse refused.
const CodeInvalidMessage = "invalid_message"

const (
	prefetch = 32
	// reconnectMax bounds the wait between attempts to reach the broker again.
	reconnectMax = 5 * time.Second
	// retryBase and retryMax bound the wait before a message that failed for a passing
	// reason (a database outage) goes back to the queue; the wait doubles while failures
	// follow each other.
	retryBase = 200 * time.Millisecond
	retryMax  = 5 * time.Second
	// handleTimeout bounds the handling of one message, its dead-lettering included.
	handleTimeout = 30 * time.Second
	// maxHeaderError bounds the x-error header (bytes).
	maxHeaderError = 1024
)

// ErrNotConnected is Ping's answer while the consumer is not consuming.
var ErrNotConnected = errors.New("stocksync: not connected to RabbitMQ")

// Outcomes counted by the messages metric.
const (
	resultApplied      = "applied"
	resultStale        = "stale"
	resultDeadLettered = "dead_lettered"
	resultRetried      = "retried"
)

// Consumer applies inventory_update messages from a durable RabbitMQ queue, one at a time
// in queue order. A message is acknowledged only after its change committed (or it was
// found stale). A message that can never apply (malformed, oversized, unknown SKU, stock
// out of range, a product with several SKUs…) is copied with the reason to the durable
// dead-letter queue <queue>.dlq, under publisher confirms, and only then acknowledged.
// Any other failure (a database outage) returns the message to the queue after a short,
// bounded delay: no message is dropped. When the connection drops, the consumer
// reconnects with backoff and declares its queues again.
type Consumer struct {
	url     string
	target  string // url without credentials, for messages
	queue   string
	dlq     string
	svc     *inventory.Service
	log     *slog.Logger
	results *prometheus.CounterVec

	mu      sync.Mutex
	running bool
	conn    *amqp.Connection // while consuming
}

// New checks the broker at url (it must be reachable now, so that a wrong URL or password
// shows at start-up), declares queue (DefaultQueue when empty) and its dead-letter queue,
// both durable, and returns a consumer; Run consumes. reg, when not nil, gets the counter
// minimart_inventory_sync_messages_total{queue, result} with result applied, stale,
// dead_lettered or retried. log may be nil.
func New(rawURL, queue string, svc *inventory.Service, log *slog.Logger, reg prometheus.Registerer) (*Consumer, error) {
	if svc == nil {
		return nil, errors.New("stocksync: no inventory service")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if queue == "" {
		queue = DefaultQueue
	}
	if len(queue)+len(DeadLetterSuffix) > 255 || strings.HasPrefix(queue, "amq.") || !utf8.ValidString(queue) {
		return nil, fmt.Errorf("stocksync: queue name %q: want at most %d bytes of UTF-8, not starting with \"amq.\"",
			queue, 255-len(DeadLetterSuffix))
	}
	uri, err := amqp.ParseURI(rawURL)
	if err != nil {
		return nil, fmt.Errorf("stocksync: AMQP URL: %w", err)
	}
	c := &Consumer{
		url:    rawURL,
		target: events.RedactAMQP(uri),
		queue:  queue,
		dlq:    queue + DeadLetterSuffix,
		svc:    svc,
		log:    log.With("queue", queue),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minimart_inventory_sync_messages_total",
			Help: "inventory_update messages by outcome: applied, stale (older than what was applied; ignored), " +
				"dead_lettered (refused and copied with the reason to the dead-letter queue) or retried " +
				"(returned to the queue after a passing failure).",
			ConstLabels: prometheus.Labels{"queue": queue},
		}, []string{"result"}),
	}
	for _, r := range []string{resultApplied, resultStale, resultDeadLettered, resultRetried} {
		c.results.WithLabelValues(r)
	}
	conn, err := events.DialAMQP(c.url, "minimart-stocksync")
	if err != nil {
		return nil, fmt.Errorf("stocksync: connect to %s: %w", c.target, err)
	}
	defer conn.Close() //nolint:errcheck // only a check; Run connects for itself
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("stocksync: open channel on %s: %w", c.target, err)
	}
	if err := c.declare(ch); err != nil {
		return nil, err
	}
	if reg != nil {
		if err := reg.Register(c.results); err != nil {
			return nil, fmt.Errorf("stocksync: register metrics: %w", err)
		}
	}
	return c, nil
}

// declare makes the queue and its dead-letter queue, both durable and without arguments,
// so that a producer declaring the queue durable agrees with us.
func (c *Consumer) declare(ch *amqp.Channel) error {
	for _, q := range []string{c.dlq, c.queue} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			return fmt.Errorf("stocksync: declare queue %s (durable, no arguments) on %s: %w", q, c.target, err)
		}
	}
	return nil
}

// Ping reports whether the consumer is connected and consuming.
func (c *Consumer) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil || c.conn.IsClosed() {
		return ErrNotConnected
	}
	return nil
}

// Run consumes until ctx ends, reconnecting with backoff whenever the broker is lost. It
// returns nil after ctx ended and the message in hand was finished (prefetched ones go
// back to the queue), or an error if the consumer is already running.
func (c *Consumer) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("stocksync: consumer already running")
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil
		}
		conn, err := events.DialAMQP(c.url, "minimart-stocksync")
		if err == nil {
			var consumed bool
			consumed, err = c.session(ctx, conn)
			if ctx.Err() != nil {
				return nil
			}
			if consumed {
				attempt = 1 // it worked for a while: start the backoff again
			}
		}
		c.log.WarnContext(ctx, "stocksync: RabbitMQ connection lost or refused; reconnecting", "target", c.target,
			"attempt", attempt, "err", err)
		sleep(ctx, events.Backoff(attempt, 100*time.Millisecond, reconnectMax))
	}
}

// session sets up on conn and consumes until the connection or a channel fails or ctx
// ends; consumed says whether it got as far as consuming. It closes conn.
func (c *Consumer) session(ctx context.Context, conn *amqp.Connection) (consumed bool, err error) {
	defer conn.Close() //nolint:errcheck // closing is all that is left to do
	ch, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("open channel: %w", err)
	}
	if err := c.declare(ch); err != nil {
		return false, err
	}
	pub, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("open publishing channel: %w", err)
	}
	if err := pub.Confirm(false); err != nil {
		return false, fmt.Errorf("publisher confirms: %w", err)
	}
	returns := pub.NotifyReturn(make(chan amqp.Return, 1))
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return false, fmt.Errorf("qos: %w", err)
	}
	deliveries, err := ch.Consume(c.queue, "", false, false, false, false, nil)
	if err != nil {
		return false, fmt.Errorf("consume %s: %w", c.queue, err)
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
	}()
	c.log.InfoContext(ctx, "stocksync: consuming", "target", c.target, "dead_letter_queue", c.dlq)
	h := &handler{c: c, pub: pub, returns: returns}
	for {
		select {
		case <-ctx.Done():
			// Closing the channel returns the prefetched, unacknowledged messages.
			_ = ch.Close()
			return true, nil
		case d, ok := <-deliveries:
			if !ok {
				return true, errors.New("the consuming channel closed")
			}
			if err := h.handle(ctx, d); err != nil {
				return true, err
			}
		}
	}
}

// handler handles the deliveries of one session, one at a time.
type handler struct {
	c       *Consumer
	pub     *amqp.Channel // confirm mode, for the dead-letter queue
	returns chan amqp.Return
	// failures counts passing failures in a row, for the retry delay.
	failures int
}

// handle applies one message and settles it: ack, dead-letter then ack, or requeue. An
// error means the session must start again (the publishing channel is gone).
func (h *handler) handle(ctx context.Context, d amqp.Delivery) error {
	c := h.c
	// The change in hand finishes even when Run is stopping, so that it is acknowledged.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handleTimeout)
	defer cancel()
	u, err := Parse(d.Body)
	applied := false
	if err == nil {
		applied, err = c.svc.Sync(hctx, u.Input())
	}
	if err != nil && !permanent(err) {
		return h.retry(ctx, d, err)
	}
	if err != nil {
		code, reason := describe(err)
		if dlErr := h.deadLetter(hctx, d, code, reason); dlErr != nil {
			if h.pub.IsClosed() {
				return fmt.Errorf("dead-letter %s: %w", c.dlq, dlErr)
			}
			return h.retry(ctx, d, dlErr)
		}
		c.log.WarnContext(ctx, "stocksync: message refused; moved to the dead-letter queue", "dead_letter_queue", c.dlq,
			"message_id", d.MessageId, "bytes", len(d.Body), "code", code, "reason", reason)
	}
	h.failures = 0
	if ackErr := d.Ack(false); ackErr != nil {
		// The broker delivers it again; a versioned update is then stale.
		c.log.WarnContext(ctx, "stocksync: ack failed; the message will be delivered again", "message_id", d.MessageId, "err", ackErr)
	}
	switch {
	case err != nil:
		c.results.WithLabelValues(resultDeadLettered).Inc()
	case applied:
		c.results.WithLabelValues(resultApplied).Inc()
		c.log.DebugContext(ctx, "stocksync: applied", "message_id", d.MessageId, "update", u)
	default:
		c.results.WithLabelValues(resultStale).Inc()
		c.log.DebugContext(ctx, "stocksync: stale update ignored", "message_id", d.MessageId, "update", u)
	}
	return nil
}

// retry returns d to its queue after a delay that grows while failures follow each other.
// Waiting here holds back the messages behind it, which is what a database outage calls
// for. If ctx ends meanwhile, closing the channel returns d instead.
func (h *handler) retry(ctx context.Context, d amqp.Delivery, cause error) error {
	h.failures++
	delay := events.Backoff(h.failures, retryBase, retryMax)
	h.c.log.WarnContext(ctx, "stocksync: message failed; returning it to the queue", "message_id", d.MessageId,
		"redelivered", d.Redelivered, "retry_in", delay, "err", cause)
	sleep(ctx, delay)
	if ctx.Err() != nil {
		return nil
	}
	if err := d.Nack(false, true); err != nil {
		return fmt.Errorf("requeue: %w", err) // the channel is gone; the broker requeues it itself
	}
	h.c.results.WithLabelValues(resultRetried).Inc()
	return nil
}

// deadLetter copies d to the dead-letter queue with the reason and waits for the broker
// to confirm it. The message is mandatory, so a missing dead-letter queue is an error
// (and the queue is declared again) rather than a silent loss.
func (h *handler) deadLetter(ctx context.Context, d amqp.Delivery, code, reason string) error {
	c := h.c
	headers := amqp.Table{}
	for k, v := range d.Headers {
		headers[k] = v
	}
	headers[HeaderError] = reason
	headers[HeaderErrorCode] = code
	headers[HeaderFailedAt] = time.Now().UTC().Format(time.RFC3339Nano)
	headers[HeaderQueue] = c.queue
drain: // a return left by an earlier publish, if any, is not about this one
	for {
		select {
		case _, open := <-h.returns:
			if !open {
				// amqp091 closes it with the channel: without this the loop would spin forever.
				return errors.New("the publishing channel is closed")
			}
		default:
			break drain
		}
	}
	dc, err := h.pub.PublishWithDeferredConfirmWithContext(ctx, "", c.dlq, true, false, amqp.Publishing{
		Headers:         headers,
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		CorrelationId:   d.CorrelationId,
		MessageId:       d.MessageId,
		Timestamp:       d.Timestamp,
		Type:            d.Type,
		AppId:           d.AppId,
		Body:            d.Body,
	})
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	ok, err := dc.WaitContext(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("confirm: %w", err)
	case !ok:
		return errors.New("the broker refused (nacked) the dead-lettered copy")
	}
	// A mandatory message that no queue took comes back before its confirm.
	select {
	case r, open := <-h.returns:
		if !open {
			return errors.New("the publishing channel closed before the dead-lettered copy was confirmed")
		}
		if _, err := h.pub.QueueDeclare(c.dlq, true, false, false, false, nil); err != nil {
			return fmt.Errorf("dead-letter queue %s is missing (%s) and declaring it failed: %w", c.dlq, r.ReplyText, err)
		}
		return fmt.Errorf("dead-letter queue %s was missing (%s); declared it again", c.dlq, r.ReplyText)
	default:
	}
	return nil
}

// permanent reports whether err is the message's own fault, so that trying again cannot
// help: it was malformed, or names something that does not exist, or asks for what
// cannot be done.
func permanent(err error) bool {
	var pe *ParseError
	if errors.As(err, &pe) {
		return true
	}
	if e, ok := errs.As(err); ok {
		switch e.Kind {
		case errs.Invalid, errs.NotFound, errs.Conflict, errs.Unprocessable, errs.TooLarge, errs.UnsupportedMedia:
			return true
		}
	}
	return false
}

// describe gives the stable code and the reason of a refusal, the reason cut to fit a
// header.
func describe(err error) (code, reason string) {
	var pe *ParseError
	switch e, ok := errs.As(err); {
	case errors.As(err, &pe):
		code, reason = CodeInvalidMessage, pe.Error()
	case ok:
		code, reason = e.Code, e.Code+": "+e.Describe()
	default:
		code, reason = "error", err.Error()
	}
	if cut := clip.Bytes(reason, maxHeaderError); cut != reason {
		reason = cut + "…"
	}
	return code, reason
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
