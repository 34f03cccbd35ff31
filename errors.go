package portal

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors that [errors.Is] matches against an [*APIError] by its
// HTTP status, as in errors.Is(err, portal.ErrRateLimited).
var (
	ErrBadRequest      = errors.New("portal: bad request")          // 400, such as an unknown organization
	ErrUnauthorized    = errors.New("portal: unauthorized")         // 401: a missing, wrong or revoked API key
	ErrForbidden       = errors.New("portal: forbidden")            // 403
	ErrNotFound        = errors.New("portal: not found")            // 404
	ErrUnprocessable   = errors.New("portal: unprocessable entity") // 422: the API refused a field
	ErrRateLimited     = errors.New("portal: rate limited")         // 429: see APIError.RetryAfter
	ErrServer          = errors.New("portal: server error")         // any 5xx
	ErrInvalidResponse = errors.New("portal: invalid response")     // a 2xx answer without a usable link
)

// ErrNoAPIKey means that neither the caller nor WORKOS_API_KEY gave a key.
var ErrNoAPIKey = errors.New("portal: no API key: pass one to NewClient or SetAPIKey, or set WORKOS_API_KEY")

// ValidationError reports options that break a rule of the API; nothing was
// sent, and retrying cannot help.
type ValidationError struct {
	Field string // the API's name of the field, such as "return_url"
	Rule  string // what the value must be, quoting the value
}

// Error returns "portal: invalid <field>: <rule>".
func (e *ValidationError) Error() string { return "portal: invalid " + e.Field + ": " + e.Rule }

// FieldError is one field the API refused in a 422 answer.
type FieldError struct {
	Field   string `json:"field"`   // the API's field name, when it gives one
	Code    string `json:"code"`    // why, such as "email_string_required"
	Message string `json:"message"` // the API's explanation
}

// APIError is the error for an answer the client cannot use: any status
// outside 2xx (it never follows redirects), or a 2xx without a usable link.
// Its text comes from the server, made safe to log: the API key masked,
// control characters replaced, and each field cut to a bounded length.
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
	s := "portal: " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
	for _, part := range []string{e.Code, e.Message} {
		if part != "" {
			s += ": " + part
		}
	}
	var fields []string
	for _, fe := range e.Errors {
		fields = append(fields, strings.TrimPrefix(fe.Field+": ", ": ")+cmp.Or(fe.Message, fe.Code))
	}
	if fields != nil {
		s += " (" + strings.Join(fields, "; ") + ")"
	}
	if e.RetryAfter > 0 {
		s += " [retry after " + e.RetryAfter.String() + "]"
	}
	if e.RequestID != "" {
		s += " [request ID " + e.RequestID + "]"
	}
	return truncate(s, 1024)
}

var sentinelStatus = map[error][2]int{
	ErrBadRequest: {400, 400}, ErrUnauthorized: {401, 401}, ErrForbidden: {403, 403},
	ErrNotFound: {404, 404}, ErrUnprocessable: {422, 422}, ErrRateLimited: {429, 429},
	ErrServer: {500, 599}, ErrInvalidResponse: {200, 299},
}

// Is makes errors.Is match an APIError with the sentinel of its status.
func (e *APIError) Is(target error) bool {
	r, ok := sentinelStatus[target]
	return ok && r[0] <= e.StatusCode && e.StatusCode <= r[1]
}

// Bounds on the server text an APIError keeps, far above the API's own: a
// message, a code (or field or request ID), an excerpt of a non-JSON body.
const maxMessage, maxShortText, maxExcerpt = 512, 128, 200

// newAPIError builds the error for an answer outside 2xx, in any of the
// shapes the API and the proxies before it use; requestID is cleaned.
func newAPIError(status int, requestID string, body []byte, key string) *APIError {
	e := &APIError{StatusCode: status, RequestID: requestID}
	var members map[string]json.RawMessage
	if body = bytes.TrimSpace(body); len(body) > 0 && json.Unmarshal(body, &members) != nil {
		e.Message = "unexpected response body: " + clean(string(body), key, maxExcerpt)
		return e
	}
	// Each member is read on its own, so that one of an unexpected type
	// spoils only itself. Some answers carry {"error": "..."} alone.
	text := func(name string, max int) string {
		var s string
		_ = json.Unmarshal(members[name], &s)
		return clean(s, key, max)
	}
	e.Code, e.Message = text("code", maxShortText), cmp.Or(text("message", maxMessage), text("error", maxMessage))
	var fields []FieldError
	_ = json.Unmarshal(members["errors"], &fields)
	for _, fe := range fields[:min(len(fields), 20)] {
		e.Errors = append(e.Errors, FieldError{clean(fe.Field, key, maxShortText), clean(fe.Code, key, maxShortText), clean(fe.Message, key, maxMessage)})
	}
	return e
}

const redacted = "[REDACTED]"

// clean makes server text safe to log: the key masked first (so that no cut
// leaves part of it), white space folded, other control and format
// characters (terminal escapes, bidi overrides) replaced, at most max bytes.
func clean(s, key string, max int) string {
	s = maskKey(truncate(s, 4*max+len(key)), key)
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) {
		return truncate(s, max) // already clean, as request IDs are: nothing to allocate
	}
	return truncate(strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return utf8.RuneError
	}, strings.Join(strings.Fields(s), " ")), max)
}

// maskKey replaces with [REDACTED] each run of 8 or more characters of key:
// a server may echo the Authorization header, or a part of it.
func maskKey(s, key string) string {
	n := min(8, len(key))
	var b strings.Builder
	last := 0
	for i := 0; n > 0 && i+n <= len(s); i++ {
		if !strings.Contains(key, s[i:i+n]) {
			continue
		}
		end := i + n
		for end < len(s) && strings.Contains(key, s[i:end+1]) {
			end++
		}
		b.WriteString(s[last:i] + redacted)
		i, last = end-1, end
	}
	if last == 0 {
		return s
	}
	return b.String() + s[last:]
}

// truncate cuts s to at most max bytes, marking the cut with an ellipsis.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max-len("…")], "") + "…"
}
