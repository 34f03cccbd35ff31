package portal

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file run the client's own transport against a TLS
// server over an in-memory network in a synctest bubble, so that the
// seconds they measure are exact and cost no real time.

// memNet is an in-memory network: dial returns one end of a net.Pipe and
// the listener accepts the other. Blackhole makes the connections so far
// silent, as when a NAT gateway or load balancer drops a flow without a
// reset: what the client writes is lost, and nothing more reaches it.
type memNet struct {
	conns  chan net.Conn
	done   chan struct{}
	close  sync.Once
	mu     sync.Mutex
	dialed []*holeConn
	dials  atomic.Int64
	stuck  bool // the server end reads and never answers, as a stuck TLS server does
}

func newMemNet() *memNet { return &memNet{conns: make(chan net.Conn), done: make(chan struct{})} }

func (n *memNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.done:
		return nil, net.ErrClosed
	}
}

func (n *memNet) Close() error {
	n.close.Do(func() { close(n.done) })
	return nil
}

func (n *memNet) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443} }

func (n *memNet) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	n.dials.Add(1)
	client, server := net.Pipe()
	if n.stuck {
		go func() { _, _ = io.Copy(io.Discard, server) }() // ends when the client closes its end
		return client, nil
	}
	select {
	case n.conns <- server:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c := &holeConn{Conn: client}
	n.mu.Lock()
	n.dialed = append(n.dialed, c)
	n.mu.Unlock()
	return c, nil
}

// Blackhole silences every connection dialed so far.
func (n *memNet) Blackhole() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.dialed {
		c.silent.Store(true)
	}
}

// holeConn is a client connection that Blackhole can silence.
type holeConn struct {
	net.Conn
	silent atomic.Bool
}

func (c *holeConn) Write(p []byte) (int, error) {
	if c.silent.Load() {
		return len(p), nil // lost on the way
	}
	return c.Conn.Write(p)
}

func (c *holeConn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		if err != nil || !c.silent.Load() {
			return n, err
		}
		// Whatever arrives once the flow is dropped never reaches the client.
	}
}

// memServer serves h over TLS, with HTTP/2 unless http1, on a memNet, and
// returns a client of it built on newTransport, with only its dialer
// replaced, and the network. Both are closed when the bubble's test ends.
func memServer(t *testing.T, h http.Handler, http1 bool) (*Client, *memNet, *atomic.Int64) {
	if !http1 && strings.HasPrefix(runtime.Version(), "go1.25.") {
		// Go 1.25's HTTP/2 server keeps channels in a sync.Pool that all
		// servers share, which synctest forbids across bubbles; since Go
		// 1.26 each server has its own.
		t.Skip("net/http's HTTP/2 server in a synctest bubble needs Go 1.26")
	}
	network := newMemNet()
	var requests atomic.Int64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			h.ServeHTTP(w, r)
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{testCert}},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	if http1 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} // HTTP/1.1 only
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ServeTLS(network, "", "")
	}()
	tr := newTransport(&url.URL{Scheme: "https", Host: "localhost"})
	tr.DialContext = network.DialContext
	tr.ForceAttemptHTTP2 = true // as a DialContext of one's own turns it off
	c, err := NewClient(testKey, WithBaseURL("https://localhost"), WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = srv.Close()
		<-served
	})
	return c, network, &requests
}

var auditLogs = GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: AuditLogs}

// TestSilentDropCostsSeconds: a pooled HTTP/2 connection dies without a
// reset. HTTP/2's health check finds it, the call retries on a new
// connection, and the link comes within 5 seconds of the drop: in time for
// a handler's 10-second deadline.
func TestSilentDropCostsSeconds(t *testing.T) {
	for run := range 20 { // the backoff before the retry is random
		t.Run(strconv.Itoa(run), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, network, requests := memServer(t, linkHandler(0), false)
				_, err := c.GenerateLink(context.Background(), auditLogs)
				require.NoError(t, err)

				network.Blackhole()
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				link, err := c.GenerateLink(ctx, auditLogs)
				require.NoError(t, err)
				assert.NotEmpty(t, link.Link)
				took := time.Since(start)
				t.Logf("the link came %v after the drop", took)
				assert.GreaterOrEqual(t, took, 4*time.Second, "2s to the ping, 2s to give up on it")
				assert.LessOrEqual(t, took, 5*time.Second)
				assert.Equal(t, int64(2), network.dials.Load(), "one new connection")
				assert.Equal(t, int64(2), requests.Load(), "the lost attempt never reached the server")
			})
		})
	}
}

// TestSlowHealthyAnswerIsUnharmed: a server that takes 20 seconds to
// answer still answers pings, so the health check leaves the attempt alone.
func TestSlowHealthyAnswerIsUnharmed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, network, requests := memServer(t, linkHandler(20*time.Second), false)
		start := time.Now()
		_, err := c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		assert.Equal(t, 20*time.Second, time.Since(start))
		assert.Equal(t, int64(1), requests.Load(), "one attempt")
		assert.Equal(t, int64(1), network.dials.Load())
	})
}

// TestSilentDropOverHTTP1: HTTP/1.1 has no health check, so the attempt's
// own 30-second bound ends the wait, and the retry takes a new connection.
// A caller's earlier deadline ends the call at that deadline.
func TestSilentDropOverHTTP1(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, network, _ := memServer(t, linkHandler(0), true)
		_, err := c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		network.Blackhole()
		start := time.Now()
		_, err = c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Second)
		assert.LessOrEqual(t, time.Since(start), 30*time.Second+500*time.Millisecond, "one attempt timeout and a backoff")

		network.Blackhole() // the connection of the retry
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start = time.Now()
		_, err = c.GenerateLink(ctx, auditLogs)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, ErrAttemptTimeout, "the caller's deadline, not the attempt's")
		assert.Equal(t, 10*time.Second, time.Since(start))
	})
}

// TestStuckHandshake: a server that accepts and never completes the TLS
// handshake costs each attempt 10 seconds, and the call ends within the
// caller's deadline.
func TestStuckHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, network, _ := memServer(t, linkHandler(0), true) // the handshake never gets as far as choosing HTTP/2
		network.stuck = true
		start := time.Now()
		_, err := c.GenerateLink(context.Background(), auditLogs)
		var retryErr *RetryError
		require.ErrorAs(t, err, &retryErr)
		assert.Equal(t, 3, retryErr.Attempts)
		assert.ErrorContains(t, err, "TLS handshake timeout")
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Second, "three handshakes of 10s")
		assert.LessOrEqual(t, time.Since(start), 30*time.Second+1500*time.Millisecond, "and two backoffs")

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start = time.Now()
		_, err = c.GenerateLink(ctx, auditLogs)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		assert.Equal(t, 5*time.Second, time.Since(start))
	})
}

// TestIdleConnectionsCloseAfter90s: a connection left idle for 90 seconds
// is closed, and the next call dials anew; one idle for less is reused.
func TestIdleConnectionsCloseAfter90s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, network, _ := memServer(t, linkHandler(0), true)
		_, err := c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		time.Sleep(89 * time.Second)
		_, err = c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		assert.Equal(t, int64(1), network.dials.Load(), "idle for 89s: reused")
		time.Sleep(91 * time.Second)
		_, err = c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		assert.Equal(t, int64(2), network.dials.Load(), "idle for 91s: closed, and dialed anew")
	})
}
