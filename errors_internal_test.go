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
}

func TestClean(t *testing.T) {
	const key = "sk_test_Tq7vXm2LpR9wZk4NbY8c"
	for _, tt := range []struct{ in, want string }{
		{"Bearer " + key, "[REDACTED]"},
		{"half: " + key[14:], "[REDACTED]"},
		{"in pieces: " + key[:7] + "." + key[7:], "[REDACTED]"},
		{"in pieces: " + key[:7] + "\u034f" + key[7:14] + "\u3164" + key[14:], "[REDACTED]"},
		{"seven: " + key[10:17] + " only", "seven: " + key[10:17] + " only"},
		{"another sk_live_UvWxyz01 key", "another [REDACTED] key"},
		{"org_sk_live_UvWxyz01", "org_[REDACTED]"},
		// The public prefix is no secret: the API's own messages name it.
		{"Invalid API key: keys start with sk_test_ or sk_live_", "Invalid API key: keys start with sk_test_ or sk_live_"},
		{"sk_test_Tq7vXm2", "sk_test_Tq7vXm2"}, // 7 characters of the secret
		{"sk_test_Tq7vXm2L", "[REDACTED]"},     // 8
		{"_test_Tq7vXm2L", "[REDACTED]"},
		{"Tq7vXm2L", "[REDACTED]"},
		{"not a key: desk_top_drawer, disk_space_exhausted", "not a key: desk_top_drawer, disk_space_exhausted"},
		{"Could not find an organization with the id, bogus-id.", "Could not find an organization with the id, bogus-id."},
	} {
		assert.Equal(t, tt.want, clean(tt.in, key), "clean(%q)", tt.in)
	}
	assert.Equal(t, "[REDACTED]", clean("a short b", "short"), "a key under 8 characters counts whole")
	assert.Equal(t, "[REDACTED]", clean("a short b", "sk_test_short"), "and so does a secret")
	assert.Equal(t, "sk_test_ only", clean("sk_test_ only", "sk_test_"), "a key that is all prefix has no secret")
	assert.Equal(t, "[REDACTED]", clean("some text with sk_testab", "sk_testabcdefgh"), "no prefix: all is secret")
	assert.Equal(t, "no key", clean("no key", ""))
	assert.LessOrEqual(t, len(clean(strings.Repeat("é", 1000), key)), maxServerText)
	assert.Equal(t, `"org_123"`, quote("org_123", key))
	assert.Equal(t, `"[REDACTED]"`, quote("https://api.workos.com/"+key[8:], key))
	assert.Equal(t, `"[REDACTED]"`, quote(key, ""), "shaped like a key")
}
