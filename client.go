package portal

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Client generates Admin Portal links. Build one with NewClient at start-up
// and share it: it is safe for concurrent use and keeps a pool of
// connections to the API.
//
// Printing a Client with any fmt verb or logging it with slog shows its base
// URL and a mask in place of the API key.
type Client struct {
	baseURL string // for printing
	// request is the template every attempt copies: parsing the URL and
	// setting up a request once instead of per call is measurably cheaper.
	request    *http.Request
	apiKey     string   // only to scrub it from error text a proxy might echo
	insecure   bool     // WithInsecureHTTP: plain http links from a remote mock are accepted too
	authHeader []string // "Bearer <key>", shared by all requests, never modified
	userAgent  []string
	httpClient *http.Client
	limiter    *connLimiter // of the library's own transport; nil with WithHTTPClient
	// attemptTimeout bounds each attempt of the library's own HTTP client.
	// It is applied through the request's context rather than
	// http.Client.Timeout, which costs a dozen allocations per request.
	attemptTimeout time.Duration
	maxRetries     int
	timeout        time.Duration
	logger         *slog.Logger
	retry          retryPolicy
	budget         *retryBudget // nil when disabled

	// Seams for tests: the clock that stamps ExpiresAt and reads
	// Retry-After dates, and the wait between attempts.
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// NewClient returns a Client that authenticates with apiKey, or with
// WORKOS_API_KEY when apiKey is empty. The base URL is WORKOS_BASE_URL when
// set, else DefaultBaseURL; WithBaseURL overrides both. Any invalid setting
// is reported here, so a misconfigured service fails at start-up.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		apiKey = os.Getenv(EnvAPIKey)
	}
	if strings.TrimSpace(apiKey) == "" {
		return nil, ErrNoAPIKey
	}
	for i := 0; i < len(apiKey); i++ {
		if apiKey[i] <= ' ' || apiKey[i] > '~' {
			// Not echoed: even a malformed key is a secret.
			return nil, errors.New("portal: the API key has spaces or characters that are not printable ASCII")
		}
	}
	s := settings{
		baseURL:       DefaultBaseURL,
		maxRetries:    DefaultMaxRetries,
		backoffBase:   500 * time.Millisecond,
		backoffMax:    8 * time.Second,
		maxRetryAfter: DefaultMaxRetryAfter,
		budgetSize:    DefaultRetryBudget,
		budgetRefill:  DefaultRetryBudgetRefill,
	}
	if env := os.Getenv(EnvBaseURL); env != "" {
		s.baseURL, s.baseURLEnv = env, true
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
	request, err := http.NewRequest(http.MethodPost, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("portal: base URL: %w", err)
	}
	c := &Client{
		request:    request,
		baseURL:    strings.TrimSuffix(endpoint, "/portal/generate_link"),
		apiKey:     apiKey,
		insecure:   s.insecure,
		authHeader: []string{"Bearer " + apiKey},
		userAgent:  []string{s.userAgent()},
		maxRetries: s.maxRetries,
		timeout:    s.timeout,
		logger:     s.logger,
		retry: retryPolicy{
			base:          s.backoffBase,
			max:           s.backoffMax,
			maxRetryAfter: s.maxRetryAfter,
			jitter:        randomJitter,
		},
		now:   time.Now,
		sleep: sleepContext,
	}
	switch {
	case s.httpClient == nil && s.connectionsOf != nil:
		c.limiter, c.httpClient = s.connectionsOf.limiter, s.connectionsOf.httpClient
		c.attemptTimeout = DefaultAttemptTimeout
	case s.httpClient == nil:
		c.limiter = &connLimiter{dial: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext}
		c.httpClient = noRedirects(&http.Client{Transport: newTransport(c.limiter.DialContext)})
		c.attemptTimeout = DefaultAttemptTimeout
	default:
		c.httpClient = noRedirects(s.httpClient)
	}
	if s.budgetSize > 0 {
		c.budget = newRetryBudget(s.budgetSize, s.budgetRefillMillis())
	}
	return c, nil
}

// noRedirects returns a copy of hc that returns a redirect response as it is
// instead of following it, so that the Authorization header goes nowhere but
// the API.
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// newTransport is tuned for a client shared by many handlers: Go's default
// keeps only two idle connections per host, so under concurrent load most
// calls would open (and TLS-handshake) a new connection and close it after.
// The dialer is a connLimiter's, which keeps bursts from opening more
// connections than there are callers. Over HTTP/2, which the API speaks
// over TLS, one connection carries many calls.
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: DefaultAttemptTimeout,
	}
}

// GenerateLink asks the API for an Admin Portal link for opts.Organization
// and opts.Intent. It validates opts first and sends nothing if they are
// invalid ([*ValidationError]). Rate limits, 500, 502, 503, 504 and network
// failures are retried with backoff, all attempts carrying one
// Idempotency-Key; other API answers are an [*APIError]. The context bounds
// the whole call, waits included: a retry that could not finish before its
// deadline is not attempted, and the last error is returned instead.
func (c *Client) GenerateLink(ctx context.Context, opts GenerateLinkOpts, callOpts ...CallOption) (*Link, error) {
	if c == nil || c.httpClient == nil {
		return nil, errors.New("portal: GenerateLink on a Client not made by NewClient")
	}
	if ctx == nil {
		return nil, errors.New("portal: GenerateLink: nil context")
	}
	call := callSettings{maxRetries: c.maxRetries, timeout: c.timeout}
	for _, opt := range callOpts {
		if opt == nil {
			continue
		}
		if err := opt(&call); err != nil {
			return nil, err
		}
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if call.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, call.timeout)
		defer cancel()
	}
	if call.idempotencyKey == "" {
		call.idempotencyKey = newIdempotencyKey()
	}
	body := appendRequestBody(make([]byte, 0, 256), &opts)
	header := http.Header{
		"Authorization":   c.authHeader,
		"Content-Type":    jsonMediaType,
		"Accept":          jsonMediaType,
		"User-Agent":      c.userAgent,
		"Idempotency-Key": {call.idempotencyKey},
	}
	getBody := func() (io.ReadCloser, error) { return newRequestBody(body), nil }
	for retry := 0; ; retry++ {
		link, failure := c.attempt(ctx, body, header, getBody, retry+1)
		if failure == nil {
			c.budget.succeeded()
			return link, nil
		}
		if !failure.retryable || retry >= call.maxRetries {
			return nil, failure.err
		}
		var retryAfter time.Duration
		if apiErr, ok := failure.err.(*APIError); ok {
			retryAfter = apiErr.RetryAfter
		}
		wait, ok := c.retry.wait(retry, retryAfter)
		if !ok {
			return nil, failure.err
		}
		if deadline, ok := ctx.Deadline(); ok && c.now().Add(wait).After(deadline) {
			return nil, failure.err
		}
		if !c.budget.take() {
			return nil, failure.err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("portal: %w while waiting to retry after: %w", err, failure.err)
		}
	}
}

// CloseIdleConnections closes the client's idle connections to the API,
// for a graceful shutdown or a test that checks for leaked goroutines.
// Calls in flight are not affected, and the client stays usable.
func (c *Client) CloseIdleConnections() {
	if c != nil && c.httpClient != nil {
		c.httpClient.CloseIdleConnections()
	}
}

var jsonMediaType = []string{"application/json"}

// failure is why an attempt did not produce a link.
type failure struct {
	err       error
	retryable bool
}

// attempt makes one HTTP request and reads its answer.
func (c *Client) attempt(ctx context.Context, body []byte, header http.Header, getBody func() (io.ReadCloser, error), number int) (*Link, *failure) {
	start := time.Now()
	if c.attemptTimeout > 0 {
		if deadline, ok := ctx.Deadline(); !ok || deadline.Sub(start) > c.attemptTimeout {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.attemptTimeout)
			defer cancel()
		}
	}
	var ac *attemptContext
	if c.limiter != nil {
		ac = c.limiter.beginAttempt(ctx)
		defer c.limiter.endAttempt()
		ctx = ac
	}
	req := c.request.WithContext(ctx)
	req.Header = header
	req.Body = newRequestBody(body)
	req.GetBody = getBody // lets net/http replay the body on a connection that died unused
	req.ContentLength = int64(len(body))
	resp, err := c.httpClient.Do(req)
	if ac != nil {
		c.limiter.served(ac)
	}
	if err != nil {
		f := &failure{err: fmt.Errorf("portal: %w", err), retryable: retryableError(ctx, err)}
		c.logAttempt(ctx, number, 0, "", start, f.err)
		return nil, f
	}
	requestID := resp.Header.Get("X-Request-Id")
	link, f := c.readResponse(ctx, resp, requestID)
	if f != nil {
		c.logAttempt(ctx, number, resp.StatusCode, requestID, start, f.err)
		return nil, f
	}
	c.logAttempt(ctx, number, resp.StatusCode, requestID, start, nil)
	return link, nil
}

// readResponse turns a response into a link or a failure, and closes its
// body in a way that lets the connection be reused.
func (c *Client) readResponse(ctx context.Context, resp *http.Response, requestID string) (*Link, *failure) {
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	limit := MaxErrorBodySize
	if ok {
		limit = MaxSuccessBodySize
	}
	buf := getBuffer()
	defer putBuffer(buf)
	body, readErr := readBody(resp.Body, (*buf)[:0], limit)
	*buf = body[:0]
	closeBody(resp.Body, readErr)

	if !ok {
		apiErr := newAPIError(resp.StatusCode, resp.Header, body, c.now())
		apiErr.Message = c.scrub(apiErr.Message)
		return nil, &failure{err: apiErr, retryable: retryableStatus(resp.StatusCode)}
	}
	switch {
	case errors.Is(readErr, errBodyTooLarge):
		return nil, c.invalidResponse(resp.StatusCode, requestID, fmt.Sprintf("the body is larger than %d bytes", MaxSuccessBodySize))
	case readErr != nil:
		// A connection that broke mid-body: the API may well answer the
		// next attempt, which the Idempotency-Key makes safe.
		return nil, &failure{err: fmt.Errorf("portal: reading the response (request ID %q): %w", requestID, readErr), retryable: retryableError(ctx, readErr)}
	}
	link, found := parseLink(body)
	switch {
	case !found:
		return nil, c.invalidResponse(resp.StatusCode, requestID, "the body is not a JSON object with a link: "+excerpt(body))
	case webURLRule(link, c.insecure) != "":
		return nil, c.invalidResponse(resp.StatusCode, requestID, "the link is not an absolute https URL")
	}
	return &Link{Link: link, ExpiresAt: c.now().Add(LinkLifetime)}, nil
}

// invalidResponse is the failure for a 2xx answer without a usable link. It
// is not retried: the server answered, and asking again would repeat the
// answer.
func (c *Client) invalidResponse(status int, requestID, why string) *failure {
	return &failure{err: &APIError{
		StatusCode: status,
		Code:       "invalid_response",
		Message:    c.scrub(why),
		RequestID:  requestID,
	}}
}

// scrub removes the API key from text that came from the server, in case a
// proxy echoes the request headers into an error page.
func (c *Client) scrub(s string) string {
	if strings.Contains(s, c.apiKey) {
		return strings.ReplaceAll(s, c.apiKey, redacted)
	}
	return s
}

func (c *Client) logAttempt(ctx context.Context, attempt, status int, requestID string, start time.Time, err error) {
	if c.logger == nil {
		return
	}
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelWarn
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", http.MethodPost),
		slog.String("path", "/portal/generate_link"),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", time.Since(start)),
		slog.String("request_id", requestID),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, level, "portal: generate link attempt", attrs...)
}

// newRequestBody wraps a request body the way net/http recognises as in
// memory, so that it writes headers and body in one go.
func newRequestBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

var errBodyTooLarge = errors.New("portal: response body too large")

// readBody appends r's content to buf, up to limit bytes; past the limit it
// returns what it has and errBodyTooLarge.
func readBody(r io.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > limit:
			return buf[:limit], errBodyTooLarge
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
}

// closeBody closes a response body. A body read to its end lets net/http
// reuse the connection; one abandoned early is drained a little further,
// enough for a modest leftover but never a hostile stream.
func closeBody(body io.ReadCloser, readErr error) {
	if errors.Is(readErr, errBodyTooLarge) {
		_, _ = io.CopyN(io.Discard, body, MaxErrorBodySize)
	}
	_ = body.Close()
}

// bufferPool recycles response buffers; bodies are small and read on every
// call, so this keeps the steady state free of their allocation.
var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= MaxErrorBodySize+1 {
		bufferPool.Put(b)
	}
}

// newIdempotencyKey returns a random (version 4) UUID.
func newIdempotencyKey() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails since Go 1.24; a zero key is still a valid header
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hexDigits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[b>>4], hexDigits[b&0x0f]
		j += 2
	}
	return string(out[:])
}

const redacted = "[REDACTED]"

// String describes the client without its API key. The methods that print a
// Client have value receivers so that they cover Client values as well as
// pointers; fmt would otherwise print the unexported fields, the API key
// among them, for %v, %+v and %#v.
func (c Client) String() string {
	return `portal.Client{BaseURL: "` + c.baseURL + `", APIKey: "` + redacted + `"}`
}

// GoString is String, so that %#v does not print the key either.
func (c Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Client) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue makes slog log the client without its API key.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.baseURL), slog.String("api_key", redacted))
}
