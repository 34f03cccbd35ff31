package portal_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// testKey has the form of a real API key: the one of both test packages.
const testKey = portal.TestKey

// Answers recorded from the real API (workos-ruby's VCR cassettes under
// spec/support/fixtures/vcr_cassettes/portal), served by the test servers
// below.
const (
	recordedLink      = "https://id.workos.com/portal/launch?secret=secret"
	recordedBody      = `{"link":"` + recordedLink + `"}`
	recordedRequestID = "5cf84612-cd60-4d91-9c7e-e1e11bb6b074"
)

// call is a request the test API received.
type call struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

// testAPI is a loopback server that records each request and answers it
// with the next of its answers (the last one repeats), as the API does:
// 201, JSON, a UUID request ID.
type testAPI struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []call
	answers []answer
}

type answer struct {
	status int
	body   string
	header map[string]string
}

var created = answer{status: http.StatusCreated, body: recordedBody}

func newTestAPI(t *testing.T, answers ...answer) *testAPI {
	t.Helper()
	api := &testAPI{answers: answers}
	if len(answers) == 0 {
		api.answers = []answer{created}
	}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("request body %q is not a JSON object: %v", raw, err)
		}
		api.mu.Lock()
		api.calls = append(api.calls, call{r.Method, r.URL.Path, r.Header.Clone(), body})
		a := api.answers[min(len(api.calls), len(api.answers))-1]
		api.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Request-Id", recordedRequestID)
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(api.Close)
	return api
}

func (api *testAPI) client(t *testing.T, opts ...portal.Option) *portal.Client {
	t.Helper()
	c, err := portal.NewClient(testKey, append([]portal.Option{portal.WithBaseURL(api.URL)}, opts...)...)
	require.NoError(t, err)
	return c
}

func (api *testAPI) Calls() []call {
	api.mu.Lock()
	defer api.mu.Unlock()
	return append([]call(nil), api.calls...)
}

// emails returns n distinct contact addresses.
func emails(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "it" + strings.Repeat("x", i) + "@example.com"
	}
	return out
}

// TestContractSendsSpecValidRequestsUnchanged sends requests that the API's
// published contract allows and checks the exact request the API gets:
// nothing the API accepts may be refused, changed or added to.
func TestContractSendsSpecValidRequestsUnchanged(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts portal.GenerateLinkOpts
		want map[string]any
	}{
		{"organization only, no intent", portal.GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT"},
			map[string]any{"organization": "org_01EHZNVPK3SFK441A1RGBFSHRT"}},
		{"the seed's short ID and audit_logs", portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs},
			map[string]any{"organization": "org_123", "intent": "audit_logs"}},
		{"an intent newer than the library", portal.GenerateLinkOpts{Organization: "org_1",
			Intent: portal.Intent("billing_portal_v2")},
			map[string]any{"organization": "org_1", "intent": "billing_portal_v2"}},
		{"plain-http return URL on a staging host", portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.SSO,
			ReturnURL: "http://staging.example.internal:8080/settings?tab=sso", SuccessURL: "http://10.0.0.7/done"},
			map[string]any{"organization": "org_1", "intent": "sso",
				"return_url": "http://staging.example.internal:8080/settings?tab=sso", "success_url": "http://10.0.0.7/done"}},
		{"a return URL with a stray percent sign, which browsers take", portal.GenerateLinkOpts{Organization: "org_1",
			ReturnURL: "https://app.example.com/reports/50%off"},
			map[string]any{"organization": "org_1", "return_url": "https://app.example.com/reports/50%off"}},
		{"URLs with characters JSON escapes", portal.GenerateLinkOpts{Organization: "org_1",
			ReturnURL: "https://app.example.com/a?b=<c>&d=\"e\"#ü"},
			map[string]any{"organization": "org_1", "return_url": "https://app.example.com/a?b=<c>&d=\"e\"#ü"}},
		{"20 contacts, the spec's maximum", portal.GenerateLinkOpts{Organization: "org_1",
			Intent: portal.CertificateRenewal, ITContactEmails: emails(20)},
			map[string]any{"organization": "org_1", "intent": "certificate_renewal", "it_contact_emails": anys(emails(20))}},
		{"a contact listed twice", portal.GenerateLinkOpts{Organization: "org_1",
			ITContactEmails: []string{"a@example.com", "a@example.com"}},
			map[string]any{"organization": "org_1", "it_contact_emails": []any{"a@example.com", "a@example.com"}}},
		{"an intent the library cannot judge", portal.GenerateLinkOpts{Organization: "org_1", Intent: "Audit Logs"},
			map[string]any{"organization": "org_1", "intent": "Audit Logs"}},
		{"a contact with a display name, for the API to judge", portal.GenerateLinkOpts{Organization: "org_1",
			ITContactEmails: []string{"IT <it@example.com>"}},
			map[string]any{"organization": "org_1", "it_contact_emails": []any{"IT <it@example.com>"}}},
		{"unusual but valid addresses", portal.GenerateLinkOpts{Organization: "org_1",
			ITContactEmails: []string{
				"o'brien+it@example.co.uk", "josé@exämple.de", `"it desk"@example.com`, "root@localhost"}},
			map[string]any{"organization": "org_1", "it_contact_emails": []any{
				"o'brien+it@example.co.uk", "josé@exämple.de", `"it desk"@example.com`, "root@localhost"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newTestAPI(t)
			link, err := api.client(t).GenerateLink(context.Background(), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, recordedLink, link.Link)
			calls := api.Calls()
			require.Len(t, calls, 1)
			got := calls[0]
			assert.Equal(t, http.MethodPost, got.Method)
			assert.Equal(t, "/portal/generate_link", got.Path)
			if diff := cmp.Diff(tt.want, got.Body); diff != "" {
				t.Errorf("request body (-want +got):\n%s", diff)
			}
			assert.Equal(t, "Bearer "+testKey, got.Header.Get("Authorization"))
			assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			assert.Equal(t, "adminportal-go/"+portal.Version, got.Header.Get("User-Agent"))
			assert.NotEmpty(t, got.Header.Get("Idempotency-Key"))
		})
	}
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestContractRefusesWhatTheSpecRulesOut checks that each request the
// contract rules out, or that can never work, is refused before anything
// is sent, with an error naming the API's field.
func TestContractRefusesWhatTheSpecRulesOut(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	client := api.client(t)
	valid := portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.AuditLogs}
	for _, tt := range []struct {
		name  string
		edit  func(*portal.GenerateLinkOpts)
		field string
	}{
		{"no organization", func(o *portal.GenerateLinkOpts) { o.Organization = "" }, "organization"},
		{"not an organization ID", func(o *portal.GenerateLinkOpts) { o.Organization = "acme" }, "organization"},
		{"organization with a space", func(o *portal.GenerateLinkOpts) { o.Organization = "org_01 EHZ" }, "organization"},
		{"relative return URL", func(o *portal.GenerateLinkOpts) { o.ReturnURL = "/settings" }, "return_url"},
		{"javascript: return URL", func(o *portal.GenerateLinkOpts) { o.ReturnURL = "javascript:alert(1)" }, "return_url"},
		{"return URL without a host", func(o *portal.GenerateLinkOpts) { o.ReturnURL = "https:///settings" }, "return_url"},
		{"ftp success URL", func(o *portal.GenerateLinkOpts) { o.SuccessURL = "ftp://files.example.com/" }, "success_url"},
		{"garbage success URL", func(o *portal.GenerateLinkOpts) { o.SuccessURL = "not a url" }, "success_url"},
		{"21 contacts", func(o *portal.GenerateLinkOpts) { o.ITContactEmails = emails(21) }, "it_contact_emails"},
		{"a contact that is not an address",
			func(o *portal.GenerateLinkOpts) { o.ITContactEmails = []string{"a@example.com", "IT desk"} },
			"it_contact_emails"},
		{"invalid UTF-8", func(o *portal.GenerateLinkOpts) { o.ITContactEmails = []string{"it\xff@example.com"} },
			"it_contact_emails"},
	} {
		opts := valid
		tt.edit(&opts)
		_, err := client.GenerateLink(context.Background(), opts)
		var invalid *portal.ValidationError
		if assert.ErrorAs(t, err, &invalid, tt.name) {
			assert.Equal(t, tt.field, invalid.Field, tt.name)
			assert.Regexp(t, "^portal: invalid "+tt.field+"[ :]", err.Error(), tt.name)
			assert.Equal(t, invalid, opts.Validate(), "GenerateLink and Validate agree: %s", tt.name)
		}
	}
	assert.Empty(t, api.Calls(), "nothing is sent for invalid options")
}

func TestAnySuccessStatusWithALinkSucceeds(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusOK, http.StatusCreated, http.StatusAccepted, 299} {
		api := newTestAPI(t, answer{status: status, body: recordedBody})
		link, err := api.client(t).GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
		require.NoError(t, err, status)
		assert.Equal(t, recordedLink, link.Link)
	}
}

// TestLargestAnswer: an answer of 64 KiB is read whole; one byte more is
// refused.
func TestLargestAnswer(t *testing.T) {
	t.Parallel()
	const prefix, suffix = `{"link":"https://setup.workos.com/`, `"}`
	body := prefix + strings.Repeat("a", 64<<10-len(prefix)-len(suffix)) + suffix
	api := newTestAPI(t, answer{status: 201, body: body}, answer{status: 201, body: " " + body})
	link, err := api.client(t).GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.NoError(t, err)
	assert.Len(t, link.Link, 64<<10-len(`{"link":""}`))
	_, err = api.client(t).GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	assert.ErrorIs(t, err, portal.ErrInvalidResponse)
	assert.ErrorContains(t, err, "at most 64 KiB")
}

// TestSuccessWithoutAUsableLink checks 2xx answers that hold no link a
// browser could be sent to: each is an APIError matching
// ErrInvalidResponse, and none is retried.
func TestSuccessWithoutAUsableLink(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		``, `<html>OK</html>`, `{}`, `{"link":null}`, `{"link":42}`, `[]`, `{"link":"/portal/launch"}`,
		`{"link":"javascript:alert(document.cookie)"}`,
		`{"link":"https://setup.workos.com` + strings.Repeat("a", 70<<10) + `"}`,
	} {
		api := newTestAPI(t, answer{status: http.StatusCreated, body: body})
		_, err := api.client(t).GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
		var apiErr *portal.APIError
		require.ErrorAs(t, err, &apiErr, "%.40q", body)
		assert.ErrorIs(t, err, portal.ErrInvalidResponse)
		assert.Equal(t, http.StatusCreated, apiErr.StatusCode)
		assert.Equal(t, recordedRequestID, apiErr.RequestID)
		assert.Len(t, api.Calls(), 1, "a usable answer will not come from asking again: %.40q", body)
		assert.LessOrEqual(t, len(err.Error()), 1024)
	}
}

// TestErrorAnswers checks the error bodies the real API sends, and those of
// the proxies before it.
func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		status   int
		body     string
		sentinel error
		want     portal.APIError
		text     string
	}{
		{"unknown organization (recorded)", 400, `{"message":"Could not find an organization with the id, bogus-id."}`,
			portal.ErrBadRequest, portal.APIError{Message: "Could not find an organization with the id, bogus-id."},
			"portal: 400 Bad Request: Could not find an organization with the id, bogus-id. [request ID " +
				recordedRequestID + "]"},
		{"bad key (recorded)", 401, `{"message":"Unauthorized"}`, portal.ErrUnauthorized,
			portal.APIError{Message: "Unauthorized"},
			"portal: 401 Unauthorized: Unauthorized [request ID " + recordedRequestID + "]"},
		{"forbidden (spec)", 403, `{"message":"Organization not found: 'org_01EHQMYV6MBK39QC5PZXHY59C3'."}`,
			portal.ErrForbidden, portal.APIError{Message: "Organization not found: 'org_01EHQMYV6MBK39QC5PZXHY59C3'."}, ""},
		{"not found", 404, `{"message":"Not Found"}`, portal.ErrNotFound, portal.APIError{Message: "Not Found"}, ""},
		{"validation (recorded shape)", 422,
			`{"code":"invalid_request_parameters","message":"Validation failed","errors":[` +
				`{"code":"email_string_required","message":"it_contact_emails must be emails"},` +
				`{"field":"intent","code":"intent_invalid","message":"intent must be one of ..."}]}`,
			portal.ErrUnprocessable,
			portal.APIError{Code: "invalid_request_parameters", Message: "Validation failed", Errors: []portal.FieldError{
				{Code: "email_string_required", Message: "it_contact_emails must be emails"},
				{Field: "intent", Code: "intent_invalid", Message: "intent must be one of ..."}}},
			"portal: 422 Unprocessable Entity: invalid_request_parameters: Validation failed " +
				"(it_contact_emails must be emails; intent: intent must be one of ...) " +
				"[request ID " + recordedRequestID + "]"},
		{"error member alone (seen)", 422, `{"error":"Invalid intent"}`, portal.ErrUnprocessable,
			portal.APIError{Message: "Invalid intent"}, ""},
		{"members of unexpected types", 422, `{"code":7,"message":"Validation failed","errors":"none"}`,
			portal.ErrUnprocessable, portal.APIError{Message: "Validation failed"}, ""},
		{"rate limited", 429, `{"message":"Too many requests.","code":"rate_limit_exceeded"}`, portal.ErrRateLimited,
			portal.APIError{Code: "rate_limit_exceeded", Message: "Too many requests."}, ""},
		{"proxy's HTML page", 502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body></html>",
			portal.ErrServer,
			portal.APIError{Message: "unexpected response body: <html> <head><title>502 Bad Gateway</title></head> " +
				"<body>nginx</body></html>"}, ""},
		{"empty body", 500, ``, portal.ErrServer, portal.APIError{},
			"portal: 500 Internal Server Error [request ID " + recordedRequestID + "]"},
	} {
		api := newTestAPI(t, answer{status: tt.status, body: tt.body})
		_, err := api.client(t, portal.WithMaxRetries(0)).GenerateLink(context.Background(),
			portal.GenerateLinkOpts{Organization: "org_1"})
		var apiErr *portal.APIError
		require.ErrorAs(t, err, &apiErr, tt.name)
		assert.ErrorIs(t, err, tt.sentinel, tt.name)
		for _, other := range []error{portal.ErrBadRequest, portal.ErrUnauthorized, portal.ErrRateLimited, portal.ErrServer,
			portal.ErrInvalidResponse} {
			if other != tt.sentinel { //nolint:errorlint // two sentinels compared for identity, not an error matched
				assert.NotErrorIs(t, err, other, tt.name)
			}
		}
		want := tt.want
		want.StatusCode, want.RequestID = tt.status, recordedRequestID
		assert.Equal(t, &want, apiErr, tt.name)
		if tt.text != "" {
			assert.Equal(t, tt.text, err.Error(), tt.name)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var reached sync.Mutex
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Lock()
		defer reached.Unlock()
		t.Errorf("the redirect was followed, carrying Authorization %q", r.Header.Get("Authorization"))
	}))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect,
		http.StatusPermanentRedirect} {
		api := newTestAPI(t, answer{status: status, header: map[string]string{"Location": elsewhere.URL + "/steal"}})
		_, err := api.client(t).GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
		var apiErr *portal.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, status, apiErr.StatusCode)
		assert.Len(t, api.Calls(), 1)
	}
}

// TestConcurrentCallsShareOneClient runs calls from many goroutines on one
// client; run with -race.
func TestConcurrentCallsShareOneClient(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	client := api.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32*5)
	for range 32 {
		wg.Go(func() {
			for range 5 {
				if _, err := client.GenerateLink(context.Background(),
					portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.SSO}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, api.Calls(), 32*5)
}

func TestGenerateLinkOnAClientNotFromNewClient(t *testing.T) {
	t.Parallel()
	for _, c := range []*portal.Client{nil, new(portal.Client)} {
		_, err := c.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
		assert.Error(t, err)
		c.CloseIdleConnections() // no panic
	}
	api := newTestAPI(t)
	//lint:ignore SA1012 a nil context is the bad input under test
	_, err := api.client(t).GenerateLink(nil, portal.GenerateLinkOpts{Organization: "org_1"}) //nolint:staticcheck
	assert.Error(t, err)
	assert.Empty(t, api.Calls())
}

func TestCancelledContextSendsNothingFurther(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := api.client(t).GenerateLink(ctx, portal.GenerateLinkOpts{Organization: "org_1"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.As(err, new(*portal.APIError)))
	assert.Empty(t, api.Calls(), "a call on a cancelled context sends nothing")
}
