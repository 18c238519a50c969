package main

// The flash sale through the promotion API: staff create a sale of one SKU, every connection
// tries it (POST /api/v1/flash-sales/{id}/attempts) for the run's duration, and the row is
// the rate of decided attempts — accepted (202) or refused as sold out or over the limit
// (409) — with a zero-oversell check after.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

const (
	// flashSalePerUserLimit is the most a buyer may have: with one buyer per connection, the
	// sale can sell out only when connections × limit reaches its quantity.
	flashSalePerUserLimit = 99
	flashSalePrice        = 500 // fen
)

// flashSaleRowName is the row flashSaleRow adds for an engine.
func (e ordersEngine) flashSaleRowName() string {
	return fmt.Sprintf("flash sale via the promotion API, one SKU: decided attempts (%s)", e.label)
}

// flashSaleRow adds engine e's flash-sale row, measured on the running server srv with the
// orders group's fixture (staff token, buyers with addresses): a new product whose one SKU
// holds fx.flashStock, a sale of all of it starting now, then every connection (buyer w of
// fx.buyers) sends attempts of one unit back to back for the run's duration, no warm-up (it
// would sell the sale before the window). The ratio is against baseline, the engine's raw
// one-row write rate. After the window the sale's remaining and the SKU's stock are checked
// against the 202 answers: a failed check fails the group.
func flashSaleRow(ctx context.Context, b *bench, g *groupResult, e ordersEngine, srv *proc, api *apiClient, fx *ordersFixture, baseline loadgen.Result) error {
	name := e.flashSaleRowName()
	sale, err := newFlashSale(ctx, api, fx.staffToken, fx.flashStock, b.opts.duration)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if dead := srv.deadError(); dead != nil {
			return dead
		}
		b.logf("%s: setup: %v", name, err)
		g.rows = append(g.rows, row{name: name, notRun: "setup through the API: " + err.Error()})
		return nil
	}
	n := b.opts.concurrency
	t := newAttemptTally(n)
	start := time.Now()
	res := loadgen.Run(ctx, loadgen.Config{
		Concurrency: n,
		Duration:    b.opts.duration,
		Request: func(w, i int) *http.Request {
			t.sent[w] = time.Now()
			return fx.attemptRequest(srv.base, sale.id, w, i)
		},
		Check: t.check,
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := srv.deadError(); err != nil {
		return err
	}
	s := t.summary(start)
	decided := loadgen.Result{Requests: s.decided, Errors: res.Errors, Elapsed: res.Elapsed, P50: s.p50, P99: s.p99, Max: res.Max}
	if res.Elapsed > 0 {
		decided.ReqPerSec = float64(s.decided) / res.Elapsed.Seconds()
	}
	g.rows = append(g.rows, row{name: name, res: &decided, ratio: ratioOf(decided.ReqPerSec, baseline.ReqPerSec)})
	b.logf("%-28s %9s decided/s, p50 %s p99 %s; %d accepted, %d sold_out, %d limit_reached; other errors %s",
		name, loadgen.FormatRate(decided.ReqPerSec), loadgen.FormatLatency(s.p50), loadgen.FormatLatency(s.p99),
		s.accepted, s.soldOut, s.limited, res.ErrorSummary())
	g.note("%s: %s", name, s.describe(sale, n, b.opts.duration, res.ErrorSummary()))
	verdict, failed := checkFlashSale(ctx, api, fx.staffToken, sale, s.accepted, res.ErrorCount())
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case failed:
		g.fail("%s: %s", name, verdict)
		b.logf("%s: %s", name, verdict)
	default:
		g.note("%s: %s", name, verdict)
		b.logf("%s: zero-oversell check passed", name)
	}
	return nil
}

// flashSaleSetup is the sale a row measures.
type flashSaleSetup struct {
	id, sku  string
	quantity int
	limit    int // per buyer
	stock    int // the SKU's stock before the sale
}

// newFlashSale creates a product with one SKU of stock units and a sale of all of them that
// starts now and outlasts the window.
func newFlashSale(ctx context.Context, api *apiClient, staff string, stock int, window time.Duration) (flashSaleSetup, error) {
	var cat struct {
		ID string `json:"id"`
	}
	if err := api.call(ctx, http.MethodPost, "/api/v1/admin/categories", staff, map[string]string{"name": "秒杀压测 " + randomHex(3)},
		http.StatusCreated, &cat); err != nil {
		return flashSaleSetup{}, err
	}
	var product struct {
		SKUs []struct {
			ID string `json:"id"`
		} `json:"skus"`
	}
	if err := api.call(ctx, http.MethodPost, "/api/v1/admin/products", staff, map[string]any{
		"category_id": cat.ID, "title": "秒杀压测商品", "skus": []map[string]any{{"price": ordersPrice}}, "on_shelf": true,
	}, http.StatusCreated, &product); err != nil {
		return flashSaleSetup{}, err
	}
	if len(product.SKUs) != 1 || product.SKUs[0].ID == "" {
		return flashSaleSetup{}, errors.New("POST /api/v1/admin/products: no SKU id in the answer")
	}
	sku := product.SKUs[0].ID
	if err := api.call(ctx, http.MethodPut, "/api/v1/admin/skus/"+url.PathEscape(sku)+"/stock", staff,
		map[string]int{"stock": stock}, http.StatusOK, nil); err != nil {
		return flashSaleSetup{}, err
	}
	now := time.Now().UTC()
	limit := min(flashSalePerUserLimit, stock) // a limit may not pass the quantity
	var sale struct {
		ID string `json:"id"`
	}
	if err := api.call(ctx, http.MethodPost, "/api/v1/admin/flash-sales", staff, map[string]any{
		"sku_id": sku, "price": flashSalePrice, "quantity": stock, "per_user_limit": limit,
		"starts_at": now.Format(time.RFC3339Nano), "ends_at": now.Add(window + 10*time.Minute).Format(time.RFC3339Nano),
	}, http.StatusCreated, &sale); err != nil {
		return flashSaleSetup{}, err
	}
	if sale.ID == "" {
		return flashSaleSetup{}, errors.New("POST /api/v1/admin/flash-sales: no id in the answer")
	}
	return flashSaleSetup{id: sale.ID, sku: sku, quantity: stock, limit: limit, stock: stock}, nil
}

// attemptRequest is buyer w's attempt at one unit of sale, with a key unique to (w, i).
func (fx *ordersFixture) attemptRequest(base, saleID string, w, i int) *http.Request {
	by := fx.buyers[w%len(fx.buyers)]
	body := `{"quantity":1,"address_id":` + strconv.Quote(by.address) + `}`
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/flash-sales/"+url.PathEscape(saleID)+"/attempts", strings.NewReader(body))
	if err != nil {
		panic(fmt.Sprintf("bench: bad attempt URL %q: %v", base, err)) // base is the server's, checked at start
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+by.token)
	req.Header.Set("Idempotency-Key", fmt.Sprintf("fs-%s-%d-%d", fx.nonce, w, i))
	req.Header.Set(workerHeader, strconv.Itoa(w))
	return req
}

// attemptTally is what the check saw, per worker (each worker's request and check run on its
// own goroutine, so no locks).
type attemptTally struct {
	sent       []time.Time
	accepted   [][]time.Duration // 202
	refused    [][]time.Duration // 409 sold_out or limit_reached
	soldOut    []int
	limited    []int
	lastAccept []time.Time
}

func newAttemptTally(n int) *attemptTally {
	return &attemptTally{sent: make([]time.Time, n), accepted: make([][]time.Duration, n), refused: make([][]time.Duration, n),
		soldOut: make([]int, n), limited: make([]int, n), lastAccept: make([]time.Time, n)}
}

func (t *attemptTally) check(resp *http.Response, body []byte) error {
	w, err := strconv.Atoi(resp.Request.Header.Get(workerHeader))
	if err != nil || w < 0 || w >= len(t.sent) {
		return errors.New("bench: response without its worker number")
	}
	now := time.Now()
	lat := now.Sub(t.sent[w])
	switch code := errorCode(body); {
	case resp.StatusCode == http.StatusAccepted:
		t.accepted[w] = append(t.accepted[w], lat)
		t.lastAccept[w] = now
	case resp.StatusCode == http.StatusConflict && code == "sold_out":
		t.refused[w] = append(t.refused[w], lat)
		t.soldOut[w]++
	case resp.StatusCode == http.StatusConflict && code == "limit_reached":
		t.refused[w] = append(t.refused[w], lat)
		t.limited[w]++
	case code != "":
		return fmt.Errorf("status %d %s", resp.StatusCode, code)
	default:
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// attemptSummary is the tally over every worker.
type attemptSummary struct {
	decided, accepted, soldOut, limited int
	p50, p99                            time.Duration // of every decided attempt
	acceptedP50, acceptedP99            time.Duration
	refusedP50, refusedP99              time.Duration
	soldOutAfter                        time.Duration // from the start to the last 202, when sold out
}

func (t *attemptTally) summary(start time.Time) attemptSummary {
	var s attemptSummary
	var all, acc, ref []time.Duration
	var lastAccept time.Time
	for w := range t.sent {
		acc = append(acc, t.accepted[w]...)
		ref = append(ref, t.refused[w]...)
		s.soldOut += t.soldOut[w]
		s.limited += t.limited[w]
		if t.lastAccept[w].After(lastAccept) {
			lastAccept = t.lastAccept[w]
		}
	}
	all = append(append(all, acc...), ref...)
	s.accepted, s.decided = len(acc), len(all)
	s.p50, s.p99 = loadgen.Percentile(all, 50), loadgen.Percentile(all, 99)
	s.acceptedP50, s.acceptedP99 = loadgen.Percentile(acc, 50), loadgen.Percentile(acc, 99)
	s.refusedP50, s.refusedP99 = loadgen.Percentile(ref, 50), loadgen.Percentile(ref, 99)
	if s.soldOut > 0 && !lastAccept.IsZero() {
		s.soldOutAfter = lastAccept.Sub(start)
	}
	return s
}

// describe is the row's note: what was sent and what came back.
func (s attemptSummary) describe(sale flashSaleSetup, conns int, window time.Duration, otherErrors string) string {
	soldOut := "**not sold out** within the window"
	switch {
	case s.soldOutAfter > 0:
		soldOut = fmt.Sprintf("sold out after %s", s.soldOutAfter.Round(time.Millisecond))
	case conns*sale.limit < sale.quantity:
		soldOut += fmt.Sprintf(" (%d buyers × limit %d cannot buy %d)", conns, sale.limit, sale.quantity)
	}
	return fmt.Sprintf("a sale of %d units at %d fen, per-buyer limit %d, starting with the window; %d connections (one buyer each) "+
		"send attempts of one unit for %s, no warm-up. %d decided: %d accepted (202; p50 %s, p99 %s), %s; then %d sold_out and %d "+
		"limit_reached (409; p50 %s, p99 %s). Other errors: %s. The row's req/s is decided attempts over the window, its p50/p99 "+
		"those of every decided attempt.",
		sale.quantity, flashSalePrice, sale.limit, conns, window, s.decided, s.accepted,
		loadgen.FormatLatency(s.acceptedP50), loadgen.FormatLatency(s.acceptedP99), soldOut, s.soldOut, s.limited,
		loadgen.FormatLatency(s.refusedP50), loadgen.FormatLatency(s.refusedP99), otherErrors)
}

// checkFlashSale compares the sale and its SKU's stock with the accepted answers: never more
// accepted than the sale held, the sale's remaining is what the answers left, and the SKU's
// stock adds up (available + reserved + sold = the stock it had, available ≥ 0). failed
// says the check did not pass (or could not be made).
func checkFlashSale(ctx context.Context, api *apiClient, staff string, sale flashSaleSetup, accepted, otherErrors int) (verdict string, failed bool) {
	var got struct {
		Remaining *int `json:"remaining"`
	}
	if err := api.call(ctx, http.MethodGet, "/api/v1/admin/flash-sales/"+url.PathEscape(sale.id), staff, nil, http.StatusOK, &got); err != nil {
		return fmt.Sprintf("zero-oversell check **could not be made**: %v", err), true
	}
	var lv struct {
		Level *struct {
			Available *int64 `json:"available"`
			Reserved  *int64 `json:"reserved"`
			Sold      *int64 `json:"sold"`
		} `json:"level"`
	}
	path := "/api/v1/admin/skus/" + url.PathEscape(sale.sku) + "/stock"
	if err := api.call(ctx, http.MethodGet, path, staff, nil, http.StatusOK, &lv); err != nil {
		return fmt.Sprintf("zero-oversell check **could not be made**: %v", err), true
	}
	if got.Remaining == nil || lv.Level == nil || lv.Level.Available == nil || lv.Level.Reserved == nil || lv.Level.Sold == nil {
		return "zero-oversell check **could not be made**: the sale has no remaining, or the SKU's stock no level.available, level.reserved and level.sold", true
	}
	remaining, a, r, s := *got.Remaining, *lv.Level.Available, *lv.Level.Reserved, *lv.Level.Sold
	var problems []string
	if accepted > sale.quantity {
		problems = append(problems, fmt.Sprintf("%d attempts accepted for a sale of %d", accepted, sale.quantity))
	}
	if remaining != sale.quantity-accepted {
		problems = append(problems, fmt.Sprintf("the sale's remaining is %d, but %d of %d were accepted", remaining, accepted, sale.quantity))
	}
	if a < 0 {
		problems = append(problems, "available < 0")
	}
	if a+r+s != int64(sale.stock) {
		problems = append(problems, fmt.Sprintf("available+reserved+sold = %d ≠ %d", a+r+s, sale.stock))
	}
	levels := fmt.Sprintf("sale remaining %d; SKU available %d, reserved %d, sold %d", remaining, a, r, s)
	if len(problems) > 0 {
		extra := ""
		if otherErrors > 0 {
			extra = " (requests that failed, timeouts say, may have been accepted without the runner counting them)"
		}
		return fmt.Sprintf("zero-oversell check **FAILED**: %s; %s%s.", levels, strings.Join(problems, "; "), extra), true
	}
	return fmt.Sprintf("zero-oversell check **passed**: %s after the run; %d accepted ≤ %d, remaining = %d − accepted, and "+
		"available+reserved+sold = %d = the SKU's stock.", levels, accepted, sale.quantity, sale.quantity, sale.stock), false
}
