package loadgen

import (
	"fmt"
	"strings"
	"time"
)

// MarkdownRow is one row of a Markdown table: "| a | b |". A "|" inside a cell is escaped
// and line breaks become spaces, so any text keeps the table intact.
func MarkdownRow(cells ...string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		c = strings.ReplaceAll(c, "|", `\|`)
		c = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(c)
		b.WriteString(" ")
		b.WriteString(c)
		b.WriteString(" |")
	}
	return b.String()
}

// MarkdownHeader is a table's header row and the separator row under it, with the columns
// after the first aligned right (numbers).
func MarkdownHeader(cells ...string) string {
	sep := make([]string, len(cells))
	for i := range cells {
		if i == 0 {
			sep[i] = "---"
		} else {
			sep[i] = "---:"
		}
	}
	return MarkdownRow(cells...) + "\n" + MarkdownRow(sep...)
}

// FormatLatency prints a latency with three significant digits in a unit a reader compares
// at a glance: "85 µs", "1.23 ms", "12.3 ms", "1.20 s".
func FormatLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// FormatRate prints requests per second as a whole number with thin groups: "41 203".
func FormatRate(r float64) string {
	s := fmt.Sprintf("%.0f", r)
	if len(s) <= 4 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
