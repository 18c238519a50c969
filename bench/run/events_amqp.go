package main

// The events group's direct use of RabbitMQ: the raw-publish baseline (amqp091-go with
// nothing of minimart in between) and the removal of the run's exchange and queues.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rawRoutingKey is the baseline's routing key; the bus's subscription ("order.#") does not
// match it, so the baseline's messages reach only its own queue.
const rawRoutingKey = "bench.raw"

// rawPublisher is the baseline: one confirm-mode channel per worker, each publishing one
// persistent message to the run's durable topic exchange and waiting for its confirm. The
// exchange routes them to a durable queue that a consumer drains with manual acks and the
// bus's prefetch, so the broker persists, delivers and acknowledges every message as it
// does for the relay's events.
type rawPublisher struct {
	conn     *amqp.Connection
	chans    []*amqp.Channel
	consumer *amqp.Channel
	exchange string
	body     []byte
	next     atomic.Int64
	acked    atomic.Int64
	done     chan struct{} // closed when the consumer's delivery channel closes
}

// openRawPublisher connects, declares the exchange (as the bus does: durable topic) and the
// baseline's durable queue bound to rawRoutingKey, starts the consumer and opens one
// confirm-mode channel per publisher.
func openRawPublisher(url, exchange, queue string, publishers, prefetch int, body []byte) (*rawPublisher, error) {
	conn, err := amqp.DialConfig(url, amqp.Config{Heartbeat: 10 * time.Second, Locale: "en_US", Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return nil, err
	}
	p := &rawPublisher{conn: conn, exchange: exchange, body: body, done: make(chan struct{})}
	fail := func(err error) (*rawPublisher, error) {
		_ = conn.Close()
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return fail(err)
	}
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return fail(fmt.Errorf("declare exchange %s: %w", exchange, err))
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return fail(fmt.Errorf("declare queue %s: %w", queue, err))
	}
	if err := ch.QueueBind(queue, rawRoutingKey, exchange, false, nil); err != nil {
		return fail(fmt.Errorf("bind queue %s: %w", queue, err))
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return fail(err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return fail(fmt.Errorf("consume %s: %w", queue, err))
	}
	p.consumer = ch
	go func() {
		defer close(p.done)
		for d := range deliveries {
			if d.Ack(false) == nil {
				p.acked.Add(1)
			}
		}
	}()
	for range publishers {
		pc, err := conn.Channel()
		if err != nil {
			return fail(err)
		}
		if err := pc.Confirm(false); err != nil {
			return fail(fmt.Errorf("publisher confirms: %w", err))
		}
		p.chans = append(p.chans, pc)
	}
	return p, nil
}

var errRawNacked = errors.New("raw publish: broker nacked the message")

// publish is one iteration of worker w: one persistent message, then its confirm.
func (p *rawPublisher) publish(ctx context.Context, w, _ int) error {
	dc, err := p.chans[w].PublishWithDeferredConfirmWithContext(ctx, p.exchange, rawRoutingKey, false, false, amqp.Publishing{
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    strconv.FormatInt(p.next.Add(1), 10),
		Timestamp:    time.Now(),
		Type:         rawRoutingKey,
		Body:         p.body,
	})
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errRawNacked
	}
	return nil
}

// drain waits until the consumer has acknowledged every message published, or timeout.
func (p *rawPublisher) drain(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for p.acked.Load() < p.next.Load() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func (p *rawPublisher) close() {
	_ = p.consumer.Close()
	for _, ch := range p.chans {
		_ = ch.Close()
	}
	_ = p.conn.Close()
	<-p.done
}

// deleteTopology deletes the run's queues and exchange on a connection of its own, one
// channel per deletion (a refused deletion closes its channel). It runs on Ctrl-C too.
func deleteTopology(url, exchange string, queues []string) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Locale: "en_US", Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return fmt.Errorf("delete exchange and queues: %w", err)
	}
	defer conn.Close()
	var errs []error
	do := func(what string, f func(ch *amqp.Channel) error) {
		ch, err := conn.Channel()
		if err == nil {
			err = f(ch)
			_ = ch.Close()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", what, err))
		}
	}
	for _, q := range queues {
		do("queue "+q, func(ch *amqp.Channel) error {
			_, err := ch.QueueDelete(q, false, false, false)
			return err
		})
	}
	do("exchange "+exchange, func(ch *amqp.Channel) error { return ch.ExchangeDelete(exchange, false, false) })
	return errors.Join(errs...)
}
