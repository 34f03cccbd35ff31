package portal

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors that [errors.Is] matches against an [*APIError] by its
// HTTP status, as in errors.Is(err, portal.ErrRateLimited).
var (
	ErrBadRequest      error = &statusError{"portal: bad request", 400, 400}  // such as an unknown organization
	ErrUnauthorized    error = &statusError{"portal: unauthorized", 401, 401} // a missing, wrong or revoked key
	ErrForbidden       error = &statusError{"portal: forbidden", 403, 403}
	ErrNotFound        error = &statusError{"portal: not found", 404, 404}
	ErrUnprocessable   error = &statusError{"portal: unprocessable entity", 422, 422} // the API refused a field
	ErrRateLimited     error = &statusError{"portal: rate limited", 429, 429}         // see APIError.RetryAfter
	ErrServer          error = &statusError{"portal: server error", 500, 599}
	ErrInvalidResponse error = &statusError{"portal: invalid response", 200, 299} // a 2xx without a usable link
)

// statusError is a sentinel that stands for the statuses from low to high.
type statusError struct {
	text      string
	low, high int
}

func (e *statusError) Error() string { return e.text }

// ErrNoAPIKey means that neither the caller nor WORKOS_API_KEY gave a key.
var ErrNoAPIKey = errors.New("portal: no API key: pass one to NewClient or SetAPIKey, or set WORKOS_API_KEY")

// ValidationError reports options that break a rule of the API; nothing
// was sent.
type ValidationError struct {
	Field string // the API's name of the field, such as "return_url"
	Rule  string // what the value must be, quoting the value
}

// Error returns "portal: invalid <field>: <rule>".
func (e *ValidationError) Error() string { return "portal: invalid " + e.Field + ": " + e.Rule }

// invalid builds a ValidationError that quotes the value, masked and cut short.
func invalid(field, rule, value string) *ValidationError {
	return &ValidationError{Field: field, Rule: rule + "; got " + quote(value, "")}
}

// FieldError is one field the API refused in a 422 answer.
type FieldError struct {
	Field   string `json:"field"`   // the API's field name, when it gives one
	Code    string `json:"code"`    // why, such as "email_string_required"
	Message string `json:"message"` // the API's explanation
}

// APIError is the error for an answer the client cannot use: any status
// outside 2xx (it never follows redirects), or a 2xx without a usable link.
// Its text comes from the server, made safe to log: the API key masked,
// control characters dropped, and each field cut short.
type APIError struct {
	StatusCode int           // the HTTP status
	Code       string        // the API's error code, such as "invalid_request_parameters"
	Message    string        // the API's explanation, or an excerpt of a body that is not the API's JSON
	Errors     []FieldError  // the refused fields of a 422 answer
	RequestID  string        // the X-Request-ID header: quote it to WorkOS support
	RetryAfter time.Duration // the wait the server asked for with Retry-After, if any
}

// Error describes the failure on one line of at most 1 KB.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("portal: " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode))
	for _, part := range []string{e.Code, e.Message} {
		if part != "" {
			b.WriteString(": " + part)
		}
	}
	if len(e.Errors) > 0 {
		fields := make([]string, len(e.Errors))
		for i, fe := range e.Errors {
			fields[i] = cmp.Or(fe.Message, fe.Code)
			if fe.Field != "" {
				fields[i] = fe.Field + ": " + fields[i]
			}
		}
		b.WriteString(" (" + strings.Join(fields, "; ") + ")")
	}
	if e.RetryAfter > 0 {
		b.WriteString(" [retry after " + e.RetryAfter.String() + "]")
	}
	if e.RequestID != "" {
		b.WriteString(" [request ID " + e.RequestID + "]")
	}
	return truncate(b.String(), 1024)
}

// Is makes errors.Is match an APIError with the sentinel of its status.
func (e *APIError) Is(target error) bool {
	sentinel, ok := target.(*statusError)
	return ok && sentinel.low <= e.StatusCode && e.StatusCode <= sentinel.high
}

// maxServerText bounds each piece of server text an APIError keeps, far
// above what the API's own messages take.
const maxServerText = 512

// newAPIError builds the error for an answer outside 2xx, in any of the
// shapes the API and the proxies before it use.
func newAPIError(status int, requestID string, body []byte, key string) *APIError {
	e := &APIError{StatusCode: status, RequestID: clean(requestID, key)}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return e
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		e.Message = "unexpected response body: " + clean(string(body), key)
		return e
	}
	// Each member is read on its own, so that one of an unexpected type
	// spoils only itself. Some answers carry {"error": "..."} alone.
	member := func(name string) string {
		var s string
		_ = json.Unmarshal(members[name], &s)
		return clean(s, key)
	}
	e.Code = member("code")
	e.Message = cmp.Or(member("message"), member("error"))
	var fields []FieldError
	_ = json.Unmarshal(members["errors"], &fields)
	for _, fe := range fields { // as many as 64 KiB of body holds
		e.Errors = append(e.Errors, FieldError{Field: clean(fe.Field, key), Code: clean(fe.Code, key),
			Message: clean(fe.Message, key)})
	}
	return e
}

// RetryError is the error of a call whose last attempt failed in a way that
// another might have passed, when the client made no further attempt;
// Reason says why. [errors.Is] and [errors.As] see through it to Err (an
// [*APIError] or a transport error) and ContextErr.
type RetryError struct {
	Attempts   int    // the attempts made
	Reason     string // why no further attempt was made, such as "no retries left"
	Err        error  // the last attempt's error
	ContextErr error  // the context's error, when it ended while the client waited to retry
}

// Error returns the last attempt's error followed by the attempts and the
// reason, as in "portal: 503 Service Unavailable [attempts: 3; no retries left]".
func (e *RetryError) Error() string {
	return fmt.Sprintf("%v [attempts: %d; %s]", e.Err, e.Attempts, e.Reason)
}

// Unwrap returns the last attempt's error and, if set, ContextErr.
func (e *RetryError) Unwrap() []error {
	if e.ContextErr == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.ContextErr}
}

// What follows makes text safe for errors and logs: from a server, which
// may echo the API key, and from a user, who may paste it in the wrong place.

const redacted = "[REDACTED]"

// keyShaped matches text that has the form of a WorkOS API key, such as
// sk_test_ and its letters and digits, unless a letter or digit comes first.
var keyShaped = regexp.MustCompile(`(^|[^0-9A-Za-z])sk_[a-z]+_[0-9A-Za-z]{8,}`)

// clean makes server text safe to log: printable, [REDACTED] whole if it
// holds a piece of the key, masked of other keys, and cut short.
func clean(s, key string) string {
	if s = printable(s); hidesKey(s, key) {
		return redacted
	}
	return truncate(maskKeys(s), maxServerText)
}

// hidesKey reports whether s holds 8 characters of key in a row (or all of
// a shorter key) once every character that key lacks is taken out, so that
// no separator, visible or not, between pieces of the key hides it.
func hidesKey(s, key string) bool {
	kept := strings.Map(func(r rune) rune {
		if strings.ContainsRune(key, r) {
			return r
		}
		return -1
	}, s)
	run := min(8, len(key))
	for i := 0; run > 0 && i+run <= len(key); i++ {
		if strings.Contains(kept, key[i:i+run]) {
			return true
		}
	}
	return false
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
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// quote quotes text that a user gave, such as a base URL, for an error:
// [REDACTED] if it holds a piece of key, else masked, cut and escaped.
func quote(s, key string) string {
	if hidesKey(s, key) {
		return redacted
	}
	return strconv.Quote(truncate(maskKeys(s), 64))
}
