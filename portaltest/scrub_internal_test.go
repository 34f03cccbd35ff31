package portaltest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScrubberMasksSecretsAndKeys(t *testing.T) {
	t.Parallel()
	sc := newScrubber("sk_test_SecretKey123456", "sk_live_abc", "plainsecret", "", "sk_test_")
	for _, tt := range []struct{ in, want, why string }{
		{"keys start with sk_test_ or sk_live_", "keys start with sk_test_ or sk_live_", "the public prefix"},
		{"sk_test_ SecretKey12", "sk_test_ [REDACTED]", "readable beside a secret"},
		{"xxSecretKeyxx", "xx[REDACTED]xx", "8 in a row, and the runs that overlap them"},
		{"xxSECRETKEYxx", "xx[REDACTED]xx", "whatever the case"},
		{"SecretK and ecretKey1", "SecretK and [REDACTED]", "7 are not enough"},
		{"sk_test_SecretKey123456", "[REDACTED]", "the key itself is key-shaped"},
		{"SecretKey123456SecretKey123456", "[REDACTED]", "runs that touch make one"},
		{"123456 SecretKe", "123456 [REDACTED]", "at the end"},
		{"an abc, xabcx", "an abc, xabcx", "a secret shorter than 8 counts only with its prefix"},
		{"a sk_live_abc, SK_LIVE_ABCx", "a [REDACTED], [REDACTED]x", "whole, in any case"},
		{"my plainsecret!", "my [REDACTED]!", "a key without a prefix is all secret"},
		{"sk_other_AbCdEfGh12", "[REDACTED]", "shaped like a key"},
		{"sk_live_zzzzzzzz, sk_test_yyyyyyyy", "[REDACTED], [REDACTED]", "every one"},
		{"SK_LIVE_abcdefgh", "[REDACTED]", "in any case"},
		{"sk_live_abcdefg", "[REDACTED]defg", "7 after the prefix: not key-shaped, but sk_live_abc"},
		{`{"k":"\u0053\u0065cretKe"}`, "[REDACTED]", "JSON escapes hide a run"},
		{`{"k":"\u0073k_live_zzzzzzzz"}`, "[REDACTED]", "or a key"},
		{"%53%65cretKe", "[REDACTED]", "URL escapes too"},
		{`50%off, \u00e9, \n, 100%`, `50%off, \u00e9, \n, 100%`, "escapes of nothing stay"},
		{"", "", "nothing"},
	} {
		assert.Equal(t, tt.want, sc.mask(tt.in), "mask(%q): %s", tt.in, tt.why)
	}
	none := newScrubber("", "sk_test_")
	assert.Equal(t, "sk_test_ and sk_test_abc", none.mask("sk_test_ and sk_test_abc"), "no secret to mask")
}

func TestScrubberCutsAfterMasking(t *testing.T) {
	t.Parallel()
	const key = "sk_test_0123456789abcdefghij"
	sc := newScrubber(key)
	text := strings.Repeat("z", 100) + " " + key[len("sk_test_"):] + " " + strings.Repeat("y", 100)
	masked := strings.Repeat("z", 100) + " [REDACTED] " + strings.Repeat("y", 100)
	for limit := range len(text) + 2 {
		assert.Equal(t, masked[:min(limit, len(masked))], sc.cut(text, limit), "cut at %d", limit)
	}
	long := strings.Repeat("z", 10000) + key
	assert.Equal(t, strings.Repeat("z", 50), sc.cut(long, 50), "only the start is read")
}

func TestUnescape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`\u0041\u00e9\/\"\\`: `Aé/"\`,
		`%41%e9%zz%4`:        "A\xe9%zz%4",
		`\u12`:               `u12`,
		`\uzzzz`:             `\uzzzz`,
		`x\`:                 `x\`,
		`%`:                  `%`,
		`%4`:                 `%4`,
		`%41`:                `A`,
		`\u0041`:             `A`,
		`\u004`:              `u004`,
		"plain":              "plain",
	} {
		assert.Equal(t, want, unescape(in), "unescape(%q)", in)
	}
}

func TestASCIILower(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "az@[`{ azé\xff", asciiLower("AZ@[`{ azé\xff"))
}
