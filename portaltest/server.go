package portaltest

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/adminportal/portal"
)

// Server is a fake API for a test. It serves on an in-memory network until
// Start or StartTLS moves it to a loopback address.
type Server struct {
	// URL is the base URL of the server, without a trailing slash: on the
	// in-memory network "http://127.0.0.1:0", which only its clients reach
	// (nothing listens on port 0); after Start or StartTLS,
	// "http://127.0.0.1:port" or "https://127.0.0.1:port".
	URL string
	// APIKey is a key the server accepts: WithAPIKey's, else
	// "sk_test_4pHq8ZyT2mWk".
	APIKey string

	tb   testing.TB
	fake *Fake

	mu       sync.Mutex
	client   *http.Client     // set once the server is in use
	loopback *httptest.Server // after Start or StartTLS
	mem      *http.Server     // else, once in use
	memLn    *memListener
	served   chan struct{}  // closed when mem stops serving
	conns    sync.WaitGroup // mem's connections, until their handlers return
	closed   bool
}

// memURL is the URL of a server on the in-memory network: a loopback
// address, which the client accepts over plain HTTP, on port 0, where
// nothing listens, so that a client of another network reaches nothing.
const memURL = "http://127.0.0.1:0"

// maxHeaderBytes bounds the request headers the server reads, far above
// what an SDK sends, so that a client cannot fill memory.
const maxHeaderBytes = 16 << 10

// NewServer returns a fake API for tb, which it closes when the test ends.
// It serves on an in-memory network, which its Client and HTTPClient reach
// (every address they dial leads to it) and which works in a
// testing/synctest bubble: create the server inside the bubble, and its
// latencies, link expiry and the client's retries follow the bubble's
// clock. It speaks HTTP/1.1 there, on every Go version.
func NewServer(tb testing.TB, opts ...Option) *Server {
	fake := NewFake(memURL, opts...)
	s := &Server{URL: memURL, APIKey: fake.apiKey, tb: tb, fake: fake}
	if s.APIKey == "" {
		s.APIKey = "sk_test_4pHq8ZyT2mWk"
	}
	tb.Cleanup(s.Close)
	return s
}

// Start moves the server to a loopback address, over plain HTTP, for what
// must reach it from outside the process: unchanged code that dials
// WORKOS_BASE_URL with its own client, an SDK in another language, a
// browser. Call it before the first Client or HTTPClient, and outside a
// synctest bubble, whose clock does not wait for a real network.
func (s *Server) Start() { s.start(false) }

// StartTLS is Start over HTTPS, with HTTP/2; Client and HTTPClient trust
// its certificate.
func (s *Server) StartTLS() { s.start(true) }

func (s *Server) start(useTLS bool) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil || s.closed {
		s.tb.Fatal("portaltest: Start or StartTLS after the server was started, used or closed")
		return
	}
	ts := httptest.NewUnstartedServer(s.fake)
	ts.Config.MaxHeaderBytes = maxHeaderBytes
	scheme := "http://"
	if useTLS {
		scheme = "https://"
	}
	s.fake.setBaseURL(scheme + ts.Listener.Addr().String()) // before it serves, which would read it
	if useTLS {
		ts.EnableHTTP2 = true
		ts.StartTLS()
	} else {
		ts.Start()
	}
	s.loopback, s.client, s.URL = ts, ts.Client(), ts.URL
}

// HTTPClient returns an HTTP client of the server, for requests of one's
// own: the control endpoints, or the page a link opens. On the in-memory
// network it sends every request to the server, whatever its URL.
func (s *Server) HTTPClient() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil && s.closed {
		ln := newMemListener() // a network on which nothing serves any more
		_ = ln.Close()
		s.client = &http.Client{Transport: &http.Transport{DialContext: ln.dial}}
	} else if s.client == nil {
		s.serveInMemory()
	}
	return s.client
}

// serveInMemory starts serving on the in-memory network.
func (s *Server) serveInMemory() {
	s.memLn, s.served = newMemListener(), make(chan struct{})
	s.mem = &http.Server{
		Handler:        s.fake,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew: // before Serve hands the connection on, so before Close waits
				s.conns.Add(1)
			case http.StateHijacked, http.StateClosed:
				s.conns.Done()
			}
		},
	}
	s.client = &http.Client{Transport: &http.Transport{DialContext: s.memLn.dial}}
	go func() {
		defer close(s.served)
		_ = s.mem.Serve(s.memLn)
	}()
}

// Client returns a client of the server, with its key, its HTTPClient, and
// a retry backoff of milliseconds, so that tests of retries do not wait;
// in a synctest bubble, waits cost no time anyway. opts come last and can
// change any of that. A bad option fails the test.
func (s *Server) Client(opts ...portal.Option) *portal.Client {
	s.tb.Helper()
	base := []portal.Option{
		portal.WithBaseURL(s.URL),
		portal.WithHTTPClient(s.HTTPClient()),
		portal.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
	}
	c, err := portal.NewClient(s.APIKey, append(base, opts...)...)
	if err != nil {
		s.tb.Fatalf("portaltest: Client: %v", err)
	}
	return c
}

// Close ends the fake's latencies, shuts the server down, waits for the
// requests in flight, and closes the idle connections of its clients, so
// that no goroutine of theirs outlives it. NewServer's cleanup calls it.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.fake.Close()
	switch {
	case s.loopback != nil:
		s.loopback.Close()
	case s.mem != nil:
		_ = s.mem.Close()
		<-s.served
		s.conns.Wait()
		s.client.CloseIdleConnections()
	}
}

// Requests returns copies of the most recent generate-link requests, up to
// 1,000, oldest first; see [Fake.Requests].
func (s *Server) Requests() []Request { return s.fake.Requests() }

// WaitForRequests waits until n generate-link requests have arrived since
// the server started or was reset; see [Fake.WaitForRequests].
func (s *Server) WaitForRequests(ctx context.Context, n int) ([]Request, error) {
	return s.fake.WaitForRequests(ctx, n)
}

// Total returns how many generate-link requests arrived since the server
// started or was reset, including those no longer kept by Requests.
func (s *Server) Total() int64 { return s.fake.Total() }

// InjectFault adds a fault; one that has no effect or contradicts itself
// fails the test.
func (s *Server) InjectFault(fault Fault) {
	s.tb.Helper()
	if err := s.fake.InjectFault(fault); err != nil {
		s.tb.Fatal(err)
	}
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.fake.ClearFaults() }

// Reset forgets recorded requests, issued links and faults, as if the
// server had just started.
func (s *Server) Reset() { s.fake.Reset() }
