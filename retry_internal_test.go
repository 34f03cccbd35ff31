package portal

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestBackoff pins the backoff for given draws: full jitter over
// min(cap, base×2ⁿ), with no overflow however large n.
func TestBackoff(t *testing.T) {
	p := retryPolicy{maxRetries: 10, backoffBase: 100 * time.Millisecond, backoffCap: 800 * time.Millisecond}
	for _, tt := range []struct {
		n    int
		draw float64
		want time.Duration
	}{
		{0, 0, 0},
		{0, 0.5, 50 * time.Millisecond},
		{0, 0.999, 99900 * time.Microsecond},
		{1, 0.5, 100 * time.Millisecond},
		{2, 0.5, 200 * time.Millisecond},
		{3, 0.5, 400 * time.Millisecond}, // base×2³ is the cap itself
		{4, 0.5, 400 * time.Millisecond}, // capped
		{62, 0.5, 400 * time.Millisecond},
		{63, 0.5, 400 * time.Millisecond}, // a shift that would overflow
		{200, 0.5, 400 * time.Millisecond},
	} {
		assert.Equal(t, tt.want, p.backoff(tt.n, tt.draw), "backoff(%d, %v)", tt.n, tt.draw)
	}
	// A cap that is base×2³ and a few nanoseconds: base×2³ is the ceiling.
	odd := retryPolicy{backoffBase: 100 * time.Millisecond, backoffCap: 800*time.Millisecond + 7}
	assert.Equal(t, 400*time.Millisecond, odd.backoff(3, 0.5))
	assert.Equal(t, 400*time.Millisecond+3, odd.backoff(4, 0.5))
	huge := retryPolicy{backoffBase: 1 << 61, backoffCap: 1 << 62}
	assert.Equal(t, time.Duration(1<<60), huge.backoff(0, 0.5))
	assert.Equal(t, time.Duration(1<<61), huge.backoff(1, 0.5), "base×2 is the cap")
	assert.Equal(t, time.Duration(1<<61), huge.backoff(2, 0.5), "base×4 would overflow: the cap")
}

// TestNext pins each reason to stop, and the waits, at their boundaries.
func TestNext(t *testing.T) {
	p := retryPolicy{maxRetries: 2, backoffBase: time.Second, backoffCap: 8 * time.Second}
	server := &APIError{StatusCode: 503}
	after := func(d time.Duration) error { return &APIError{StatusCode: 429, RetryAfter: d} }
	for _, tt := range []struct {
		name     string
		err      error
		attempts int
		timeLeft time.Duration // -1 for no deadline
		wait     time.Duration
		reason   error
	}{
		{"first retry", server, 1, -1, 500 * time.Millisecond, nil},
		{"second retry doubles", server, 2, -1, time.Second, nil},
		{"no retries left", server, 3, -1, 0, ErrNoRetriesLeft},
		{"Retry-After replaces the backoff", after(7 * time.Second), 1, -1, 7 * time.Second, nil},
		{"Retry-After of 20s is waited", after(20 * time.Second), 1, -1, 20 * time.Second, nil},
		{"Retry-After past 20s is not", after(20*time.Second + 1), 1, -1, 0, ErrRetryAfterTooLong},
		{"a wrapped Retry-After", &RetryError{Err: after(3 * time.Second)}, 1, -1, 3 * time.Second, nil},
		{"not an APIError", errors.New("reset"), 1, -1, 500 * time.Millisecond, nil},
		{"just time for the wait", server, 1, 500 * time.Millisecond, 500 * time.Millisecond, nil},
		{"not quite", server, 1, 500*time.Millisecond - 1, 0, ErrRetryPastDeadline},
		{"no time at all", server, 1, 0, 0, ErrRetryPastDeadline},
		{"a deadline past", server, 1, -time.Second, 0, ErrRetryPastDeadline},
	} {
		wait, stop := p.next(tt.err, tt.attempts, tt.timeLeft != -1, tt.timeLeft, 0.5)
		assert.Equal(t, tt.wait, wait, tt.name)
		assert.Equal(t, tt.reason, stop, tt.name)
	}
	assert.Contains(t, ErrRetryAfterTooLong.Error(), " "+maxRetryAfterWait.String(), "its text names the bound")
	assert.Contains(t, ErrAttemptTimeout.Error(), " "+attemptTimeout.String()+",", "its text names the bound")
}
