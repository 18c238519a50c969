// Package money holds amounts in fen (1/100 yuan) as int64; floats never carry money here.
package money

import "fmt"

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
