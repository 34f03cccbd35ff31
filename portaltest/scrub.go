package portaltest

import (
	"regexp"
	"strconv"
	"strings"
)

// This file holds the one path that every text a record keeps takes: the
// API keys it must not keep are masked, and the text is cut and copied.

// redacted replaces what a record must not keep.
const redacted = "[REDACTED]"

// publicPrefix matches the part of a key that is no secret: "sk_", lower-case
// letters and "_", as in sk_test_ and sk_live_. Text that names it stays.
var publicPrefix = regexp.MustCompile(`^sk_[a-z]+_`)

// keyShaped matches text that has the form of an API key, once lower-cased
// (as a header's name may not be): a public prefix and 8 or more letters and
// digits.
var keyShaped = regexp.MustCompile(`sk_[a-z]+_[0-9a-z]{8,}`)

// lookPast is how far past a cut the scrubber reads, so that a key across
// the cut is masked whole rather than left in part: further than a run of
// a secret, or the shortest key-shaped text, takes even when JSON-escaped.
const lookPast = 64

// A scrubber masks, in any text, the secret parts of keys: the one a
// request presented and the one the fake accepts. Text that holds 8
// characters of a secret in a row has each such run replaced by
// [REDACTED], whatever the case, as are key-shaped texts; a secret shorter
// than 8 counts only whole and with its prefix ("sk_test_ci"), so that a
// short test key masks no "ci" in other text. A text that holds a secret or
// a key only once its JSON or URL escapes are read is replaced whole.
type scrubber struct {
	runs map[int]map[string]bool // by length: every run of a secret, lower-cased
}

func newScrubber(keys ...string) *scrubber {
	sc := &scrubber{runs: map[int]map[string]bool{}}
	for _, key := range keys {
		secret := asciiLower(strings.TrimPrefix(key, publicPrefix.FindString(key)))
		if secret == "" {
			continue
		}
		n := 8
		if len(secret) < n {
			secret, n = asciiLower(key), len(key)
		}
		if sc.runs[n] == nil {
			sc.runs[n] = map[string]bool{}
		}
		for i := 0; i+n <= len(secret); i++ {
			sc.runs[n][secret[i:i+n]] = true
		}
	}
	return sc
}

// cut returns a copy of the first limit bytes of s, masked before it is
// cut. Only the start of s is read, so that a large text costs no more than
// a small one.
func (sc *scrubber) cut(s string, limit int) string {
	s = sc.mask(s[:min(len(s), limit+lookPast)])
	return strings.Clone(s[:min(len(s), limit)])
}

// mask returns s with every run of a secret and every key-shaped text
// replaced, or [REDACTED] alone if its escapes hide either.
func (sc *scrubber) mask(s string) string {
	lower := asciiLower(s)
	var masked []bool // by byte of s, once there is something to mask
	cover := func(from, to int) {
		if masked == nil {
			masked = make([]bool, len(s))
		}
		for i := from; i < to; i++ {
			masked[i] = true
		}
	}
	for _, span := range keyShaped.FindAllStringIndex(lower, -1) {
		cover(span[0], span[1])
	}
	for i := range lower {
		// end >= 0 would mask the same: cover(i, 0) covers nothing, at a cost.
		if end := sc.runAt(lower, i); end > 0 {
			cover(i, end)
		}
	}
	if masked != nil {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if !masked[i] {
				b.WriteByte(s[i])
			} else if i == 0 || !masked[i-1] {
				b.WriteString(redacted)
			}
		}
		s = b.String()
	}
	if strings.ContainsAny(s, `\%`) && sc.holds(unescape(s)) {
		return redacted
	}
	return s
}

// runAt returns where a run of a secret that starts at i of lower ends, or
// 0 if none starts there.
func (sc *scrubber) runAt(lower string, i int) int {
	end := 0
	for n, runs := range sc.runs { // a nil map holds nothing
		if i+n <= len(lower) && runs[lower[i:i+n]] {
			end = max(end, i+n)
		}
	}
	return end
}

// holds reports whether s holds a run of a secret or a key-shaped text.
func (sc *scrubber) holds(s string) bool {
	lower := asciiLower(s)
	for i := range lower {
		if sc.runAt(lower, i) > 0 {
			return true
		}
	}
	return keyShaped.MatchString(lower)
}

// unescape returns s as a reader of its JSON escapes (\u0073, \/) and URL
// escapes (%73) would see it. Anything else stays as it is.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+2 < len(s):
			if c, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		case s[i] == '\\' && i+5 < len(s) && s[i+1] == 'u':
			if c, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(c))
				i += 5
				continue
			}
		case s[i] == '\\' && i+1 < len(s):
			i++ // \" \\ \/ stand for the character that follows; \n and the like are no part of a key
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// asciiLower lower-cases the ASCII letters of s, keeping every byte where
// it is, so that offsets in the result are offsets in s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
