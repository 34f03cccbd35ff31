// Package portaltest provides a fake of the WorkOS Admin Portal API for
// tests, in the manner of net/http/httptest.
//
// A [Server] answers POST /portal/generate_link as the API's published
// contract says the real one does: it checks the bearer key and the body,
// answers 201 with a link or with the API's error bodies, and puts a UUID
// X-Request-Id on every answer. Its links open a small portal page once,
// within five minutes. It records the last 1,000 requests (never a key) and
// injects faults, so that tests can check both what their code sent and how
// it copes with failures:
//
//	srv := portaltest.Start(t)
//	client, err := srv.Client()
//	// ... exercise the code under test with client ...
//	reqs := srv.Requests()
//
// A web page on the developer's machine must not reach it: it answers only
// requests whose Host is localhost, a loopback IP, its own host or a name of
// [WithHosts] (against DNS rebinding), and refuses cross-site requests on
// every path but the portal page. What it keeps is bounded, whatever
// arrives.
//
// cmd/portal-mock serves the same fake to CI jobs in any language; its
// control endpoints under /__mock/ are served here too.
package portaltest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/adminportal/portal"
)

// DefaultAPIKey is the key that Server.Client uses when the server was not
// given one with WithAPIKey.
const DefaultAPIKey = "sk_test_portaltest"

// MaxHeaderBytes bounds the request headers that Server and portal-mock
// read, far above what an SDK sends, so that a client cannot fill memory.
const MaxHeaderBytes = 16 << 10

// Server is a Fake listening on a loopback address.
type Server struct {
	*Fake

	// URL is the server's base URL, "http://127.0.0.1:port" (or https),
	// without a trailing slash: pass it to portal.WithBaseURL or set
	// WORKOS_BASE_URL to it.
	URL string
	// APIKey is a key the server accepts: WithAPIKey's, else DefaultAPIKey.
	APIKey string

	srv *httptest.Server
}

// NewServer starts a fake API on a loopback address, over plain HTTP. Call
// Close when done; Start does that for a test.
func NewServer(opts ...Option) *Server { return newServer(false, opts) }

// NewTLSServer starts a fake API over HTTPS, with HTTP/2, like
// httptest.NewTLSServer; Client trusts its certificate.
func NewTLSServer(opts ...Option) *Server { return newServer(true, opts) }

func newServer(tls bool, opts []Option) *Server {
	ts := httptest.NewUnstartedServer(nil)
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	s := &Server{Fake: NewFake(scheme+ts.Listener.Addr().String(), opts...), srv: ts}
	s.URL, s.APIKey = s.baseURL, s.apiKey
	if s.APIKey == "" {
		s.APIKey = DefaultAPIKey
	}
	ts.Config.Handler = s.Fake
	ts.Config.MaxHeaderBytes = MaxHeaderBytes
	if tls {
		ts.EnableHTTP2 = true
		ts.StartTLS()
	} else {
		ts.Start()
	}
	return s
}

// Start starts a fake API for tb, over plain HTTP, and closes it when the
// test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// StartTLS starts a fake API for tb over HTTPS, and closes it when the test
// ends.
func StartTLS(tb testing.TB, opts ...Option) *Server {
	s := NewTLSServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Client returns a portal.Client of the server, with its key, an HTTP client
// that trusts its certificate, and a retry backoff of milliseconds so that
// tests of retries do not wait. opts come last and can change any of that.
func (s *Server) Client(opts ...portal.Option) (*portal.Client, error) {
	base := []portal.Option{
		portal.WithBaseURL(s.URL),
		portal.WithHTTPClient(s.srv.Client()),
		portal.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
	}
	return portal.NewClient(s.APIKey, append(base, opts...)...)
}

// Close ends the fake's latencies, shuts the server down, and closes the
// idle connections of the clients made by Client, so that no goroutine of
// theirs outlives it.
func (s *Server) Close() {
	s.Fake.Close()
	s.srv.Close()
}
