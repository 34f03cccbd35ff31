package portal

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The retry policy: which failures are retried, and after what wait. Its
// functions decide; the loop in GenerateLink acts.
const (
	retryLimit        = 10               // WithMaxRetries takes 0 to this
	attemptTimeout    = 30 * time.Second // a stalled attempt costs a retry, not the call
	maxRetryAfterWait = 20 * time.Second // longer waits return the error, its RetryAfter saying when to come back
)

// ErrAttemptTimeout means that an attempt had no answer within 30 seconds,
// before the caller's deadline. Like net/http's Client.Timeout error, it
// matches [context.DeadlineExceeded] too; errors.Is(err, ErrAttemptTimeout)
// tells the two apart.
var ErrAttemptTimeout = fmt.Errorf("portal: no answer within 30s, the bound on each attempt: %w",
	context.DeadlineExceeded)

// The reasons a [*RetryError] gives for making no further attempt, besides
// the context's own error, which [errors.Is] matches the same way.
var (
	// ErrNoRetriesLeft: every retry that WithMaxRetries allows was made.
	ErrNoRetriesLeft = errors.New("no retries left")
	// ErrRetryAfterTooLong: the server's Retry-After passed 20s; the
	// APIError's RetryAfter says when to come back.
	ErrRetryAfterTooLong = errors.New("the server asked for a wait longer than 20s")
	// ErrRetryPastDeadline: the wait before the next attempt would pass the
	// context's deadline, which has not passed yet.
	ErrRetryPastDeadline = errors.New("the wait to retry would outlast the context's deadline")
)

// retryableStatus reports whether an answer may change on another attempt:
// a timeout (408, 504), a rate limit (429), a brief outage (500, 502, 503).
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests ||
		code >= 500 && code <= 504 && code != http.StatusNotImplemented
}

// retryableError reports whether a transport error may pass on another
// attempt: not once ctx ended, nor for a certificate that does not verify.
func retryableError(ctx context.Context, err error) bool {
	var certErr *tls.CertificateVerificationError
	return ctx.Err() == nil && !errors.As(err, &certErr)
}

// defaultRetry is the policy unless WithMaxRetries or WithRetryBackoff.
var defaultRetry = retryPolicy{maxRetries: 2, backoffBase: 500 * time.Millisecond, backoffCap: 8 * time.Second}

// retryPolicy holds what WithMaxRetries and WithRetryBackoff set.
type retryPolicy struct {
	maxRetries  int
	backoffBase time.Duration
	backoffCap  time.Duration
}

// next returns the wait before the next attempt, or the reason to make none,
// after attempts that ended with err, which another attempt might pass.
// timeLeft is the time to the caller's deadline, if it has one, and draw,
// in [0, 1), the random share of the backoff to wait.
func (p retryPolicy) next(err error, attempts int, hasDeadline bool, timeLeft time.Duration, draw float64) (
	wait time.Duration, stop error,
) {
	if attempts > p.maxRetries {
		return 0, ErrNoRetriesLeft
	}
	wait = p.backoff(attempts-1, draw)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > maxRetryAfterWait {
			return 0, ErrRetryAfterTooLong
		}
		wait = apiErr.RetryAfter
	}
	if hasDeadline && timeLeft < wait {
		return 0, ErrRetryPastDeadline
	}
	return wait, nil
}

// backoff returns the wait before retry n (from 0): a share draw of
// min(backoffCap, backoffBase×2ⁿ), full jitter, so that clients that
// failed together retry apart.
func (p retryPolicy) backoff(n int, draw float64) time.Duration {
	ceiling := p.backoffCap
	if p.backoffBase <= p.backoffCap>>n { // base×2ⁿ, unless it passes the cap or overflows: a shift of 63 or more is 0
		ceiling = p.backoffBase << n
	}
	return time.Duration(draw * float64(ceiling))
}

// parseRetryAfter reads Retry-After, delta-seconds ("7") or an HTTP date, as
// a wait of at most a day; bad or past values are zero: the backoff applies.
func parseRetryAfter(v string, now time.Time) time.Duration {
	const ceiling = 24 * time.Hour
	v = strings.TrimSpace(v)
	// Too many digits for a uint64 is a range error, with the largest uint64.
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return time.Duration(min(secs, uint64(ceiling/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), ceiling)
	}
	return 0
}
