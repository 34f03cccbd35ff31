package portal

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKey = "sk_test_Tq7vXm2LpR9wZk4NbY8c" // random, as a real key is: no word, no run of digits

var okBody = []byte(`{"link":"https://setup.workos.com/portal/launch?token=t"}`)

// tlsServer is an httptest TLS server with the test certificate that counts
// its connections, opened and closed, and the protocols it was asked in.
type tlsServer struct {
	*httptest.Server
	opened, closed atomic.Int64
	closes         chan struct{} // a value for each closed connection
	mu             sync.Mutex
	protos         map[string]int
}

// newTLSServer starts a TLS server for h, offering HTTP/2 when http2 is set
// and only HTTP/1.1 otherwise.
func newTLSServer(tb testing.TB, h http.Handler, http2 bool) *tlsServer {
	tb.Helper()
	s := &tlsServer{closes: make(chan struct{}, 10000), protos: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.protos[r.Proto]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	s.EnableHTTP2 = http2
	s.TLS = &tls.Config{Certificates: []tls.Certificate{testCert}}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.closed.Add(1)
			s.closes <- struct{}{}
		}
	}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that hang up mid-handshake
	s.StartTLS()
	tb.Cleanup(s.Close)
	return s
}

// protocols returns how many requests came in each protocol.
func (s *tlsServer) protocols() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.protos {
		out[k] = v
	}
	return out
}

// linkHandler answers every request like the API, after delay.
func linkHandler(delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(delay) // the server's own latency, not synchronisation
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Request-Id", "5cf84612-cd60-4d91-9c7e-e1e11bb6b074") // as every answer of the API has
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(okBody)
	})
}

// newTestClient returns a client of baseURL with its own transport, and
// closes its idle connections when the test ends.
func newTestClient(tb testing.TB, baseURL string, opts ...Option) *Client {
	tb.Helper()
	c, err := NewClient(testKey, append([]Option{WithBaseURL(baseURL)}, opts...)...)
	require.NoError(tb, err)
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

// burst makes n calls at once, each bounded by timeout, and returns their
// errors.
func burst(c *Client, n int, timeout time.Duration) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_, errs[i] = c.GenerateLink(ctx, GenerateLinkOpts{Organization: "org_1"})
		})
	}
	wg.Wait()
	return errs
}

func TestHTTP2ServerGetsHTTP2(t *testing.T) {
	t.Parallel()
	srv := newTLSServer(t, linkHandler(time.Millisecond), true)
	c := newTestClient(t, srv.URL)
	for _, err := range burst(c, 20, 10*time.Second) {
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int{"HTTP/2.0": 20}, srv.protocols())
}

// TestHTTP1ServerGetsAConnectionPerConcurrentCall: over HTTP/1.1, 32 calls
// at once get 32 connections, as no answer comes until all 32 requests
// have arrived; 32 more calls reuse them all.
func TestHTTP1ServerGetsAConnectionPerConcurrentCall(t *testing.T) {
	t.Parallel()
	const calls = 32
	var arrived sync.WaitGroup
	arrived.Add(calls)
	first := true
	var mu sync.Mutex
	srv := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		wait := first
		mu.Unlock()
		if wait {
			arrived.Done()
			arrived.Wait() // every call is in flight at once: none can share a connection
		}
		linkHandler(0).ServeHTTP(w, r)
	}), false)
	c := newTestClient(t, srv.URL)
	for _, err := range burst(c, calls, time.Minute) {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(calls), srv.opened.Load(), "a connection per call in flight")
	mu.Lock()
	first = false
	mu.Unlock()
	for _, err := range burst(c, calls, time.Minute) {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(calls), srv.opened.Load(), "and each kept for the next calls")
	assert.Equal(t, map[string]int{"HTTP/1.1": 2 * calls}, srv.protocols())
}

func TestPlainHTTPLoopbackServer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(linkHandler(0))
	defer srv.Close()
	for _, base := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		_, err := newTestClient(t, base).GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
		require.NoError(t, err, base)
	}
}

func TestUntrustedCertificateIsRefusedAndNotRetried(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(linkHandler(0))
	var handshakes atomic.Int64
	srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		handshakes.Add(1)
		return nil, nil
	}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()                                   // httptest's own certificate, which the test CA did not sign
	defer srv.Close()
	c := newTestClient(t, srv.URL, WithRetryBackoff(time.Millisecond, time.Millisecond))
	_, err := c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
	var verifyErr *tls.CertificateVerificationError
	require.ErrorAs(t, err, &verifyErr)
	assert.Equal(t, int64(1), handshakes.Load(), "a certificate that does not verify is final")
}

func TestServerThatDoesNotSpeakTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(linkHandler(0))
	defer srv.Close()
	c := newTestClient(t, strings.Replace(srv.URL, "http:", "https:", 1),
		WithRetryBackoff(time.Millisecond, time.Millisecond))
	_, err := c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
	assert.ErrorContains(t, err, "server gave HTTP response to HTTPS client")
}

// testProxy is the proxy that HTTPS_PROXY and HTTP_PROXY name. It speaks
// TLS and offers HTTP/2 as well as HTTP/1.1, as some proxies do (plain
// HTTP with PORTAL_TEST_PROXY=http), and tunnels CONNECTs to proxiedHost
// to loopback, as a real proxy would resolve it. A client that takes up
// its HTTP/2 offer gets its connection closed, and counted: net/http
// speaks CONNECT in HTTP/1.1 whatever it agreed on.
var testProxy struct {
	connects, h2Offers, plainRequests atomic.Int64
}

func startTestProxy() (stop func()) {
	scheme := cmp.Or(os.Getenv("PORTAL_TEST_PROXY"), "https")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	if scheme == "https" {
		ln = tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{testCert},
			NextProtos:   []string{"h2", "http/1.1"},
		})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { proxyConn(conn) })
		}
	})
	os.Setenv("HTTPS_PROXY", scheme+"://"+ln.Addr().String())
	os.Setenv("HTTP_PROXY", scheme+"://"+ln.Addr().String())
	os.Setenv("NO_PROXY", directHost)
	return func() {
		ln.Close()
		wg.Wait()
	}
}

func proxyConn(conn net.Conn) {
	defer conn.Close()
	if tlsConn, ok := conn.(*tls.Conn); ok {
		if err := tlsConn.Handshake(); err != nil {
			return
		}
		if tlsConn.ConnectionState().NegotiatedProtocol == "h2" {
			testProxy.h2Offers.Add(1)
			return
		}
	}
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		testProxy.plainRequests.Add(1) // a request in clear, key and all
		_, _ = io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	testProxy.connects.Add(1)
	host, port, _ := net.SplitHostPort(req.Host)
	if host != proxiedHost {
		_, _ = io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	upstream, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return
	}
	defer upstream.Close()
	_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(upstream, br)
		_ = upstream.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(conn, upstream)
	conn.Close()
	<-done
}

// TestHTTPSProxyThatOffersHTTP2 sends concurrent calls through a TLS proxy
// that offers HTTP/2: each gets its link, tunnelled, with HTTP/2 inside.
func TestHTTPSProxyThatOffersHTTP2(t *testing.T) {
	srv := newTLSServer(t, linkHandler(time.Millisecond), true)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	connects, h2Offers := testProxy.connects.Load(), testProxy.h2Offers.Load()
	c := newTestClient(t, "https://"+net.JoinHostPort(proxiedHost, port))
	for _, err := range burst(c, 20, 10*time.Second) {
		require.NoError(t, err)
	}
	assert.Greater(t, testProxy.connects.Load(), connects, "through the proxy")
	assert.Equal(t, h2Offers, testProxy.h2Offers.Load(), "no HTTP/2 offered to the proxy, which would take it")
	assert.Equal(t, map[string]int{"HTTP/1.1": 20}, srv.protocols(), "and none inside the tunnel either")

	direct, _ := url.Parse("https://" + net.JoinHostPort(directHost, port) + "/portal/generate_link")
	proxyURL, err := newTransport(direct).Proxy(&http.Request{URL: direct})
	require.NoError(t, err)
	assert.Nil(t, proxyURL, "NO_PROXY is honoured")
}

// TestPlainProxyKeepsHTTP2: through a proxy that is not https, the tunnel
// carries HTTP/2.
func TestPlainProxyKeepsHTTP2(t *testing.T) {
	if os.Getenv("PORTAL_TEST_CHILD") == "" {
		runInChild(t, "PORTAL_TEST_PROXY=http")
		return
	}
	srv := newTLSServer(t, linkHandler(time.Millisecond), true)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, err := range burst(newTestClient(t, "https://"+net.JoinHostPort(proxiedHost, port)), 20, 10*time.Second) {
		require.NoError(t, err)
	}
	assert.Positive(t, testProxy.connects.Load())
	assert.Equal(t, map[string]int{"HTTP/2.0": 20}, srv.protocols())
}

// TestPlainHTTPNeverGoesThroughAProxy: with HTTP_PROXY set, plain http (a
// loopback mock) goes straight to the server, never to the proxy in clear.
func TestPlainHTTPNeverGoesThroughAProxy(t *testing.T) {
	srv := httptest.NewServer(linkHandler(0))
	defer srv.Close()
	before := testProxy.plainRequests.Load()
	for _, base := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		_, err := newTestClient(t, base).GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
		require.NoError(t, err, base)
	}
	assert.Equal(t, before, testProxy.plainRequests.Load())
	for _, u := range []string{"http://api.example.com/portal/generate_link", "http://127.0.0.1:1/", "http://localhost/"} {
		req := httptest.NewRequest(http.MethodPost, u, nil)
		proxy, err := proxyHTTPS(req)
		assert.NoError(t, err)
		assert.Nil(t, proxy, "%s: HTTP_PROXY names a proxy, but plain http never uses it", u)
	}
}

// TestGODEBUGTurnsHTTP2Off runs in a child process with
// GODEBUG=http2client=0, net/http's switch for HTTP/2: every call gets its
// link over HTTP/1.1, directly and through the proxy, within its deadline,
// and the child's TestMain finds no goroutine left behind.
func TestGODEBUGTurnsHTTP2Off(t *testing.T) {
	if os.Getenv("PORTAL_TEST_CHILD") == "" {
		runInChild(t, "GODEBUG=http2client=0")
		return
	}
	srv := newTLSServer(t, linkHandler(time.Millisecond), true)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, base := range []string{srv.URL, "https://" + net.JoinHostPort(proxiedHost, port)} {
		for _, err := range burst(newTestClient(t, base), 20, 10*time.Second) {
			require.NoError(t, err, base)
		}
	}
	assert.Equal(t, map[string]int{"HTTP/1.1": 40}, srv.protocols())
	assert.Zero(t, testProxy.h2Offers.Load())
}

// runInChild runs the test that calls it in a child process with env added,
// and fails unless the child's run of it passes.
func runInChild(t *testing.T, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), append(env, "PORTAL_TEST_CHILD=1")...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "%s", out)
}

// TestClientsBuiltPerRequestDoNotPileUp builds a client per call, as some
// programs do against the docs: once the clients are garbage, their
// connections close, and with them their goroutines (TestMain checks).
func TestClientsBuiltPerRequestDoNotPileUp(t *testing.T) {
	srv := newTLSServer(t, linkHandler(0), true)
	const clients = 50
	for range clients {
		c, err := NewClient(testKey, WithBaseURL(srv.URL))
		require.NoError(t, err)
		_, err = c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
		require.NoError(t, err)
	}
	require.Equal(t, int64(clients), srv.opened.Load(), "a connection each")
	deadline := time.After(30 * time.Second)
	for closed := 0; closed < clients; {
		runtime.GC() // the clients' cleanups close their idle connections
		select {
		case <-srv.closes:
			closed++
		case <-time.After(time.Second): // a GC that ran before the last client was garbage: run another
		case <-deadline:
			t.Fatalf("%d of %d connections closed", closed, clients)
		}
	}
}

func TestCloseIdleConnectionsClosesOnlyTheClientsOwn(t *testing.T) {
	t.Parallel()
	srv := newTLSServer(t, linkHandler(0), true)
	a, b := newTestClient(t, srv.URL), newTestClient(t, srv.URL)
	for _, c := range []*Client{a, b} {
		_, err := c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
		require.NoError(t, err)
	}
	a.CloseIdleConnections()
	<-srv.closes
	_, err := b.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
	require.NoError(t, err)
	assert.Equal(t, int64(2), srv.opened.Load(), "b still has its connection")
	assert.Equal(t, int64(1), srv.closed.Load())
}

// TestResponseHeadersAreBounded answers with a megabyte of headers, over
// HTTP/1.1 and HTTP/2: the call fails without reading them all.
func TestResponseHeadersAreBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a", 1<<20)
	for _, http2 := range []bool{false, true} {
		srv := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Big", big)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(okBody)
		}), http2)
		c := newTestClient(t, srv.URL, WithMaxRetries(0))
		_, err := c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_1"})
		require.Error(t, err, "HTTP/2: %v", http2)
		assert.Regexp(t, `headers exceeded 65536 bytes|COMPRESSION_ERROR`, err.Error(), "HTTP/2: %v", http2)
	}
}
