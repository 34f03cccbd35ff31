package portal

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors that [errors.Is] matches against an [*APIError] by its HTTP
// status, so callers can branch on the class of failure without inspecting
// status codes:
//
//	if errors.Is(err, portal.ErrNotFound) { ... }
var (
	ErrBadRequest    = errors.New("portal: bad request")          // 400
	ErrUnauthorized  = errors.New("portal: unauthorized")         // 401: missing or wrong API key
	ErrForbidden     = errors.New("portal: forbidden")            // 403
	ErrNotFound      = errors.New("portal: not found")            // 404
	ErrConflict      = errors.New("portal: conflict")             // 409
	ErrUnprocessable = errors.New("portal: unprocessable entity") // 422: the API rejected a field
	ErrRateLimited   = errors.New("portal: rate limited")         // 429: see APIError.RetryAfter
	ErrServer        = errors.New("portal: server error")         // any 5xx

	// ErrInvalidResponse matches an APIError for a 2xx answer that held no
	// usable link: malformed JSON, no link, or a link that is not https.
	ErrInvalidResponse = errors.New("portal: invalid response")
)

// ErrNoAPIKey is returned when neither the caller nor the WORKOS_API_KEY
// environment variable supplies an API key.
var ErrNoAPIKey = errors.New("portal: no API key: pass one to NewClient or SetAPIKey, or set WORKOS_API_KEY")

// ValidationError reports options that break a rule of the API. It is returned
// before any request is sent, so it always means the caller must change the
// input; retrying cannot help.
type ValidationError struct {
	// Field is the API's name for the field, such as "organization" or
	// "return_url", so one name identifies it in code, logs and API docs.
	Field string
	// Rule says what the value must be, e.g. "must start with org_".
	Rule string
}

// Error returns "portal: invalid <field>: <rule>".
func (e *ValidationError) Error() string {
	return "portal: invalid " + e.Field + ": " + e.Rule
}

// FieldError is one field the API rejected in a 422 response.
type FieldError struct {
	Field   string `json:"field"`             // the API field, e.g. "intent"
	Code    string `json:"code"`              // why, e.g. "intent_invalid"
	Message string `json:"message,omitempty"` // an explanation, when the API gives one
}

// APIError is the error for every response the client cannot use: any status
// outside 2xx, including redirects, which the client never follows, and a 2xx
// answer without a usable link (Code "invalid_response"). Match its class with [errors.Is] and the
// sentinels above; read the details with [errors.As].
type APIError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is the API's machine-readable error code ("not_found",
	// "invalid_grant", …), empty when the response had none.
	Code string
	// Message is the API's human-readable explanation or, for a body that is
	// not the API's JSON (a proxy's HTML page, say), a short excerpt of it.
	Message string
	// Errors lists the rejected fields of a 422 response.
	Errors []FieldError
	// RequestID is the X-Request-ID header; quote it to WorkOS support.
	RequestID string
	// RetryAfter is how long the server asked the client to wait (from the
	// Retry-After header), or zero when it did not say.
	RetryAfter time.Duration
}

// Error describes the failure on one line: status, code, message, field
// errors, Retry-After and request ID, as far as known.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("portal: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteByte(' ')
		b.WriteString(text)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(fe.Field)
		if fe.Code != "" {
			b.WriteString(": ")
			b.WriteString(fe.Code)
		}
		if i == len(e.Errors)-1 {
			b.WriteByte(')')
		}
	}
	if e.RetryAfter > 0 {
		b.WriteString(" [retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(']')
	}
	if e.RequestID != "" {
		b.WriteString(" [request ID ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and its siblings true for an APIError
// of the matching status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnprocessable:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	case ErrInvalidResponse:
		return e.StatusCode >= 200 && e.StatusCode <= 299
	}
	return false
}

// Caps on what is read of a response body. Real answers are a few hundred
// bytes; the caps keep a misbehaving proxy from making the client buffer
// megabytes on the request path of its caller.
const (
	// MaxSuccessBodySize is the most of a 2xx body the client reads. A longer
	// body is an error, not a truncated link.
	MaxSuccessBodySize = 16 << 10
	// MaxErrorBodySize is the most of an error body the client reads; the
	// rest is ignored.
	MaxErrorBodySize = 64 << 10
	// maxExcerpt is how much of a body that is not the API's JSON is quoted
	// in APIError.Message: enough to recognise a proxy's page, short enough
	// for a log line.
	maxExcerpt = 160
)

// errorBody holds every error shape the API and the SDKs have been seen to
// use.
type errorBody struct {
	Code             string       `json:"code"`
	Message          string       `json:"message"`
	Error            string       `json:"error"`
	ErrorDescription string       `json:"error_description"`
	Errors           []FieldError `json:"errors"`
}

// newAPIError builds the error for a non-2xx response from its status,
// headers and (capped) body.
func newAPIError(status int, header http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{
		StatusCode: status,
		RequestID:  header.Get("X-Request-ID"),
		RetryAfter: parseRetryAfter(header.Get("Retry-After"), now),
	}
	if status >= 300 && status <= 399 {
		e.Message = "the API answered with a redirect, which the client does not follow"
		return e
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return e
	}
	var eb errorBody
	if trimmed[0] != '{' || !eb.decode(trimmed) {
		e.Message = "unexpected response body: " + excerpt(trimmed)
		return e
	}
	e.Code, e.Message = eb.Code, eb.Message
	switch {
	case eb.ErrorDescription != "": // OAuth style: error is the code, error_description the text.
		if e.Code == "" {
			e.Code = eb.Error
		}
		if e.Message == "" {
			e.Message = eb.ErrorDescription
		}
	case eb.Error != "" && e.Message == "":
		e.Message = eb.Error
	}
	if len(eb.Errors) > 0 {
		e.Errors = eb.Errors
	}
	return e
}

// excerpt quotes the start of a body that is not JSON, with white space folded
// and anything unprintable replaced, so it is safe in a one-line log message.
func excerpt(body []byte) string {
	var b strings.Builder
	space := false
	for _, r := range string(body) {
		if b.Len() >= maxExcerpt {
			b.WriteString("…")
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == utf8.RuneError || !unicode.IsPrint(r):
			r = '?'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
