package portal

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// connLimiter keeps the library's transport from opening more connections
// than there are calls in flight.
//
// net/http dials a new connection for every request that finds none idle.
// When a burst of callers arrives while the first connections are still
// being dialed, each late caller starts a dial of its own, then takes a
// connection another caller has just released; its dial completes anyway
// and the connection sits idle. A client shared by 32 goroutines can so end
// up with 50 connections. A fixed cap (MaxConnsPerHost) prevents that, but
// makes callers queue for connections whenever they outnumber it.
//
// Instead, a dial waits while the connections open or being dialed already
// match the calls in flight, since one of them is about to become free. It
// proceeds as soon as calls outnumber connections, and gives up (harmlessly:
// net/http discards the result of a dial nobody waits for) once the call
// that started it has been served by another connection.
type connLimiter struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	inflight atomic.Int64 // calls between beginAttempt and endAttempt
	waiters  atomic.Int64 // dials waiting for a change

	mu      sync.Mutex
	conns   int64         // open or being dialed
	changed chan struct{} // closed and cleared on a change that may unblock a dial
}

// attemptContext carries an attempt's state to the dial that net/http
// starts for it: the transport passes the request's context values (not its
// cancellation) to the dialer.
type attemptContext struct {
	context.Context
	served atomic.Bool // the round trip has returned
}

type attemptKey struct{}

func (c *attemptContext) Value(key any) any {
	if key == (attemptKey{}) {
		return c
	}
	return c.Context.Value(key)
}

var errDialNotNeeded = errors.New("portal: connection not needed: the request was served by another")

// beginAttempt counts a call in flight and returns the context to send it
// with. Call served when the round trip returns and endAttempt once the
// response body is closed.
func (l *connLimiter) beginAttempt(ctx context.Context) *attemptContext {
	l.inflight.Add(1)
	l.notify()
	return &attemptContext{Context: ctx}
}

func (l *connLimiter) served(ac *attemptContext) {
	ac.served.Store(true)
	l.notify()
}

func (l *connLimiter) endAttempt() { l.inflight.Add(-1) }

// notify wakes the waiting dials, if any, to look again.
func (l *connLimiter) notify() {
	if l.waiters.Load() == 0 {
		return
	}
	l.mu.Lock()
	l.wakeLocked()
	l.mu.Unlock()
}

func (l *connLimiter) wakeLocked() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// DialContext is the transport's dialer.
func (l *connLimiter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ac, _ := ctx.Value(attemptKey{}).(*attemptContext)
	l.mu.Lock()
	for ac != nil {
		l.waiters.Add(1) // before reading the counters, so a change after this notifies
		if l.conns < l.inflight.Load() {
			l.waiters.Add(-1)
			break
		}
		if ac.served.Load() {
			l.waiters.Add(-1)
			l.mu.Unlock()
			return nil, errDialNotNeeded
		}
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			l.waiters.Add(-1)
			return nil, ctx.Err()
		}
		l.waiters.Add(-1)
		l.mu.Lock()
	}
	l.conns++
	l.mu.Unlock()

	conn, err := l.dial(ctx, network, addr)
	if err != nil {
		l.release()
		return nil, err
	}
	return &countedConn{Conn: conn, limiter: l}, nil
}

func (l *connLimiter) release() {
	l.mu.Lock()
	l.conns--
	l.wakeLocked()
	l.mu.Unlock()
}

// countedConn gives its place back to the limiter when closed.
type countedConn struct {
	net.Conn
	limiter *connLimiter
	once    sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.limiter.release)
	return err
}
