package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/config"
)

// sandboxCommand drives the sandbox cashier over HTTP, as a buyer clicking Pay or Fail
// would: `minimart sandbox pay <pay-url> [--fail]`, with the pay_url the payment API
// returned (the cashier pays only through that signed link).
func sandboxCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: minimart sandbox pay <pay-url> [--fail]   (the pay_url of POST /api/v1/orders/{id}/payments)"
	if len(args) < 2 || args[0] != "pay" {
		return usagef(use)
	}
	payURL := args[1]
	fs := flag.NewFlagSet("sandbox pay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fail := fs.Bool("fail", false, "click Fail instead of Pay")
	if err := fs.Parse(args[2:]); err != nil {
		return &usageError{err}
	}
	link, err := url.Parse(payURL)
	if fs.NArg() > 0 || err != nil || (link.Scheme != "http" && link.Scheme != "https") || link.Host == "" ||
		!strings.HasPrefix(link.Path, "/sandbox/pay/") || strings.Count(strings.TrimPrefix(link.Path, "/sandbox/pay/"), "/") != 1 {
		return usagef("sandbox pay: give the pay_url the payment API returned (http://host/sandbox/pay/<order-no>/<token>)\n%s", use)
	}
	button := "pay"
	if *fail {
		button = "fail"
	}
	link.RawQuery, link.Fragment = "", ""
	target := strings.TrimRight(link.String(), "/") + "/" + button
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("sandbox pay: %w", err)
	}
	defer resp.Body.Close()
	var answer struct {
		OutTradeNo string `json:"out_trade_no"`
		Status     string `json:"status"`
		Amount     int64  `json:"amount"`
		Message    string `json:"message"`
		Error      struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil {
		return fmt.Errorf("sandbox pay: %s answered %s, not JSON", target, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sandbox pay: %s: %s", answer.Error.Code, answer.Error.Message)
	}
	fmt.Fprintf(stdout, "order %s: sandbox trade %s (%d fen). %s\n", answer.OutTradeNo, answer.Status, answer.Amount, answer.Message)
	return nil
}

// paymentsCommand is `minimart payments reconcile --date YYYY-MM-DD`: it lists every
// difference between the providers' bills and our records, and exits 1 if there is any.
func paymentsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "usage: minimart payments reconcile --date YYYY-MM-DD"
	if len(args) == 0 || args[0] != "reconcile" {
		return usagef(use)
	}
	fs := flag.NewFlagSet("payments reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", "", "the bill day (China Standard Time)")
	cfg, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	day, err := payment.BillDay(*date)
	if err != nil {
		return usagef("payments reconcile: --date must be YYYY-MM-DD")
	}
	if err := needModules(cfg, "payments reconcile", config.ModulePayment); err != nil {
		return err
	}
	base, err := openBase(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer base.Close()
	payments, err := base.Payments(ctx)
	if err != nil {
		return configError(err)
	}
	rec, err := payments.Reconcile(ctx, day)
	if err != nil {
		return err
	}
	found := rec.Mismatches
	if len(found) == 0 {
		fmt.Fprintf(stdout, "%s: the providers' bills and our records agree (%d lines)\n", *date, rec.Matched)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tKIND\tOUT_TRADE_NO\tOUT_REFUND_NO\tTHEIRS\tOURS\tPROBLEM")
	for _, m := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Provider, m.Kind, m.OutTradeNo, m.OutRefundNo, m.Theirs, m.Ours, m.Problem)
	}
	tw.Flush()
	return &mismatchError{n: len(found)}
}

// mismatchError makes reconcile exit 1 when it found differences, for cron and scripts.
type mismatchError struct{ n int }

func (e *mismatchError) Error() string { return fmt.Sprintf("%d mismatches", e.n) }
