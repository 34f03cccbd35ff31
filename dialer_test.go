package portal

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipeDialer returns in-memory connections, counting dials.
type pipeDialer struct{ dials int }

func (d *pipeDialer) dial(context.Context, string, string) (net.Conn, error) {
	d.dials++
	c, s := net.Pipe()
	_ = s.Close()
	return c, nil
}

// limiterWithOneCall returns a limiter with one call in flight on one
// open connection.
func limiterWithOneCall(t *testing.T) (*connLimiter, *pipeDialer) {
	t.Helper()
	d := &pipeDialer{}
	l := &connLimiter{dial: d.dial}
	c, err := l.DialContext(l.beginAttempt(context.Background()), "tcp", "api:443")
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return l, d
}

// dialWhenBlocked starts a dial for ac and returns once it waits, with the
// channel its outcome will arrive on.
func dialWhenBlocked(l *connLimiter, ac *attemptContext) <-chan error {
	result := make(chan error, 1)
	go func() {
		c, err := l.DialContext(ac, "tcp", "api:443")
		if err == nil {
			defer c.Close()
		}
		result <- err
	}()
	for l.waiters.Load() == 0 {
		runtime.Gosched() // a goroutine blocked in a select offers nothing else to wait for
	}
	return result
}

func TestConnLimiterDialsWhileCallsOutnumberConnections(t *testing.T) {
	t.Parallel()
	d := &pipeDialer{}
	l := &connLimiter{dial: d.dial}
	a1 := l.beginAttempt(context.Background())
	c1, err := l.DialContext(a1, "tcp", "api:443")
	require.NoError(t, err)
	a2 := l.beginAttempt(context.Background())
	c2, err := l.DialContext(a2, "tcp", "api:443")
	require.NoError(t, err)
	assert.Equal(t, 2, d.dials)

	// Without an attempt in the context (not one of ours), nothing waits.
	c3, err := l.DialContext(context.Background(), "tcp", "api:443")
	require.NoError(t, err)
	for _, c := range []net.Conn{c1, c2, c3} {
		require.NoError(t, c.Close())
		require.NoError(t, c.Close(), "a second Close releases nothing more")
	}
	assert.Equal(t, int64(0), l.conns)
}

func TestConnLimiterWaitsThenGivesUpWhenServed(t *testing.T) {
	t.Parallel()
	l, d := limiterWithOneCall(t)

	// A dial with no more calls than connections waits, since a connection
	// is about to be free...
	a2 := &attemptContext{Context: context.Background()}
	result := dialWhenBlocked(l, a2)
	// ...and gives up once the call was served by that connection.
	l.served(a2)
	assert.ErrorIs(t, <-result, errDialNotNeeded)
	assert.Equal(t, 1, d.dials)
}

func TestConnLimiterWaitingDialProceedsWhenDemandRises(t *testing.T) {
	t.Parallel()
	l, d := limiterWithOneCall(t)

	a2 := &attemptContext{Context: context.Background()}
	result := dialWhenBlocked(l, a2)
	l.beginAttempt(context.Background()) // another call: now calls outnumber connections
	require.NoError(t, <-result)
	assert.Equal(t, 2, d.dials)
}

func TestConnLimiterHonoursContextAndDialErrors(t *testing.T) {
	t.Parallel()
	l := &connLimiter{dial: func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("refused") }}
	a := l.beginAttempt(context.Background())
	_, err := l.DialContext(a, "tcp", "api:443")
	require.EqualError(t, err, "refused")
	assert.Equal(t, int64(0), l.conns, "a failed dial gives its place back")

	d := &pipeDialer{}
	l = &connLimiter{dial: d.dial}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.DialContext(&attemptContext{Context: ctx}, "tcp", "api:443") // no call in flight: it would wait
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, d.dials)
}
