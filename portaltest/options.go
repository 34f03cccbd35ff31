package portaltest

import (
	"strings"
	"time"
)

// An Option configures a Fake or a Server.
type Option func(*Fake)

// WithAPIKey makes the fake accept only key. Without it, the fake accepts
// any key that starts with "sk_test_", as a test environment's keys do, and
// "sk_example_123456789", the placeholder of the WorkOS documentation's
// snippets, so that they run as written.
func WithAPIKey(key string) Option {
	return func(f *Fake) { f.apiKey = key }
}

// WithOrganizations makes the fake know only the given organizations;
// others get the API's 400 for an unknown organization. Without it, every
// well-formed ID ("org_" and letters and digits) exists.
func WithOrganizations(ids ...string) Option {
	return func(f *Fake) {
		f.orgs = make(map[string]bool, len(ids))
		for _, id := range ids {
			f.orgs[id] = true
		}
	}
}

// WithClock replaces the fake's clock, which stamps requests and decides
// when links expire, so that a test outside a synctest bubble can pass the
// five-minute lifetime without waiting. Inside a bubble there is no need:
// the fake's clock is time.Now, the bubble's, and time.Sleep(5*time.Minute)
// expires a link. Latencies and waits follow time itself, the bubble's or
// the real one, never this clock.
func WithClock(now func() time.Time) Option {
	return func(f *Fake) { f.now = now }
}

// WithHosts adds names the fake answers to, such as the name another
// container reaches it by. Without them, a request whose Host header is not
// localhost, a loopback IP or the host of the fake's base URL gets a 421:
// a web page whose name an attacker rebinds to 127.0.0.1 sends its own.
func WithHosts(names ...string) Option {
	return func(f *Fake) {
		for _, name := range names {
			f.hosts[strings.TrimSuffix(strings.ToLower(name), ".")] = true
		}
	}
}
