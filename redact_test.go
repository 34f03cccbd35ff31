package portal

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		s     string
		limit int
		want  string
	}{
		{"abcde", 5, "abcde"},
		{"abcdef", 5, "ab…"},
		{"abé" + "defg", 6, "ab…"},       // the cut falls inside é, and moves before it
		{"abé" + "defg", 7, "abé…"},      // after it
		{"\x80\x80\x80\x80\x80", 4, "…"}, // nothing but continuation bytes: nothing is kept
		{"", 0, ""},
	} {
		got := truncate(tt.s, tt.limit)
		assert.Equal(t, tt.want, got, "truncate(%q, %d)", tt.s, tt.limit)
		assert.LessOrEqual(t, len(got), max(tt.limit, len("…")))
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"5cf84612-cd60-4d91-9c7e-e1e11bb6b074": "5cf84612-cd60-4d91-9c7e-e1e11bb6b074",
		"  two  words\n\tand\u2028lines  ":     "two words and lines",
		"a\x1b[31mb\u202ec\u200bd\xffe\ufffdf": "a[31mbcdef",
	} {
		assert.Equal(t, want, printable(in), "printable(%q)", in)
	}
	// The request ID of every successful call is printable already.
	assert.Zero(t, testing.AllocsPerRun(100, func() { printable("5cf84612-cd60-4d91-9c7e-e1e11bb6b074") }))
}

func TestMaskKey(t *testing.T) {
	const key = "sk_test_0123456789abcdefghij"
	for in, want := range map[string]string{
		"Bearer " + key:                  "Bearer [REDACTED]",
		"half: " + key[14:]:              "half: [REDACTED]efghij",
		"seven: " + key[10:17] + " only": "seven: " + key[10:17] + " only",
		"another sk_live_abcdefgh key":   "another [REDACTED] key",
		"not a key: desk_top_drawer":     "not a key: desk_top_drawer",
	} {
		assert.Equal(t, want, maskKey(in, key), "maskKey(%q)", in)
	}
	assert.Equal(t, "[REDACTED][REDACTED][REDACTED]op",
		maskKey("0123456789abcdefghijklmnop", "0123456789abcdefghijklmnop"),
		"every run of 8 goes; what is left is shorter")
	assert.Equal(t, "a [REDACTED] b", maskKey("a short b", "short"), "a key under 8 characters is masked whole")
	assert.Equal(t, "no key", maskKey("no key", ""))
	assert.Zero(t, testing.AllocsPerRun(100, func() { maskKey("5cf84612-cd60-4d91-9c7e-e1e11bb6b074", key) }))
	assert.LessOrEqual(t, len(clean(strings.Repeat("é", 1000), key, 512)), 512)
}
