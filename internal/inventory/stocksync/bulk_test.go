package stocksync_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/stocksync"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

type bulkSKU struct {
	id      ids.ID
	code    string
	product ids.ID
	single  bool // its product has no other SKU
	byTime  bool // its updates carry updated_at instead of a version
}

type bulkMessage struct {
	id   string
	body []byte
	// Valid messages: which SKU, at which version (or second after base), to what.
	sku     int
	version int
	value   int64
	// Refused messages: the x-error-code they must be dead-lettered with.
	code string
}

// TestTenThousandUpdates: 10,000 updates of 50 SKUs — each SKU's versions shuffled,
// duplicates among them — and 200 refused messages mixed in. Every message is accounted
// for, the stock of each SKU is its newest version, every refused message waits in the
// dead-letter queue with its reason, and stock reserved and sold before is untouched.
func TestTenThousandUpdates(t *testing.T) {
	t.Parallel()
	const (
		versions   = 190 // per SKU: 50 × 190 = 9,500 updates
		duplicates = 500
		refusals   = 200
		held, paid = 3, 2 // per SKU, reserved and sold before the sync starts
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 42))
	s := newShop(t, sqldbtest.SQLite(t, migrations...))

	var skus []bulkSKU
	for i := range 10 {
		p := s.product(1, fmt.Sprintf("S%d", i))
		skus = append(skus, bulkSKU{id: p.SKUs[0].ID, code: p.SKUs[0].Code, product: p.ID, single: true})
	}
	var multi []ids.ID
	for i := range 8 {
		p := s.product(5, fmt.Sprintf("M%d", i))
		multi = append(multi, p.ID)
		for _, k := range p.SKUs {
			skus = append(skus, bulkSKU{id: k.ID, code: k.Code, product: p.ID})
		}
	}
	var lines []inventory.ReserveLine
	for i := range skus {
		skus[i].byTime = i%2 == 1
		if _, err := s.inv.SetStock(s.ctx, "staff:1", skus[i].id, 1000, "count"); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, inventory.ReserveLine{SKUID: skus[i].id, Quantity: 1})
	}
	reserve := func(ref string, n int64) {
		for i := range lines {
			lines[i].Quantity = n
		}
		if _, err := s.inv.Reserve(s.ctx, ref, lines, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	reserve("held-1", held)
	reserve("paid-1", paid)
	if _, err := s.inv.Commit(s.ctx, "paid-1"); err != nil {
		t.Fatal(err)
	}

	base := time.Date(2026, 1, 24, 8, 0, 0, 0, time.UTC)
	cst := time.FixedZone("CST", 8*3600)
	sources := []string{"", "erp", "wms-华东"}
	update := func(i, v int, value int64) []byte {
		k := skus[i]
		m := map[string]any{"new_inventory": value}
		switch r := rng.IntN(4); {
		case r == 0 && k.single:
			m["product_id"] = k.product // a JSON number of 19 digits
		case r == 1:
			m["sku_code"] = k.code
		case r == 2:
			m["sku_id"] = int64(k.id)
		default:
			m["sku_id"] = k.id.String()
		}
		if k.byTime {
			m["updated_at"] = base.Add(time.Duration(v) * time.Second).In(cst).Format(time.RFC3339Nano)
		} else if rng.IntN(2) == 0 {
			m["version"] = v
		} else {
			m["version"] = fmt.Sprint(v)
		}
		if src := sources[rng.IntN(len(sources))]; src != "" {
			m["source"] = src
		}
		if rng.IntN(10) == 0 {
			m["warehouse"] = map[string]any{"id": "WH-1", "bins": []int{1, 2}} // unknown: ignored
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	var msgs []bulkMessage
	newest := make([]int64, len(skus))
	for i := range skus {
		for v := 1; v <= versions; v++ {
			value := rng.Int64N(10_000)
			if v == versions {
				newest[i] = value
			}
			msgs = append(msgs, bulkMessage{id: fmt.Sprintf("ok-%d-%d", i, v), body: update(i, v, value), sku: i, version: v, value: value})
		}
	}
	for n := range duplicates {
		d := msgs[rng.IntN(len(msgs))]
		d.id = fmt.Sprintf("dup-%d-%s", n, d.id)
		msgs = append(msgs, d)
	}
	for n := range refusals {
		k := skus[rng.IntN(len(skus))]
		var body, code string
		switch n % 10 {
		case 0:
			good := update(rng.IntN(len(skus)), 1, 1)
			body, code = string(good[:len(good)/2]), "invalid_message"
		case 1:
			body, code = fmt.Sprintf(`{"sku_id": "%d", "new_inventory": -%d, "version": 999}`, k.id, 1+rng.IntN(50)), "invalid_message"
		case 2:
			body, code = fmt.Sprintf(`{"sku_id": "%d", "new_inventory": 5, "version": 999}`, s.gen.New()), "sku_not_found"
		case 3:
			body, code = fmt.Sprintf(`{"sku_code": "NOPE-%d", "new_inventory": 5}`, n), "sku_not_found"
		case 4:
			body, code = fmt.Sprintf(`{"product_id": %d, "new_inventory": 5}`, multi[rng.IntN(len(multi))]), "product_has_several_skus"
		case 5:
			body, code = fmt.Sprintf(`{"sku_id": "%d", "new_inventory": 5, "note": "%s"}`, k.id,
				strings.Repeat("长", stocksync.MaxMessageSize/3+1)), "invalid_message"
		case 6:
			body, code = fmt.Sprintf(`{"sku_id": "%d", "new_inventory": "5"}`, k.id), "invalid_message"
		case 7:
			body, code = fmt.Sprintf(`{"sku_code": "%s", "new_inventory": 5, "delta": 1}`, k.code), "invalid_message"
		case 8:
			body, code = fmt.Sprintf(`{"product_id": %d, "new_inventory": 5}`, s.gen.New()), "product_not_found"
		case 9:
			body, code = fmt.Sprintf(`{"sku_code": "%s", "delta": -100000000}`, k.code), "insufficient_stock"
		}
		msgs = append(msgs, bulkMessage{id: fmt.Sprintf("bad-%d", n), body: []byte(body), code: code, sku: -1})
	}
	rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })

	// What one consumer taking them in order must do: apply an update only if newer.
	last := make([]int, len(skus))
	wantApplied := 0
	refused := map[string]string{}
	for _, m := range msgs {
		switch {
		case m.code != "":
			refused[m.id] = m.code
		case m.version > last[m.sku]:
			last[m.sku] = m.version
			wantApplied++
		}
	}

	start := time.Now()
	s.consume("")
	pub := s.publisher()
	for _, m := range msgs {
		pub.publish(amqp.Publishing{MessageId: m.id, ContentType: "application/json", Body: m.body})
	}
	pub.confirmed()
	t.Logf("published %d messages in %s", len(msgs), time.Since(start).Round(time.Millisecond))
	waitFor(t, 90*time.Second, "every message to settle", func() bool { return s.settled() >= len(msgs) })
	got := s.counts()
	t.Logf("settled in %s: %v", time.Since(start).Round(time.Millisecond), got)

	// None lost, none counted twice.
	if got["applied"]+got["stale"]+got["dead_lettered"] != len(msgs) || got["dead_lettered"] != refusals ||
		got["applied"]+got["stale"] != versions*len(skus)+duplicates {
		t.Fatalf("counters %v; want %d in all, %d dead-lettered", got, len(msgs), refusals)
	}
	if got["retried"] == 0 && got["applied"] != wantApplied {
		t.Errorf("applied %d, want %d: the updates newer than every one before them in queue order", got["applied"], wantApplied)
	}
	if n := queueDepth(t, s.url, s.queue); n != 0 {
		t.Fatalf("%d messages left in the queue", n)
	}

	// The stock is the newest version of each SKU; what was reserved and sold stayed.
	ledgerRows := 0
	for i, k := range skus {
		l := s.level(k.id)
		if l.Available != newest[i] || l.Reserved != held || l.Sold != paid {
			t.Errorf("SKU %d (%s): available/reserved/sold %d/%d/%d, want %d/%d/%d", i, k.code, l.Available, l.Reserved, l.Sold,
				newest[i], held, paid)
		}
		entries, err := s.inv.Ledger(s.ctx, k.id, 0, 10*versions)
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range entries {
			if j+1 < len(entries) && e.AvailableBefore != entries[j+1].AvailableAfter {
				t.Fatalf("SKU %s: ledger breaks at seq %d", k.code, e.Seq)
			}
			if e.Actor == inventory.SyncActor {
				ledgerRows++
				if e.ReservedBefore != held || e.ReservedAfter != held || e.SoldAfter != paid || e.AvailableAfter < 0 ||
					e.Reason != "inventory_update" || (e.Source != "inventory_update" && e.Source != "erp" && e.Source != "wms-华东") {
					t.Fatalf("SKU %s: sync ledger row %+v", k.code, e)
				}
			}
		}
	}
	if ledgerRows != got["applied"] {
		t.Errorf("%d sync ledger rows, %d applied", ledgerRows, got["applied"])
	}
	var events, marks int
	if err := s.db.Read().QueryRow(`SELECT COUNT(*) FROM outbox_events WHERE type = 'inventory.stock.changed'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	// One event per change: the counts, the two reservations, the commit and the applied updates.
	if want := len(skus)*4 + got["applied"]; events != want {
		t.Errorf("%d stock events, want %d", events, want)
	}
	if err := s.db.Read().QueryRow(`SELECT COUNT(*) FROM sku_sync WHERE version = ? OR updated_at = ?`,
		versions, base.Add(versions*time.Second)).Scan(&marks); err != nil || marks != len(skus) {
		t.Errorf("%d SKUs marked at the newest version or time, want %d (%v)", marks, len(skus), err)
	}

	// The reservation held through it all still releases cleanly.
	if _, err := s.inv.Release(s.ctx, "held-1", "test"); err != nil {
		t.Fatal(err)
	}
	for i, k := range skus {
		if l := s.level(k.id); l.Available != newest[i]+held || l.Reserved != 0 || l.Sold != paid {
			t.Fatalf("SKU %s after release: %+v", k.code, l)
		}
	}

	// Every refused message waits in the dead-letter queue with its reason.
	dead := drain(t, s.url, s.queue+stocksync.DeadLetterSuffix)
	if len(dead) != refusals {
		t.Fatalf("%d dead-lettered messages, want %d", len(dead), refusals)
	}
	seen := map[string]bool{}
	for _, d := range dead {
		want, ok := refused[d.MessageId]
		if !ok || seen[d.MessageId] {
			t.Fatalf("dead-lettered %q: not a refused message, or twice", d.MessageId)
		}
		seen[d.MessageId] = true
		if code := d.Headers[stocksync.HeaderErrorCode]; code != want {
			t.Errorf("%s: x-error-code %v, want %s (x-error %v)", d.MessageId, code, want, d.Headers[stocksync.HeaderError])
		}
		if reason, _ := d.Headers[stocksync.HeaderError].(string); len(reason) < 20 {
			t.Errorf("%s: x-error %q explains nothing", d.MessageId, reason)
		}
	}
}
