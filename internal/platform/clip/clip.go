// Package clip shortens text to a column's or a log line's size without cutting a UTF-8
// character in two (MySQL refuses broken UTF-8, and a half character in a log is noise).
package clip

import "unicode/utf8"

// Runes returns s cut to at most n characters.
func Runes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Bytes returns s cut to at most n bytes, at a character boundary.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
