package portal_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// The retry tests run in synctest bubbles against an API served in memory:
// waits, Retry-After and timeouts take no real time, and the times they
// assert are exact.

// inMemory serves requests with a handler, without a network, so that in a
// bubble every wait is durable and the fake clock moves.
type inMemory struct{ h http.Handler }

func (m inMemory) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.h.ServeHTTP(rec, req)
	}()
	select {
	case <-done:
		return rec.Result(), nil
	case <-req.Context().Done():
		<-done
		return nil, req.Context().Err()
	}
}

// step is one scripted answer: a status with headers, a transport error,
// or (hang) no answer until the request is cancelled.
type step struct {
	status int
	header map[string]string
	err    error
	hang   bool
}

// script answers attempts with its steps in turn (the last repeats) and
// records when each arrived and with which Idempotency-Key.
type script struct {
	mu    sync.Mutex
	steps []step
	at    []time.Time
	keys  []string
}

func (s *script) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.at = append(s.at, time.Now())
	s.keys = append(s.keys, req.Header.Get("Idempotency-Key"))
	st := s.steps[min(len(s.at), len(s.steps))-1]
	s.mu.Unlock()
	if st.err != nil {
		return nil, st.err
	}
	return inMemory{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if st.hang {
			<-r.Context().Done()
			return
		}
		for k, v := range st.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(st.status)
		if st.status == http.StatusCreated {
			_, _ = io.WriteString(w, recordedBody)
		} else {
			_, _ = io.WriteString(w, `{"message":"`+http.StatusText(st.status)+`"}`)
		}
	})}.RoundTrip(req)
}

func (s *script) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.at)
}

// gaps returns the waits between consecutive attempts.
func (s *script) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(s.at); i++ {
		out = append(out, s.at[i].Sub(s.at[i-1]))
	}
	return out
}

func scriptedClient(t *testing.T, s *script, opts ...portal.Option) *portal.Client {
	t.Helper()
	c, err := portal.NewClient(testKey, append([]portal.Option{
		portal.WithBaseURL("https://api.workos.com"), portal.WithHTTPClient(&http.Client{Transport: s}),
	}, opts...)...)
	require.NoError(t, err)
	return c
}

var opts = portal.GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: portal.AuditLogs}

func TestRetryAfterIsWaitedOutExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{
			{status: 429, header: map[string]string{"Retry-After": "7"}},
			{status: 503, header: map[string]string{
				"Retry-After": time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat),
			}},
			{status: 201},
		}}
		link, err := scriptedClient(t, s).GenerateLink(context.Background(), opts)
		require.NoError(t, err)
		assert.Equal(t, recordedLink, link.Link)
		assert.Equal(t, []time.Duration{7 * time.Second, 3 * time.Second}, s.gaps(), "delta-seconds, then an HTTP date")
		assert.Len(t, s.keys, 3)
		assert.Equal(t, s.keys[0], s.keys[2], "every attempt of a call carries one Idempotency-Key")
	})
}

// TestBackoffIsExponentialWithJitter checks the waits of a call against
// their bounds; TestBackoff checks the wait for each draw exactly.
func TestBackoffIsExponentialWithJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{status: 503}}}
		_, err := scriptedClient(t, s, portal.WithMaxRetries(5),
			portal.WithRetryBackoff(100*time.Millisecond, 300*time.Millisecond)).
			GenerateLink(context.Background(), opts)
		require.ErrorIs(t, err, portal.ErrServer)
		gaps := s.gaps()
		require.Len(t, gaps, 5)
		var total time.Duration
		for i, ceiling := range []time.Duration{100, 200, 300, 300, 300} {
			assert.LessOrEqual(t, gaps[i], ceiling*time.Millisecond, "retry %d waits at most min(limit, base×2ⁿ)", i)
			total += gaps[i]
		}
		assert.Positive(t, total, "the client waits between attempts")
	})
}

func TestWhichFailuresAreRetried(t *testing.T) {
	for _, tt := range []struct {
		step  step
		retry bool
	}{
		{step{status: 408}, true}, {step{status: 429}, true}, {step{status: 500}, true}, {step{status: 502}, true},
		{step{status: 503}, true}, {step{status: 504}, true}, {step{err: errors.New("connection reset by peer")}, true},
		{step{status: 400}, false}, {step{status: 401}, false}, {step{status: 403}, false}, {step{status: 404}, false},
		{step{status: 409}, false}, {step{status: 422}, false}, {step{status: 501}, false}, {step{status: 505}, false},
		{step{err: &tls.CertificateVerificationError{Err: errors.New("x509: unknown authority")}}, false},
	} {
		t.Run(fmt.Sprintf("%+v", tt.step), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &script{steps: []step{tt.step, {status: 201}}}
				_, err := scriptedClient(t, s).GenerateLink(context.Background(), opts)
				if tt.retry {
					assert.NoError(t, err, "%+v", tt.step)
					assert.Equal(t, 2, s.attempts())
				} else {
					assert.Error(t, err, "%+v", tt.step)
					assert.Equal(t, 1, s.attempts(), "%+v is final", tt.step)
				}
			})
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{status: 503, header: map[string]string{"Retry-After": "1"}}}}
		_, err := scriptedClient(t, s, portal.WithMaxRetries(3)).GenerateLink(context.Background(), opts)
		var apiErr *portal.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 503, apiErr.StatusCode)
		assert.Equal(t, time.Second, apiErr.RetryAfter)
		assert.Equal(t, 4, s.attempts())
		var retryErr *portal.RetryError
		require.ErrorAs(t, err, &retryErr)
		assert.Equal(t, portal.RetryError{Attempts: 4, Reason: portal.ErrNoRetriesLeft, Err: apiErr}, *retryErr)
		assert.ErrorIs(t, err, portal.ErrNoRetriesLeft)
		assert.NotErrorIs(t, err, portal.ErrRetryAfterTooLong)
		assert.NotErrorIs(t, err, portal.ErrRetryPastDeadline)
		assert.Equal(t, apiErr.Error()+" [attempts: 4; no retries left]", err.Error())
	})
}

// TestNoRetryPossibleIsNoRetryError: a client that may not retry returns
// its one attempt's error as it is, with nothing about retries.
func TestNoRetryPossibleIsNoRetryError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, st := range []step{{status: 503}, {status: 429, header: map[string]string{"Retry-After": "60"}},
			{err: errors.New("connection reset by peer")}} {
			s := &script{steps: []step{st}}
			_, err := scriptedClient(t, s, portal.WithMaxRetries(0)).GenerateLink(context.Background(), opts)
			require.Error(t, err)
			assert.NotErrorAs(t, err, new(*portal.RetryError), "%+v", st)
			assert.NotContains(t, err.Error(), "attempts", "%+v", st)
			assert.Equal(t, 1, s.attempts())
		}
	})
}

func TestLongRetryAfterIsReturnedNotWaited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{status: 429, header: map[string]string{"Retry-After": "60"}}}}
		start := time.Now()
		_, err := scriptedClient(t, s).GenerateLink(context.Background(), opts)
		var apiErr *portal.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.ErrorIs(t, err, portal.ErrRateLimited)
		assert.Equal(t, time.Minute, apiErr.RetryAfter)
		assert.Contains(t, err.Error(), "[retry after 1m0s]")
		assert.Contains(t, err.Error(), "[attempts: 1; the server asked for a wait longer than 20s]")
		assert.ErrorIs(t, err, portal.ErrRetryAfterTooLong)
		assert.NotErrorIs(t, err, portal.ErrNoRetriesLeft)
		assert.Equal(t, 1, s.attempts())
		assert.Zero(t, time.Since(start))
	})
}

func TestNoRetryThatWouldOutlastTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{status: 503, header: map[string]string{"Retry-After": "7"}}, {status: 201}}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := scriptedClient(t, s).GenerateLink(ctx, opts)
		assert.ErrorIs(t, err, portal.ErrServer, "the last answer, at once")
		assert.ErrorContains(t, err, "[attempts: 1; the wait to retry would outlast the context's deadline]")
		assert.ErrorIs(t, err, portal.ErrRetryPastDeadline)
		assert.NotErrorIs(t, err, portal.ErrNoRetriesLeft)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "the deadline has not passed")
		assert.Equal(t, 1, s.attempts())
		assert.Zero(t, time.Since(start))
	})
}

func TestCancelWhileWaitingToRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{status: 503, header: map[string]string{"Retry-After": "5"}}, {status: 201}}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := scriptedClient(t, s).GenerateLink(ctx, opts)
			done <- err
		}()
		synctest.Wait() // the call is waiting to retry
		cancel()
		err := <-done
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, portal.ErrServer, "the answer that led to the wait is kept")
		assert.ErrorContains(t, err, "[attempts: 1; context canceled]")
		var retryErr *portal.RetryError
		require.ErrorAs(t, err, &retryErr)
		assert.Equal(t, context.Canceled, retryErr.Reason)
		assert.Equal(t, 1, s.attempts())
	})
}

// TestStalledAttemptIsRetried: an attempt that gets no answer costs its
// timeout (30s), not the call.
func TestStalledAttemptIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{hang: true}, {status: 201}}}
		start := time.Now()
		link, err := scriptedClient(t, s, portal.WithRetryBackoff(time.Nanosecond, time.Nanosecond)).
			GenerateLink(context.Background(), opts)
		require.NoError(t, err)
		assert.Equal(t, recordedLink, link.Link)
		assert.Equal(t, 2, s.attempts())
		assert.Equal(t, 30*time.Second, time.Since(start).Round(time.Millisecond))
	})
}

// TestAttemptTimeoutsAreTheirOwnError: when every attempt stalls, the error
// says that each attempt timed out, distinct from the caller's deadline.
func TestAttemptTimeoutsAreTheirOwnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{hang: true}}}
		start := time.Now()
		_, err := scriptedClient(t, s).GenerateLink(context.Background(), opts)
		assert.ErrorIs(t, err, portal.ErrAttemptTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "a timeout, to a caller who asks")
		assert.Equal(t, "portal: no answer within 30s, the bound on each attempt: context deadline exceeded "+
			"[attempts: 3; no retries left]", err.Error())
		assert.Equal(t, 3, s.attempts())
		assert.GreaterOrEqual(t, time.Since(start), 90*time.Second)
	})
}

func TestCallersDeadlineEndsTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{hang: true}, {status: 201}}}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := scriptedClient(t, s).GenerateLink(ctx, opts)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, portal.ErrAttemptTimeout)
		assert.NotErrorAs(t, err, new(*portal.RetryError), "nothing stopped retries early: the caller did")
		assert.Equal(t, 1, s.attempts(), "the caller's deadline is final")
		assert.Equal(t, 2*time.Second, time.Since(start))
	})
}

func TestRetryAfterValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for value, want := range map[string]time.Duration{
			"0": 0, "7": 7 * time.Second, " 12 ": 12 * time.Second, "-3": 0, "1.5": 0, "soon": 0, "": 0,
			"99999999999999999999999": 24 * time.Hour, "86401": 24 * time.Hour,
			time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat): 90 * time.Second,
			time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat):       0,
		} {
			s := &script{steps: []step{{status: 429, header: map[string]string{"Retry-After": value}}}}
			_, err := scriptedClient(t, s, portal.WithMaxRetries(0)).GenerateLink(context.Background(), opts)
			var apiErr *portal.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, want, apiErr.RetryAfter, "Retry-After: %q", value)
		}
	})
}
