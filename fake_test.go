package portal_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// These tests run the client against portaltest, the fake users test with,
// so the two are held to each other.

func TestAgainstFakeEveryIntent(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	client, err := srv.Client()
	require.NoError(t, err)
	for _, intent := range portal.Intents() {
		opts := portal.GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: intent}
		if intent == portal.DomainVerification {
			opts.IntentOptions = &portal.IntentOptions{DomainVerification: &portal.DomainVerificationIntentOptions{DomainName: "example.com"}}
		}
		link, err := client.GenerateLink(context.Background(), opts)
		require.NoError(t, err, intent)
		resp, err := http.Get(link.Link)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, intent)
	}
}

func TestAgainstFakeErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    *portaltest.Fault
		key      string
		orgID    string
		sentinel error
	}{
		{name: "wrong key", key: "sk_test_wrong", orgID: "org_123", sentinel: portal.ErrUnauthorized},
		{name: "unknown organization", orgID: "org_999", sentinel: portal.ErrBadRequest},
		{name: "forbidden", fault: &portaltest.Fault{Status: 403}, orgID: "org_123", sentinel: portal.ErrForbidden},
		{name: "not found", fault: &portaltest.Fault{Status: 404}, orgID: "org_123", sentinel: portal.ErrNotFound},
		{name: "conflict", fault: &portaltest.Fault{Status: 409}, orgID: "org_123", sentinel: portal.ErrConflict},
		{name: "unprocessable", fault: &portaltest.Fault{Status: 422, Body: `{"code":"invalid_request_parameters","message":"Validation failed","errors":[{"field":"intent","code":"intent_invalid"}]}`}, orgID: "org_123", sentinel: portal.ErrUnprocessable},
		{name: "rate limited", fault: &portaltest.Fault{Status: 429, Count: 3}, orgID: "org_123", sentinel: portal.ErrRateLimited},
		{name: "server error", fault: &portaltest.Fault{Status: 500, Count: 3}, orgID: "org_123", sentinel: portal.ErrServer},
		{name: "bad gateway page", fault: &portaltest.Fault{Status: 502, Count: 3}, orgID: "org_123", sentinel: portal.ErrServer},
		{name: "malformed success", fault: &portaltest.Fault{Malformed: true}, orgID: "org_123", sentinel: portal.ErrInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := portaltest.Start(t, portaltest.WithAPIKey("sk_test_right"), portaltest.WithOrganizations("org_123"))
			if tt.fault != nil {
				require.NoError(t, srv.InjectFault(*tt.fault))
			}
			key := tt.key
			if key == "" {
				key = srv.APIKey
			}
			client, err := portal.NewClient(key, portal.WithBaseURL(srv.URL), portal.WithRetryBackoff(1, 1))
			require.NoError(t, err)
			_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: tt.orgID, Intent: portal.AuditLogs})
			require.ErrorIs(t, err, tt.sentinel)
			var apiErr *portal.APIError
			require.True(t, errors.As(err, &apiErr))
			assert.Regexp(t, `^req_[0-9A-Z]{26}$`, apiErr.RequestID)
			if tt.sentinel == portal.ErrUnprocessable {
				assert.Equal(t, []portal.FieldError{{Field: "intent", Code: "intent_invalid"}}, apiErr.Errors)
			}
		})
	}
}

func TestAgainstFakeRetriesUnderFaults(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t)
	require.NoError(t, srv.InjectFault(portaltest.Fault{Status: 503, Count: 1}))
	require.NoError(t, srv.InjectFault(portaltest.Fault{Drop: true, Count: 1}))
	require.NoError(t, srv.InjectFault(portaltest.Fault{Status: 429, RetryAfter: "0", Count: 1}))
	client, err := srv.Client(portal.WithMaxRetries(3))
	require.NoError(t, err)
	link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	var faults []string
	for _, r := range reqs {
		faults = append(faults, r.Fault)
		assert.Equal(t, reqs[0].IdempotencyKey, r.IdempotencyKey, "one key for every attempt")
	}
	assert.Equal(t, []string{"status", "drop", "status", ""}, faults)
	assert.Equal(t, link.Link, reqs[3].Link)
}

// TestLoadAgainstFlakyFake shares one client between many goroutines
// against a fake that fails a tenth of requests with 503 and drops a
// twentieth of connections. Every call must end with a link or a typed
// error, links must be distinct, and nothing may be left running.
func TestLoadAgainstFlakyFake(t *testing.T) {
	portal.NoLeaks(t)
	srv := portaltest.NewServer()
	require.NoError(t, srv.InjectFault(portaltest.Fault{Status: 503, Probability: 0.1, Seed: 1}))
	require.NoError(t, srv.InjectFault(portaltest.Fault{Drop: true, Probability: 0.05, Seed: 2}))
	client, err := srv.Client(portal.WithMaxRetries(3))
	require.NoError(t, err)

	const goroutines, calls = 64, 40
	var mu sync.Mutex
	links := map[string]bool{}
	var failures, apiFailures int
	portal.Concurrently(goroutines, calls, func() {
		link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			assert.False(t, links[link.Link], "link issued twice")
			links[link.Link] = true
			return
		}
		failures++
		var apiErr *portal.APIError
		var urlErr *url.Error
		if errors.As(err, &apiErr) {
			apiFailures++
			assert.ErrorIs(t, err, portal.ErrServer)
		} else {
			assert.True(t, errors.As(err, &urlErr), "untyped error: %v", err)
		}
	})
	t.Logf("%d links, %d failures (%d from the API), %d requests", len(links), failures, apiFailures, len(srv.Requests()))
	assert.Equal(t, goroutines*calls, len(links)+failures)
	assert.Greater(t, len(links), goroutines*calls*8/10, "retries turn most failures into links")
	srv.Close() // and the connections of its client
}
