package clip

import (
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in        string
		n         int
		runes     string
		bytesWant string
	}{
		{"abc", 5, "abc", "abc"},
		{"abcdef", 3, "abc", "abc"},
		{"中文字", 2, "中文", ""},   // 2 bytes fall inside 中
		{"中文字", 4, "中文字", "中"}, // 4 bytes: 中 and a piece of 文
		{"a中", 2, "a中", "a"},
		{"", 0, "", ""},
	} {
		if got := Runes(c.in, c.n); got != c.runes {
			t.Errorf("Runes(%q, %d) = %q, want %q", c.in, c.n, got, c.runes)
		}
		if got := Bytes(c.in, c.n); got != c.bytesWant || !utf8.ValidString(got) {
			t.Errorf("Bytes(%q, %d) = %q, want %q", c.in, c.n, got, c.bytesWant)
		}
	}
}

func FuzzBytes(f *testing.F) {
	f.Add("中文字", 4)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || !utf8.ValidString(s) {
			return
		}
		got := Bytes(s, n)
		if len(got) > n || !utf8.ValidString(got) || got != s[:len(got)] {
			t.Fatalf("Bytes(%q, %d) = %q", s, n, got)
		}
	})
}
