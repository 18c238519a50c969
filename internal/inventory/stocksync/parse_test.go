package stocksync_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/stocksync"
	"github.com/minimart/minimart/internal/platform/ids"
)

func ptr[T any](v T) *T { return &v }

func TestParse(t *testing.T) {
	at := time.Date(2026, 1, 24, 0, 30, 0, 500_000_000, time.UTC)
	tests := []struct {
		name string
		body string
		want stocksync.Update
	}{
		{"the seed's message", `{"product_id": 1, "new_inventory": 42}`,
			stocksync.Update{ProductID: 1, NewInventory: ptr[int64](42)}},
		{"product id above 2^53 as a number keeps every digit", `{"product_id": 2124514024648343552, "new_inventory": 0}`,
			stocksync.Update{ProductID: 2124514024648343552, NewInventory: ptr[int64](0)}},
		{"ids as strings", `{"sku_id": "2124514024648343552", "new_inventory": 100000000}`,
			stocksync.Update{SKUID: 2124514024648343552, NewInventory: ptr[int64](100_000_000)}},
		{"full form", `{"sku_code": "HW-黑-1", "delta": -3, "version": 9223372036854775807,
			"updated_at": "2026-01-24T08:30:00.5+08:00", "source": "金蝶 ERP"}`,
			stocksync.Update{SKUCode: "HW-黑-1", Delta: -3, Version: ptr[int64](9223372036854775807), UpdatedAt: &at, Source: "金蝶 ERP"}},
		{"version as a string of digits", `{"sku_id": 7, "delta": 5, "version": "17"}`,
			stocksync.Update{SKUID: 7, Delta: 5, Version: ptr[int64](17)}},
		{"unknown fields are ignored, whatever their type", `{"sku_id": 7, "new_inventory": 1, "warehouse": {"id": [1, 2]}, "note": null, "new_inventory_v2": "x"}`,
			stocksync.Update{SKUID: 7, NewInventory: ptr[int64](1)}},
		{"null is absent", `{"sku_id": 7, "sku_code": null, "new_inventory": 1, "delta": null, "version": null, "updated_at": null, "source": null}`,
			stocksync.Update{SKUID: 7, NewInventory: ptr[int64](1)}},
		{"surrounding whitespace", " \n{\"sku_id\":7,\"new_inventory\":1}\n ",
			stocksync.Update{SKUID: 7, NewInventory: ptr[int64](1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stocksync.Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %s, want %s", show(got), show(tt.want))
			}
		})
	}
}

func show(u stocksync.Update) string {
	b, _ := json.Marshal(u)
	return string(b)
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		body string
		// want are fragments the error must contain, naming the field and the problem.
		want []string
	}{
		{"empty", ``, []string{"empty"}},
		{"oversized", `{"sku_id": 7, "new_inventory": 1, "pad": "` + strings.Repeat("x", stocksync.MaxMessageSize) + `"}`,
			[]string{"the message is 65580 bytes; at most 65536 are accepted"}},
		{"python dict, as the seed's eval read", `{'product_id': 1, 'new_inventory': 42}`, []string{"not valid JSON", "invalid character"}},
		{"eval payload", `__import__('os').system('rm -rf /')`, []string{"not valid JSON"}},
		{"truncated", `{"sku_id": 7, "new_inv`, []string{"not valid JSON", "ends too early"}},
		{"array", `[{"sku_id": 7, "new_inventory": 1}]`, []string{"must be a JSON object, not an array"}},
		{"number", `42`, []string{"must be a JSON object, not a number"}},
		{"two objects", `{"sku_id": 7, "new_inventory": 1}{"sku_id": 7, "new_inventory": 2}`, []string{"more data after its JSON object"}},
		{"duplicate field", `{"sku_id": 7, "new_inventory": 1, "new_inventory": 2}`, []string{"new_inventory appears more than once"}},
		{"no SKU", `{"new_inventory": 1}`, []string{"sku_id: is required"}},
		{"two ways to name the SKU", `{"sku_id": 7, "sku_code": "A", "new_inventory": 1}`, []string{"one of sku_id, sku_code and product_id"}},
		{"nothing to do", `{"sku_id": 7, "version": 3}`, []string{"new_inventory: is required"}},
		{"set and delta", `{"sku_id": 7, "new_inventory": 1, "delta": 2}`, []string{"delta: give new_inventory or delta, not both"}},
		{"negative stock", `{"product_id": 1, "new_inventory": -5}`, []string{"new_inventory: must be between 0 and 100000000, got -5"}},
		{"too much stock", `{"product_id": 1, "new_inventory": 100000001}`, []string{"new_inventory: must be between 0 and 100000000"}},
		{"stock as a string", `{"product_id": 1, "new_inventory": "42"}`, []string{"new_inventory: must be a number, not a string"}},
		{"fractional stock", `{"product_id": 1, "new_inventory": 4.5}`, []string{"new_inventory: must be a whole number, got \"4.5\""}},
		{"exponent stock", `{"product_id": 1, "new_inventory": 1e3}`, []string{"new_inventory: must be a whole number"}},
		{"boolean stock", `{"product_id": 1, "new_inventory": true}`, []string{"new_inventory: must be a number, not a boolean"}},
		{"zero delta", `{"sku_id": 7, "delta": 0}`, []string{"delta: must be a non-zero number"}},
		{"huge delta", `{"sku_id": 7, "delta": -100000001}`, []string{"delta: must be a non-zero number between -100000000 and 100000000"}},
		{"zero id", `{"product_id": 0, "new_inventory": 1}`, []string{"product_id: must be a positive id, got 0"}},
		{"negative sku id", `{"sku_id": "-3", "new_inventory": 1}`, []string{"sku_id: must be a positive id, got -3"}},
		{"id too long", `{"sku_id": 99999999999999999999, "new_inventory": 1}`, []string{"sku_id: \"99999999999999999999\" is out of range"}},
		{"id not digits", `{"sku_id": "abc", "new_inventory": 1}`, []string{"sku_id: must be an integer", "\"abc\""}},
		{"id as object", `{"sku_id": {"id": 7}, "new_inventory": 1}`, []string{"sku_id: must be a number or a string of digits, not an object"}},
		{"empty code", `{"sku_code": "", "new_inventory": 1}`, []string{"sku_code: must not be empty"}},
		{"long code", `{"sku_code": "` + strings.Repeat("码", 65) + `", "new_inventory": 1}`, []string{"sku_code: must be at most 64 characters, got 65"}},
		{"code as number", `{"sku_code": 12, "new_inventory": 1}`, []string{"sku_code: must be a string, not a number"}},
		{"negative version", `{"sku_id": 7, "new_inventory": 1, "version": -1}`, []string{"version: must not be negative"}},
		{"fractional version", `{"sku_id": 7, "new_inventory": 1, "version": 1.5}`, []string{"version: must be a whole number"}},
		{"version as boolean", `{"sku_id": 7, "new_inventory": 1, "version": false}`, []string{"version: must be a number or a string of digits, not a boolean"}},
		{"updated_at not RFC 3339", `{"sku_id": 7, "new_inventory": 1, "updated_at": "2026-01-24 08:30:00"}`,
			[]string{"updated_at: must be an RFC 3339 time", "\"2026-01-24 08:30:00\""}},
		{"updated_at as a number", `{"sku_id": 7, "new_inventory": 1, "updated_at": 1769214600}`, []string{"updated_at: must be a string, not a number"}},
		{"updated_at before 1970", `{"sku_id": 7, "new_inventory": 1, "updated_at": "1969-12-31T23:59:59Z"}`, []string{"updated_at: must be a time between 1970 and 9999"}},
		{"updated_at after 9999 in UTC", `{"sku_id": 7, "new_inventory": 1, "updated_at": "9999-12-31T23:00:00-05:00"}`, []string{"updated_at: must be a time between 1970 and 9999"}},
		{"long source", `{"sku_id": 7, "new_inventory": 1, "source": "` + strings.Repeat("s", 65) + `"}`, []string{"source: must be at most 64 characters"}},
		{"control characters in source", `{"sku_id": 7, "new_inventory": 1, "source": "erp\n"}`, []string{"source: must be printable text"}},
		{"every problem at once", `{"sku_id": "x", "new_inventory": -1, "version": "v", "source": 3}`,
			[]string{"sku_id: must be an integer", "new_inventory: must be between", "version: must be an integer", "source: must be a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := stocksync.Parse([]byte(tt.body))
			if err == nil {
				t.Fatalf("Parse accepted it: %s", show(u))
			}
			var pe *stocksync.ParseError
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("error %T %v is not a ParseError with problems", err, err)
			}
			if !reflect.DeepEqual(u, stocksync.Update{}) {
				t.Errorf("a refused message still returned %s", show(u))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// FuzzParse: Parse never panics; a refusal explains itself; an accepted message is a
// valid update whose JSON form parses back to the same update.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"product_id": 1, "new_inventory": 42}`,
		`{"product_id": "2124514024648343552", "new_inventory": 0}`,
		`{"sku_id": 7, "delta": -3, "version": "17", "source": "erp"}`,
		`{"sku_code": "HW-1", "new_inventory": 5, "updated_at": "2026-01-24T08:30:00.123456789+08:00"}`,
		`{"sku_id": 7, "new_inventory": 1, "extra": [1, {"a": null}], "version": null}`,
		`{"sku_id": 7, "new_inventory": 1, "new_inventory": 2}`,
		`{'product_id': 1}`, `[1]`, `null`, ``, `{"sku_id": 1e400}`, `{"delta": -0}`,
		`{"sku_code": "\ud800", "new_inventory": 1}`, "{\"source\": \"\xff\", \"sku_id\": 1, \"delta\": 1}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := stocksync.Parse(body)
		if err != nil {
			var pe *stocksync.ParseError
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("error %T %q is not a ParseError with problems", err, err)
			}
			for _, p := range pe.Problems {
				if strings.TrimSpace(p.Reason) == "" {
					t.Fatalf("a problem without a reason: %+v", pe.Problems)
				}
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("error is not valid UTF-8: %q", err)
			}
			return
		}
		if len(body) > stocksync.MaxMessageSize {
			t.Fatalf("accepted %d bytes", len(body))
		}
		named := 0
		for _, id := range []ids.ID{u.ProductID, u.SKUID} {
			if id < 0 {
				t.Fatalf("negative id: %s", show(u))
			}
			if id > 0 {
				named++
			}
		}
		if u.SKUCode != "" {
			named++
		}
		if named != 1 {
			t.Fatalf("names the SKU %d ways: %s", named, show(u))
		}
		switch {
		case (u.NewInventory == nil) == (u.Delta == 0):
			t.Fatalf("not exactly one of new_inventory and delta: %s", show(u))
		case u.NewInventory != nil && (*u.NewInventory < 0 || *u.NewInventory > inventory.MaxStock):
			t.Fatalf("new_inventory out of range: %s", show(u))
		case u.Delta < -inventory.MaxStock || u.Delta > inventory.MaxStock:
			t.Fatalf("delta out of range: %s", show(u))
		}
		if u.Version != nil && *u.Version < 0 {
			t.Fatalf("negative version: %s", show(u))
		}
		if u.UpdatedAt != nil && (u.UpdatedAt.Location() != time.UTC || u.UpdatedAt.Year() < 1970 || u.UpdatedAt.Year() > 9999) {
			t.Fatalf("updated_at out of range or not UTC: %s", show(u))
		}
		if inventory.ValidSyncSource(u.Source) != "" || utf8.RuneCountInString(u.SKUCode) > inventory.MaxSKUCode {
			t.Fatalf("bad source or code: %s", show(u))
		}
		again, err := json.Marshal(u)
		if err != nil {
			t.Fatalf("marshal %+v: %v", u, err)
		}
		back, err := stocksync.Parse(again)
		if err != nil || !reflect.DeepEqual(back, u) {
			t.Fatalf("round trip of %s: %s, %v", again, show(back), err)
		}
	})
}
