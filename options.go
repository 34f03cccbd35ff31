package portal

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	retry       retryPolicy
	baseURL     string
	baseURLFrom string // where baseURL came from, for errors
	httpClient  *http.Client
}

// WithBaseURL sets the API's address, for a mock or a proxy, overriding
// WORKOS_BASE_URL. It must be https, since the key would travel in clear
// over plain http, which is allowed only to a loopback IP (127.0.0.1,
// [::1]) or, with a test key (sk_test_), to localhost or a single-label
// host name: a mock's service name in Compose or Kubernetes, such as
// http://portal-mock:8484. The client's own transport sends plain http
// through no proxy. A path prefix is kept.
func WithBaseURL(baseURL string) Option {
	return func(s *settings) error {
		s.baseURL, s.baseURLFrom = baseURL, "WithBaseURL"
		return nil
	}
}

// WithHTTPClient sends requests through hc's transport and timeout, for
// custom TLS roots, a proxy or tracing; nil means the client's own. The
// client uses a copy of hc that follows no redirect, nor the key with it.
// The transport must honour the request's context, as net/http's does: a
// call's bounds (the context's deadline, each attempt's 30 seconds) hold
// only through a transport that returns when the context ends.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		s.httpClient = hc
		return nil
	}
}

// WithMaxRetries sets how often a failure that may pass is retried: 0 to 10 (default 2).
func WithMaxRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 || n > retryLimit {
			return fmt.Errorf("portal: WithMaxRetries(%d): want 0 to %d", n, retryLimit)
		}
		s.retry.maxRetries = n
		return nil
	}
}

// WithRetryBackoff sets the exponential backoff: retry n (from 0) waits a
// random time up to min(limit, base×2ⁿ), unless the server sent
// Retry-After. The defaults are 500ms and 8s.
func WithRetryBackoff(base, limit time.Duration) Option {
	return func(s *settings) error {
		if base <= 0 || limit < base {
			return fmt.Errorf("portal: WithRetryBackoff(%v, %v): want 0 < base <= limit", base, limit)
		}
		s.retry.backoffBase, s.retry.backoffCap = base, limit
		return nil
	}
}

// endpoint checks the base URL and returns the generate-link URL under it.
// Its errors mask key in the URL, where it may have been pasted by mistake.
func (s *settings) endpoint(key string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s.baseURL, "/"))
	var rule string
	switch {
	case err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http":
		rule = "want an absolute https URL, such as " + DefaultBaseURL
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		rule = "want no user info, query or fragment"
	case hidesKey(s.baseURL, key):
		rule = "want no API key in it, where every log on the way would see it"
	case u.Scheme == "http" && !plainHTTPAllowed(u.Hostname(), key):
		rule = "plain http, which carries the key in clear, is allowed only to a loopback IP or, with an " +
			"sk_test_ key, to localhost or a single-label host name such as a Compose service (http://portal-mock:8484)"
	default:
		return u.JoinPath("portal", "generate_link"), nil
	}
	return nil, fmt.Errorf("portal: %s %s: %s", s.baseURLFrom, quote(s.baseURL, key), rule)
}

// plainHTTPAllowed reports whether key may cross plain http to host. Any
// key may go to a loopback IP, which never leaves the machine. A test key
// may also go to a name that stays in a private network: localhost, or a
// single label, such as a Compose service's name. A name is resolved by
// DNS, which a hostile network answers (even for localhost, where
// /etc/hosts lacks it), so a live key never goes to one in clear; nor does
// any key to a dotted name, *.localhost among them.
func plainHTTPAllowed(host, key string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return strings.HasPrefix(key, "sk_test_") && (strings.EqualFold(host, "localhost") || isLabel(host))
}

// isLabel reports whether host is one DNS label that starts with a letter,
// as RFC 952's host names do, so that no resolver reads it as an IPv4
// address ("1234", "0x0a000001"): letters, digits and inner hyphens.
func isLabel(host string) bool {
	for i, r := range host {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		switch {
		case i == 0 && !letter, i == len(host)-1 && r == '-':
			return false
		case !letter && !('0' <= r && r <= '9') && r != '-':
			return false
		}
	}
	return host != ""
}
