package portal

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file makes text safe for errors and logs: from a server, which may
// echo the API key, and from a user, who may paste a key in the wrong place.

const redacted = "[REDACTED]"

// keyShaped matches text that has the form of a WorkOS API key.
var keyShaped = regexp.MustCompile(`\bsk_[0-9A-Za-z_-]{8,}`)

// clean makes server text safe to log: printable, then masked, then cut to
// at most limit bytes, so that nothing after the masking can rejoin pieces
// of the key that a server split apart.
func clean(s, key string, limit int) string {
	return truncate(maskKey(printable(s), key), limit)
}

// printable returns s without invalid UTF-8, U+FFFD, or control and format
// characters (terminal escapes, bidi overrides), and with white space
// folded into single spaces, so that it cannot add lines to a log. It drops
// rather than replaces, so that a key interleaved with them is whole again.
func printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' || r == utf8.RuneError }) {
		return s // already printable, as request IDs are: nothing to allocate
	}
	var b strings.Builder
	for _, r := range s { // an invalid byte comes out as utf8.RuneError
		if unicode.IsSpace(r) || unicode.IsPrint(r) && r != utf8.RuneError {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// maskKey replaces with [REDACTED] anything shaped like an API key, and
// every 8 characters in a row of key (all of it, if it is shorter), since a
// server may echo the key or a part of it. What is left of key is in runs
// too short to mean anything.
func maskKey(s, key string) string {
	if strings.Contains(s, "sk_") {
		s = keyShaped.ReplaceAllLiteralString(s, redacted)
	}
	run := min(8, len(key))
	for i := 0; run > 0 && i+run <= len(key); i++ {
		s = strings.ReplaceAll(s, key[i:i+run], redacted)
	}
	return s
}

// truncate cuts s to at most limit bytes, at a character boundary, and
// marks the cut with an ellipsis.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// quote quotes text that a user gave, such as a base URL or an option's
// value, for an error: masked of key and of anything shaped like one, cut
// short, and escaped by strconv.Quote, so that it cannot add lines either.
func quote(s, key string) string {
	return strconv.Quote(truncate(maskKey(s, key), 64))
}
