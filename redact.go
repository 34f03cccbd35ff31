package portal

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file makes text safe to leave the library: text from a server or a
// proxy, which may echo the API key or forge log lines, and text from a
// user, who may paste the key in the wrong place. Every error that
// NewClient and GenerateLink return passes through safe on its way out, so
// that no kind of error, present or future, can skip it.

const (
	redacted = "[REDACTED]"
	// maxErrorText bounds the text of every error the library returns.
	maxErrorText = 1024
	// maxServerText bounds each piece of server text an APIError keeps, far
	// above what the API's own messages take.
	maxServerText = 512
)

// keyPrefix matches the public start of a WorkOS API key, such as sk_test_
// or sk_live_, which every key of its kind shares and the API's own
// messages name: it is no secret.
var keyPrefix = regexp.MustCompile(`^sk_[a-z]+_`)

// keyShaped matches text that has the form of a WorkOS API key, such as
// sk_test_ and its letters and digits, unless a letter or digit comes first.
var keyShaped = regexp.MustCompile(`(^|[^0-9A-Za-z])sk_[a-z]+_[0-9A-Za-z]{8,}`)

// safeError is an error whose text was made safe to leave the library;
// errors.Is and errors.As see through it to the error it stands for.
type safeError struct {
	text string
	err  error
}

func (e *safeError) Error() string { return e.text }
func (e *safeError) Unwrap() error { return e.err }

// safe returns err if its text is already safe to log, or else an error
// whose text is made safe (see safeText) and that wraps err.
func safe(err error, key string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if cleaned := safeText(text, key); cleaned != text {
		return &safeError{text: cleaned, err: err}
	}
	return err
}

// safeText makes the text of an error safe to log: printable, replaced
// whole if it holds a piece of key, masked of anything else shaped like a
// key, and cut to maxErrorText bytes.
func safeText(s, key string) string {
	s = printable(s)
	s = truncate(s, 8*maxErrorText) // what is cut here would be cut below: it need not be searched
	if hidesKey(s, key) {
		return "portal: the error's text held a piece of the API key: " + redacted
	}
	return truncate(maskKeys(s), maxErrorText)
}

// clean makes one piece of server text safe to keep in an APIError:
// printable, [REDACTED] whole if it holds a piece of the key, masked of
// other keys and of every URL's path and query, where a portal link
// carries its token, and cut short.
func clean(s, key string) string {
	if s = printable(s); hidesKey(s, key) {
		return redacted
	}
	return truncate(maskLinks(maskKeys(s)), maxServerText)
}

// linkRest matches what follows the host of an http or https URL: its
// path, query and fragment.
var linkRest = regexp.MustCompile(`(?i)(https?://[^/?#\s"'<>]*)[/?#][^\s"'<>]*`)

// maskLinks keeps only the scheme and host of each URL in s, since a portal
// link is a credential, whatever the server says it is.
func maskLinks(s string) string {
	if !strings.Contains(strings.ToLower(s), "http") {
		return s // nothing to allocate
	}
	return linkRest.ReplaceAllString(s, "${1}/"+redacted)
}

// hidesKey reports whether s holds a piece of key once everything but the
// characters a key can have (ASCII letters, digits, "_" and "-") is taken
// out and case is ignored, so that no separator, visible or not, nor a
// change of case, hides it. A piece is 8 characters in a row of the
// secret, the part after the public prefix such as sk_test_; or the whole
// key, when its secret is shorter, so that short test keys ("sk_test_ci")
// do not erase every message that happens to hold their letters.
func hidesKey(s, key string) bool {
	if key == "" {
		return false
	}
	kept := strings.ToLower(strings.Map(func(r rune) rune {
		if isKeyChar(r) {
			return r
		}
		return -1
	}, s))
	key = strings.ToLower(key)
	secret := key[len(keyPrefix.FindString(key)):]
	if len(secret) < 8 {
		return strings.Contains(kept, key)
	}
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(kept, secret[i:i+8]) {
			return true
		}
	}
	return false
}

// isKeyChar reports whether r can be part of an API key: NewClient takes
// no other.
func isKeyChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-'
}

// maskKeys replaces anything shaped like an API key with [REDACTED].
func maskKeys(s string) string {
	if !strings.Contains(s, "sk_") {
		return s // nothing to allocate
	}
	return keyShaped.ReplaceAllString(s, "${1}"+redacted)
}

// printable returns s without invalid UTF-8, U+FFFD, or control and format
// characters (terminal escapes, bidi overrides), and with white space
// folded into single spaces, so that it cannot add lines to a log.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s { // an invalid byte comes out as utf8.RuneError
		if unicode.IsSpace(r) || unicode.IsPrint(r) && r != utf8.RuneError {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// truncate cuts s to at most limit bytes, at a character boundary, and
// marks the cut with an ellipsis.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := max(limit-len("…"), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// quote quotes text that a user gave, such as a base URL, for an error:
// [REDACTED] if it holds a piece of key, else masked, cut and escaped.
func quote(s, key string) string {
	return strconv.Quote(excerpt(s, key))
}

// excerpt returns what an error may show of a value that a user gave:
// [REDACTED] if it holds a piece of key, else the value masked of anything
// shaped like a key and cut to 64 bytes.
func excerpt(s, key string) string {
	if hidesKey(s, key) {
		return redacted
	}
	return truncate(maskKeys(s), 64)
}
