package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/internal/conformance"
	"github.com/adminportal/portal/internal/syncbuf"
	"github.com/adminportal/portal/portaltest"
)

var conformanceArgs = []string{
	"-api-key", conformance.Key, "-org", conformance.Organizations[0], "-org", conformance.Organizations[1],
}

func TestConformanceOverHTTP(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", conformanceArgs...)
	assert.Regexp(t, `^http://127\.0\.0\.1:[1-9][0-9]*$`, m.URL)
	conformance.Run(t, m.URL, m.client)
}

func TestConformanceOverTLS(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	m := startMock(t, certOut, append(conformanceArgs, "-tls", "-tls-cert-out", certOut)...)
	assert.Regexp(t, `^https://127\.0\.0\.1:[1-9][0-9]*$`, m.URL)
	conformance.Run(t, m.URL, m.client)
	_, reqs := m.requests(t, 0)
	require.NotEmpty(t, reqs)
	assert.Equal(t, "HTTP/2.0", reqs[0]["proto"], "HTTP/2 over TLS")
}

func TestClientAgainstTheMock(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", "-api-key", "sk_test_ci0123456789", "-org", "org_123", "-org", "org_456")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client, err := portal.NewClient("sk_test_ci0123456789", portal.WithBaseURL(m.URL),
		portal.WithHTTPClient(&http.Client{Transport: tr}), portal.WithRetryBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	for _, intent := range []portal.Intent{"", portal.SSO, portal.DSync, portal.AuditLogs, portal.LogStreams,
		portal.DomainVerification, portal.CertificateRenewal, portal.BringYourOwnKey} {
		link, err := client.GenerateLink(context.Background(),
			portal.GenerateLinkOpts{Organization: "org_456", Intent: intent})
		require.NoError(t, err, intent)
		status, page := m.do(t, http.MethodGet, strings.TrimPrefix(link.Link, m.URL), "")
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "org_456")
		status, _ = m.do(t, http.MethodGet, strings.TrimPrefix(link.Link, m.URL), "")
		assert.Equal(t, http.StatusGone, status, "a link opens once")
	}
	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_789", Intent: portal.SSO})
	var apiErr *portal.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "Could not find an organization with the id, org_789.", apiErr.Message)

	// A fault, then the record of it and of the retry that passed it.
	status, body := m.do(t, http.MethodPost, "/__mock/faults", `{"status":503,"retry_after":"0","count":1}`)
	require.Equal(t, http.StatusNoContent, status, body)
	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
	require.NoError(t, err)
	total, reqs := m.requests(t, 11)
	assert.Equal(t, int64(11), total)
	last, prev := reqs[len(reqs)-1], reqs[len(reqs)-2]
	assert.Equal(t, 201.0, last["status"])
	assert.Equal(t, 503.0, prev["status"])
	assert.Equal(t, "status", prev["fault"])

	status, _ = m.do(t, http.MethodPost, "/__mock/reset", "")
	assert.Equal(t, http.StatusNoContent, status)
	total, _ = m.requests(t, 0)
	assert.Zero(t, total)

	require.NoError(t, m.stop())
	logs := m.stderr.String()
	assert.Regexp(t, `\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} POST /portal/generate_link 201 \S+ `+
		`[0-9a-f]{8}-[0-9a-f]{4}-4`, logs)
	assert.Contains(t, logs, "POST /portal/generate_link 400")
	assert.Contains(t, logs, "POST /portal/generate_link 503")
	assert.Contains(t, logs, "GET /portal/launch 410")
	assert.True(t, strings.HasSuffix(logs, " stopped\n"), logs)
	assert.NotContains(t, logs, "ci0123456789", "the key is never logged")
}

// TestTLSCoversEveryName: -tls's certificate covers every name the mock
// answers to and names in its links, -host ones too, and no other.
func TestTLSCoversEveryName(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	m := startMock(t, certOut, "-tls", "-host", "portal-mock", "-tls-host", "mock.test", "-host", "10.1.2.3",
		"-tls-cert-out", certOut)
	u, err := url.Parse(m.URL)
	require.NoError(t, err)
	assert.Equal(t, "mock.test", u.Hostname(), "the first name is the base URL's host")

	pemCert, err := os.ReadFile(certOut)
	require.NoError(t, err)
	block, _ := pem.Decode(pemCert)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"localhost", "mock.test", "portal-mock"}, cert.DNSNames)
	for _, name := range []string{"localhost", "mock.test", "portal-mock", "127.0.0.1", "::1", "10.1.2.3"} {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: certPool(t, certOut)})
		assert.NoError(t, err, name)
	}
	_, err = cert.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: certPool(t, certOut)})
	assert.Error(t, err)
	assert.True(t, cert.NotAfter.Sub(cert.NotBefore) > 30*24*time.Hour, "valid for 30 days from before now")

	for _, name := range []string{"portal-mock", "mock.test"} {
		// Dial loopback, as a service name would lead there, and verify the name.
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: certPool(t, certOut), ServerName: name},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+u.Port())
			},
		}
		req, err := http.NewRequest(http.MethodPost, "https://"+net.JoinHostPort(name, u.Port())+
			"/portal/generate_link", strings.NewReader(`{"organization":"org_1"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer sk_test_tls0123456789")
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err, name)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s: %s", name, b)
		assert.Contains(t, string(b), `"link":"https://`+net.JoinHostPort(name, u.Port())+`/portal/launch?token=`,
			"the link names the host the request was sent to, which the certificate covers")
	}
}

// TestLinksThroughARemappedPort: behind a port mapping (docker -p
// 18484:8484), the link names the port the client reached, not the one the
// mock listens on; a name the mock does not answer to gets no link.
func TestLinksThroughARemappedPort(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", "-host", "portal-mock")
	u, err := url.Parse(m.URL)
	require.NoError(t, err)
	assert.Equal(t, "portal-mock", u.Hostname(), "the first -host is the base URL's host")
	m.URL = "http://127.0.0.1:" + u.Port() // where portal-mock would lead
	for host, want := range map[string]string{
		"127.0.0.1:18484":        "http://127.0.0.1:18484/portal/launch?token=",
		"localhost:18484":        "http://localhost:18484/portal/launch?token=",
		"portal-mock:18484":      "http://portal-mock:18484/portal/launch?token=",
		"attacker.example:18484": "",
	} {
		req, err := http.NewRequest(http.MethodPost, m.URL+"/portal/generate_link",
			strings.NewReader(`{"organization":"org_1"}`))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Authorization", "Bearer sk_test_port0123456789")
		resp, err := m.client.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want == "" {
			assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, host)
			continue
		}
		assert.Contains(t, string(b), `"link":"`+want, host)
	}
}

// TestLogShowsOnlyKnownMethodsAndRoutes: a method or a path is logged only
// when it is one the mock knows, so that neither a key in them nor a
// forged line reaches the log.
func TestLogShowsOnlyKnownMethodsAndRoutes(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	for _, tt := range []struct{ method, path string }{
		{"GET", "/portal/sk_test_InThePath0123"},
		{"GET", "/__mock/sk_test_InThePath0123"},
		{"GET", "/x%0a2026/01/01%2000:00:00%20FORGED"},
		{"SK_TEST_INTHEMETHOD0123", "/portal/generate_link"},
		{"SK_TEST_INTHEMETHOD0123", "/__mock/health"},
		{"GET", "/__mock/health"},
		{"DELETE", "/__mock/requests"},
	} {
		req, err := http.NewRequest(tt.method, m.URL+tt.path, nil)
		require.NoError(t, err)
		resp, err := m.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	require.NoError(t, m.stop())
	logs := m.stderr.String()
	assert.NotContains(t, logs, "InThePath")
	assert.NotContains(t, strings.ToLower(logs), "inthemethod")
	assert.NotContains(t, logs, "FORGED")
	assert.Equal(t, 3, strings.Count(logs, "GET (another path) 404"), logs)
	assert.Contains(t, logs, "(another method) /portal/generate_link 405")
	assert.Contains(t, logs, "(another method) /__mock/health 404")
	assert.Contains(t, logs, "GET /__mock/health 200")
	assert.Contains(t, logs, "DELETE /__mock/requests 404")
	assert.Equal(t, 8, strings.Count(logs, "\n"), "a line per request, and one as it stops")
}

func TestFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"-org", "acme"}, `-org "acme": want an organization ID, such as org_123`},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `unexpected arguments: ["extra"]`},
		{[]string{"-addr", "256.0.0.1:99999"}, "listen tcp"},
		{[]string{"-tls-host", "x"}, "-tls-host and -tls-cert-out need -tls"},
		{[]string{"-tls-cert-out", "x.pem"}, "need -tls"},
		{[]string{"-host", ""}, `-host "": want a host name or an IP address, without scheme or port`},
		{[]string{"-host", "portal-mock:8484"}, "without scheme or port"},
		{[]string{"-host", "http://portal-mock"}, "without scheme or port"},
		{[]string{"-host", "a/b"}, "without scheme or port"},
		{[]string{"-host", "a b"}, "without scheme or port"},
		{[]string{"-host", "a@b"}, "without scheme or port"},
		{[]string{"-tls", "-tls-host", "[::1]"}, "without scheme or port"},
		{[]string{"-tls", "-tls-cert-out", "/nonexistent/dir/cert.pem"}, "no such file or directory"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // so that a mock that took these flags stops at once, rather than hold the test
		var stdout, stderr bytes.Buffer
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, tt.args...), &stdout, &stderr)
		assert.ErrorContains(t, err, tt.err, "%q", tt.args)
		assert.Empty(t, stdout.String(), "%q", tt.args)
	}

	var stdout, stderr bytes.Buffer
	assert.ErrorIs(t, run(context.Background(), []string{"-h"}, &stdout, &stderr), flag.ErrHelp)
	assert.Empty(t, stdout.String())
	assert.Contains(t, stderr.String(), "-tls-cert-out file")
	assert.Contains(t, stderr.String(), "(default \"127.0.0.1:8484\")")
	assert.Contains(t, stderr.String(), envAPIKey)
}

// TestFlagsForIPHosts: an IP address is a name to answer to too, with
// -tls a name its certificate covers.
func TestFlagsForIPHosts(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", "-host", "::1", "-host", "192.0.2.7")
	assert.Regexp(t, `^http://\[::1\]:[0-9]+$`, m.URL)
}

// TestPortTaken: a mock whose address is taken says so, and what to do.
func TestPortTaken(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	addr := strings.TrimPrefix(m.URL, "http://")
	err := run(context.Background(), []string{"-addr", addr}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "address already in use: is another portal-mock running there? "+
		"Pick another address with -addr, or -addr 127.0.0.1:0 for any free port")
}

// TestKeyFromTheEnvironment: PORTAL_MOCK_API_KEY gives the one key to
// accept, and -api-key wins over it.
func TestKeyFromTheEnvironment(t *testing.T) {
	t.Setenv(envAPIKey, "sk_test_from_the_environment")
	m := startMock(t, "")
	for key, want := range map[string]int{"sk_test_from_the_environment": 201, "sk_test_another": 401} {
		status, err := m.generateLink(key)
		require.NoError(t, err)
		assert.Equal(t, want, status, key)
	}
	m = startMock(t, "", "-api-key", "sk_test_from_the_flag")
	for key, want := range map[string]int{"sk_test_from_the_flag": 201, "sk_test_from_the_environment": 401} {
		status, err := m.generateLink(key)
		require.NoError(t, err)
		assert.Equal(t, want, status, key)
	}
}

func TestCheckHealth(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	for _, m := range []*mock{startMock(t, ""), startMock(t, certOut, "-tls", "-tls-cert-out", certOut)} {
		u, err := url.Parse(m.URL)
		require.NoError(t, err)
		for _, addr := range []string{"127.0.0.1:" + u.Port(), "0.0.0.0:" + u.Port(), ":" + u.Port(),
			"[::]:" + u.Port()} {
			assert.NoError(t, checkHealth(context.Background(), addr), "%s %s", m.URL, addr)
		}
	}

	imposter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":"fine"}`)
	}))
	defer imposter.Close()
	err := checkHealth(context.Background(), strings.TrimPrefix(imposter.URL, "http://"))
	assert.ErrorContains(t, err, "unhealthy: ")
	assert.ErrorContains(t, err, "; http: 200 OK", "whatever else answers 200 is not the mock")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	assert.ErrorContains(t, checkHealth(context.Background(), addr), "connection refused")
	assert.Error(t, checkHealth(context.Background(), "no port"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorContains(t, checkHealth(ctx, strings.TrimPrefix(imposter.URL, "http://")), "context canceled")
}

func TestVersionOf(t *testing.T) {
	t.Parallel()
	built := func(v string) *debug.BuildInfo { return &debug.BuildInfo{Main: debug.Module{Version: v}} }
	for _, tt := range []struct {
		released string
		info     *debug.BuildInfo
		want     string
	}{
		{"v9.8.7", built("v1.0.0"), "v9.8.7"},
		{"", built("v1.0.0"), "v1.0.0"},
		{"", built("v0.0.0-20261203101010-abcdef123456+dirty"), "v0.0.0-20261203101010-abcdef123456+dirty"},
		{"", built("(devel)"), "devel"},
		{"", built(""), "devel"},
		{"", nil, "devel"},
	} {
		assert.Equal(t, tt.want, versionOf(tt.released, tt.info), "%q %+v", tt.released, tt.info)
	}
	info, _ := debug.ReadBuildInfo()
	assert.Equal(t, versionOf("", info), buildVersion(), "from the build, which -buildvcs may stamp")
}

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ip    string
		names []string
		want  string
	}{
		{"127.0.0.1", nil, "127.0.0.1:8484"},
		{"0.0.0.0", nil, "127.0.0.1:8484"},
		{"::", nil, "127.0.0.1:8484"},
		{"::1", nil, "[::1]:8484"},
		{"192.0.2.1", nil, "192.0.2.1:8484"},
		{"0.0.0.0", []string{"portal-mock", "other"}, "portal-mock:8484"},
		{"127.0.0.1", []string{"::1"}, "[::1]:8484"},
	} {
		addr := &net.TCPAddr{IP: net.ParseIP(tt.ip), Port: 8484}
		assert.Equal(t, tt.want, publicAddr(addr, tt.names), "%s %v", tt.ip, tt.names)
	}
}

// blockedWriter blocks every write until it is released.
type blockedWriter struct {
	release chan struct{}
	syncbuf.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	return w.Buffer.Write(p)
}

// TestLogWriterDropsWhatNobodyReads: lines that a standard error nobody
// reads cannot take are dropped, and counted, rather than holding the
// request that logs them; closing waits a second at most.
func TestLogWriterDropsWhatNobodyReads(t *testing.T) {
	t.Run("drops", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			w := &blockedWriter{release: make(chan struct{})}
			l := newLogWriter(w)
			logger := log.New(l, "", 0)
			logger.Print("line ", 0)
			synctest.Wait() // the line is being written, and blocks
			for i := 1; i < 1003; i++ {
				logger.Print("line ", i)
			}
			synctest.Wait()
			close(w.release)
			synctest.Wait()
			logger.Print("after")
			l.Close()
			out := w.String()
			assert.True(t, strings.HasPrefix(out, "line 0\nline 1\n"), "the first lines")
			assert.Contains(t, out, "line 1000\n", "1,000 waited, and one was being written")
			assert.NotContains(t, out, "line 1001\n")
			assert.True(t, strings.HasSuffix(out, "line 1000\n(2 lines dropped: nobody read them)\nafter\n"),
				out[max(0, len(out)-80):])
			logger.Print("after closing") // a handler that outlives the shutdown
			assert.NotContains(t, w.String(), "after closing")
		})
	})
	t.Run("closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			w := &blockedWriter{release: make(chan struct{})}
			l := newLogWriter(w)
			_, _ = l.Write([]byte("stuck\n"))
			start := time.Now()
			l.Close()
			assert.Equal(t, time.Second, time.Since(start), "Close gives up after a second")
			close(w.release)
		})
	})
}

func TestStatusWriter(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	w := &statusWriter{ResponseWriter: rec}
	_, _ = w.Write([]byte("x"))
	w.WriteHeader(http.StatusTeapot)
	assert.Equal(t, http.StatusOK, w.status, "a write without a header is a 200")
	rec = httptest.NewRecorder()
	w = &statusWriter{ResponseWriter: rec}
	w.WriteHeader(http.StatusTeapot)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("x"))
	assert.Equal(t, http.StatusTeapot, w.status, "the first status counts")
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Same(t, rec, w.Unwrap())
}

// TestRunEndsWithItsContext: run returns nil when its context ends, at once
// even with a latency in flight, and an error when its listener fails.
func TestRunEndsWithItsContext(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	status, _ := m.do(t, http.MethodPost, "/__mock/faults", `{"latency_ms":3600000}`)
	require.Equal(t, http.StatusNoContent, status)
	held := make(chan error, 1)
	go func() {
		_, err := m.generateLink("sk_test_held0123456789")
		held <- err
	}()
	m.requests(t, 1)
	start := time.Now()
	require.NoError(t, m.stop())
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Error(t, <-held, "the held request is dropped")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln.Close()
	err = serve(context.Background(), ln, nil, "http://x", io.Discard, io.Discard)
	assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
}

// pipeListener is an in-memory network of one server, so that serve runs
// in a synctest bubble: dial returns one end of a net.Pipe, Accept the other.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.once.Do(func() { close(l.closed) }); return nil }

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8484} }

// dial connects to the server and sends request, which may stop short.
func (l *pipeListener) dial(t *testing.T, request string) net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	go func() { _, _ = io.WriteString(client, request) }()
	t.Cleanup(func() { client.Close() })
	return client
}

// TestServeBoundsSlowClients: a client that never finishes its headers is
// cut off after 5 seconds, one that never finishes its body after 10, and
// on shutdown a request still being read is cut off after a second.
func TestServeBoundsSlowClients(t *testing.T) {
	const headers = "POST /portal/generate_link HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
		"Authorization: Bearer sk_test_slow0123456789\r\nContent-Length: 100\r\n"
	for _, tt := range []struct {
		name    string
		request string
		cancel  bool // shut down at once
		after   time.Duration
		status  int // answered, if not 0; else the connection is closed
	}{
		{"headers that never end", headers, false, 5 * time.Second, 0},
		{"a body that never ends", headers + "\r\n{", false, 10 * time.Second, http.StatusBadRequest},
		{"a shutdown", headers + "\r\n{", true, time.Second, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ln := newPipeListener()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				served := make(chan error)
				go func() {
					served <- serve(ctx, ln, portaltest.NewFake("http://127.0.0.1:8484"), "http://127.0.0.1:8484",
						io.Discard, io.Discard)
				}()
				conn := ln.dial(t, tt.request)
				start := time.Now()
				if tt.cancel {
					synctest.Wait()
					cancel()
				}
				if tt.status != 0 {
					resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
					require.NoError(t, err)
					resp.Body.Close()
					assert.Equal(t, tt.status, resp.StatusCode)
					assert.Equal(t, tt.after, time.Since(start), "the server answered")
				} else {
					answer, _ := io.ReadAll(conn)
					assert.Equal(t, tt.after, time.Since(start), "the server closed the connection")
					assert.Empty(t, answer)
				}
				cancel()
				assert.NoError(t, <-served)
				// Since Go 1.27, net/http waits half a second before it closes a connection whose
				// request it did not read whole; in the bubble, that takes no time.
				time.Sleep(time.Second)
			})
		})
	}
}
