package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
)

// billFailure is a provider whose bill cannot be had; only Name and Bill are called.
type billFailure struct {
	Provider
	err func(ctx context.Context) error
}

func (billFailure) Name() string { return "stub" }

func (p billFailure) Bill(ctx context.Context, _ time.Time) ([]BillLine, error) {
	return nil, p.err(ctx)
}

// A bill that cannot be had fails the reconciliation as ErrProvider naming the provider and
// the day, keeping the cause's chain; a caller that went away is not the provider's failure.
func TestReconcileBillFails(t *testing.T) {
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	truncated := errors.New("bill file truncated")
	s := &Service{providers: map[string]Provider{"stub": billFailure{err: func(context.Context) error {
		return fmt.Errorf("read: %w", truncated)
	}}}}
	_, err := s.Reconcile(context.Background(), day)
	appErr, ok := errs.As(err)
	if !ok || appErr.Code != "payment_provider_error" || !strings.Contains(appErr.Message, "stub bill of 2026-03-14") ||
		!errors.Is(err, truncated) {
		t.Fatalf("err = %v, want payment_provider_error naming stub and the day, wrapping the cause", err)
	}

	// Providers answer a cancelled call with an error that may wrap ErrProvider itself.
	s.providers["stub"] = billFailure{err: func(ctx context.Context) error {
		return errors.Join(ErrProvider, fmt.Errorf("download: %w", ctx.Err()))
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Reconcile(ctx, day)
	if _, ok := errs.As(err); ok || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation and no application error", err)
	}
}
