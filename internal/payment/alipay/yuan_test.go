package alipay

import (
	"math/big"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/money"
)

func TestParseYuan(t *testing.T) {
	valid := map[string]money.Fen{
		"0.10":             10,
		"0.1":              10,
		"0.01":             1,
		"1234.56":          123456,
		"12":               1200,
		"100000000.00":     100_000_000_00,
		"-35.80":           -3580,
		"-0.00":            0,
		"007.50":           750,
		"9999999999999.99": 999_999_999_999_999,
	}
	for in, want := range valid {
		got, err := parseYuan(in)
		if err != nil || got != want {
			t.Errorf("parseYuan(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	invalid := []string{
		"", "-", ".", ".5", "5.", "1.234", "+1", "1e3", " 1", "1 ", "1,000.00", "0x10", "--1",
		"1.-1", "١٢", "99999999999999", "NaN", "1.2.3", "¥1.00",
	}
	for _, in := range invalid {
		if got, err := parseYuan(in); err == nil {
			t.Errorf("parseYuan(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatYuan(t *testing.T) {
	for fen, want := range map[money.Fen]string{1: "0.01", 10: "0.10", 100: "1.00", 123456: "1234.56", 100_000_000_00: "100000000.00"} {
		if got := formatYuan(fen); got != want {
			t.Errorf("formatYuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

func TestParseChinaTime(t *testing.T) {
	got, err := parseChinaTime("2025-03-14 09:26:53")
	if err != nil || !got.Equal(time.Date(2025, 3, 14, 1, 26, 53, 0, time.UTC)) {
		t.Errorf("parseChinaTime = %s, %v", got, err)
	}
	if _, err := parseChinaTime("2025-03-14T09:26:53Z"); err == nil {
		t.Error("parseChinaTime accepted RFC 3339")
	}
}

// FuzzParseYuan checks the parser against exact rational arithmetic: whatever it accepts, it
// reads as exactly 100 × the decimal's value, and it reads back every amount it formats.
func FuzzParseYuan(f *testing.F) {
	for _, seed := range []string{"0.10", "1234.56", "-35.80", "12", "1.234", "1e3", "", "-", "99999999999999"} {
		f.Add(seed, int64(1))
	}
	f.Fuzz(func(t *testing.T, yuan string, fen int64) {
		if got, err := parseYuan(yuan); err == nil {
			exact, ok := new(big.Rat).SetString(yuan)
			if !ok {
				t.Fatalf("parseYuan(%q) = %d, but it is not a number", yuan, got)
			}
			exact.Mul(exact, big.NewRat(100, 1))
			if !exact.IsInt() || exact.Num().Int64() != int64(got) {
				t.Fatalf("parseYuan(%q) = %d, want %s", yuan, got, exact.RatString())
			}
		}
		if fen < 0 {
			fen = -(fen + 1)
		}
		fen %= 100_000_000_000_000 // within maxYuanDigits
		back, err := parseYuan(formatYuan(money.Fen(fen)))
		if err != nil || back != money.Fen(fen) {
			t.Fatalf("parseYuan(formatYuan(%d)) = %d, %v", fen, back, err)
		}
	})
}
