package portal

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests face the client with servers and proxies that misbehave. Each
// call must end, within bounded time and memory, with an error (or a link
// where the server eventually answers), without the key in the error and
// without goroutines left behind. They run serially, so that counting
// goroutines means something.

// noLeaks records the goroutine count and, at the end of the test, waits a
// bounded time for it to come back down: goroutines of closed connections
// end asynchronously and offer nothing to synchronise on.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines, %d before the test:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// hostile starts a server for handler and returns a client of it with
// millisecond backoff. Cleanups close the client's connections, then the
// server.
func hostile(t *testing.T, handler http.HandlerFunc, opts ...Option) (*Client, *httptest.Server) {
	t.Helper()
	noLeaks(t)
	srv := httptest.NewServer(handler)
	c, err := NewClient(testKey, append([]Option{WithBaseURL(srv.URL), WithRetryBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() {
		c.CloseIdleConnections()
		srv.Close()
	})
	return c, srv
}

func requireCleanError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testKey)
	assert.NotContains(t, err.Error(), testKey[8:])
}

// hijack takes the raw connection of a request, after its body is read.
func hijack(t *testing.T, w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.ReadWriter) {
	_, _ = io.Copy(io.Discard, r.Body)
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
	}
	return conn, rw
}

func TestHostileConnectionResetMidBody(t *testing.T) {
	var attempts atomic.Int64
	c, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		conn, rw := hijack(t, w, r)
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"link\":\"https://setup.workos.com/portal/la")
		_ = rw.Flush()
		_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
		_ = conn.Close()
	})
	_, err := c.GenerateLink(context.Background(), auditLogs)
	requireCleanError(t, err)
	assert.NotErrorIs(t, err, ErrInvalidResponse, "a broken connection is a network failure, not a bad answer")
	assert.GreaterOrEqual(t, attempts.Load(), int64(1+DefaultMaxRetries), "a reset mid-body is retried")
}

func TestHostileTruncatedBody(t *testing.T) {
	c, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		conn, rw := hijack(t, w, r)
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"link\":\"https://setup.workos.com/\"}")
		_ = rw.Flush()
		_ = conn.Close()
	})
	_, err := c.GenerateLink(context.Background(), auditLogs)
	requireCleanError(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestHostileHugeBodies(t *testing.T) {
	const huge = 100 << 20
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var written atomic.Int64
			chunk := []byte(`{"link":"https://setup.workos.com/` + strings.Repeat("a", 32<<10))
			c, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "104857600")
				w.WriteHeader(status)
				for written.Load() < huge {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
				}
			})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := c.GenerateLink(context.Background(), auditLogs, CallMaxRetries(0))
			runtime.ReadMemStats(&after)
			requireCleanError(t, err)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB; the server wrote %d KiB of its 100 MiB", allocated>>10, written.Load()>>10)
			assert.Less(t, allocated, uint64(4<<20), "memory stays bounded by the body caps")
			c.CloseIdleConnections()
		})
	}
}

func TestHostileTricklingBody(t *testing.T) {
	c, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "200")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 200; i++ {
			select {
			case <-tick.C:
				_, _ = w.Write([]byte{' '})
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GenerateLink(ctx, auditLogs)
	requireCleanError(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "the deadline ends the call")
}

func TestHostileCancelledContext(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	c, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		// net/http may keep a cancelled request's connection open, so the
		// server does not necessarily see the cancellation.
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	_, err := c.GenerateLink(ctx, auditLogs)
	requireCleanError(t, err)
	assert.ErrorIs(t, err, context.Canceled)

	_, err = c.GenerateLink(ctx, auditLogs) // already cancelled: fails at once
	assert.ErrorIs(t, err, context.Canceled)
}

func TestHostileRetryAfterValues(t *testing.T) {
	for _, value := range []string{"86400", "9999999999999", "-5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "1e9", ""} {
		t.Run(value, func(t *testing.T) {
			var attempts atomic.Int64
			c, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				w.Header().Set("Retry-After", value)
				writeJSON(w, http.StatusTooManyRequests, `{"message":"slow down"}`)
			})
			start := time.Now()
			_, err := c.GenerateLink(context.Background(), auditLogs, CallTimeout(10*time.Second))
			requireCleanError(t, err)
			require.ErrorIs(t, err, ErrRateLimited)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "no stall until the deadline")
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.LessOrEqual(t, attempts.Load(), int64(1+DefaultMaxRetries), "no retry loop")
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.GreaterOrEqual(t, apiErr.RetryAfter, time.Duration(0))
			assert.LessOrEqual(t, apiErr.RetryAfter, retryAfterCeiling)
		})
	}
}

func TestHostileHTTPSRedirectToHTTP(t *testing.T) {
	noLeaks(t)
	var plainHits atomic.Int64
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		linkHandler(w, r)
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer secure.Close()
	c, err := NewClient(testKey, WithBaseURL(secure.URL), WithHTTPClient(secure.Client()))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	_, err = c.GenerateLink(context.Background(), auditLogs)
	requireCleanError(t, err)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTemporaryRedirect, apiErr.StatusCode)
	assert.Zero(t, plainHits.Load(), "nothing, the key least of all, goes to the redirect target")
}

func TestHostileUntrustedCertificateLeavesNothingBehind(t *testing.T) {
	noLeaks(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(linkHandler))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	c, err := NewClient(testKey, WithBaseURL(srv.URL))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	start := time.Now()
	_, err = c.GenerateLink(context.Background(), auditLogs)
	requireCleanError(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
	assert.Less(t, time.Since(start), 5*time.Second, "one attempt, no backoff")
}

func TestHostileTrailingData(t *testing.T) {
	c, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"link":"`+testLink+`"}garbage`)
	})
	_, err := c.GenerateLink(context.Background(), auditLogs)
	requireCleanError(t, err)
	assert.ErrorIs(t, err, ErrInvalidResponse)
}
