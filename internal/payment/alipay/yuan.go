package alipay

import (
	"fmt"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/clip"

	"github.com/minimart/minimart/internal/platform/money"
)

// alipayTimeLayout is how Alipay writes times (gmt_payment, time_expire, bill columns):
// without a zone, meaning Beijing time (money.ChinaTime).
const alipayTimeLayout = "2006-01-02 15:04:05"

// maxYuanDigits bounds the whole-yuan part so that fen always fit in an int64 with room to
// spare; Alipay's own ceiling is 100000000 yuan (9 digits).
const maxYuanDigits = 13

// parseYuan reads an Alipay decimal yuan amount ("0.10", "1234.56", "12", "-35.80" in bills)
// into fen exactly, without floats. It accepts an optional leading minus, digits, and at
// most two decimals; anything else is an error.
func parseYuan(s string) (money.Fen, error) {
	digits := s
	negative := strings.HasPrefix(digits, "-")
	if negative {
		digits = digits[1:]
	}
	whole, frac, hasPoint := strings.Cut(digits, ".")
	if whole == "" || len(whole) > maxYuanDigits || !allDigits(whole) {
		return 0, fmt.Errorf("amount %q is not a yuan amount", shorten(s))
	}
	if hasPoint && (frac == "" || len(frac) > 2 || !allDigits(frac)) {
		return 0, fmt.Errorf("amount %q is not a yuan amount with at most two decimals", shorten(s))
	}
	var fen int64
	for _, d := range whole {
		fen = fen*10 + int64(d-'0')
	}
	frac += "00"[len(frac):]
	fen = fen*100 + int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	if negative {
		fen = -fen
	}
	return money.Fen(fen), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatYuan writes fen as Alipay's yuan with two decimals: 10 → "0.10". Callers pass
// positive amounts; Alipay accepts no other.
func formatYuan(f money.Fen) string {
	return fmt.Sprintf("%d.%02d", int64(f)/100, int64(f)%100)
}

// parseChinaTime reads an Alipay time ("2024-01-02 15:04:05", Beijing time).
func parseChinaTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(alipayTimeLayout, s, money.ChinaTime())
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is not %q", shorten(s), alipayTimeLayout)
	}
	return t, nil
}

// parseOptionalChinaTime is parseChinaTime that reads "" as the zero time.
func parseOptionalChinaTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseChinaTime(s)
}

// shorten cuts outside input before it goes into an error message, so a hostile body
// cannot flood the logs.
func shorten(s string) string {
	if c := clip.Bytes(s, 64); c != s {
		return c + "…"
	}
	return s
}
