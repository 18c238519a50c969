// Package money holds amounts in fen (1/100 yuan) as int64 (floats never carry money here)
// and the zone of the shop's money days, China Standard Time.
package money

import (
	"fmt"
	"time"
)

// Fen is an amount of CNY in minor units. JSON carries it as a plain integer.
type Fen int64

// Currency is the only currency Minimart sells in.
const Currency = "CNY"

// String formats for people, e.g. 999900 → "¥9999.00".
func (f Fen) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, v/100, v%100)
}

// ChinaTime is China Standard Time (UTC+8, no daylight saving), the zone of the shop's
// calendar days and of the payment providers' times and bill days, as CNY is its currency.
// A fixed zone needs no tzdata on the host.
func ChinaTime() *time.Location { return chinaTime }

var chinaTime = time.FixedZone("CST", 8*3600)
