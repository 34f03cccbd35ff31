package portal

import (
	"context"
	"sync"
)

// defaultClient backs SetAPIKey and the package-level GenerateLink, which
// keep the WorkOS documentation's Go snippet working.
var defaultClient struct {
	mu     sync.Mutex
	client *Client
	err    error // from SetAPIKey, returned until the next one
}

// SetAPIKey sets the key of the default client, which the package-level
// GenerateLink uses; empty means WORKOS_API_KEY. It builds that client at
// once, reading WORKOS_BASE_URL; the next GenerateLink reports an unusable
// key. Calls in flight finish with the old key.
func SetAPIKey(key string) {
	c, err := NewClient(key)
	defaultClient.mu.Lock()
	defer defaultClient.mu.Unlock()
	defaultClient.client, defaultClient.err = c, err
}

// GenerateLink generates a link with the default client. Without SetAPIKey,
// its first successful use builds that client from WORKOS_API_KEY and
// WORKOS_BASE_URL, which are not read again.
func GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error) {
	defaultClient.mu.Lock()
	c, err := defaultClient.client, defaultClient.err
	if c == nil && err == nil {
		if c, err = NewClient(""); err == nil {
			defaultClient.client = c
		}
	}
	defaultClient.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return c.GenerateLink(ctx, opts)
}
