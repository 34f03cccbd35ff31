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
)

// Sentinel errors that [errors.Is] matches against an [*APIError] by its
// HTTP status, as in errors.Is(err, portal.ErrRateLimited).
var (
	ErrBadRequest      = errors.New("portal: bad request")          // 400, such as an unknown organization
	ErrUnauthorized    = errors.New("portal: unauthorized")         // 401: a missing, wrong or revoked key
	ErrForbidden       = errors.New("portal: forbidden")            // 403
	ErrNotFound        = errors.New("portal: not found")            // 404
	ErrUnprocessable   = errors.New("portal: unprocessable entity") // 422: the API refused a field
	ErrRateLimited     = errors.New("portal: rate limited")         // 429; see APIError.RetryAfter
	ErrServer          = errors.New("portal: server error")         // 5xx
	ErrInvalidResponse = errors.New("portal: invalid response")     // a 2xx without a usable link
)

// ErrNoAPIKey means that neither the caller nor WORKOS_API_KEY gave a key.
var ErrNoAPIKey = errors.New("portal: no API key: pass one to NewClient or SetAPIKey, or set WORKOS_API_KEY")

// ValidationError reports options that break a rule of the API; nothing
// was sent. Its parts are apart, as [strconv.NumError]'s are: a program can
// show Rule, or act on Field.
type ValidationError struct {
	Field string // the API's name of the field, such as "return_url"
	// Value is the value refused, masked of anything shaped like an API key
	// and cut to 64 bytes; empty for a missing field or too many items.
	Value string
	Rule  string // what the value must be, such as "must be an http or https URL with a host"
}

// Error returns "portal: invalid <field> <quoted value>: <rule>", without
// the value when it is empty.
func (e *ValidationError) Error() string {
	if e.Value == "" {
		return "portal: invalid " + e.Field + ": " + e.Rule
	}
	return "portal: invalid " + e.Field + " " + strconv.Quote(e.Value) + ": " + e.Rule
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
	return truncate(b.String(), maxErrorText)
}

// Is makes errors.Is match an APIError with the sentinel of its status.
func (e *APIError) Is(target error) bool {
	switch status := e.StatusCode; target {
	case ErrBadRequest:
		return status == http.StatusBadRequest
	case ErrUnauthorized:
		return status == http.StatusUnauthorized
	case ErrForbidden:
		return status == http.StatusForbidden
	case ErrNotFound:
		return status == http.StatusNotFound
	case ErrUnprocessable:
		return status == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return status == http.StatusTooManyRequests
	case ErrServer:
		return 500 <= status && status <= 599
	case ErrInvalidResponse:
		return 200 <= status && status <= 299
	}
	return false
}

// What an APIError keeps of a 422's field errors is bounded: the API sends
// one per field, a few hundred bytes in all.
const (
	maxFieldErrorBytes = 8 << 10
	fieldErrorSlot     = 48 // what a FieldError takes besides its text: three string headers
)

// newAPIError builds the error for an answer outside 2xx, in any of the
// shapes the API and the proxies before it use, keeping only text made
// safe by clean.
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
	// One budget for what the field errors keep, counting each one's slot
	// as well as its text, so that a body of many empty ones keeps little.
	budget := maxFieldErrorBytes
	for _, fe := range fields {
		kept := FieldError{Field: clean(fe.Field, key), Code: clean(fe.Code, key), Message: clean(fe.Message, key)}
		if budget -= fieldErrorSlot + len(kept.Field) + len(kept.Code) + len(kept.Message); budget < 0 {
			break
		}
		e.Errors = append(e.Errors, kept)
	}
	return e
}

// RetryError is the error of a call whose last failure another attempt
// might have passed, when the client made no further attempt. It comes only
// from a client that may retry: with WithMaxRetries(0), a call returns its
// one attempt's error as it is. [errors.Is] and [errors.As] see through it
// to Err and to Reason.
type RetryError struct {
	Attempts int // the attempts made
	// Reason says why no further attempt was made: ErrNoRetriesLeft,
	// ErrRetryAfterTooLong, ErrRetryPastDeadline, or the context's error
	// when the context ended the wait to retry, or a retry.
	Reason error
	Err    error // the last failure that another attempt might have passed: an *APIError or a transport error
}

// Error returns the failure's text followed by the attempts and the
// reason, as in "portal: 503 Service Unavailable [attempts: 3; no retries
// left]", in at most 1 KB.
func (e *RetryError) Error() string {
	suffix := " [attempts: " + strconv.Itoa(e.Attempts) + "; " + truncate(textOf(e.Reason), 256) + "]"
	return truncate(textOf(e.Err), maxErrorText-len(suffix)) + suffix
}

// textOf returns err's text, or "<nil>", as fmt would print it, so that a
// RetryError that a test stub builds in part still prints.
func textOf(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// Unwrap returns Err and Reason.
func (e *RetryError) Unwrap() []error { return []error{e.Err, e.Reason} }
