package batch_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/minimart/minimart/internal/platform/batch"
)

// gate is a batch Func that blocks each run until released, recording the batches.
type gate struct {
	mu      sync.Mutex
	batches [][]int
	started chan int // receives the size of each run as it starts
	release chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan int, 100), release: make(chan struct{})}
}

func (g *gate) run(_ context.Context, items []int) ([]batch.Result[string], error) {
	g.mu.Lock()
	g.batches = append(g.batches, append([]int(nil), items...))
	g.mu.Unlock()
	g.started <- len(items)
	<-g.release
	out := make([]batch.Result[string], len(items))
	for i, n := range items {
		if n < 0 {
			out[i].Err = fmt.Errorf("item %d refused", n)
			continue
		}
		out[i].Value = fmt.Sprint("item ", n)
	}
	return out, nil
}

// TestRequestsArrivingDuringARunShareTheNext: the first request runs alone at once; the
// ones that arrive while it is written go together into the next run, and each gets its
// own answer, a refused one included.
func TestRequestsArrivingDuringARunShareTheNext(t *testing.T) {
	g := newGate()
	b := batch.New(g.run, batch.Options{MaxBatch: 10, Concurrency: 1})
	answers := make([]batch.Result[string], 6)
	var wg sync.WaitGroup
	wg.Go(func() { answers[0].Value, answers[0].Err = b.Do(t.Context(), 0) })
	if n := <-g.started; n != 1 {
		t.Fatalf("first run has %d items, want 1", n)
	}
	// Five more while the first run is held: they queue.
	var queued sync.WaitGroup
	for i := 1; i <= 5; i++ {
		item := i
		if i == 3 {
			item = -3
		}
		queued.Add(1)
		wg.Go(func() {
			queued.Done()
			answers[i].Value, answers[i].Err = b.Do(t.Context(), item)
		})
	}
	queued.Wait()
	waitQueued(t, b, 5)
	close(g.release)
	wg.Wait()
	if len(g.batches) != 2 || len(g.batches[1]) != 5 {
		t.Fatalf("batches %v, want one of 1 then one of 5", g.batches)
	}
	for i, a := range answers {
		switch {
		case i == 3:
			if a.Err == nil || a.Err.Error() != "item -3 refused" {
				t.Errorf("answer %d = %+v, want its own refusal", i, a)
			}
		case a.Err != nil || a.Value != fmt.Sprint("item ", i):
			t.Errorf("answer %d = %+v, want its own value", i, a)
		}
	}
}

// waitQueued waits until n requests are queued behind the held run: Queued reports them.
func waitQueued(t *testing.T, b *batch.Batcher[int, string], n int) {
	t.Helper()
	for b.Queued() < n {
		select {
		case <-t.Context().Done():
			t.Fatal("requests never queued")
		default:
		}
		runtime.Gosched()
	}
}

// TestFailedRunAnswersEveryItem: an error for the batch reaches every request in it.
func TestFailedRunAnswersEveryItem(t *testing.T) {
	broken := errors.New("commit failed")
	b := batch.New(func(context.Context, []int) ([]batch.Result[string], error) { return nil, broken },
		batch.Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := b.Do(t.Context(), i); !errors.Is(err, broken) {
				t.Errorf("item %d: %v, want the batch's error", i, err)
			}
		})
	}
	wg.Wait()
}

// TestPanicAndShortAnswersAreErrors: a run that panics or answers too few items fails its
// batch instead of crashing the process or leaving a caller waiting.
func TestPanicAndShortAnswersAreErrors(t *testing.T) {
	panics := batch.New(func(context.Context, []int) ([]batch.Result[string], error) { panic("boom") }, batch.Options{})
	if _, err := panics.Do(t.Context(), 1); !errors.Is(err, batch.ErrBatchPanicked) {
		t.Fatalf("panicking run: %v", err)
	}
	short := batch.New(func(context.Context, []int) ([]batch.Result[string], error) { return nil, nil }, batch.Options{})
	if _, err := short.Do(t.Context(), 1); err == nil {
		t.Fatal("a run answering no item must fail its batch")
	}
}

// TestCancelledWhileQueuedIsNeverRun: a request whose context ends before a run takes it
// leaves the queue; one already in a run waits for the run's answer.
func TestCancelledWhileQueuedIsNeverRun(t *testing.T) {
	g := newGate()
	b := batch.New(g.run, batch.Options{MaxBatch: 10, Concurrency: 1})
	inRunCtx, cancelInRun := context.WithCancel(t.Context())
	var inRun batch.Result[string]
	var wg sync.WaitGroup
	wg.Go(func() { inRun.Value, inRun.Err = b.Do(inRunCtx, 1) })
	<-g.started
	queuedCtx, cancelQueued := context.WithCancel(t.Context())
	queuedDone := make(chan error, 1)
	go func() {
		_, err := b.Do(queuedCtx, 2)
		queuedDone <- err
	}()
	waitQueued(t, b, 1)
	cancelQueued()
	if err := <-queuedDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued request cancelled: %v", err)
	}
	cancelInRun()
	close(g.release)
	wg.Wait()
	if inRun.Err != nil || inRun.Value != "item 1" {
		t.Fatalf("request cancelled inside its run got %+v, want the run's answer", inRun)
	}
	if len(g.batches) != 1 {
		t.Fatalf("batches %v: the cancelled queued request must never run", g.batches)
	}
}

// TestConcurrencyBoundsRuns: no more runs than Concurrency are in flight at once.
func TestConcurrencyBoundsRuns(t *testing.T) {
	g := newGate()
	b := batch.New(g.run, batch.Options{MaxBatch: 1, Concurrency: 2})
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			if _, err := b.Do(t.Context(), i); err != nil {
				t.Error(err)
			}
		})
	}
	<-g.started
	<-g.started
	waitQueued(t, b, 3)
	select {
	case n := <-g.started:
		t.Fatalf("a third run of %d started while two were in flight", n)
	default:
	}
	close(g.release)
	wg.Wait()
	if len(g.batches) != 5 {
		t.Fatalf("batches %v, want five runs of one", g.batches)
	}
}
