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
	if apiKey == "" {
		return nil, ErrNoAPIKey
	}
	if strings.ContainsFunc(apiKey, func(r rune) bool { return r <= ' ' || r > '~' }) { // not quoted: a secret
		return nil, errors.New("portal: the API key has spaces or characters that are not printable ASCII")
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
// with one Idempotency-Key; a [*RetryError] says why retries stopped.
func (c *Client) GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error) {
	if c == nil || c.secret == nil || ctx == nil {
		return nil, errors.New("portal: GenerateLink needs a Client from NewClient and a context")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(opts) // strings, which cannot fail to encode
	idempotencyKey := rand.Text() // 128 random bits, the same for every attempt
	var retried error             // the failure that the attempt under way retries
	for attempts := 1; ; attempts++ {
		link, retryable, err := c.attempt(ctx, body, idempotencyKey)
		switch {
		case err == nil:
			return link, nil
		case !retryable && retried != nil && ctx.Err() != nil:
			reason := "the context ended attempt " + strconv.Itoa(attempts) + ": " + ctx.Err().Error()
			return nil, &RetryError{Attempts: attempts, Reason: reason, Err: retried, ContextErr: ctx.Err()}
		case !retryable:
			return nil, err
		}
		retried = err
		deadline, hasDeadline := ctx.Deadline()
		wait, reason := c.retry.next(err, attempts, hasDeadline, time.Until(deadline), mrand.Float64())
		if reason != "" {
			return nil, &RetryError{Attempts: attempts, Reason: reason, Err: err}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			reason := "the context ended the wait to retry: " + ctx.Err().Error()
			return nil, &RetryError{Attempts: attempts, Reason: reason, Err: err, ContextErr: ctx.Err()}
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
// failure may pass on another attempt.
func (c *Client) attempt(ctx context.Context, body []byte, idempotencyKey string) (*Link, bool, error) {
	key := c.secret()
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
	if err == nil { // read it all, as a connection that breaks mid-answer may give one on the next attempt
		defer resp.Body.Close()
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	}
	if err != nil {
		if ctx.Err() == nil && attemptCtx.Err() != nil {
			return nil, true, ErrAttemptTimeout
		}
		return nil, retryableError(ctx, err), transportError(err, key)
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
	if err := json.Unmarshal(data, &out); err != nil || len(data) > maxBody || !isPageURL(out.Link) {
		return nil, false, &APIError{StatusCode: status, RequestID: clean(requestID, key), Message: "the body is " +
			"not a JSON object of at most 64 KiB with an http or https link: " + clean(string(data), key)}
	}
	return &Link{Link: out.Link}, false, nil
}

// transportError wraps a transport error, unless its text quotes the key,
// as some of net/http's errors quote what a server sent: the wrapped error
// would hand it out.
func transportError(err error, key string) error {
	if hidesKey(err.Error(), key) {
		return errors.New("portal: the transport failed with an error that quotes the API key: " + redacted)
	}
	return fmt.Errorf("portal: %w", err)
}
