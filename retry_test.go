package portal

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var auditLogs = GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs}

// scripted answers the n-th request with statuses[n] (200 with a link once
// they run out), recording each request's Idempotency-Key.
type scripted struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	keys     []string
}

func (s *scripted) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.keys)
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	s.mu.Unlock()
	if n >= len(s.statuses) {
		linkHandler(w, r)
		return
	}
	for k, v := range s.header {
		w.Header()[k] = v
	}
	writeJSON(w, s.statuses[n], `{"code":"x","message":"scripted failure"}`)
}

func TestRetriesRetryableStatusesWithOneIdempotencyKey(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 500, 502, 503, 504} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			s := &scripted{statuses: []int{status, status}}
			f := newFakeAPI(t, s.handle)
			c, slept := f.newTestClient(t)
			link, err := c.GenerateLink(context.Background(), auditLogs)
			require.NoError(t, err)
			assert.Equal(t, testLink, link.Link)
			require.Len(t, s.keys, 3)
			assert.Regexp(t, uuidV4, s.keys[0])
			assert.Equal(t, s.keys[0], s.keys[1])
			assert.Equal(t, s.keys[0], s.keys[2])
			require.Len(t, slept.all(), 2)
			// Full jitter: the n-th wait is in [0, 500ms×2ⁿ].
			assert.LessOrEqual(t, slept.all()[0], 500*time.Millisecond)
			assert.LessOrEqual(t, slept.all()[1], time.Second)
			assert.Equal(t, int64(1), f.conns.Load(), "retries reuse the connection")
		})
	}
}

func TestEachCallHasItsOwnIdempotencyKey(t *testing.T) {
	t.Parallel()
	s := &scripted{}
	f := newFakeAPI(t, s.handle)
	c, _ := f.newTestClient(t)
	for i := 0; i < 3; i++ {
		_, err := c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
	}
	assert.Len(t, map[string]bool{s.keys[0]: true, s.keys[1]: true, s.keys[2]: true}, 3)
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	s := &scripted{statuses: []int{503, 503, 503, 503, 503}}
	f := newFakeAPI(t, s.handle)
	c, slept := f.newTestClient(t, WithMaxRetries(3))
	_, err := c.GenerateLink(context.Background(), auditLogs)
	require.ErrorIs(t, err, ErrServer)
	assert.Len(t, s.keys, 4)
	assert.Len(t, slept.all(), 3)
}

func TestNoRetryOnOtherStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 409, 422, 501, 505} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			s := &scripted{statuses: []int{status}}
			f := newFakeAPI(t, s.handle)
			c, slept := f.newTestClient(t, WithMaxRetries(5))
			_, err := c.GenerateLink(context.Background(), auditLogs)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Len(t, s.keys, 1)
			assert.Empty(t, slept.all())
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 10, 21, 7, 28, 0, 0, time.UTC)
	tests := []struct {
		name      string
		value     string
		wantSleep time.Duration // exact wait; -1 means the jittered backoff
		wantRetry bool
	}{
		{name: "seconds", value: "7", wantSleep: 7 * time.Second, wantRetry: true},
		{name: "HTTP date", value: "Wed, 21 Oct 2026 07:28:03 GMT", wantSleep: 3 * time.Second, wantRetry: true},
		{name: "zero", value: "0", wantSleep: -1, wantRetry: true},
		{name: "negative", value: "-5", wantSleep: -1, wantRetry: true},
		{name: "garbage", value: "soon", wantSleep: -1, wantRetry: true},
		{name: "date in the past", value: "Wed, 21 Oct 2026 07:00:00 GMT", wantSleep: -1, wantRetry: true},
		{name: "above the cap: a day", value: "86400", wantRetry: false},
		{name: "above the cap: overflow", value: "9999999999999", wantRetry: false},
		{name: "above the cap: beyond uint64", value: "99999999999999999999999", wantRetry: false},
		{name: "above the cap: far date", value: "Fri, 21 Oct 2099 07:28:00 GMT", wantRetry: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &scripted{statuses: []int{429}, header: http.Header{"Retry-After": {tt.value}}}
			f := newFakeAPI(t, s.handle)
			c, slept := f.newTestClient(t)
			c.now = func() time.Time { return now }
			link, err := c.GenerateLink(context.Background(), auditLogs)
			if !tt.wantRetry {
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.ErrorIs(t, err, ErrRateLimited)
				assert.Greater(t, apiErr.RetryAfter, DefaultMaxRetryAfter, "the error tells the caller how long to wait")
				assert.LessOrEqual(t, apiErr.RetryAfter, retryAfterCeiling)
				assert.Empty(t, slept.all())
				assert.Len(t, s.keys, 1)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, testLink, link.Link)
			require.Len(t, slept.all(), 1)
			if tt.wantSleep >= 0 {
				assert.Equal(t, tt.wantSleep, slept.all()[0])
			} else {
				assert.LessOrEqual(t, slept.all()[0], 500*time.Millisecond)
			}
		})
	}
}

func TestBackoffIsExponentialAndCapped(t *testing.T) {
	t.Parallel()
	p := retryPolicy{base: 500 * time.Millisecond, max: 8 * time.Second, maxRetryAfter: time.Minute, jitter: func(n int64) int64 { return n - 1 }}
	var got []time.Duration
	for retry := 0; retry < 70; retry++ {
		d, ok := p.wait(retry, 0)
		require.True(t, ok)
		got = append(got, d)
	}
	assert.Equal(t, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}, got[:6])
	for _, d := range got {
		assert.LessOrEqual(t, d, 8*time.Second)
		assert.GreaterOrEqual(t, d, time.Duration(0))
	}
	p.jitter = func(int64) int64 { return 0 }
	d, _ := p.wait(3, 0)
	assert.Equal(t, time.Duration(0), d, "full jitter reaches down to zero")
}

func TestRetryRespectsContextDeadline(t *testing.T) {
	t.Parallel()
	s := &scripted{statuses: []int{503}, header: http.Header{"Retry-After": {"10"}}}
	f := newFakeAPI(t, s.handle)
	c, slept := f.newTestClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := c.GenerateLink(ctx, auditLogs)
	// Waiting 10s would pass the deadline: the last error comes back at once.
	require.ErrorIs(t, err, ErrServer)
	assert.Empty(t, slept.all())
	assert.Len(t, s.keys, 1)
}

func TestCancelDuringWait(t *testing.T) {
	t.Parallel()
	s := &scripted{statuses: []int{503, 503}}
	f := newFakeAPI(t, s.handle)
	c, _ := f.newTestClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan struct{})
	c.sleep = func(ctx context.Context, d time.Duration) error {
		close(waiting)
		return sleepContext(ctx, time.Hour)
	}
	go func() {
		<-waiting
		cancel()
	}()
	_, err := c.GenerateLink(ctx, auditLogs)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrServer, "the last API error stays reachable")
	assert.Len(t, s.keys, 1)
}

func TestSleepContextStopsEarly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, sleepContext(ctx, time.Hour), context.Canceled)
	assert.NoError(t, sleepContext(context.Background(), time.Microsecond))
	assert.NoError(t, sleepContext(context.Background(), -time.Second))
}

// TestRetriesBrokenAnswers: a connection that breaks before or during the
// answer is retried, and the retry gets the link.
func TestRetriesBrokenAnswers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		breakIt func(w http.ResponseWriter)
	}{
		{"dropped before any answer", func(w http.ResponseWriter) {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
		}},
		{"body short of its Content-Length", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"link":"https://setup.wor`)
			// returning closes the connection
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int64
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					tt.breakIt(w)
					return
				}
				linkHandler(w, r)
			})
			c, slept := f.newTestClient(t)
			link, err := c.GenerateLink(context.Background(), auditLogs)
			require.NoError(t, err)
			assert.Equal(t, testLink, link.Link)
			assert.Equal(t, int64(2), n.Load())
			assert.Len(t, slept.all(), 1)
		})
	}
}

func TestConnectionRefusedIsRetriedThenReported(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, err := NewClient(testKey, WithBaseURL("http://"+addr))
	require.NoError(t, err)
	s := &sleeps{}
	c.sleep = s.sleep
	_, err = c.GenerateLink(context.Background(), auditLogs)
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr)
	assert.Len(t, s.all(), DefaultMaxRetries)
	assert.NotContains(t, err.Error(), testKey)
}

func TestRetryBudget(t *testing.T) {
	t.Parallel()
	b := newRetryBudget(2, 500)
	assert.True(t, b.take())
	assert.True(t, b.take())
	assert.False(t, b.take(), "empty after two retries")
	b.succeeded()
	assert.False(t, b.take(), "half a retry earned back is not enough")
	b.succeeded()
	assert.True(t, b.take())
	for i := 0; i < 100; i++ {
		b.succeeded()
	}
	assert.Equal(t, int64(2*retryCost), b.tokens.Load(), "never above capacity")
	var disabled *retryBudget
	assert.True(t, disabled.take())
	disabled.succeeded()
}

// TestRetryBudgetBoundsOutageLoad is the outage target: 64 goroutines making
// 3 calls each with WithMaxRetries(3) against an API that always answers
// 503 make at most 1.5 attempts per call.
func TestRetryBudgetBoundsOutageLoad(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, `{"message":"down"}`)
	})
	c, _ := f.newTestClient(t, WithMaxRetries(3))
	const goroutines, calls = 64, 3
	concurrently(goroutines, calls, func() {
		_, err := c.GenerateLink(context.Background(), auditLogs)
		assert.ErrorIs(t, err, ErrServer)
	})
	perCall := float64(f.requests.Load()) / (goroutines * calls)
	t.Logf("attempts per call during the outage: %.2f", perCall)
	assert.LessOrEqual(t, perCall, 1.5)

	// Without a budget every call retries fully.
	f2 := newFakeAPI(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, `{"message":"down"}`)
	})
	c2, _ := f2.newTestClient(t, WithMaxRetries(3), WithoutRetryBudget())
	for i := 0; i < 10; i++ {
		_, _ = c2.GenerateLink(context.Background(), auditLogs)
	}
	assert.Equal(t, int64(40), f2.requests.Load())
}

func TestRetryBudgetAllowsOccasionalRetries(t *testing.T) {
	t.Parallel()
	// One call in ten fails once, for far longer than the budget's size.
	var n atomic.Int64
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%11 == 0 {
			writeJSON(w, http.StatusBadGateway, "")
			return
		}
		linkHandler(w, r)
	})
	c, _ := f.newTestClient(t)
	for i := 0; i < 2000; i++ {
		_, err := c.GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err, "call %d", i)
	}
}

func TestRetryableError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	assert.True(t, retryableError(ctx, &net.OpError{Op: "dial", Err: errors.New("connection refused")}))
	assert.False(t, retryableError(ctx, context.Canceled))
	assert.False(t, retryableError(ctx, context.DeadlineExceeded))
	assert.False(t, retryableError(ctx, errors.New(`unsupported protocol scheme "ftp"`)))
	done, cancel := context.WithCancel(ctx)
	cancel()
	assert.False(t, retryableError(done, errors.New("connection reset by peer")))
}
