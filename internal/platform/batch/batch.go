// Package batch runs concurrent requests to one store together ("group commit"): requests
// that arrive while a batch is being written wait and go into the next one, so a store
// under load writes many requests per transaction and round trip instead of one, while a
// lone request starts at once and waits for nobody.
//
// Written here rather than taken from a library: the batching libraries for Go flush on a
// timer or a size (adding latency at low load) and give one error for the whole batch;
// a store needs a per-request answer (one order short of stock must not fail its
// neighbours) and no timer.
package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Result is one request's own answer from a batch run.
type Result[Out any] struct {
	Value Out
	Err   error
}

// Func writes a batch. It returns one Result per item, in the items' order, or an error
// for the batch as a whole, which every item then gets (and which must mean nothing of the
// batch was applied: the store rolls its transaction back).
type Func[In, Out any] func(ctx context.Context, items []In) ([]Result[Out], error)

// Options bound a Batcher.
type Options struct {
	// MaxBatch is the most requests one run takes (default 64).
	MaxBatch int
	// Concurrency is how many runs may be in flight at once (default 1: SQLite's single
	// writer; more for a server database, where batches of different rows overlap).
	Concurrency int
	// Timeout bounds one run (default 10 s). A run is not bound to any one request's
	// context: a request that gives up does not abort its neighbours.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 64
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return o
}

// Batcher groups the calls of Do into runs of its Func.
type Batcher[In, Out any] struct {
	run  Func[In, Out]
	opts Options

	mu      sync.Mutex
	queue   []*call[In, Out]
	running int
}

type call[In, Out any] struct {
	ctx   context.Context
	in    In
	done  chan Result[Out] // buffered: the runner never waits for a caller that left
	taken bool             // in a run; guarded by Batcher.mu
}

// New returns a Batcher that writes with run.
func New[In, Out any](run Func[In, Out], opts Options) *Batcher[In, Out] {
	return &Batcher[In, Out]{run: run, opts: opts.withDefaults()}
}

// ErrBatchPanicked is the error every item of a run that panicked gets.
var ErrBatchPanicked = errors.New("batch: the batch write panicked")

// Do queues in for the next run and waits for its answer. If ctx ends while in is still
// queued, Do takes it out and returns ctx's error; once it is in a run, Do waits for the
// run's answer (bounded by Options.Timeout), so the caller never mistakes a write that
// happened for one that did not.
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	c := &call[In, Out]{ctx: ctx, in: in, done: make(chan Result[Out], 1)}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.running < b.opts.Concurrency {
		b.running++
		go b.drain()
	}
	b.mu.Unlock()
	select {
	case r := <-c.done:
		return r.Value, r.Err
	case <-ctx.Done():
		b.mu.Lock()
		taken := c.taken
		if !taken {
			b.queue = slices.DeleteFunc(b.queue, func(q *call[In, Out]) bool { return q == c })
		}
		b.mu.Unlock()
		if taken {
			r := <-c.done
			return r.Value, r.Err
		}
		var zero Out
		return zero, ctx.Err()
	}
}

// Queued is how many requests wait for a run.
func (b *Batcher[In, Out]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// drain runs batches while requests are waiting, then ends.
func (b *Batcher[In, Out]) drain() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), b.opts.MaxBatch)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		calls := make([]*call[In, Out], n)
		copy(calls, b.queue)
		for _, c := range calls {
			c.taken = true
		}
		b.queue = append(b.queue[:0:0], b.queue[n:]...)
		b.mu.Unlock()
		b.runBatch(calls)
	}
}

func (b *Batcher[In, Out]) runBatch(calls []*call[In, Out]) {
	items := make([]In, len(calls))
	for i, c := range calls {
		items[i] = c.in
	}
	// The first caller's values (request id, logger) describe the run; its cancellation
	// does not end it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(calls[0].ctx), b.opts.Timeout)
	defer cancel()
	results, err := b.safeRun(ctx, items)
	if err == nil && len(results) != len(items) {
		err = fmt.Errorf("batch: the batch write answered %d of %d requests", len(results), len(items))
	}
	for i, c := range calls {
		if err != nil {
			c.done <- Result[Out]{Err: err}
			continue
		}
		c.done <- results[i]
	}
}

func (b *Batcher[In, Out]) safeRun(ctx context.Context, items []In) (results []Result[Out], err error) {
	defer func() {
		if p := recover(); p != nil {
			results, err = nil, fmt.Errorf("%w: %v", ErrBatchPanicked, p)
		}
	}()
	return b.run(ctx, items)
}
