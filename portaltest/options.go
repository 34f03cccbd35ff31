package portaltest

import "time"

// An Option configures a Fake or Server.
type Option func(*Fake)

// WithAPIKey makes the fake accept only key. Without it, any key that starts
// with "sk_test_" is accepted.
func WithAPIKey(key string) Option {
	return func(f *Fake) { f.apiKey = key }
}

// WithOrganizations makes the fake know only the given organizations; others
// get the API's unknown-organization answer. Without it, every well-formed
// organization ID exists.
func WithOrganizations(ids ...string) Option {
	return func(f *Fake) {
		f.orgs = make(map[string]bool, len(ids))
		for _, id := range ids {
			f.orgs[id] = true
		}
	}
}

// WithClock replaces the fake's clock, which decides when links expire, so a
// test can move past the five-minute lifetime without waiting.
func WithClock(now func() time.Time) Option {
	return func(f *Fake) { f.now = now }
}
