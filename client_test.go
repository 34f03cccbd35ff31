package portal

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadSuccessBodiesAreErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{"missing link", `{"url":"https://setup.workos.com/portal/launch?token=x"}`},
		{"null link", `{"link":null}`},
		{"empty link", `{"link":""}`},
		{"relative link", `{"link":"/portal/launch?token=x"}`},
		{"javascript link", `{"link":"javascript:alert(document.cookie)"}`},
		{"plain http remote link", `{"link":"http://setup.workos.com/portal/launch?token=x"}`},
		{"link is a number", `{"link":42}`},
		{"malformed JSON", `{"link":"https://setup.workos.com/`},
		{"trailing data", `{"link":"https://setup.workos.com/portal/launch?token=x"} {"link":"https://evil.example/"}`},
		{"HTML", `<html><body>OK</body></html>`},
		{"empty body", ``},
		{"too large", `{"link":"https://setup.workos.com/portal/launch?token=` + strings.Repeat("a", MaxSuccessBodySize) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, tt.body) })
			c, _ := f.newTestClient(t)
			link, err := c.GenerateLink(context.Background(), auditLogs)
			assert.Nil(t, link)
			require.ErrorIs(t, err, ErrInvalidResponse)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "req_01HZX3Y5K2M4N6P8Q0R2S4T6V8", apiErr.RequestID)
			assert.Equal(t, int64(1), f.requests.Load(), "a bad success body is not retried")
			assert.Less(t, len(err.Error()), 400, "the error quotes only an excerpt")
		})
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var stolen atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		linkHandler(w, r)
	}))
	defer elsewhere.Close()
	for _, status := range []int{301, 302, 307, 308} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-ID", "req_redirect")
				http.Redirect(w, r, elsewhere.URL+"/portal/generate_link", status)
			})
			for _, hc := range []*http.Client{nil, {}} {
				opts := []Option{}
				if hc != nil {
					opts = append(opts, WithHTTPClient(hc)) // a user's client that would follow redirects
				}
				c, _ := f.newTestClient(t, opts...)
				_, err := c.GenerateLink(context.Background(), auditLogs)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, status, apiErr.StatusCode)
				assert.Equal(t, "req_redirect", apiErr.RequestID)
				assert.Contains(t, err.Error(), "redirect")
			}
		})
	}
	assert.Zero(t, stolen.Load(), "nothing may reach the redirect target")
}

func TestWithHTTPClientIsNotModified(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	_, err := NewClient(testKey, WithBaseURL(DefaultBaseURL), WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect, "the caller's client is copied, not changed")
}

func TestUntrustedCertificateIsNotRetried(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(linkHandler))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c, err := NewClient(testKey, WithBaseURL(srv.URL))
	require.NoError(t, err)
	s := &sleeps{}
	c.sleep = s.sleep
	_, err = c.GenerateLink(context.Background(), auditLogs)
	var verifyErr *tls.CertificateVerificationError
	require.ErrorAs(t, err, &verifyErr)
	assert.Empty(t, s.all(), "a certificate that does not verify will not verify next time")
	assert.Equal(t, int64(1), conns.Load())

	// With the server's roots trusted (WithHTTPClient), the same call works.
	c, err = NewClient(testKey, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	link, err := c.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	assert.Equal(t, testLink, link.Link)
}

func TestNewClientConfiguration(t *testing.T) {
	t.Setenv(EnvAPIKey, "")
	t.Setenv(EnvBaseURL, "")
	tests := []struct {
		name    string
		key     string
		opts    []Option
		wantErr string // "" for success
		wantURL string
	}{
		{name: "defaults", key: testKey, wantURL: "https://api.workos.com/portal/generate_link"},
		{name: "no key", key: "", wantErr: "no API key"},
		{name: "blank key", key: "   ", wantErr: "no API key"},
		{name: "key with newline", key: "sk_test_1\r\nX-Evil: 1", wantErr: "printable ASCII"},
		{name: "path prefix kept, trailing slash dropped", key: testKey, opts: []Option{WithBaseURL("https://proxy.example.com/workos/")}, wantURL: "https://proxy.example.com/workos/portal/generate_link"},
		{name: "loopback http", key: testKey, opts: []Option{WithBaseURL("http://127.0.0.1:8484")}, wantURL: "http://127.0.0.1:8484/portal/generate_link"},
		{name: "localhost http", key: testKey, opts: []Option{WithBaseURL("http://localhost:8484")}, wantURL: "http://localhost:8484/portal/generate_link"},
		{name: "remote http refused", key: testKey, opts: []Option{WithBaseURL("http://portal-mock:8484")}, wantErr: "plain http is allowed only for loopback hosts"},
		{name: "remote http allowed by name", key: testKey, opts: []Option{WithBaseURL("http://portal-mock:8484"), WithInsecureHTTP()}, wantURL: "http://portal-mock:8484/portal/generate_link"},
		{name: "other scheme", key: testKey, opts: []Option{WithBaseURL("ftp://api.workos.com")}, wantErr: "absolute https URL"},
		{name: "relative", key: testKey, opts: []Option{WithBaseURL("api.workos.com")}, wantErr: "absolute https URL"},
		{name: "query", key: testKey, opts: []Option{WithBaseURL("https://api.workos.com/?x=1")}, wantErr: "without query"},
		{name: "user info", key: testKey, opts: []Option{WithBaseURL("https://user:pw@api.workos.com")}, wantErr: "user info"},
		{name: "negative retries", key: testKey, opts: []Option{WithMaxRetries(-1)}, wantErr: "WithMaxRetries(-1)"},
		{name: "too many retries", key: testKey, opts: []Option{WithMaxRetries(11)}, wantErr: "WithMaxRetries(11)"},
		{name: "nil HTTP client", key: testKey, opts: []Option{WithHTTPClient(nil)}, wantErr: "nil *http.Client"},
		{name: "bad app info", key: testKey, opts: []Option{WithAppInfo("my app", "1.0")}, wantErr: "WithAppInfo"},
		{name: "negative timeout", key: testKey, opts: []Option{WithTimeout(-1)}, wantErr: "WithTimeout"},
		{name: "bad backoff", key: testKey, opts: []Option{WithRetryBackoff(time.Second, time.Millisecond)}, wantErr: "WithRetryBackoff"},
		{name: "bad budget", key: testKey, opts: []Option{WithRetryBudget(0, 0.1)}, wantErr: "WithRetryBudget"},
		{name: "bad budget refill", key: testKey, opts: []Option{WithRetryBudget(10, 2)}, wantErr: "WithRetryBudget"},
		{name: "negative max Retry-After", key: testKey, opts: []Option{WithMaxRetryAfter(-time.Second)}, wantErr: "WithMaxRetryAfter"},
		{name: "nil option skipped", key: testKey, opts: []Option{nil}, wantURL: "https://api.workos.com/portal/generate_link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.key, tt.opts...)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Nil(t, c)
				assert.NotContains(t, err.Error(), testKey)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, c.request.URL.String())
		})
	}
}

func TestNewClientEnvironment(t *testing.T) {
	t.Setenv(EnvAPIKey, "sk_test_from_env")
	t.Setenv(EnvBaseURL, "http://127.0.0.1:8484/")
	c, err := NewClient("")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8484/portal/generate_link", c.request.URL.String())
	assert.Equal(t, []string{"Bearer sk_test_from_env"}, c.authHeader)

	c, err = NewClient(testKey, WithBaseURL("https://eu.example.com"))
	require.NoError(t, err)
	assert.Equal(t, "https://eu.example.com/portal/generate_link", c.request.URL.String(), "WithBaseURL beats the environment")
	assert.Equal(t, []string{"Bearer " + testKey}, c.authHeader, "an explicit key beats the environment")

	t.Setenv(EnvBaseURL, "http://mock.ci.internal:8484")
	_, err = NewClient("")
	require.ErrorContains(t, err, EnvBaseURL, "the error names the variable that set the bad URL")
}

func TestUserAgentWithAppInfo(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "adminportal-go/"+Version+" acme-billing/2.3.1", r.Header.Get("User-Agent"))
		linkHandler(w, r)
	})
	c, _ := f.newTestClient(t, WithAppInfo("acme-billing", "2.3.1"))
	_, err := c.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
}

// TestAPIKeyIsNeverPrinted prints a client, its pointer and the errors and
// logs of failed calls with every verb, and looks for the key.
func TestAPIKeyIsNeverPrinted(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		// A proxy that echoes the request headers into its error page.
		writeJSON(w, http.StatusBadGateway, "<pre>"+r.Header.Get("Authorization")+"</pre>")
	})
	c, _ := f.newTestClient(t, WithLogger(logger), WithMaxRetries(1))
	_, callErr := c.GenerateLink(context.Background(), auditLogs)
	require.Error(t, callErr)
	require.Contains(t, logs.String(), `"status":502`)

	values := []any{c, *c, callErr, []any{c}, map[string]*Client{"c": c}, struct{ C *Client }{c}, struct{ C Client }{*c}}
	var printed strings.Builder
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v"} {
			fmt.Fprintf(&printed, verb+"\n", v)
		}
	}
	logger.Info("client", "client", c, "value", *c, "err", callErr)
	fmt.Fprintln(&printed, c.String(), c.GoString(), c.LogValue().String(), callErr.Error())

	for name, out := range map[string]string{"fmt": printed.String(), "slog": logs.String()} {
		assert.NotContains(t, out, testKey, "%s output contains the API key", name)
		assert.NotContains(t, out, testKey[8:], "%s output contains part of the API key", name)
		assert.NotContains(t, out, fmt.Sprintf("%x", testKey), "%s output contains the hex of the API key", name)
	}
	assert.Contains(t, printed.String(), `portal.Client{BaseURL: "`+f.baseURL()+`", APIKey: "[REDACTED]"}`)
}

func TestLoggerRecordsEachAttempt(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := &scripted{statuses: []int{503}}
	f := newFakeAPI(t, s.handle)
	c, _ := f.newTestClient(t, WithLogger(logger))
	_, err := c.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 2)
	for i, want := range []string{`"level":"WARN"`, `"level":"DEBUG"`} {
		assert.Contains(t, lines[i], want)
		assert.Contains(t, lines[i], `"method":"POST"`)
		assert.Contains(t, lines[i], `"path":"/portal/generate_link"`)
		assert.Contains(t, lines[i], `"attempt":`+strconv.Itoa(i+1))
		assert.Contains(t, lines[i], `"request_id":"req_01HZX3Y5K2M4N6P8Q0R2S4T6V8"`)
		assert.Contains(t, lines[i], `"duration":`)
		assert.NotContains(t, lines[i], "token=")
		assert.NotContains(t, lines[i], testKey)
	}
	assert.Contains(t, lines[0], `"status":503`)
	assert.Contains(t, lines[1], `"status":200`)
}

// TestConnectionReuseAcrossOutcomes makes 49 sequential calls that succeed,
// fail with each error class, or carry bodies the client rejects, and
// expects them all to share one TCP connection.
func TestConnectionReuseAcrossOutcomes(t *testing.T) {
	t.Parallel()
	answers := []func(http.ResponseWriter){
		func(w http.ResponseWriter) { writeJSON(w, 200, `{"link":"`+testLink+`"}`) },
		func(w http.ResponseWriter) {
			writeJSON(w, 400, `{"message":"Could not find an organization with the id, org_404."}`)
		},
		func(w http.ResponseWriter) {
			writeJSON(w, 401, `{"error":"invalid_grant","error_description":"bad key"}`)
		},
		func(w http.ResponseWriter) { writeJSON(w, 404, `{"code":"not_found","message":"Not Found"}`) },
		func(w http.ResponseWriter) {
			writeJSON(w, 422, `{"code":"x","message":"y","errors":[{"field":"intent","code":"invalid"}]}`)
		},
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"message":"slow down"}`)
		},
		func(w http.ResponseWriter) { writeJSON(w, 500, "<html>"+strings.Repeat("x", 3000)+"</html>") },
		func(w http.ResponseWriter) { writeJSON(w, 503, strings.Repeat("y", MaxErrorBodySize+5000)) },
		func(w http.ResponseWriter) { writeJSON(w, 200, `{"link":"/relative"}`) },
		func(w http.ResponseWriter) { writeJSON(w, 302, ``) },
		func(w http.ResponseWriter) { writeJSON(w, 200, `not json`) },
	}
	var n atomic.Int64
	f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) {
		answers[int(n.Add(1)-1)%len(answers)](w)
	})
	c, _ := f.newTestClient(t, WithMaxRetries(0))
	var ok, failed int
	for i := 0; i < 49; i++ {
		if _, err := c.GenerateLink(context.Background(), auditLogs); err == nil {
			ok++
		} else {
			failed++
		}
	}
	assert.Equal(t, int64(49), f.requests.Load())
	assert.Equal(t, 5, ok)
	assert.Equal(t, int64(1), f.conns.Load(), "all sequential calls share one connection")
}

func TestConnectionsUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, linkHandler)
	c, _ := f.newTestClient(t)
	const goroutines, perGoroutine = 32, 25
	concurrently(goroutines, perGoroutine, func() {
		_, err := c.GenerateLink(context.Background(), auditLogs)
		assert.NoError(t, err)
	})
	assert.Equal(t, int64(goroutines*perGoroutine), f.requests.Load())
	t.Logf("connections: %d", f.conns.Load())
	assert.LessOrEqual(t, f.conns.Load(), int64(48), "connections stay near one per concurrent caller")
}

func TestPlainHTTPLinksOnlyWithInsecureHTTP(t *testing.T) {
	t.Parallel()
	const mockLink = "http://portal-mock.ci.internal:8484/portal/launch?token=abc"
	f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, `{"link":"`+mockLink+`"}`) })
	strict, _ := f.newTestClient(t)
	_, err := strict.GenerateLink(context.Background(), auditLogs)
	require.ErrorIs(t, err, ErrInvalidResponse, "a remote plain-http link is refused by default")

	lenient, _ := f.newTestClient(t, WithInsecureHTTP())
	link, err := lenient.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	assert.Equal(t, mockLink, link.Link)
}
