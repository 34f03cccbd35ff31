package portal

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"
)

// Defaults of a Client built by NewClient with no options.
const (
	// DefaultBaseURL is the API's address; WORKOS_BASE_URL replaces it.
	DefaultBaseURL = "https://api.workos.com"
	// DefaultMaxRetries is how many times a failed call is retried.
	DefaultMaxRetries = 2
	// DefaultAttemptTimeout bounds one HTTP attempt of the default HTTP
	// client, so that a hung connection cannot hold a handler forever.
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After the client waits out.
	// A server asking for more is answered at once with its error, whose
	// RetryAfter tells the caller when to come back.
	DefaultMaxRetryAfter = 20 * time.Second
	// DefaultRetryBudget is how many retries a client may make in a burst
	// before its retry budget runs dry; see WithRetryBudget.
	DefaultRetryBudget = 50
	// DefaultRetryBudgetRefill is how much of a retry each successful call
	// earns back.
	DefaultRetryBudgetRefill = 0.1
	// maxMaxRetries bounds WithMaxRetries: beyond it a retry loop only adds
	// load to an API that is already failing.
	maxMaxRetries = 10
)

// Environment variables read by NewClient, named as in the WorkOS SDKs.
const (
	EnvAPIKey  = "WORKOS_API_KEY"
	EnvBaseURL = "WORKOS_BASE_URL"
)

// An Option configures a Client in NewClient. An option given a bad value
// makes NewClient fail, so a misconfiguration shows at start-up.
type Option func(*settings) error

// settings collects the options before NewClient turns them into a Client.
type settings struct {
	baseURL       string
	baseURLEnv    bool // baseURL came from WORKOS_BASE_URL, named in errors
	insecure      bool
	httpClient    *http.Client
	maxRetries    int
	timeout       time.Duration
	logger        *slog.Logger
	appInfo       string
	backoffBase   time.Duration
	backoffMax    time.Duration
	maxRetryAfter time.Duration
	budgetSize    int
	budgetRefill  float64
	connectionsOf *Client // a client whose transport to share, for the default client
}

// WithBaseURL sets the API's address, for a proxy or a mock server; it
// overrides WORKOS_BASE_URL. It must be an absolute https URL, or http for a
// loopback host (see WithInsecureHTTP); a path prefix is kept.
func WithBaseURL(baseURL string) Option {
	return func(s *settings) error {
		s.baseURL, s.baseURLEnv = baseURL, false
		return nil
	}
}

// WithInsecureHTTP allows a plain http:// base URL on a host other than
// loopback, such as a mock server in a CI network, and accepts the plain
// http links such a mock issues. The API key then crosses the network in
// clear text, so never use it against the real API.
func WithInsecureHTTP() Option {
	return func(s *settings) error {
		s.insecure = true
		return nil
	}
}

// WithHTTPClient makes the client send requests through hc, for a proxy,
// custom TLS roots or a tracing transport. The client works on a copy of hc
// that refuses redirects, so the API key never follows one to another host.
// hc's Timeout, if any, bounds each attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("portal: WithHTTPClient: nil *http.Client")
		}
		s.httpClient = hc
		return nil
	}
}

// WithMaxRetries sets how many times a failed call is retried (0 to 10;
// default 2). Only rate limits, 500, 502, 503, 504 and network failures are
// retried.
func WithMaxRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 || n > maxMaxRetries {
			return fmt.Errorf("portal: WithMaxRetries(%d): want 0 to %d", n, maxMaxRetries)
		}
		s.maxRetries = n
		return nil
	}
}

// WithTimeout bounds every GenerateLink call, all attempts and waits
// included, on top of the caller's context. Zero means no bound beyond the
// context and the per-attempt timeout.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("portal: WithTimeout(%v): want a positive duration or zero", d)
		}
		s.timeout = d
		return nil
	}
}

// WithLogger makes the client log one record per HTTP attempt: method, path,
// status, attempt number, duration and request ID, at Debug level for
// successes and Warn for failures. The API key and the link are never
// logged. A nil logger turns logging off, which is the default.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		s.logger = l
		return nil
	}
}

// WithAppInfo appends "name/version" to the User-Agent header, so the API's
// logs can tell your application's traffic apart. Both must be non-empty
// tokens without spaces or slashes.
func WithAppInfo(name, version string) Option {
	return func(s *settings) error {
		if !isUserAgentToken(name) || !isUserAgentToken(version) {
			return fmt.Errorf("portal: WithAppInfo(%q, %q): want non-empty tokens of letters, digits and .-_+", name, version)
		}
		s.appInfo = name + "/" + version
		return nil
	}
}

func isUserAgentToken(s string) bool {
	return isToken(s, 64, ".-_+")
}

// WithRetryBackoff sets the exponential backoff between retries: the n-th
// retry waits a random duration between zero and min(max, base×2ⁿ) ("full
// jitter", so that many clients failing at once do not retry in step).
// Defaults: 500ms and 8s. Tests can make retries instant with tiny values.
func WithRetryBackoff(base, max time.Duration) Option {
	return func(s *settings) error {
		if base <= 0 || max < base {
			return fmt.Errorf("portal: WithRetryBackoff(%v, %v): want 0 < base <= max", base, max)
		}
		s.backoffBase, s.backoffMax = base, max
		return nil
	}
}

// WithMaxRetryAfter sets the longest Retry-After the client waits out before
// retrying (default 20s). When the server asks for a longer wait, the call
// returns the error at once, with APIError.RetryAfter saying how long.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("portal: WithMaxRetryAfter(%v): want a positive duration or zero", d)
		}
		s.maxRetryAfter = d
		return nil
	}
}

// WithRetryBudget sets the client-wide retry budget, which stops retries from
// multiplying the load on an API that is down. The budget holds up to
// retries tokens and starts full; each retry spends one and each successful
// call earns back refill (0 < refill <= 1). When it is empty, failing calls
// return their error at once instead of retrying. The defaults (50 and 0.1)
// never refuse occasional retries: a client can keep retrying one call in ten
// indefinitely.
func WithRetryBudget(retries int, refill float64) Option {
	return func(s *settings) error {
		if retries < 1 || !(refill > 0 && refill <= 1) {
			return fmt.Errorf("portal: WithRetryBudget(%d, %v): want retries >= 1 and 0 < refill <= 1", retries, refill)
		}
		s.budgetSize, s.budgetRefill = retries, refill
		return nil
	}
}

// WithoutRetryBudget turns the retry budget off: every call may retry
// WithMaxRetries times, however many others are failing.
func WithoutRetryBudget() Option {
	return func(s *settings) error {
		s.budgetSize = 0
		return nil
	}
}

// withConnectionsOf makes the new client share prev's transport (and its
// connection limiter), when neither uses a caller's HTTP client. It lets the
// default client be rebuilt for a new key without dropping its connections.
func withConnectionsOf(prev *Client) Option {
	return func(s *settings) error {
		if prev != nil && prev.limiter != nil {
			s.connectionsOf = prev
		}
		return nil
	}
}

// A CallOption changes one GenerateLink call. CallOptions come after the
// GenerateLinkOpts, so the plain two-argument call stays valid.
type CallOption func(*callSettings) error

type callSettings struct {
	idempotencyKey string
	maxRetries     int
	timeout        time.Duration
}

// IdempotencyKey sends key as the Idempotency-Key header instead of a fresh
// random one, so that a call repeated by the caller (after a crash, say) is
// recognised by the API as the same call. Use a value unique to the logical
// operation, such as a UUID; it must be 1 to 255 printable ASCII characters.
func IdempotencyKey(key string) CallOption {
	return func(c *callSettings) error {
		if rule := idempotencyKeyRule(key); rule != "" {
			return invalid("Idempotency-Key", rule, key)
		}
		c.idempotencyKey = key
		return nil
	}
}

// CallMaxRetries overrides the client's WithMaxRetries for one call (0 to 10).
func CallMaxRetries(n int) CallOption {
	return func(c *callSettings) error {
		if n < 0 || n > maxMaxRetries {
			return fmt.Errorf("portal: CallMaxRetries(%d): want 0 to %d", n, maxMaxRetries)
		}
		c.maxRetries = n
		return nil
	}
}

// CallTimeout bounds one call, all attempts and waits included, overriding
// the client's WithTimeout.
func CallTimeout(d time.Duration) CallOption {
	return func(c *callSettings) error {
		if d <= 0 {
			return fmt.Errorf("portal: CallTimeout(%v): want a positive duration", d)
		}
		c.timeout = d
		return nil
	}
}

// userAgent returns the User-Agent header for the settings.
func (s *settings) userAgent() string {
	ua := "adminportal-go/" + Version
	if s.appInfo != "" {
		ua += " " + s.appInfo
	}
	return ua
}

// endpoint checks the base URL and returns the generate-link URL under it.
func (s *settings) endpoint() (string, error) {
	source := "WithBaseURL"
	if s.baseURLEnv {
		source = EnvBaseURL
	}
	base := strings.TrimRight(s.baseURL, "/")
	if strings.ContainsAny(base, "?#") {
		return "", fmt.Errorf("portal: %s %q: want a base URL without query or fragment", source, s.baseURL)
	}
	switch rule := webURLRule(base, s.insecure); rule {
	case "":
	case ruleHTTPSOnly:
		return "", fmt.Errorf("portal: %s %q: plain http is allowed only for loopback hosts; use https, or WithInsecureHTTP for a mock server on another host", source, s.baseURL)
	default:
		return "", fmt.Errorf("portal: %s %q: %s", source, s.baseURL, rule)
	}
	return base + "/portal/generate_link", nil
}

// budgetRefillMillis converts the refill fraction to the budget's integer units.
func (s *settings) budgetRefillMillis() int64 {
	return int64(math.Round(s.budgetRefill * 1000))
}
