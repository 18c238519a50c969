package loadgen_test

import (
	"testing"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

func TestMarkdownRow(t *testing.T) {
	if got, want := loadgen.MarkdownRow("search", "1 200", "a|b", "two\nlines"), `| search | 1 200 | a\|b | two lines |`; got != want {
		t.Errorf("MarkdownRow = %q, want %q", got, want)
	}
	if got, want := loadgen.MarkdownHeader("scenario", "req/s"), "| scenario | req/s |\n| --- | ---: |"; got != want {
		t.Errorf("MarkdownHeader = %q, want %q", got, want)
	}
}

func TestFormat(t *testing.T) {
	latencies := []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{85 * time.Microsecond, "85 µs"},
		{1234 * time.Microsecond, "1.23 ms"},
		{12345 * time.Microsecond, "12.3 ms"},
		{250 * time.Millisecond, "250 ms"},
		{1200 * time.Millisecond, "1.20 s"},
	}
	for _, tt := range latencies {
		if got := loadgen.FormatLatency(tt.d); got != tt.want {
			t.Errorf("FormatLatency(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
	rates := []struct {
		r    float64
		want string
	}{
		{0, "0"}, {999.6, "1000"}, {4321, "4321"}, {41203.4, "41 203"}, {1234567, "1 234 567"},
	}
	for _, tt := range rates {
		if got := loadgen.FormatRate(tt.r); got != tt.want {
			t.Errorf("FormatRate(%v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}
