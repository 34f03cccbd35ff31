package portaltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestIsEmail holds the fake's reading of JSON Schema's "email" format to
// RFC 5321's Mailbox, with RFC 6531's non-ASCII text, at every edge.
func TestIsEmail(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"it@example.com", "a.b.c@example.com", "a@b", "a@b-c.example",
		"azAZ09@azAZ09.example",            // the ends of each range of letters and digits
		"!#$%&'*+-/=?^_`{|}~@example.com",  // every special character of an atom
		"josé@exämple.de", "\u0080@\u0080", // non-ASCII, from its first rune on
		`"it desk"@example.com`, `""@example.com`, `" "@example.com`, `"~"@example.com`,
		`"a\"b"@example.com`, `"a\\b"@example.com`, `"@"@example.com`,
		"a@[192.0.2.1]", "a@[IPv6:::1]", "a@[!]", "a@[~]",
	} {
		assert.True(t, isEmail(s), "%q is an address", s)
	}
	for _, s := range []string{
		"", "it", "@example.com", "it@", "@",
		"a..b@example.com", ".a@example.com", "a.@example.com", "a b@example.com", "a\x00@example.com",
		"a\x7f@example.com", "a@b@example.com", "(a)@example.com", "a,b@example.com", `a"b@example.com`,
		"a@-example.com", "a@example-.com", "a@exa_mple.com", "a@example..com", "a@.example.com",
		"a@example.com.", "a@b c", "a@b\x7fc", "a@b`c", "a@b{c", "a@b/c", "a@b:c", "a@b@c", "a@b[c]",
		`"a"b"@example.com`, `"a\"@example.com`, "\"a\x01\"@example.com", "\"\x1f\"@example.com",
		"\"\x7f\"@example.com", `"@example.com`, `"a@example.com`,
		"a@[]", "a@[1.2.3.4", "a@[ ]", "a@[\x7f]", `a@[\]`, "a@[[]", "a@[]]", "a@[a@b]", "a@[é]",
		"a\xff@example.com",
	} {
		assert.False(t, isEmail(s), "%q is no address", s)
	}
}
