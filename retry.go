package portal

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The retry policy: which failures are retried, how long to wait before the
// next attempt, and the budget that keeps retries off an API that is down.
const (
	defaultMaxRetries, maxMaxRetries      = 2, 10
	defaultBackoffBase, defaultBackoffMax = 500 * time.Millisecond, 8 * time.Second
	attemptTimeout                        = 30 * time.Second // a connection that died silently costs a retry, not the call
	maxRetryAfterWait                     = 20 * time.Second // longer waits return the error, its RetryAfter saying when to come back
)

// retryableStatus reports whether an answer may change on another attempt:
// the API timed out (408, 504), is rate limiting (429) or is briefly
// unavailable (500, 502, 503).
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests ||
		code >= 500 && code <= 504 && code != http.StatusNotImplemented
}

// retryableError reports whether a transport error may pass on another
// attempt: not once ctx ended, nor for a bad certificate or a non-TLS server.
func retryableError(ctx context.Context, err error) bool {
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	return ctx.Err() == nil && !errors.As(err, &certErr) && !errors.As(err, &recordErr)
}

// retryPolicy holds what the options set: WithMaxRetries, WithRetryBackoff.
type retryPolicy struct {
	maxRetries              int
	backoffBase, backoffMax time.Duration
}

// wait decides whether to try again after retries+1 attempts, the last
// failing with err, and after what wait. It gives up on a final failure,
// too long a Retry-After, a wait past ctx's deadline or an empty budget.
func (p retryPolicy) wait(ctx context.Context, err error, retryable bool, retries int, budget *retryBudget) (time.Duration, bool) {
	if !retryable || retries >= p.maxRetries {
		return 0, false
	}
	var apiErr *APIError
	var wait time.Duration
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > maxRetryAfterWait {
			return 0, false
		}
		wait = apiErr.RetryAfter
	} else { // exponential backoff with full jitter, so that clients failing together retry apart
		ceiling := p.backoffMax
		if retries < 63 && p.backoffBase <= ceiling>>retries {
			ceiling = p.backoffBase << retries
		}
		wait = time.Duration(rand.Int64N(int64(ceiling) + 1))
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return 0, false
	}
	return wait, budget.spend()
}

// parseRetryAfter reads Retry-After, delta-seconds ("7") or an HTTP date, as
// a wait of at most a day; bad or past values are zero: the backoff applies.
func parseRetryAfter(v string, now time.Time) time.Duration {
	const ceiling = 24 * time.Hour
	if v = strings.TrimSpace(v); v != "" && v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if errors.Is(err, strconv.ErrRange) || err == nil && secs > uint64(ceiling/time.Second) {
			return ceiling
		}
		return time.Duration(secs) * time.Second // zero on error
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), ceiling)
	}
	return 0
}

// retryBudget bounds retries client-wide, like the AWS SDKs' retry quota:
// in an outage, retries would multiply the load on a failing API. A retry
// spends one of 50 tokens and a success earns a tenth back, so occasional
// failures never run it dry. It counts thousandths spent: zero is full.
type retryBudget struct {
	mu    sync.Mutex
	spent int
}

const retryCost, successRefund = 1000, 100

func (b *retryBudget) spend() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spent+retryCost > 50*retryCost {
		return false
	}
	b.spent += retryCost
	return true
}

func (b *retryBudget) earn(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent = max(b.spent-n, 0)
}
