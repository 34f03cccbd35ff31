// Package portaltest provides a fake of the WorkOS Admin Portal API for
// tests, in the manner of net/http/httptest.
//
// A [Server] speaks POST /portal/generate_link as the real API does: it
// checks the bearer key, validates the body, answers with the API's error
// bodies, and issues links that open a small Admin Portal page once, within
// five minutes. It records every request and can inject faults, so tests can
// check both what their code sent and how it handles failures:
//
//	srv := portaltest.Start(t)
//	client, err := srv.Client()
//	// ... exercise the code under test with client ...
//	reqs := srv.Requests()
//
// The same fake runs as a standalone binary, cmd/portal-mock, for CI jobs in
// any language; its control endpoints under /__mock/ are served here too.
package portaltest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/adminportal/portal"
)

// DefaultAPIKey is the key Server.Client uses when the server was not given
// one with WithAPIKey. Without WithAPIKey the fake accepts any key that
// starts with "sk_test_", as a test environment's keys do.
const DefaultAPIKey = "sk_test_portaltest"

// Server is a Fake listening on a loopback address.
type Server struct {
	*Fake

	// URL is the base URL of the server, "http://127.0.0.1:port", without a
	// trailing slash: pass it to portal.WithBaseURL or WORKOS_BASE_URL.
	URL string
	// APIKey is the key the server accepts (DefaultAPIKey when any sk_test_
	// key is accepted).
	APIKey string

	srv *httptest.Server

	mu         sync.Mutex
	transports []*http.Transport // of the clients made by Client, closed with the server
}

// NewServer starts a fake API on a loopback address. Call Close when done;
// Start does that for a test.
func NewServer(opts ...Option) *Server {
	f := NewFake(opts...)
	s := &Server{Fake: f, APIKey: f.apiKey}
	if s.APIKey == "" {
		s.APIKey = DefaultAPIKey
	}
	s.srv = httptest.NewServer(f)
	s.URL = s.srv.URL
	return s
}

// Start starts a fake API for the test tb and closes it when the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Client returns a portal.Client pointed at the server with its key. Its
// retry backoff is a few milliseconds, so tests of retries do not wait;
// opts are applied after the server's and can change that.
func (s *Server) Client(opts ...portal.Option) (*portal.Client, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
	}
	s.mu.Lock()
	s.transports = append(s.transports, tr)
	s.mu.Unlock()
	base := []portal.Option{
		portal.WithBaseURL(s.URL),
		portal.WithHTTPClient(&http.Client{Transport: tr, Timeout: 30 * time.Second}),
		portal.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
	}
	return portal.NewClient(s.APIKey, append(base, opts...)...)
}

// Close shuts the server down, waits for requests in flight, and closes the
// idle connections of the clients made by Client, so that no goroutine of
// the server or of those clients outlives it.
func (s *Server) Close() {
	s.Fake.Close()
	s.srv.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tr := range s.transports {
		tr.CloseIdleConnections()
	}
	s.transports = nil
}
