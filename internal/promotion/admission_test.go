package promotion_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/promotion"
)

// TestAdmissionConformance runs the same checks on the in-process filter and on Redis.
func TestAdmissionConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		runAdmissionConformance(t, func(t *testing.T) promotion.Admission { return promotion.NewMemoryAdmission() })
	})
	t.Run("redis", func(t *testing.T) {
		runAdmissionConformance(t, func(t *testing.T) promotion.Admission {
			client, prefix := testRedis(t)
			return promotion.NewRedisAdmission(client, prefix)
		})
	})
}

// testRedis is a client of the test server and a prefix no other test uses; the prefix's
// keys are deleted when the test ends.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(servicetest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "minimart-test:" + strings.ReplaceAll(t.Name(), "/", ".") + ":" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		deleteKeys(t, client, prefix)
		client.Close()
	})
	return client, prefix
}

// deleteKeys removes every key under prefix: for the filter, what FLUSHDB does, without
// wiping the other tests sharing the server.
func deleteKeys(t testing.TB, client *redis.Client, prefix string) {
	t.Helper()
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		if err := client.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("delete %s: %v", iter.Val(), err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s: %v", prefix, err)
	}
}

// runAdmissionConformance checks a filter; open returns a fresh one.
func runAdmissionConformance(t *testing.T, open func(t *testing.T) promotion.Admission) {
	ctx := context.Background()
	gen, err := ids.NewGenerator(3)
	if err != nil {
		t.Fatal(err)
	}
	newSale := func(limit int) promotion.FilterSale {
		return promotion.FilterSale{ID: gen.New(), PerUserLimit: limit, Until: time.Now().Add(time.Hour)}
	}
	// admitKey asks for an attempt under key; admit for one whose key does not matter.
	admitKey := func(t *testing.T, f promotion.Admission, sale promotion.FilterSale, user ids.ID, key string, q int, want promotion.Verdict, wantKnown bool) {
		t.Helper()
		v, known, err := f.Admit(ctx, sale, promotion.BuyerKey{UserID: user, Key: key}, q)
		if err != nil || v != want || known != wantKnown {
			t.Fatalf("Admit(user %s, key %q, %d) = %v known %v, %v; want %v known %v", user, key, q, v, known, err, want, wantKnown)
		}
	}
	var fresh atomic.Int64
	admit := func(t *testing.T, f promotion.Admission, sale promotion.FilterSale, user ids.ID, q int, want promotion.Verdict) {
		t.Helper()
		admitKey(t, f, sale, user, fmt.Sprintf("fresh-%d", fresh.Add(1)), q, want, false)
	}

	t.Run("verdicts", func(t *testing.T) {
		f := open(t)
		sale := newSale(2)
		alice, bob, carol := gen.New(), gen.New(), gen.New()
		admitKey(t, f, sale, alice, "a1", 1, promotion.VerdictUnknown, false)
		loaded, err := f.Load(ctx, sale, promotion.FilterState{Remaining: 3, Bought: map[ids.ID]int{bob: 2, carol: 0},
			Keys: []promotion.BuyerKey{{UserID: bob, Key: "b1"}, {UserID: carol, Key: "c1"}}})
		if err != nil || !loaded {
			t.Fatalf("Load = %v, %v", loaded, err)
		}
		admitKey(t, f, sale, bob, "b1", 1, promotion.VerdictLimitReached, true)    // a loaded attempt's retry
		admitKey(t, f, sale, bob, "b2", 1, promotion.VerdictLimitReached, false)   // loaded at its limit
		admitKey(t, f, sale, alice, "a1", 3, promotion.VerdictLimitReached, false) // over the limit at once
		admitKey(t, f, sale, alice, "a1", 2, promotion.VerdictAdmitted, false)
		admitKey(t, f, sale, alice, "a1", 1, promotion.VerdictLimitReached, true) // the admitted attempt's retry
		admitKey(t, f, sale, carol, "c1", 2, promotion.VerdictSoldOut, true)
		admitKey(t, f, sale, carol, "c2", 2, promotion.VerdictSoldOut, false) // another key of a known buyer
		admitKey(t, f, sale, carol, "c2", 1, promotion.VerdictAdmitted, false)
		admit(t, f, sale, gen.New(), 1, promotion.VerdictSoldOut)
		// Keys are the buyer's: another buyer's "c2" is not carol's.
		admitKey(t, f, sale, bob, "c2", 1, promotion.VerdictLimitReached, false)
		// A second load does not overwrite: concurrent loaders agree on the first.
		if loaded, err := f.Load(ctx, sale, promotion.FilterState{Remaining: 100}); err != nil || loaded {
			t.Fatalf("second Load = %v, %v", loaded, err)
		}
		admit(t, f, sale, gen.New(), 1, promotion.VerdictSoldOut)
	})

	t.Run("give back and correct", func(t *testing.T) {
		f := open(t)
		sale := newSale(1)
		alice, bob := gen.New(), gen.New()
		// Nothing happens to a sale the filter does not hold.
		for _, err := range []error{f.Return(ctx, sale.ID, alice, 1), f.SetRemaining(ctx, sale.ID, 5), f.SetBought(ctx, sale.ID, alice, 1)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		admit(t, f, sale, alice, 1, promotion.VerdictUnknown)
		if _, err := f.Load(ctx, sale, promotion.FilterState{Remaining: 1}); err != nil {
			t.Fatal(err)
		}
		admit(t, f, sale, alice, 1, promotion.VerdictAdmitted)
		admit(t, f, sale, bob, 1, promotion.VerdictSoldOut)
		if err := f.Return(ctx, sale.ID, alice, 1); err != nil {
			t.Fatal(err)
		}
		admit(t, f, sale, bob, 1, promotion.VerdictAdmitted)
		// Counts never go below zero; an unknown buyer stays unknown.
		if err := f.Return(ctx, sale.ID, alice, 5); err != nil {
			t.Fatal(err)
		}
		if err := f.Return(ctx, sale.ID, gen.New(), 1); err != nil {
			t.Fatal(err)
		}
		admit(t, f, sale, alice, 1, promotion.VerdictAdmitted)
		// Corrections overwrite.
		if err := f.SetRemaining(ctx, sale.ID, 0); err != nil {
			t.Fatal(err)
		}
		admit(t, f, sale, gen.New(), 1, promotion.VerdictSoldOut)
		if err := f.SetRemaining(ctx, sale.ID, 2); err != nil {
			t.Fatal(err)
		}
		if err := f.SetBought(ctx, sale.ID, alice, 0); err != nil {
			t.Fatal(err)
		}
		admit(t, f, sale, alice, 1, promotion.VerdictAdmitted)
		if err := f.SetBought(ctx, sale.ID, bob, 1); err != nil {
			t.Fatal(err)
		}
		admit(t, f, sale, bob, 1, promotion.VerdictLimitReached)
		// A key the database recorded past the filter is known once remembered.
		dave := promotion.BuyerKey{UserID: gen.New(), Key: "d1"}
		if err := f.Remember(ctx, sale.ID, dave); err != nil {
			t.Fatal(err)
		}
		if err := f.SetRemaining(ctx, sale.ID, 0); err != nil {
			t.Fatal(err)
		}
		admitKey(t, f, sale, dave.UserID, "d1", 1, promotion.VerdictSoldOut, true)
		admitKey(t, f, sale, dave.UserID, "d2", 1, promotion.VerdictSoldOut, false)
		// Remembering for a sale the filter does not hold adds nothing: its load brings the keys.
		other := newSale(1)
		if err := f.Remember(ctx, other.ID, dave); err != nil {
			t.Fatal(err)
		}
		admitKey(t, f, other, dave.UserID, "d1", 1, promotion.VerdictUnknown, false)
	})

	// Many buyers at once: the filter never lets through more than it holds, nor one buyer
	// more than the limit.
	t.Run("concurrent admits", func(t *testing.T) {
		f := open(t)
		const units, buyers, tries = 100, 300, 3
		sale := newSale(2)
		if _, err := f.Load(ctx, sale, promotion.FilterState{Remaining: units}); err != nil {
			t.Fatal(err)
		}
		users := make([]ids.ID, buyers)
		for i := range users {
			users[i] = gen.New()
		}
		var admitted atomic.Int64
		perBuyer := make([]atomic.Int64, buyers)
		var wg sync.WaitGroup
		for i := range buyers {
			for try := range tries {
				wg.Go(func() {
					v, _, err := f.Admit(ctx, sale, promotion.BuyerKey{UserID: users[i], Key: fmt.Sprint(try)}, 1)
					if err != nil {
						t.Error(err)
						return
					}
					if v == promotion.VerdictAdmitted {
						admitted.Add(1)
						perBuyer[i].Add(1)
					}
				})
			}
		}
		wg.Wait()
		if admitted.Load() != units {
			t.Fatalf("admitted %d, want %d", admitted.Load(), units)
		}
		for i := range perBuyer {
			if perBuyer[i].Load() > 2 {
				t.Fatalf("buyer %d admitted %d times, over the limit 2", i, perBuyer[i].Load())
			}
		}
	})
}

// A flushed Redis (here: the test's keys deleted) makes every sale unknown, to be loaded again.
func TestRedisAdmissionForgets(t *testing.T) {
	ctx := context.Background()
	client, prefix := testRedis(t)
	f := promotion.NewRedisAdmission(client, prefix)
	sale := promotion.FilterSale{ID: 42, PerUserLimit: 1, Until: time.Now().Add(time.Hour)}
	attempt := promotion.BuyerKey{UserID: 7, Key: "k"}
	if _, err := f.Load(ctx, sale, promotion.FilterState{Remaining: 5}); err != nil {
		t.Fatal(err)
	}
	if v, _, err := f.Admit(ctx, sale, attempt, 1); err != nil || v != promotion.VerdictAdmitted {
		t.Fatalf("before: %v %v", v, err)
	}
	if ttl := client.PTTL(ctx, prefix+"promotion:flash:42").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("the sale's key expires in %v; want within the hour it was loaded for", ttl)
	}
	deleteKeys(t, client, prefix)
	if v, known, err := f.Admit(ctx, sale, attempt, 1); err != nil || v != promotion.VerdictUnknown || known {
		t.Fatalf("after the flush: %v %v %v", v, known, err)
	}
	if loaded, err := f.Load(ctx, sale, promotion.FilterState{Remaining: 4, Bought: map[ids.ID]int{7: 1},
		Keys: []promotion.BuyerKey{attempt}}); err != nil || !loaded {
		t.Fatalf("reload = %v, %v", loaded, err)
	}
	if v, known, err := f.Admit(ctx, sale, attempt, 1); err != nil || v != promotion.VerdictLimitReached || !known {
		t.Fatalf("after the reload: %v %v %v", v, known, err)
	}
}

// The in-process filter drops sales that are over when it loads another, so it holds only
// the sales of about the last hour.
func TestMemoryAdmissionDropsSalesThatAreOver(t *testing.T) {
	ctx := context.Background()
	f := promotion.NewMemoryAdmission()
	over := promotion.FilterSale{ID: 1, PerUserLimit: 1, Until: time.Now().Add(-time.Second)}
	running := promotion.FilterSale{ID: 2, PerUserLimit: 1, Until: time.Now().Add(time.Hour)}
	if _, err := f.Load(ctx, over, promotion.FilterState{Remaining: 5}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := f.Admit(ctx, over, promotion.BuyerKey{UserID: 7, Key: "k"}, 1); v != promotion.VerdictAdmitted {
		t.Fatalf("before another load: %v", v)
	}
	if _, err := f.Load(ctx, running, promotion.FilterState{Remaining: 5}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := f.Admit(ctx, over, promotion.BuyerKey{UserID: 8, Key: "k"}, 1); v != promotion.VerdictUnknown {
		t.Fatalf("a sale that is over is still held: %v", v)
	}
}
