package portal

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// DefaultBaseURL is the API's address, unless WORKOS_BASE_URL or WithBaseURL.
const DefaultBaseURL = "https://api.workos.com"

// Environment variables that NewClient reads, named as in the WorkOS SDKs.
const (
	EnvAPIKey  = "WORKOS_API_KEY"  // the API key, when NewClient or SetAPIKey is given none
	EnvBaseURL = "WORKOS_BASE_URL" // the API's address, unless WithBaseURL is given
)

// An Option configures a Client; a bad value makes NewClient fail.
type Option func(*settings) error

type settings struct {
	retryPolicy
	baseURL, baseURLFrom string // baseURLFrom names its source in errors
	httpClient           *http.Client
	logger               *slog.Logger
	appInfo              string
}

// WithBaseURL sets the API's address, for a proxy or a mock, overriding
// WORKOS_BASE_URL: https, or http for a loopback host such as localhost
// (else the key would cross the network in clear). A path prefix is kept.
func WithBaseURL(baseURL string) Option {
	return func(s *settings) error {
		s.baseURL, s.baseURLFrom = baseURL, "WithBaseURL"
		return nil
	}
}

// WithHTTPClient sends requests through hc's transport and timeout, for a
// proxy, custom TLS roots or tracing; nil means the default. The client uses
// a copy of hc that follows no redirect, so the key never follows one away.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		s.httpClient = hc
		return nil
	}
}

// WithMaxRetries sets how many times a failed call is retried, 0 to 10
// (default 2). Only failures that may pass are retried.
func WithMaxRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 || n > maxMaxRetries {
			return fmt.Errorf("portal: WithMaxRetries(%d): want 0 to %d", n, maxMaxRetries)
		}
		s.maxRetries = n
		return nil
	}
}

// WithRetryBackoff sets the exponential backoff: retry n (from 0) waits a
// random time up to min(max, base×2ⁿ), unless the server sent Retry-After.
// The defaults are 500ms and 8s.
func WithRetryBackoff(base, max time.Duration) Option {
	return func(s *settings) error {
		if base <= 0 || max < base {
			return fmt.Errorf("portal: WithRetryBackoff(%v, %v): want 0 < base <= max", base, max)
		}
		s.backoffBase, s.backoffMax = base, max
		return nil
	}
}

// WithLogger logs each attempt (Debug) or failed attempt (Warn): its number,
// status, duration, request ID and error, but never the key or the link.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		s.logger = l
		return nil
	}
}

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9.+_-]{1,64}$`)

// WithAppInfo adds "name/version" to the User-Agent header, to tell your
// application apart in the API's logs: each 1 to 64 letters, digits or ".+_-".
func WithAppInfo(name, version string) Option {
	return func(s *settings) error {
		if !tokenPattern.MatchString(name) || !tokenPattern.MatchString(version) {
			return fmt.Errorf("portal: WithAppInfo(%q, %q): want 1 to 64 letters, digits or .+_- each", name, version)
		}
		s.appInfo = " " + name + "/" + version
		return nil
	}
}

// endpoint checks the base URL and returns the generate-link URL under it.
func (s *settings) endpoint() (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s.baseURL, "/"))
	rule := ""
	switch {
	case err != nil || u.Hostname() == "" || u.Scheme != "https" && u.Scheme != "http":
		rule = "want an absolute https URL, such as " + DefaultBaseURL
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		rule = "want no user info, query or fragment"
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		rule = "plain http is allowed only for loopback hosts, since the API key would cross the network in clear; " +
			"serve a mock over https (portal-mock -tls) and trust its certificate with SSL_CERT_FILE"
	default:
		return u.JoinPath("portal", "generate_link"), nil
	}
	return nil, fmt.Errorf("portal: %s %q: %s", s.baseURLFrom, s.baseURL, rule)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	host = strings.ToLower(host)
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || ip != nil && ip.IsLoopback()
}
