package portaltest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// post sends a raw generate-link request, as any SDK would.
func post(t *testing.T, url, key, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.NotEmpty(t, resp.Header.Get("X-Request-ID"))
	return resp.StatusCode, string(b)
}

func TestContract(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t, portaltest.WithAPIKey("sk_test_right"), portaltest.WithOrganizations("org_123", "org_01EHZNVPK3SFK441A1RGBFSHRT"))
	tests := []struct {
		name       string
		method     string
		path       string
		key        string
		body       string
		wantStatus int
		wantBody   string // a fragment
	}{
		{"success", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"audit_logs"}`, 200, `{"link":"` + srv.URL + `/portal/launch?token=`},
		{"null and empty optional fields", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"sso","return_url":null,"success_url":"","intent_options":null,"extra":1}`, 200, `"link"`},
		{"official Go SDK body", "POST", "/portal/generate_link", "sk_test_right", `{"intent":"sso","organization":"org_123","return_url":""}`, 200, `"link"`},
		{"legacy admin_emails", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"sso","admin_emails":["it@example.com"]}`, 200, `"link"`},
		{"no key", "POST", "/portal/generate_link", "", `{"organization":"org_123","intent":"sso"}`, 401, `"code":"unauthorized"`},
		{"wrong key", "POST", "/portal/generate_link", "sk_test_wrong", `{"organization":"org_123","intent":"sso"}`, 401, `"code":"unauthorized"`},
		{"wrong method", "GET", "/portal/generate_link", "sk_test_right", ``, 405, `"code":"method_not_allowed"`},
		{"wrong path", "POST", "/portal/generate_links", "sk_test_right", `{}`, 404, `{"code":"not_found","message":"Not Found"}`},
		{"malformed JSON", "POST", "/portal/generate_link", "sk_test_right", `{"organization":`, 400, `"code":"invalid_json"`},
		{"missing organization", "POST", "/portal/generate_link", "sk_test_right", `{"intent":"sso"}`, 422, `"errors":[{"field":"organization","code":"organization_required"`},
		{"empty organization", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"","intent":"sso"}`, 422, `"field":"organization","code":"organization_required"`},
		{"organization of wrong type", "POST", "/portal/generate_link", "sk_test_right", `{"organization":123,"intent":"sso"}`, 422, `"field":"organization","code":"organization_invalid"`},
		{"missing intent", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123"}`, 422, `"field":"intent","code":"intent_required"`},
		{"unknown intent", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"billing"}`, 422, `"field":"intent","code":"intent_invalid"`},
		{"http return URL", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"sso","return_url":"http://evil.example"}`, 422, `"field":"return_url"`},
		{"javascript success URL", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"sso","success_url":"javascript:alert(1)"}`, 422, `"field":"success_url"`},
		{"21 contacts", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"sso","it_contact_emails":[` + strings.TrimSuffix(strings.Repeat(`"a@example.com",`, 21), ",") + `]}`, 422, `"field":"it_contact_emails"`},
		{"malformed contact", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_123","intent":"sso","it_contact_emails":["not-an-address"]}`, 422, `"field":"it_contact_emails"`},
		{"unknown organization", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"org_999","intent":"sso"}`, 400, `{"message":"Could not find an organization with the id, org_999."}`},
		{"malformed organization", "POST", "/portal/generate_link", "sk_test_right", `{"organization":"bogus-id","intent":"sso"}`, 400, `{"message":"Could not find an organization with the id, bogus-id."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			assert.Equal(t, tt.wantStatus, resp.StatusCode, string(b))
			assert.Contains(t, string(b), tt.wantBody)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Regexp(t, `^req_[0-9A-Z]{26}$`, resp.Header.Get("X-Request-ID"))
			assert.True(t, json.Valid(b), "every API answer is JSON: %s", b)
		})
	}
}

func TestDefaultServerAcceptsAnyTestKeyAndWellFormedOrg(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	resp, _ := post(t, srv.URL+"/portal/generate_link", "sk_test_anything", `{"organization":"org_ANY1","intent":"dsync"}`)
	assert.Equal(t, 200, resp.StatusCode)
	resp, _ = post(t, srv.URL+"/portal/generate_link", "sk_live_real", `{"organization":"org_ANY1","intent":"dsync"}`)
	assert.Equal(t, 401, resp.StatusCode, "a live key is refused by the fake")
}

func TestClientGetsWorkingLinkForEveryIntent(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client()
	require.NoError(t, err)
	for _, intent := range portal.Intents() {
		link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{
			Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: intent,
			ReturnURL: "https://app.example.com/settings", SuccessURL: "https://app.example.com/done",
		})
		require.NoError(t, err, intent)
		status, page := get(t, link.Link)
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "<title>Admin Portal")
		assert.Contains(t, page, "org_01EHZNVPK3SFK441A1RGBFSHRT")
		assert.Contains(t, page, `<dd id="intent">`+string(intent)+`</dd>`)
		assert.Contains(t, page, `href="https://app.example.com/settings"`)
		assert.Contains(t, page, `href="https://app.example.com/done"`)
		assert.NotContains(t, page, "http://", "no external assets, no plain links") // only the https URLs above
	}
}

func TestAuditLogsPageShowsEventsAndExport(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client()
	require.NoError(t, err)
	link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
	require.NoError(t, err)
	status, page := get(t, link.Link)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "<title>Admin Portal · Audit Logs</title>")
	assert.Contains(t, page, `id="events"`)
	assert.Contains(t, page, "user.signed_in")
	assert.Contains(t, page, `download="audit-log-events.csv" href="data:text/csv;charset=utf-8,occurred_at%2Cactor%2Caction%2Ctarget`)
}

func TestLinksWorkOnceAndExpire(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	srv := portaltest.Start(t, portaltest.WithClock(clock))
	client, err := srv.Client()
	require.NoError(t, err)
	newLink := func() string {
		link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
		require.NoError(t, err)
		return link.Link
	}

	first := newLink()
	status, _ := get(t, first)
	assert.Equal(t, http.StatusOK, status)
	status, page := get(t, first)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, page, "already been used")

	justInTime := newLink()
	now.Add(int64(portal.LinkLifetime))
	status, _ = get(t, justInTime)
	assert.Equal(t, http.StatusOK, status, "a link works for the whole five minutes")

	late := newLink()
	now.Add(int64(portal.LinkLifetime + time.Second))
	status, page = get(t, late)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, page, "expired")

	status, page = get(t, srv.URL+"/portal/launch?token=guessed")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, page, "not valid")

	a, b := newLink(), newLink()
	assert.NotEqual(t, a, b)
	assert.Regexp(t, `token=[A-Za-z0-9_-]{43}$`, a)
}

func TestRecordsRequests(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client(portal.WithAppInfo("billing", "1.2.3"))
	require.NoError(t, err)
	opts := portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs, ITContactEmails: []string{"it@example.com"}}
	link, err := client.GenerateLink(context.Background(), opts, portal.IdempotencyKey("key-1"))
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "/portal/generate_link", r.Path)
	assert.Equal(t, opts, r.Opts)
	assert.Equal(t, `{"organization":"org_123","intent":"audit_logs","it_contact_emails":["it@example.com"]}`, r.Body)
	assert.Equal(t, "key-1", r.IdempotencyKey)
	assert.Equal(t, "adminportal-go/"+portal.Version+" billing/1.2.3", r.UserAgent)
	assert.Equal(t, "Bearer "+srv.APIKey, r.Header.Get("Authorization"))
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, link.Link, r.Link)
	assert.Contains(t, r.Response, link.Link)
	assert.Regexp(t, `^req_`, r.RequestID)

	srv.Reset()
	assert.Empty(t, srv.Requests())
	status, _ := get(t, link.Link)
	assert.Equal(t, http.StatusNotFound, status, "Reset forgets issued links")
}

func TestRecordingIsSafeDuringRequests(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client()
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				_, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
				assert.NoError(t, err)
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				_ = srv.Requests()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, srv.Requests(), 160)
}

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client()
	require.NoError(t, err)
	opts := portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO}
	a, err := client.GenerateLink(context.Background(), opts, portal.IdempotencyKey("same"))
	require.NoError(t, err)
	b, err := client.GenerateLink(context.Background(), opts, portal.IdempotencyKey("same"))
	require.NoError(t, err)
	assert.Equal(t, a.Link, b.Link, "a repeated key gets the first answer")
	opts.Intent = portal.DSync
	_, err = client.GenerateLink(context.Background(), opts, portal.IdempotencyKey("same"))
	assert.ErrorIs(t, err, portal.ErrConflict)
}

func TestClientErrorsAgainstFake(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t, portaltest.WithAPIKey("sk_test_right"))
	wrongKey, err := portal.NewClient("sk_test_wrong", portal.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = wrongKey.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
	assertAPIError(t, err, portal.ErrUnauthorized)

	srv2 := portaltest.Start(t, portaltest.WithAPIKey("sk_test_only"), portaltest.WithOrganizations("org_123"))
	client, err := portal.NewClient("sk_test_only", portal.WithBaseURL(srv2.URL))
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_404", Intent: portal.SSO})
	assertAPIError(t, err, portal.ErrBadRequest)
	assert.Contains(t, err.Error(), "Could not find an organization with the id, org_404.")
}

func assertAPIError(t *testing.T, err error, class error) {
	t.Helper()
	require.ErrorIs(t, err, class)
	var apiErr *portal.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Regexp(t, `^req_[0-9A-Z]{26}$`, apiErr.RequestID)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	opts := portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs}
	tests := []struct {
		name       string
		fault      portaltest.Fault
		maxRetries int
		wantErr    error // nil: the call succeeds after the fault
		wantFaults []string
	}{
		{"503 twice then success", portaltest.Fault{Status: 503, Count: 2}, 2, nil, []string{"status", "status", ""}},
		{"429 with Retry-After seconds", portaltest.Fault{Status: 429, RetryAfter: "0"}, 1, nil, []string{"status", ""}},
		{"429 beyond retries", portaltest.Fault{Status: 429, Count: 5}, 1, portal.ErrRateLimited, []string{"status", "status"}},
		{"502 proxy page", portaltest.Fault{Status: 502}, 0, portal.ErrServer, []string{"status"}},
		{"custom 422 body", portaltest.Fault{Status: 422, Body: `{"error":"Intent not enabled"}`}, 2, portal.ErrUnprocessable, []string{"status"}},
		{"dropped connection", portaltest.Fault{Drop: true}, 1, nil, []string{"drop", ""}},
		{"malformed body", portaltest.Fault{Malformed: true}, 2, portal.ErrInvalidResponse, []string{"malformed"}},
		{"latency only", portaltest.Fault{Latency: 20 * time.Millisecond}, 0, nil, []string{"latency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := portaltest.Start(t)
			require.NoError(t, srv.InjectFault(tt.fault))
			client, err := srv.Client(portal.WithMaxRetries(tt.maxRetries))
			require.NoError(t, err)
			_, err = client.GenerateLink(context.Background(), opts)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
			var got []string
			for _, r := range srv.Requests() {
				got = append(got, r.Fault)
			}
			assert.Equal(t, tt.wantFaults, got)
		})
	}
}

func TestLatencyFaultHonoursClientDeadline(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	require.NoError(t, srv.InjectFault(portaltest.Fault{Latency: time.Hour}))
	client, err := srv.Client()
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO}, portal.CallTimeout(50*time.Millisecond))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestProbabilityFaultsRepeatWithSeed(t *testing.T) {
	t.Parallel()
	pattern := func() []int {
		srv := portaltest.Start(t)
		require.NoError(t, srv.InjectFault(portaltest.Fault{Status: 500, Probability: 0.3, Seed: 42}))
		client, err := srv.Client(portal.WithMaxRetries(0))
		require.NoError(t, err)
		var out []int
		for i := 0; i < 40; i++ {
			_, _ = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
		}
		for _, r := range srv.Requests() {
			out = append(out, r.Status)
		}
		return out
	}
	a, b := pattern(), pattern()
	assert.Equal(t, a, b)
	failed := 0
	for _, s := range a {
		if s == 500 {
			failed++
		}
	}
	assert.Greater(t, failed, 4)
	assert.Less(t, failed, 24)
}

func TestInvalidFaults(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	for _, f := range []portaltest.Fault{
		{},
		{Status: 42},
		{Status: 500, Drop: true},
		{Status: 500, Probability: 1.5},
		{Status: 500, Count: -1},
		{Status: 500, Count: 2, Probability: 0.5},
	} {
		assert.Error(t, srv.InjectFault(f), "%+v", f)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := portaltest.NewServer()
	client, err := srv.Client()
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
		require.NoError(t, err)
	}
	// A request held by an hour of injected latency must not hold Close.
	require.NoError(t, srv.InjectFault(portaltest.Fault{Latency: time.Hour}))
	wrote := make(chan struct{})
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) },
	})
	done := make(chan error)
	go func() {
		_, err := client.GenerateLink(ctx, portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO}, portal.CallMaxRetries(0))
		done <- err
	}()
	<-wrote
	srv.Close()
	assert.Error(t, <-done)
	waitForGoroutines(t, before)
}

// waitForGoroutines waits, up to a bound, for the goroutine count to fall
// back to want: goroutines of closed connections end asynchronously.
func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
