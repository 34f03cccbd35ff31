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
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
)

// Client generates Admin Portal links. Build one at start-up and share it:
// it is safe for concurrent use. No fmt verb or slog handler prints its key.
type Client struct {
	retryPolicy
	httpClient *http.Client // a copy that follows no redirect
	logger     *slog.Logger
	endpoint   string
	secret     func() (key string, header []string) // a func, which no fmt verb prints but as an address
	userAgent  []string
	budget     retryBudget
}

// NewClient returns a Client with apiKey (or WORKOS_API_KEY when it is
// empty) for WORKOS_BASE_URL or DefaultBaseURL, unless WithBaseURL says
// otherwise. A missing key or a bad option fails here, at start-up.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	apiKey = cmp.Or(apiKey, os.Getenv(EnvAPIKey))
	if apiKey == "" {
		return nil, ErrNoAPIKey
	}
	if strings.ContainsFunc(apiKey, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return nil, errors.New("portal: the API key has spaces or characters that are not printable ASCII") // not quoted: it is a secret
	}
	s := settings{baseURL: DefaultBaseURL, baseURLFrom: "DefaultBaseURL",
		retryPolicy: retryPolicy{defaultMaxRetries, defaultBackoffBase, defaultBackoffMax}}
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
	endpoint, err := s.endpoint()
	if err != nil {
		return nil, err
	}
	hc := http.Client{Transport: sharedTransport()}
	if s.httpClient != nil {
		hc = *s.httpClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	header := []string{"Bearer " + apiKey}
	return &Client{retryPolicy: s.retryPolicy, httpClient: &hc, logger: s.logger, endpoint: endpoint.String(),
		secret: func() (string, []string) { return apiKey, header }, userAgent: []string{"adminportal-go/" + Version + s.appInfo}}, nil
}

// GenerateLink asks the API for a link for opts. Options that break a rule
// are a [*ValidationError] and nothing is sent; an answer outside 2xx is an
// [*APIError]. Failures that may pass are retried, with one Idempotency-Key
// for every attempt, within ctx's deadline.
func (c *Client) GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error) {
	if c == nil || c.secret == nil || ctx == nil {
		return nil, errors.New("portal: GenerateLink needs a Client from NewClient and a context")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(opts)
	if err != nil {
		return nil, fmt.Errorf("portal: encoding the request: %w", err)
	}
	idempotencyKey := rand.Text() // 128 random bits, the same for every attempt
	for retries := 0; ; retries++ {
		link, retryable, err := c.attempt(ctx, body, idempotencyKey, retries+1)
		if err == nil {
			c.budget.earn(successRefund)
			return link, nil
		}
		wait, ok := c.wait(ctx, err, retryable, retries, &c.budget)
		if !ok {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			c.budget.earn(retryCost) // the retry was not made
			return nil, fmt.Errorf("%w; then %w while waiting to retry", err, ctx.Err())
		}
	}
}

// CloseIdleConnections closes the client's idle connections (shared by the
// clients built without WithHTTPClient), for a clean shutdown.
func (c *Client) CloseIdleConnections() {
	if c != nil && c.httpClient != nil {
		c.httpClient.CloseIdleConnections()
	}
}

// maxBody bounds what is read of an answer, so a proxy cannot fill memory.
const maxBody = 64 << 10

var jsonType = []string{"application/json"}

// attempt makes one request and reads its answer, reporting whether a
// failure may pass on another attempt.
func (c *Client) attempt(ctx context.Context, body []byte, idempotencyKey string, n int) (link *Link, retryable bool, err error) {
	start, status, requestID := time.Now(), 0, ""
	key, auth := c.secret()
	defer func() { c.log(ctx, n, status, requestID, start, err) }()
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	actx = context.WithValue(actx, dialWaitKey{}, actx) // for sharedTransport's dialer
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("portal: %w", err)
	}
	req.Header = http.Header{"Authorization": auth, "Content-Type": jsonType, "Accept": jsonType,
		"User-Agent": c.userAgent, "Idempotency-Key": {idempotencyKey}}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, retryableError(ctx, err), transportError(err, key)
	}
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	_ = resp.Body.Close()
	status, requestID = resp.StatusCode, clean(resp.Header.Get("X-Request-Id"), key, maxShortText)
	var out struct {
		Link *string `json:"link"`
	}
	switch {
	case status < 200 || status > 299:
		apiErr := newAPIError(status, requestID, data, key)
		apiErr.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, retryableStatus(status), apiErr
	case readErr != nil: // the connection broke mid-answer; the next attempt may get one
		return nil, retryableError(ctx, readErr), transportError(readErr, key)
	case len(data) > maxBody:
		err = &APIError{StatusCode: status, Message: "the body is longer than 64 KiB", RequestID: requestID}
	case json.Unmarshal(data, &out) != nil || out.Link == nil:
		err = &APIError{StatusCode: status, RequestID: requestID,
			Message: "the body is not a JSON object with a link: " + clean(string(data), key, maxExcerpt)}
	case !isPageURL(*out.Link):
		err = &APIError{StatusCode: status, Message: "the link is not an absolute http or https URL", RequestID: requestID}
	default:
		return &Link{Link: *out.Link}, false, nil
	}
	return nil, false, err // the server answered: asking again would get the same
}

// transportError wraps a transport error, unless it quotes the key (some of
// net/http's quote the server): then its cleaned text replaces the chain.
func transportError(err error, key string) error {
	if text := err.Error(); maskKey(text, key) != text {
		return errors.New("portal: " + clean(text, key, 1024))
	}
	return fmt.Errorf("portal: %w", err)
}

func (c *Client) log(ctx context.Context, attempt, status int, requestID string, start time.Time, err error) {
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelWarn
	}
	if c.logger == nil || !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.Int("attempt", attempt), slog.Int("status", status),
		slog.Duration("duration", time.Since(start)), slog.String("request_id", requestID)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, level, "portal: generate link", attrs...)
}
