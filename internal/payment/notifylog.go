package payment

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// notificationLog writes the notify log in batches from one goroutine. The log is a record,
// not state: the effect of a notify is committed before its log row is queued, so a crash
// can lose at most the last few milliseconds of log rows, never a payment. Batching keeps a
// burst of duplicate notifies from costing one write transaction each.
type notificationLog struct {
	store   Storer
	log     *slog.Logger
	queue   chan Notification
	closing chan struct{}
	done    chan struct{}
	once    sync.Once
}

const (
	notifyLogQueue = 4096
	notifyLogBatch = 256
)

func newNotificationLog(store Storer, log *slog.Logger) *notificationLog {
	l := &notificationLog{store: store, log: log, queue: make(chan Notification, notifyLogQueue),
		closing: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// add queues an entry; when the queue is full it waits, so notifies slow down rather than
// go unlogged. After close (a notify answered during shutdown) it writes the entry itself.
func (l *notificationLog) add(ctx context.Context, n Notification) {
	select {
	case <-l.closing:
		l.write([]Notification{n})
		return
	default:
	}
	select {
	case l.queue <- n:
	case <-l.closing:
		l.write([]Notification{n})
	case <-ctx.Done():
		l.write([]Notification{n})
	}
}

func (l *notificationLog) run() {
	defer close(l.done)
	batch := make([]Notification, 0, notifyLogBatch)
	for {
		select {
		case n := <-l.queue:
			batch = append(batch[:0], n)
		case <-l.closing:
			// The queue is never closed (a late add must not panic): drain what is in it.
			for {
				batch = batch[:0]
				for len(batch) < notifyLogBatch {
					select {
					case n := <-l.queue:
						batch = append(batch, n)
						continue
					default:
					}
					break
				}
				if len(batch) == 0 {
					return
				}
				l.write(batch)
			}
		}
	fill:
		for len(batch) < notifyLogBatch {
			select {
			case more := <-l.queue:
				batch = append(batch, more)
			default:
				break fill
			}
		}
		l.write(batch)
	}
}

func (l *notificationLog) write(batch []Notification) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.store.LogNotifications(ctx, batch); err != nil {
		l.log.Error("payment notify log write failed", slog.Int("entries", len(batch)), slog.String("error", err.Error()))
	}
}

// close writes what is queued and stops the writer.
func (l *notificationLog) close() error {
	l.once.Do(func() { close(l.closing) })
	<-l.done
	return nil
}
