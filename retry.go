package portal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// This file is the retry policy, read top to bottom: which failures are
// retried, how long to wait, and the budget that bounds retries client-wide.

// retryAfterCeiling bounds the Retry-After values the client records, so
// that absurd values (9999999999999 seconds) cannot overflow a Duration.
const retryAfterCeiling = 24 * time.Hour

// retryableStatus reports whether a response status is worth retrying: the
// API is rate limiting or briefly unavailable. Other 4xx answers would only
// repeat, and a 501 or 505 is permanent.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether a transport error may succeed on another
// attempt. Connection failures, resets and timeouts may; a cancelled or
// expired context, a certificate that does not verify, a TLS handshake with
// something that does not speak TLS, or a malformed request will not. The
// Idempotency-Key header makes a retried POST safe even when the first one
// reached the API.
func retryableError(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		verifyErr    *tls.CertificateVerificationError
		unknownAuth  x509.UnknownAuthorityError
		hostnameErr  x509.HostnameError
		certErr      x509.CertificateInvalidError
		recordHdrErr tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownAuth), errors.As(err, &hostnameErr),
		errors.As(err, &certErr), errors.As(err, &recordHdrErr):
		return false
	}
	// net/http reports these only as text. (Redirects never get here: the
	// client returns them as responses.)
	msg := err.Error()
	return !strings.Contains(msg, "unsupported protocol scheme") && !strings.Contains(msg, "invalid header")
}

// parseRetryAfter reads a Retry-After header in either of its forms,
// delta-seconds ("7") or an HTTP date, as a wait from now. Missing,
// negative, malformed and past values are zero, so the caller falls back to
// its own backoff instead of retrying in a tight loop; huge values are
// clamped to retryAfterCeiling instead of overflowing.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return retryAfterCeiling
			}
			return 0
		}
		if secs > uint64(retryAfterCeiling/time.Second) {
			return retryAfterCeiling
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return 0
	case d > retryAfterCeiling:
		return retryAfterCeiling
	}
	return d
}

// retryPolicy decides how long to wait before the next attempt.
type retryPolicy struct {
	base, max     time.Duration // exponential backoff bounds
	maxRetryAfter time.Duration // longest server-requested wait to honour
	jitter        func(n int64) int64
}

// wait returns how long to sleep before retry number retry (0 for the
// first), and false when the server asked for a wait longer than the policy
// allows, in which case the caller should give up with the server's error.
func (p *retryPolicy) wait(retry int, retryAfter time.Duration) (time.Duration, bool) {
	if retryAfter > 0 {
		return retryAfter, retryAfter <= p.maxRetryAfter
	}
	ceiling := p.max
	if retry < 32 { // beyond, the shift would overflow; max applies anyway
		if d := p.base << retry; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return time.Duration(p.jitter(int64(ceiling) + 1)), true
}

// randomJitter is the default jitter: uniform in [0, n).
func randomJitter(n int64) int64 { return rand.Int64N(n) }

// sleepContext waits for d or until ctx is done, whichever is first. It uses
// a timer that it stops, so an early return leaves nothing running.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryBudget is a client-wide token bucket in thousandths of a retry: a
// retry spends 1000, a successful call earns refill back, up to capacity. It
// caps the retries of a burst of failures at about capacity/1000, so during
// an outage the load on the API stays close to one attempt per call, while
// a client with occasional failures never runs dry.
type retryBudget struct {
	tokens   atomic.Int64
	capacity int64
	refill   int64
}

const retryCost = 1000

func newRetryBudget(retries int, refillMillis int64) *retryBudget {
	b := &retryBudget{capacity: int64(retries) * retryCost, refill: refillMillis}
	b.tokens.Store(b.capacity)
	return b
}

// take spends the cost of one retry, or reports false when the budget
// cannot afford it. A nil budget (disabled) always allows.
func (b *retryBudget) take() bool {
	if b == nil {
		return true
	}
	for {
		n := b.tokens.Load()
		if n < retryCost {
			return false
		}
		if b.tokens.CompareAndSwap(n, n-retryCost) {
			return true
		}
	}
}

// succeeded earns back part of a retry after a successful call.
func (b *retryBudget) succeeded() {
	if b == nil {
		return
	}
	for {
		n := b.tokens.Load()
		if n >= b.capacity {
			return
		}
		if b.tokens.CompareAndSwap(n, min(n+b.refill, b.capacity)) {
			return
		}
	}
}
