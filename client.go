package portal

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Client generates Admin Portal links. Build one at start-up and share it:
// it is safe for concurrent use. No fmt verb or slog handler prints its key.
type Client struct {
	retry    retryPolicy
	endpoint string
	// Funcs, which fmt and dumpers such as testify's spew print as addresses,
	// hold the key and the transport, whose buffers hold the last request.
	secret    func() string
	send      func(*http.Request) (*http.Response, error)
	closeIdle func()
}

const userAgent = "adminportal-go/" + Version

// NewClient returns a Client with apiKey (or WORKOS_API_KEY, if empty) for
// WithBaseURL, WORKOS_BASE_URL or DefaultBaseURL. A missing key or a bad
// option fails here, at start-up.
//
// Without WithHTTPClient, a Client has a transport of its own, whose idle
// connections close once the Client is garbage, so that a program that
// builds one per request, against this advice, does not pile them up.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	apiKey = cmp.Or(apiKey, os.Getenv(EnvAPIKey))
	c, err := newClient(apiKey, opts)
	return c, safe(err, apiKey) // the one way out for every error, as for GenerateLink's
}

func newClient(apiKey string, opts []Option) (*Client, error) {
	if apiKey == "" {
		return nil, ErrNoAPIKey
	}
	if strings.ContainsFunc(apiKey, func(r rune) bool { return !isKeyChar(r) }) { // not quoted: a secret
		return nil, errors.New("portal: the API key has characters that no WorkOS key has: " +
			"want ASCII letters, digits, \"_\" and \"-\"")
	}
	s := settings{retry: defaultRetry, baseURL: DefaultBaseURL, baseURLFrom: "DefaultBaseURL"}
	if env := os.Getenv(EnvBaseURL); env != "" {
		s.baseURL, s.baseURLFrom = env, EnvBaseURL
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}
	endpoint, err := s.endpoint(apiKey)
	if err != nil {
		return nil, err
	}
	var hc http.Client
	var own *http.Transport
	if s.httpClient != nil {
		hc = *s.httpClient
	} else {
		own = newTransport(endpoint)
		hc.Transport = own
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{
		retry:     s.retry,
		endpoint:  endpoint.String(),
		secret:    func() string { return apiKey },
		send:      hc.Do,
		closeIdle: hc.CloseIdleConnections,
	}
	if own != nil {
		runtime.AddCleanup(c, (*http.Transport).CloseIdleConnections, own)
	}
	return c, nil
}

// GenerateLink asks the API for a link for opts. Options that break a rule
// are a [*ValidationError] and nothing is sent; an answer outside 2xx is an
// [*APIError]. Failures that may pass are retried within ctx's deadline,
// with one Idempotency-Key; a [*RetryError] says why retries stopped. The
// text of every error it returns is safe to log: printable, on one line of
// at most 1 KB, without the key.
func (c *Client) GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error) {
	if c == nil || c.secret == nil || ctx == nil {
		return nil, errors.New("portal: GenerateLink needs a Client from NewClient and a context")
	}
	key := c.secret()
	link, err := c.generateLink(ctx, opts, key)
	return link, safe(err, key) // the one way out for every error
}

// generateLink validates opts, then makes attempts until one succeeds or
// the retry policy says stop.
func (c *Client) generateLink(ctx context.Context, opts GenerateLinkOpts, key string) (*Link, error) {
	if err := opts.validate(key); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(opts) // strings, which cannot fail to encode
	idempotencyKey := rand.Text() // 128 random bits, the same for every attempt
	var retried error             // the failure that the attempt under way retries
	for attempts := 1; ; attempts++ {
		link, retryable, err := c.attempt(ctx, body, key, idempotencyKey)
		err = safe(err, key) // already, as a RetryError shows it
		switch {
		case err == nil:
			return link, nil
		case !retryable && retried != nil && ctx.Err() != nil: // the context ended a retry
			return nil, &RetryError{Attempts: attempts, Reason: ctx.Err(), Err: retried}
		case !retryable || c.retry.maxRetries == 0: // final, or no retry was ever possible
			return nil, err
		}
		retried = err
		deadline, hasDeadline := ctx.Deadline()
		wait, stop := c.retry.next(err, attempts, hasDeadline, time.Until(deadline), mrand.Float64())
		if stop != nil {
			return nil, &RetryError{Attempts: attempts, Reason: stop, Err: err}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, &RetryError{Attempts: attempts, Reason: ctx.Err(), Err: err}
		}
	}
}

// CloseIdleConnections closes the idle connections of the client's
// transport (its own, unless WithHTTPClient), for a clean shutdown.
func (c *Client) CloseIdleConnections() {
	if c != nil && c.closeIdle != nil {
		c.closeIdle()
	}
}

// maxBody bounds what is read of an answer; the transport bounds headers.
const maxBody = 64 << 10

// attempt makes one request and reads its answer, reporting whether a
// failure may pass on another attempt. Whatever the server does, it
// returns within ctx's deadline and the attempt's bound: the answer's body
// is closed when either ends, which ends any read of it.
func (c *Client) attempt(ctx context.Context, body []byte, key, idempotencyKey string) (*Link, bool, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(attemptCtx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("portal: %w", err)
	}
	req.Header = http.Header{
		"Authorization":   {"Bearer " + key},
		"Content-Type":    {"application/json"},
		"User-Agent":      {userAgent},
		"Idempotency-Key": {idempotencyKey},
	}
	resp, err := c.send(req)
	var data []byte
	if err == nil {
		defer resp.Body.Close()
		stop := context.AfterFunc(attemptCtx, func() { _ = resp.Body.Close() })
		defer stop()
		// A 1xx that net/http hands over is a 101, whose body is the raw
		// connection: there is no answer to read. Anything else is read
		// whole, as a connection that breaks mid-answer may give one on the
		// next attempt.
		if resp.StatusCode >= 200 {
			data, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		}
	}
	if err != nil {
		if ctx.Err() == nil && attemptCtx.Err() != nil {
			return nil, true, ErrAttemptTimeout
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) { // the body's closing cut a read no context governs
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return nil, retryableError(ctx, err), fmt.Errorf("portal: %w", err)
	}
	status := resp.StatusCode
	requestID := resp.Header.Get("X-Request-Id") // cleaned for an error only: a success does not show it
	if status < 200 || status > 299 {
		apiErr := newAPIError(status, requestID, data, key)
		apiErr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, retryableStatus(status), apiErr
	}
	var out struct {
		Link string `json:"link"`
	}
	// Whatever is wrong with a 2xx answer, asking again would get the same.
	// Its body is not quoted: it may hold a live link.
	if err := json.Unmarshal(data, &out); err != nil || len(data) > maxBody || !isLink(out.Link) {
		return nil, false, &APIError{StatusCode: status, RequestID: clean(requestID, key),
			Message: "the body (" + strconv.Itoa(len(data)) + " bytes) is not a JSON object of at most 64 KiB " +
				"with an http or https link"}
	}
	return &Link{Link: out.Link}, false, nil
}

// isLink reports whether the API's answer holds a link a browser can be
// sent to: an absolute http or https URL with a host.
func isLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsAny(s, " \t\r\n")
}
