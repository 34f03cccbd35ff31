package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPIErrors serves every error body shape in the contract with each
// status the SDKs map, and checks the error's class, fields and message.
func TestAPIErrors(t *testing.T) {
	t.Parallel()
	const requestID = "req_01HZX3Y5K2M4N6P8Q0R2S4T6V8"
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		sentinel error
		want     APIError
	}{
		{
			name: "code and message", status: 404, body: `{"code":"not_found","message":"Not Found"}`, sentinel: ErrNotFound,
			want: APIError{StatusCode: 404, Code: "not_found", Message: "Not Found"},
		},
		{
			name: "message alone: unknown organization", status: 400, body: `{"message":"Could not find an organization with the id, bogus-id."}`, sentinel: ErrBadRequest,
			want: APIError{StatusCode: 400, Message: "Could not find an organization with the id, bogus-id."},
		},
		{
			name: "validation with field errors", status: 422, sentinel: ErrUnprocessable,
			body: `{"code":"invalid_request_parameters","message":"Validation failed","errors":[{"field":"intent","code":"intent_invalid"},{"field":"return_url","code":"url_invalid","message":"must be https"}]}`,
			want: APIError{StatusCode: 422, Code: "invalid_request_parameters", Message: "Validation failed", Errors: []FieldError{
				{Field: "intent", Code: "intent_invalid"}, {Field: "return_url", Code: "url_invalid", Message: "must be https"},
			}},
		},
		{
			name: "oauth style", status: 401, body: `{"error":"invalid_grant","error_description":"The API key is invalid."}`, sentinel: ErrUnauthorized,
			want: APIError{StatusCode: 401, Code: "invalid_grant", Message: "The API key is invalid."},
		},
		{
			name: "error alone", status: 422, body: `{"error":"Intent is not enabled for this environment"}`, sentinel: ErrUnprocessable,
			want: APIError{StatusCode: 422, Message: "Intent is not enabled for this environment"},
		},
		{
			name: "forbidden", status: 403, body: `{"code":"forbidden","message":"Audit Logs is not enabled"}`, sentinel: ErrForbidden,
			want: APIError{StatusCode: 403, Code: "forbidden", Message: "Audit Logs is not enabled"},
		},
		{
			name: "conflict", status: 409, body: `{"code":"idempotency_key_reused","message":"Keys cannot be reused with a different body"}`, sentinel: ErrConflict,
			want: APIError{StatusCode: 409, Code: "idempotency_key_reused", Message: "Keys cannot be reused with a different body"},
		},
		{
			name: "rate limited with seconds", status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"message":"Too many requests"}`, sentinel: ErrRateLimited,
			want: APIError{StatusCode: 429, Message: "Too many requests", RetryAfter: 7 * time.Second},
		},
		{
			name: "proxy HTML page", status: 502, sentinel: ErrServer,
			body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n",
			want: APIError{StatusCode: 502, Message: "unexpected response body: <html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>"},
		},
		{
			name: "empty body", status: 503, body: "", sentinel: ErrServer,
			want: APIError{StatusCode: 503},
		},
		{
			name: "wrong field types", status: 500, body: `{"code":500,"message":["a"],"errors":"none"}`, sentinel: ErrServer,
			want: APIError{StatusCode: 500},
		},
		{
			name: "JSON that is not an object", status: 400, body: `"bad"`, sentinel: ErrBadRequest,
			want: APIError{StatusCode: 400, Message: `unexpected response body: "bad"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, tt.status, tt.body)
			})
			c, _ := f.newTestClient(t, WithMaxRetries(0))
			_, err := c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs})
			require.ErrorIs(t, err, tt.sentinel)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			tt.want.RequestID = requestID
			if diff := cmp.Diff(&tt.want, apiErr); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			for _, other := range []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrUnprocessable, ErrRateLimited, ErrServer, ErrInvalidResponse} {
				if other != tt.sentinel {
					assert.NotErrorIs(t, err, other)
				}
			}
			assert.Contains(t, err.Error(), requestID)
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	err := &APIError{
		StatusCode: 422, Code: "invalid_request_parameters", Message: "Validation failed",
		Errors:    []FieldError{{Field: "intent", Code: "intent_invalid"}, {Field: "organization", Code: "required"}},
		RequestID: "req_1", RetryAfter: 3 * time.Second,
	}
	assert.Equal(t, "portal: 422 Unprocessable Entity: invalid_request_parameters: Validation failed (intent: intent_invalid, organization: required) [retry after 3s] [request ID req_1]", err.Error())
	assert.Equal(t, "portal: 599", (&APIError{StatusCode: 599}).Error())
}

func TestExcerptIsShortAndPrintable(t *testing.T) {
	t.Parallel()
	got := excerpt([]byte(strings.Repeat("x\x00\n", 1000)))
	assert.LessOrEqual(t, len(got), maxExcerpt+len("…"))
	assert.NotContains(t, got, "\x00")
	assert.NotContains(t, got, "\n")
}

func TestErrorsWrapWithErrorsAs(t *testing.T) {
	t.Parallel()
	wrapped := errors.Join(errors.New("context"), &APIError{StatusCode: 404})
	assert.ErrorIs(t, wrapped, ErrNotFound)
	var ve *ValidationError
	assert.ErrorAs(t, errors.Join(GenerateLinkOpts{}.Validate()), &ve)
}
