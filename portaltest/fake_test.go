package portaltest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal/portaltest"
)

// TestForeignHostsAreRefused: a web page whose name an attacker rebinds to
// 127.0.0.1 sends its own name as Host, with a matching Origin. Every
// endpoint refuses it, and records nothing; the names the fake serves pass.
func TestForeignHostsAreRefused(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t, portaltest.WithHosts("Portal-Mock"))
	do := func(method, path, host, body string) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Origin", "http://"+host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+srv.APIKey)
		resp, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := send(t, srv, http.MethodPost, "/portal/generate_link", `{"organization":"org_123"}`,
		"Authorization", "Bearer "+srv.APIKey)
	require.Equal(t, http.StatusCreated, status, body)
	launch := strings.TrimPrefix(linkOf(t, body), srv.URL)
	for _, ep := range []struct{ method, path, body string }{
		{"POST", "/portal/generate_link", `{"organization":"org_123"}`},
		{"GET", launch, ""},
		{"GET", "/__mock/health", ""},
		{"GET", "/__mock/requests", ""},
		{"POST", "/__mock/faults", `{"drop":true,"probability":1}`},
		{"POST", "/__mock/reset", ""},
		{"DELETE", "/__mock/faults", ""},
	} {
		for _, host := range []string{"attacker.example:8484", "attacker.example", "localhost.attacker.example:8484",
			"127.0.0.1.nip.io:8484", "mock.localhost:8484", "[localhost]", "[127.0.0.1]", "attacker.example.",
			"[attacker.example]:80"} {
			status, body := do(ep.method, ep.path, host, ep.body)
			assert.Equal(t, http.StatusMisdirectedRequest, status, "%s %s with Host %q", ep.method, ep.path, host)
			assert.Contains(t, body, "-host", "the answer says which flag admits a name")
		}
	}
	assert.Len(t, srv.Requests(), 1, "only the first call is recorded")
	status, _ = do("GET", launch, "localhost:8484", "")
	assert.Equal(t, http.StatusOK, status, "the link still opens: the refusals did not use it")
	for _, host := range []string{"localhost:8484", "LOCALHOST", "localhost.", "127.0.0.1:8484", "127.9.8.7",
		"[::1]:8484", "[::1]", "portal-mock:8484", "PORTAL-MOCK", "portal-mock."} {
		status, body := do("GET", "/__mock/health", host, "")
		assert.Equal(t, http.StatusOK, status, "Host %q: %s", host, body)
	}
}

// TestLinksUseTheHostOfTheRequest: a link names the host and port the
// request was sent to, so that it works through a remapped port or a
// service name, if that host is one a link may name; else the fake's own.
func TestLinksUseTheHostOfTheRequest(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("https://mock.internal:8443/prefix/", portaltest.WithHosts("portal-mock"))
	for host, want := range map[string]string{
		"localhost:18484":    "https://localhost:18484/prefix",
		"LOCALHOST.:18484":   "https://localhost:18484/prefix",
		"localhost":          "https://localhost/prefix",
		"127.0.0.1:9":        "https://127.0.0.1:9/prefix",
		"[::1]:8484":         "https://[::1]:8484/prefix",
		"[::1]":              "https://[::1]/prefix",
		"portal-mock:8484":   "https://portal-mock:8484/prefix",
		"mock.internal":      "https://mock.internal/prefix",
		"127.9.8.7:1234":     "https://mock.internal:8443/prefix", // loopback, but no name a certificate covers
		"localhost:0":        "https://mock.internal:8443/prefix",
		"localhost:65536":    "https://mock.internal:8443/prefix",
		"localhost:8484x":    "https://mock.internal:8443/prefix",
		"127.0.0.1:+1":       "https://mock.internal:8443/prefix",
		"portal-mock:08484":  "https://portal-mock:08484/prefix",
		"127.0.0.1:65535":    "https://127.0.0.1:65535/prefix",
		"attacker.example:1": "", // refused
	} {
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link",
			strings.NewReader(`{"organization":"org_123"}`))
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+testKey)
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		if want == "" {
			assert.Equal(t, http.StatusMisdirectedRequest, w.Code, host)
			continue
		}
		require.Equal(t, http.StatusCreated, w.Code, "%s: %s", host, w.Body)
		link := linkOf(t, w.Body.String())
		assert.True(t, strings.HasPrefix(link, want+"/portal/launch?token="), "Host %q: %s", host, link)
	}
}

// TestPagesCannotChangeTheFake: what a web page can send to another site
// without a CORS preflight (a form, an <img>, a no-cors fetch: no bearer
// key, no JSON, or another method) changes nothing: no fault is used, no
// request recorded, no link issued.
func TestPagesCannotChangeTheFake(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	srv.InjectFault(portaltest.Fault{Status: 503})
	for _, tt := range []struct {
		method string
		header []string
		status int
	}{
		{http.MethodGet, nil, http.StatusMethodNotAllowed},
		{http.MethodHead, nil, http.StatusMethodNotAllowed},
		{http.MethodPut, []string{"Authorization", "Bearer " + srv.APIKey}, http.StatusMethodNotAllowed},
		{http.MethodPost, nil, http.StatusUnauthorized},
		{http.MethodPost, []string{"Content-Type", "text/plain;charset=UTF-8"}, http.StatusUnauthorized},
		{http.MethodPost, []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnauthorized},
		{http.MethodPost, []string{"Content-Type", "multipart/form-data; boundary=x"}, http.StatusUnauthorized},
		{http.MethodPost, []string{"Authorization", "Basic dXNlcjpwYXNz"}, http.StatusUnauthorized},
		{http.MethodPost, []string{"Authorization", "Bearer "}, http.StatusUnauthorized},
	} {
		status, body := send(t, srv, tt.method, "/portal/generate_link", `{"organization":"org_123"}`, tt.header...)
		assert.Equal(t, tt.status, status, "%s %v: %s", tt.method, tt.header, body)
		if tt.method != http.MethodHead {
			assert.JSONEq(t, map[int]string{
				405: `{"message":"Method Not Allowed"}`, 401: `{"message":"Unauthorized"}`,
			}[tt.status], body, "%s %v", tt.method, tt.header)
		}
	}
	assert.Empty(t, srv.Requests(), "nothing recorded")
	status, _ := send(t, srv, http.MethodPost, "/portal/generate_link", `{"organization":"org_123"}`,
		"Authorization", "Bearer "+srv.APIKey, "Content-Type", "text/plain")
	assert.Equal(t, http.StatusServiceUnavailable, status, "the fault waited for a request with a key")
	status, _ = send(t, srv, http.MethodPost, "/portal/generate_link", `{"organization":"org_123"}`,
		"Content-Type", "application/json")
	assert.Equal(t, http.StatusUnauthorized, status, "a JSON request without a key is the API's to refuse")
	reqs := srv.Requests()
	require.Len(t, reqs, 2, "and both are recorded")
	assert.Empty(t, reqs[1].Key)
}

// TestCrossSitePagesCannotSteerTheFake: a request that says it comes from
// another site is refused on every path but the portal page, before it is
// recorded or uses up a fault.
func TestCrossSitePagesCannotSteerTheFake(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 503}))
	for _, h := range []map[string]string{
		{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "null"},
		{"Origin": "https://fake.test"}, // another scheme
		{"Origin": "http://fake.test:80"},
	} {
		for _, method := range []string{http.MethodPost, http.MethodOptions} {
			req := httptest.NewRequest(method, "http://fake.test/portal/generate_link",
				strings.NewReader(`{"organization":"org_evil","return_url":"https://evil.example/"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+testKey)
			for k, v := range h {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			fake.ServeHTTP(w, req)
			assert.Equal(t, http.StatusForbidden, w.Code, "%s %v", method, h)
		}
	}
	assert.Empty(t, fake.Requests(), "nothing recorded")
	w := serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "the fault is still there")

	for _, h := range []map[string]string{{"Origin": "http://fake.test"}, {"Sec-Fetch-Site": "same-origin"},
		{"Sec-Fetch-Site": "none"}} {
		req := httptest.NewRequest(http.MethodGet, "http://fake.test/__mock/health", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		assert.Equal(t, http.StatusOK, w.Code, "%v", h)
	}

	w = serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
	req := httptest.NewRequest(http.MethodGet, linkOf(t, w.Body.String()), nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site") // the app's page sends the browser here
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	page := httptest.NewRecorder()
	fake.ServeHTTP(page, req)
	assert.Equal(t, http.StatusOK, page.Code, "a link opens from another site")
}

// TestUncleanPathsAreNotRedirected: http.ServeMux would answer
// //portal/generate_link, which .NET sends for a base URL that ends in /,
// with a redirect that turns the POST into a GET; the fake answers 404, as
// a server would, and says why.
func TestUncleanPathsAreNotRedirected(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	for _, path := range []string{"//portal/generate_link", "/portal//generate_link", "/portal/./generate_link",
		"/x/../portal/generate_link", "/portal/generate_link/.", "/__mock//health"} {
		status, body := send(t, srv, http.MethodPost, path, `{"organization":"org_123"}`,
			"Authorization", "Bearer "+srv.APIKey, "Content-Type", "application/json")
		assert.Equal(t, http.StatusNotFound, status, path)
		assert.Contains(t, body, "doubled slash", path)
	}
	assert.Empty(t, srv.Requests())
	for _, path := range []string{"/portal/generate_links", "/portal", "/", "/__mock/", "/__mock/nothing",
		"/portal/generate_link/"} {
		status, body := send(t, srv, http.MethodPost, path, `{}`, "Content-Type", "application/json")
		assert.Equal(t, http.StatusNotFound, status, path)
		assert.JSONEq(t, `{"message":"Not Found"}`, body, path)
	}
}

// TestBodiesAreReadAFewAtATime: at most 32 requests have their bodies read
// at once, so that many requests cannot hold many bodies; the next waits
// for a place, and a client that leaves meanwhile gives up its wait.
func TestBodiesAreReadAFewAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portaltest.NewServer(t)
		slow := func(ctx context.Context) (*io.PipeWriter, chan int) {
			body, w := io.Pipe()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/portal/generate_link", body)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+srv.APIKey)
			answered := make(chan int, 1)
			go func() {
				resp, err := srv.HTTPClient().Do(req)
				if err != nil {
					answered <- 0
					return
				}
				resp.Body.Close()
				answered <- resp.StatusCode
			}()
			go func() { _, _ = io.WriteString(w, `{"organization":`) }()
			return w, answered
		}
		var bodies []*io.PipeWriter
		for range 32 {
			w, _ := slow(context.Background())
			bodies = append(bodies, w)
		}
		synctest.Wait() // 32 handlers read their bodies
		ctx, leave := context.WithCancel(context.Background())
		_, left := slow(ctx)
		synctest.Wait()
		answered := make(chan int, 1)
		go func() {
			status, _, _ := post(srv)
			answered <- status
		}()
		synctest.Wait()
		assert.Empty(t, answered, "the 34th waits for a place")
		assert.Zero(t, srv.Total(), "and is not recorded yet")
		leave()
		assert.Zero(t, <-left, "the 33rd left")
		synctest.Wait()
		assert.Empty(t, answered, "and gave up no place it did not have")
		go func() {
			_, _ = io.WriteString(bodies[0], `"org_123"}`)
			bodies[0].Close()
		}()
		assert.Equal(t, http.StatusCreated, <-answered, "a place came free")
		for _, w := range bodies[1:] {
			w.Close()
		}
	})
}

// TestDocumentationExampleKey: without WithAPIKey, the fake accepts the
// placeholder key of the WorkOS documentation's snippets, so that they run
// as written, and no key that merely resembles it.
func TestDocumentationExampleKey(t *testing.T) {
	srv := portaltest.NewServer(t)
	client := srv.HTTPClient()
	for key, want := range map[string]int{
		"sk_example_123456789":  http.StatusCreated,
		"sk_test_anything":      http.StatusCreated,
		"sk_example_12345678":   http.StatusUnauthorized,
		"sk_example_1234567890": http.StatusUnauthorized,
		"sk_example_123456780":  http.StatusUnauthorized,
		"SK_EXAMPLE_123456789":  http.StatusUnauthorized,
		"sk_live_123456789":     http.StatusUnauthorized,
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link",
			strings.NewReader(`{"organization":"org_123","intent":"audit_logs"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, "key %q", key)
	}
}
