package portaltest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newHTTPClient returns an HTTP client of the test's own. It does not use
// http.DefaultTransport: httptest.Server.Close closes that transport's idle
// connections, which can break a request that another test running in
// parallel is just starting on one of them.
func newHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

var auditLogs = portal.GenerateLinkOpts{
	Organization: "org_123",
	Intent:       portal.AuditLogs,
	ReturnURL:    "https://app.example.com/settings",
}

func TestClientAgainstTheFake(t *testing.T) {
	t.Parallel()
	for _, start := range []func(testing.TB, ...portaltest.Option) *portaltest.Server{
		portaltest.Start, portaltest.StartTLS,
	} {
		srv := start(t)
		client, err := srv.Client()
		require.NoError(t, err)
		link, err := client.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(link.Link, srv.URL+"/portal/launch?token="), link.Link)

		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		r := reqs[0]
		assert.Equal(t, portaltest.Opts{Organization: "org_123", Intent: "audit_logs",
			ReturnURL: "https://app.example.com/settings"}, r.Opts)
		assert.Equal(t, int64(1), r.Seq)
		assert.Equal(t, http.StatusCreated, r.Status)
		assert.Equal(t, link.Link, r.Link)
		assert.Equal(t, portaltest.Fingerprint(srv.APIKey), r.Key)
		assert.Equal(t, "adminportal-go/"+portal.Version, r.Header.Get("User-Agent"))
		assert.Empty(t, r.Header.Get("Authorization"))
		assert.JSONEq(t, `{"organization":"org_123","intent":"audit_logs","return_url":"https://app.example.com/settings"}`,
			r.Body)
		assert.JSONEq(t, `{"link":"`+link.Link+`"}`, r.Response)
		assert.Regexp(t, uuidV4, r.RequestID)
	}
}

func TestTLSServerSpeaksHTTP2(t *testing.T) {
	t.Parallel()
	srv := portaltest.StartTLS(t)
	client, err := srv.Client()
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	assert.Equal(t, "HTTP/2.0", srv.Requests()[0].Proto)

	client, err = srv.Client(portal.WithHTTPClient(newHTTPClient(t)))
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(), auditLogs)
	assert.ErrorContains(t, err, "certificate", "a client that does not trust the fake's certificate is refused")

	resp, err := newHTTPClient(t).Get(srv.URL + "/__mock/health")
	if err == nil {
		resp.Body.Close()
	}
	assert.Error(t, err)
}

func TestLinksOpenOnceWithinFiveMinutes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := portaltest.Start(t, portaltest.WithClock(clock))
	client, err := srv.Client()
	require.NoError(t, err)
	open := func(link string) (int, string) {
		resp, err := newHTTPClient(t).Get(link)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	link, err := client.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	status, page := open(link.Link)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "org_123")
	assert.Contains(t, page, "Audit Logs")
	assert.Contains(t, page, "Export as CSV")
	status, page = open(link.Link)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, page, "already been used")
	assert.Contains(t, page, `href="https://app.example.com/settings"`, "the refusal leads back to the application")

	link, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123"})
	require.NoError(t, err)
	mu.Lock()
	now = now.Add(5 * time.Minute)
	mu.Unlock()
	status, page = open(link.Link)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, page, "expired")

	status, _ = open(srv.URL + "/portal/launch?token=forged")
	assert.Equal(t, http.StatusNotFound, status)
}

// TestLinksPointAtTheFakeItself: links go to the fake's own address, not
// to the Host a request names.
func TestLinksPointAtTheFakeItself(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t, portaltest.WithHosts("portal-mock"))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link",
		strings.NewReader(`{"organization":"org_123"}`))
	require.NoError(t, err)
	req.Host = "portal-mock:" + port
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	resp, err := newHTTPClient(t).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct{ Link string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	assert.True(t, strings.HasPrefix(out.Link, srv.URL+"/portal/launch?token="), out.Link)
}

// TestForeignHostsAreRefused: a web page whose name an attacker rebinds to
// 127.0.0.1 sends its own name as Host, with a matching Origin. Every
// endpoint refuses it, and records nothing; the names the fake serves pass.
func TestForeignHostsAreRefused(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t, portaltest.WithHosts("Portal-Mock"))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	do := func(method, path, host, body string) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Origin", "http://"+host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+srv.APIKey)
		resp, err := newHTTPClient(t).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	link, err := srv.Client()
	require.NoError(t, err)
	l, err := link.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	launch := strings.TrimPrefix(l.Link, srv.URL)
	for _, ep := range []struct{ method, path, body string }{
		{"POST", "/portal/generate_link", `{"organization":"org_123"}`},
		{"GET", launch, ""},
		{"GET", "/__mock/health", ""},
		{"GET", "/__mock/requests", ""},
		{"POST", "/__mock/faults", `{"drop":true,"probability":1}`},
		{"POST", "/__mock/reset", ""},
		{"DELETE", "/__mock/faults", ""},
	} {
		for _, host := range []string{"attacker.example:" + port, "attacker.example", "localhost.attacker.example:" + port,
			"127.0.0.1.nip.io:" + port, "mock.localhost:" + port} {
			status, body := do(ep.method, ep.path, host, ep.body)
			assert.Equal(t, http.StatusMisdirectedRequest, status, "%s %s with Host %q", ep.method, ep.path, host)
			assert.Contains(t, body, "-host", "the answer says which flag admits a name")
		}
	}
	assert.Len(t, srv.Requests(), 1, "only the client's own call is recorded")
	status, _ := do("GET", launch, "localhost:"+port, "")
	assert.Equal(t, http.StatusOK, status, "the link still opens: the refusals did not use it")
	for _, host := range []string{"localhost:" + port, "LOCALHOST", "127.0.0.1:" + port, "127.9.8.7", "[::1]:" + port,
		"portal-mock:" + port, "PORTAL-MOCK"} {
		status, body := do("GET", "/__mock/health", host, "")
		assert.Equal(t, http.StatusOK, status, "Host %q: %s", host, body)
	}
}

// TestRecordsHoldNoKey sends keys the fake refuses and accepts, in every
// place a careless client might put one.
func TestRecordsHoldNoKey(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t, portaltest.WithAPIKey("sk_test_accepted_0123456789"))
	for _, key := range []string{"sk_live_refused_9876543210", "sk_test_accepted_0123456789"} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link",
			strings.NewReader(`{"organization":"org_123","return_url":"https://x.example/?k=`+key+`"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Debug-Key", key)
		req.Header.Set("Cookie", "session="+key)
		resp, err := newHTTPClient(t).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	resp, err := newHTTPClient(t).Get(srv.URL + "/__mock/requests")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	assert.NotContains(t, string(raw), "refused_9876543210")
	assert.NotContains(t, string(raw), "accepted_0123456789")
	var list struct {
		Total    int64
		Requests []portaltest.Request
	}
	require.NoError(t, json.Unmarshal(raw, &list))
	require.Len(t, list.Requests, 2)
	assert.Equal(t, portaltest.Fingerprint("sk_live_refused_9876543210"), list.Requests[0].Key)
	assert.Equal(t, http.StatusUnauthorized, list.Requests[0].Status)
	assert.Equal(t, portaltest.Fingerprint("sk_test_accepted_0123456789"), list.Requests[1].Key)
	assert.Equal(t, http.StatusCreated, list.Requests[1].Status)
	assert.NotEqual(t, list.Requests[0].Key, list.Requests[1].Key)
}

// TestRecordingIsBounded sends more requests than the fake keeps, with
// bodies larger than it records, straight to its handler.
func TestRecordingIsBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	body := `{"organization":"org_123","return_url":"https://example.com/` + strings.Repeat("a", 8<<10) + `"}`
	for range 1100 {
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk_test_x")
		fake.ServeHTTP(httptest.NewRecorder(), req)
	}
	reqs := fake.Requests()
	assert.Len(t, reqs, 1000, "the most recent 1,000")
	assert.Equal(t, int64(1100), fake.Total())
	assert.Equal(t, int64(101), reqs[0].Seq, "oldest first")
	assert.Equal(t, int64(1100), reqs[999].Seq)
	assert.Len(t, reqs[0].Body, 4<<10)
	assert.True(t, reqs[0].BodyTruncated)

	fake.Reset()
	assert.Empty(t, fake.Requests())
	assert.Zero(t, fake.Total())
}

func TestWaitForRequests(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client()
	require.NoError(t, err)
	go func() {
		for range 3 {
			_, _ = client.GenerateLink(context.Background(), auditLogs)
		}
	}()
	reqs, err := srv.WaitForRequests(context.Background(), 3)
	require.NoError(t, err)
	assert.Len(t, reqs, 3)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = srv.WaitForRequests(ctx, 4)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestDropIsRecordedBeforeTheClientSeesIt: right after a client sees its
// connection dropped, the fake lists the request.
func TestDropIsRecordedBeforeTheClientSeesIt(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client(portal.WithMaxRetries(0))
	require.NoError(t, err)
	for round := range 100 {
		require.NoError(t, srv.InjectFault(portaltest.Fault{Drop: true}))
		_, err := client.GenerateLink(context.Background(), auditLogs)
		require.Error(t, err)
		reqs := srv.Requests()
		require.Len(t, reqs, round+1, "round %d", round)
		assert.Equal(t, "drop", reqs[round].Fault)
		assert.Zero(t, reqs[round].Status)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client(portal.WithMaxRetries(0))
	require.NoError(t, err)
	call := func() error {
		_, err := client.GenerateLink(context.Background(), auditLogs)
		return err
	}

	require.NoError(t, srv.InjectFault(portaltest.Fault{Status: 429, RetryAfter: "3", Count: 2}))
	var apiErr *portal.APIError
	require.ErrorAs(t, call(), &apiErr)
	assert.Equal(t, 3*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "rate_limit_exceeded", apiErr.Code)
	assert.ErrorIs(t, call(), portal.ErrRateLimited)
	assert.NoError(t, call(), "the fault is used up")

	require.NoError(t, srv.InjectFault(portaltest.Fault{Status: 502}))
	require.ErrorAs(t, call(), &apiErr)
	assert.Contains(t, apiErr.Message, "502 Bad Gateway", "a proxy's page")

	require.NoError(t, srv.InjectFault(portaltest.Fault{Malformed: true}))
	assert.ErrorIs(t, call(), portal.ErrInvalidResponse)

	require.NoError(t, srv.InjectFault(portaltest.Fault{Drop: true, Probability: 1, Seed: 1}))
	assert.Error(t, call())
	assert.Error(t, call())
	srv.ClearFaults()
	assert.NoError(t, call())

	for _, bad := range []portaltest.Fault{{}, {Status: 99}, {Status: 500, Drop: true}, {Drop: true, Count: -1},
		{Drop: true, Probability: 2}, {Drop: true, Probability: 0.5, Count: 2}} {
		assert.Error(t, srv.InjectFault(bad), "%+v", bad)
	}
}

// TestLatencyFault runs in a synctest bubble, with the fake served in
// memory, so that the latency takes no real time.
func TestLatencyFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := portaltest.NewFake("http://fake.test")
		require.NoError(t, fake.InjectFault(portaltest.Fault{Latency: 2 * time.Second, Status: 503}))
		start := time.Now()
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link",
			strings.NewReader(`{"organization":"org_123"}`))
		req.Header.Set("Authorization", "Bearer sk_test_x")
		fake.ServeHTTP(w, req)
		assert.Equal(t, 503, w.Code)
		assert.Equal(t, 2*time.Second, time.Since(start))
	})
}

func TestCloseEndsLatencies(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer()
	require.NoError(t, srv.InjectFault(portaltest.Fault{Latency: time.Hour}))
	client, err := srv.Client(portal.WithMaxRetries(0))
	require.NoError(t, err)
	done := make(chan error)
	go func() {
		_, err := client.GenerateLink(context.Background(), auditLogs)
		done <- err
	}()
	_, err = srv.WaitForRequests(context.Background(), 1)
	require.NoError(t, err)
	srv.Close()
	assert.Error(t, <-done, "the held request is dropped, not answered an hour later")
}

func TestFaultBodiesCannotRunScripts(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	require.NoError(t, srv.InjectFault(portaltest.Fault{Status: 500, Body: "<script>fetch('/__mock/requests')</script>"}))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link", nil)
	resp, err := newHTTPClient(t).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "sandbox")
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	do := func(method, path, contentType, body string, header ...string) int {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := newHTTPClient(t).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	const fault = `{"status":503,"count":1}`
	assert.Equal(t, 200, do("GET", "/__mock/health", "", ""))
	assert.Equal(t, 415, do("POST", "/__mock/faults", "text/plain", fault),
		"a form or simple request cannot steer the fake")
	assert.Equal(t, 415, do("POST", "/__mock/faults", "application/x-www-form-urlencoded", fault))
	assert.Equal(t, 415, do("POST", "/__mock/reset", "", ""))
	assert.Equal(t, 403, do("POST", "/__mock/faults", "text/plain", fault, "Origin", "https://evil.example"))
	assert.Equal(t, 403, do("POST", "/__mock/faults", "application/json", fault, "Origin", "https://evil.example"))
	assert.Equal(t, 403, do("POST", "/__mock/faults", "application/json", fault, "Sec-Fetch-Site", "cross-site"))
	assert.Equal(t, 403, do("GET", "/__mock/requests", "", "", "Sec-Fetch-Site", "cross-site"),
		"no page reads the records")
	assert.Equal(t, 403, do("POST", "/__mock/reset", "application/json", "", "Sec-Fetch-Site", "same-site"))
	assert.Empty(t, srv.Requests())

	assert.Equal(t, 204, do("POST", "/__mock/faults", "application/json", fault, "Origin", srv.URL))
	assert.Equal(t, 204, do("POST", "/__mock/faults", "application/json; charset=utf-8",
		`{"drop":true,"probability":0.5,"seed":7}`, "Sec-Fetch-Site", "same-origin"))
	assert.Equal(t, 400, do("POST", "/__mock/faults", "application/json", `{"bogus":1}`))
	assert.Equal(t, 400, do("POST", "/__mock/faults", "application/json", `{}`))
	assert.Equal(t, 204, do("DELETE", "/__mock/faults", "application/json", ""))
	assert.Equal(t, 204, do("POST", "/__mock/reset", "application/json", ""))
	assert.Equal(t, 404, do("GET", "/__mock/nothing", "", ""))
}

func ExampleServer() {
	srv := portaltest.NewServer(portaltest.WithOrganizations("org_123"))
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		panic(err)
	}

	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
	fmt.Println(err)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_456"})
	fmt.Println(err != nil)
	for _, r := range srv.Requests() {
		fmt.Println(r.Status, r.Opts.Organization, r.Opts.Intent)
	}
	// Output:
	// <nil>
	// true
	// 201 org_123 sso
	// 400 org_456
}

func ExampleFake_InjectFault() {
	srv := portaltest.NewServer()
	defer srv.Close()
	_ = srv.InjectFault(portaltest.Fault{Status: 503, RetryAfter: "0", Count: 1})
	client, err := srv.Client()
	if err != nil {
		panic(err)
	}

	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123"})
	fmt.Println(err) // the client retried past the fault
	for _, r := range srv.Requests() {
		fmt.Println(r.Status, r.Fault)
	}
	// Output:
	// <nil>
	// 503 status
	// 201
}

func TestRequestsAreCopies(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client()
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_123", ITContactEmails: []string{"it@example.com"}})
	require.NoError(t, err)
	reqs := srv.Requests()
	reqs[0].Header.Set("User-Agent", "changed")
	reqs[0].Opts.ITContactEmails[0] = "changed@example.com"
	again := srv.Requests()[0]
	assert.Equal(t, "adminportal-go/"+portal.Version, again.Header.Get("User-Agent"))
	assert.Equal(t, []string{"it@example.com"}, again.Opts.ITContactEmails)
}

// serveFake serves one request straight to fake's handler, with the key.
func serveFake(fake *portaltest.Fake, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://fake.test"+target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk_test_x")
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	fake.ServeHTTP(w, req)
	return w
}

// TestRecordsRoundTripThroughJSON records what a careless client sends,
// malformed intent and all, and reads the record back from its own JSON:
// what the client sent, as plain strings, whatever the answer was.
func TestRecordsRoundTripThroughJSON(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test", portaltest.WithAPIKey("sk_test_x"))
	require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 503}))
	bodies := []string{
		// the fault answers it
		`{"organization":"org_123","intent":"Audit Logs"}`,
		`{"organization":"org_123","intent":"Audit Logs","return_url":"https://app.example.com/50%off"}`, // 422
		`{"organization":7,"intent":["sso"],"admin_emails":["it@example.com",3]}`,                        // 422
		`{"organization":`, // 400
	}
	for _, b := range bodies {
		serveFake(fake, http.MethodPost, "/portal/generate_link", b)
	}
	req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(bodies[0]))
	req.Header.Set("Authorization", "Bearer sk_test_wrong")
	fake.ServeHTTP(httptest.NewRecorder(), req) // 401

	w := serveFake(fake, http.MethodGet, "/__mock/requests", "")
	var list struct {
		Total    int64
		Requests []portaltest.Request
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list), "the record decodes from its own JSON")
	require.Len(t, list.Requests, 5)
	for i, want := range []struct {
		status int
		opts   portaltest.Opts
	}{
		{503, portaltest.Opts{Organization: "org_123", Intent: "Audit Logs"}},
		{422, portaltest.Opts{Organization: "org_123", Intent: "Audit Logs", ReturnURL: "https://app.example.com/50%off"}},
		{422, portaltest.Opts{ITContactEmails: []string{"it@example.com", ""}}},
		{400, portaltest.Opts{}},
		{401, portaltest.Opts{Organization: "org_123", Intent: "Audit Logs"}},
	} {
		got := list.Requests[i]
		assert.Equal(t, want.status, got.Status, "request %d", i)
		assert.Equal(t, want.opts, got.Opts, "request %d: Opts hold what the client sent", i)
		original := fake.Requests()[i]
		assert.True(t, original.Time.Equal(got.Time), "request %d: its time round-trips", i)
		original.Time = got.Time
		assert.Equal(t, original, got, "request %d round-trips", i)
	}
}

// TestRecordsKeepNoPieceOfAKey sends the key where a cut falls across it:
// the record is scrubbed before it is cut.
func TestRecordsKeepNoPieceOfAKey(t *testing.T) {
	t.Parallel()
	const key = "sk_test_0123456789abcdefghijklmnop"
	fake := portaltest.NewFake("http://fake.test")
	for cut := 4<<10 - len(key); cut <= 4<<10; cut += 5 {
		prefix := `{"organization":"org_123","return_url":"https://x.example/?p=`
		body := prefix + strings.Repeat("a", cut-len(prefix)) + key + `"}`
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Echo", strings.Repeat("b", 8<<10-len(key)-10)+key)
		fake.ServeHTTP(httptest.NewRecorder(), req)
	}
	raw, err := json.Marshal(fake.Requests())
	require.NoError(t, err)
	for i := 0; i+8 <= len(key)-len("sk_test_"); i++ {
		assert.NotContains(t, string(raw), key[len("sk_test_")+i:len("sk_test_")+i+8])
	}
}

// TestRecordsAreBounded sends headers and bodies far larger than a record
// keeps: each record keeps at most 8 KiB of headers and 4 KiB of each body.
func TestRecordsAreBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link",
		strings.NewReader(`{"organization":"org_123","return_url":"https://x.example/`+strings.Repeat("a", 90<<10)+`"}`))
	req.Header.Set("Authorization", "Bearer sk_test_x")
	for i := range 2000 {
		req.Header.Set(fmt.Sprintf("X-Padding-%04d", i), strings.Repeat("p", 100))
	}
	fake.ServeHTTP(httptest.NewRecorder(), req)
	rec := fake.Requests()[0]
	size := 0
	for name, values := range rec.Header {
		for _, v := range values {
			size += len(name) + len(v)
		}
	}
	assert.LessOrEqual(t, size, 8<<10)
	assert.NotEmpty(t, rec.Header)
	assert.Len(t, rec.Body, 4<<10)
	assert.True(t, rec.BodyTruncated)
}

// TestLinksAreBounded issues links whose return URLs take 100 KiB each: the
// fake forgets the oldest once their pages' text passes 16 MiB.
func TestLinksAreBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	var links []string
	for range 200 {
		w := serveFake(fake, http.MethodPost, "/portal/generate_link",
			`{"organization":"org_123","return_url":"https://x.example/`+strings.Repeat("a", 100<<10-100)+`"}`)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		var out struct{ Link string }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
		links = append(links, strings.TrimPrefix(out.Link, "http://fake.test"))
	}
	assert.Equal(t, http.StatusNotFound, serveFake(fake, http.MethodGet, links[0], "").Code, "forgotten")
	assert.Equal(t, http.StatusOK, serveFake(fake, http.MethodGet, links[len(links)-1], "").Code)
}

func TestFaultsAreBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	for range 100 {
		require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 503, Count: 2}))
	}
	assert.ErrorContains(t, fake.InjectFault(portaltest.Fault{Status: 503}), "100 faults")
	fake.ClearFaults()
	w := serveFake(fake, http.MethodPost, "/__mock/faults", `{"status":500,"body":"`+strings.Repeat("x", 70<<10)+`"}`)
	assert.Equal(t, http.StatusBadRequest, w.Code, "a fault's JSON is at most 64 KiB")
	assert.Equal(t, http.StatusCreated,
		serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`).Code,
		"no fault was added")
}

// TestLongPollEnds: GET /__mock/requests?min=N waits at most its timeout,
// 30s unless it says otherwise, and ends when the fake closes.
func TestLongPollEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := portaltest.NewFake("http://fake.test")
		start := time.Now()
		w := serveFake(fake, http.MethodGet, "/__mock/requests?min=2", "")
		assert.Equal(t, http.StatusOK, w.Code)
		assert.JSONEq(t, `{"total":0,"requests":[]}`, w.Body.String())
		assert.Equal(t, 30*time.Second, time.Since(start))

		start = time.Now()
		serveFake(fake, http.MethodGet, "/__mock/requests?min=2&timeout=2s", "")
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.Equal(t, http.StatusBadRequest, serveFake(fake, http.MethodGet, "/__mock/requests?min=2&timeout=1h", "").Code)

		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serveFake(fake, http.MethodGet, "/__mock/requests?min=1", "") }()
		serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
		assert.Contains(t, (<-done).Body.String(), `"total":1`, "the request it waited for")

		go func() { done <- serveFake(fake, http.MethodGet, "/__mock/requests?min=5", "") }()
		synctest.Wait()
		start = time.Now()
		fake.Close()
		assert.Equal(t, http.StatusOK, (<-done).Code)
		assert.Zero(t, time.Since(start), "Close ends the wait at once")
		_, err := fake.WaitForRequests(context.Background(), 5)
		assert.ErrorIs(t, err, portaltest.ErrClosed)
	})
}

// TestCrossSitePagesCannotSteerTheFake: what a web page of another site can
// send (a no-cors or text/plain POST) is refused on every path but the
// portal page, before it is recorded or uses up a fault.
func TestCrossSitePagesCannotSteerTheFake(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 503}))
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "null"},
	} {
		for _, method := range []string{http.MethodPost, http.MethodOptions} {
			req := httptest.NewRequest(method, "http://fake.test/portal/generate_link",
				strings.NewReader(`{"organization":"org_evil","return_url":"https://evil.example/"}`))
			req.Header.Set("Content-Type", "text/plain")
			for k, v := range h {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			fake.ServeHTTP(w, req)
			assert.Equal(t, http.StatusForbidden, w.Code, "%s %v", method, h)
		}
	}
	assert.Empty(t, fake.Requests(), "nothing recorded")
	assert.Equal(t, http.StatusServiceUnavailable,
		serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`).Code,
		"the fault is still there")

	w := serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
	var out struct{ Link string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	req := httptest.NewRequest(http.MethodGet, out.Link, nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site") // the app's page sends the browser here
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	page := httptest.NewRecorder()
	fake.ServeHTTP(page, req)
	assert.Equal(t, http.StatusOK, page.Code, "a link opens from another site")
}

// TestRecordsKeepNoKeyHoweverItComes sends the key in every place and
// spelling a careless or hostile client might: no record keeps 8 of its
// characters in a row.
func TestRecordsKeepNoKeyHoweverItComes(t *testing.T) {
	t.Parallel()
	const key = "sk_test_SecretKey123456"
	srv := portaltest.Start(t, portaltest.WithAPIKey(key))
	send := func(header map[string]string, body string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link", strings.NewReader(body))
		require.NoError(t, err)
		for k, v := range header {
			req.Header[k] = []string{v} // as sent, not canonicalised
		}
		resp, err := newHTTPClient(t).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	plain := `{"organization":"org_123"}`
	send(map[string]string{"Authorization": "bearer " + key, "X-Api-Key": key}, plain)
	send(map[string]string{"Authorization": "Bearer  " + key + " "}, `{"organization":"org_123","return_url":"`+key+`"}`)
	send(map[string]string{"X-Api-Key": key}, plain)
	send(map[string]string{"X-Forwarded-Authorization": "Bearer " + key}, plain)
	send(map[string]string{"Authorization": "Bearer " + key},
		`{"organization":"org_123","success_url":"https://x.example/?k=sk_test_\u0053ecretKey123456"}`)
	send(map[string]string{"Authorization": "Bearer " + key, key: "1"}, plain)
	send(map[string]string{"Authorization": "Bearer " + key}, `{"organization":"org_123","intent":"`+key[:12]+`"}`)
	send(map[string]string{"Authorization": "Token " + key}, `{"organization":"`+key+`"}`)

	raw, err := json.Marshal(srv.Requests())
	require.NoError(t, err)
	require.Len(t, srv.Requests(), 8)
	for i := 0; i+8 <= len(key); i++ {
		assert.NotContains(t, strings.ToLower(string(raw)), strings.ToLower(key[i:i+8]))
	}
	assert.Equal(t, http.StatusCreated, srv.Requests()[0].Status, "a lower-case bearer is a bearer")
	assert.Equal(t, http.StatusCreated, srv.Requests()[1].Status, "and the spaces around the key do not count")
}

// TestManySmallHeadersAreBounded: a record keeps 64 header values at most,
// counted with what each takes in memory.
func TestManySmallHeadersAreBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(`{}`))
	for i := range 2500 {
		req.Header.Add(fmt.Sprintf("X-%04d", i), "")
	}
	fake.ServeHTTP(httptest.NewRecorder(), req)
	values := 0
	for _, v := range fake.Requests()[0].Header {
		values += len(v)
	}
	assert.Equal(t, 64, values)
}

func TestControlRefusesMalformedRequests(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	for _, tt := range []struct{ method, target, body string }{
		{http.MethodPost, "/__mock/faults", `{"status":503} garbage`},
		{http.MethodPost, "/__mock/faults", `{"status":503}{"status":500}`},
		{http.MethodPost, "/__mock/faults", `{"latency_ms":9223372036854775807}`},
		{http.MethodGet, "/__mock/requests?min=abc", ""},
		{http.MethodGet, "/__mock/requests?min=99999999999999999999", ""},
		{http.MethodGet, "/__mock/requests?min=1&timeout=soon", ""},
	} {
		w := serveFake(fake, tt.method, tt.target, tt.body)
		assert.Equal(t, http.StatusBadRequest, w.Code, "%s %s %s", tt.method, tt.target, tt.body)
	}
	created := serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
	assert.Equal(t, http.StatusCreated, created.Code, "no fault was added")
	for _, host := range []string{"[localhost]", "[127.0.0.1]", "attacker.example.", "[attacker.example]:80"} {
		req := httptest.NewRequest(http.MethodGet, "http://fake.test/__mock/health", nil)
		req.Host = host
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		assert.Equal(t, http.StatusMisdirectedRequest, w.Code, host)
	}
	for _, host := range []string{"localhost.", "LOCALHOST", "fake.test.", "[::1]", "[::1]:8484"} {
		req := httptest.NewRequest(http.MethodGet, "http://fake.test/__mock/health", nil)
		req.Host = host
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		assert.Equal(t, http.StatusOK, w.Code, host)
	}
}
