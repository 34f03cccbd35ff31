package portal_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// TestSeedSnippet runs the WorkOS documentation's Go snippet, with only its
// import path changed, against the fake API.
func TestSeedSnippet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	fake := portaltest.NewServer(t)
	fake.Start() // for a child process
	cmd := exec.Command("go", "run", "./testdata/seed")
	cmd.Env = append(os.Environ(), portal.EnvAPIKey+"="+fake.APIKey, portal.EnvBaseURL+"="+fake.URL)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.True(t, strings.HasPrefix(string(out), fake.URL+"/portal/launch?token="), "%s", out)
	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, portaltest.Opts{Organization: "org_123", Intent: "audit_logs"}, reqs[0].Opts)
}

// TestDefaultClient exercises SetAPIKey and the package-level GenerateLink,
// concurrently; run with -race. It changes the package's default client, so
// it does not run in parallel with other tests that use it (none do).
func TestDefaultClient(t *testing.T) {
	fake := portaltest.NewServer(t, portaltest.WithAPIKey("sk_test_first"))
	fake.Start() // for the default client, which dials the network
	t.Setenv(portal.EnvBaseURL, fake.URL)
	t.Setenv(portal.EnvAPIKey, "")

	portal.SetAPIKey("")
	_, err := portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	assert.ErrorIs(t, err, portal.ErrNoAPIKey, "SetAPIKey's error comes with the next call")

	portal.SetAPIKey("sk_test_first")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%4 == 0 {
				portal.SetAPIKey("sk_test_first")
			}
			_, err := portal.GenerateLink(context.Background(),
				portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.SSO})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Len(t, fake.Requests(), 16)

	portal.SetAPIKey("sk_test_second")
	_, err = portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	assert.ErrorIs(t, err, portal.ErrUnauthorized, "a new key takes effect at once")
	assert.Equal(t, portaltest.Fingerprint("sk_test_second"), fake.Requests()[16].Key)
}

// TestDefaultClientWithoutSetAPIKey runs in a child process, whose default
// client is untouched: without SetAPIKey, the first successful call builds
// it from WORKOS_API_KEY and WORKOS_BASE_URL, which are not read again.
func TestDefaultClientWithoutSetAPIKey(t *testing.T) {
	if os.Getenv("PORTAL_TEST_CHILD") == "" {
		portal.RunInChild(t, portal.EnvAPIKey+"=", portal.EnvBaseURL+"=")
		return
	}
	fake := portaltest.NewServer(t)
	fake.Start() // for the default client, which dials the network
	_, err := portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.ErrorIs(t, err, portal.ErrNoAPIKey)

	t.Setenv(portal.EnvAPIKey, fake.APIKey)
	t.Setenv(portal.EnvBaseURL, fake.URL)
	_, err = portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.NoError(t, err, "the first call with a key builds the client")

	t.Setenv(portal.EnvBaseURL, "https://api.example.invalid")
	_, err = portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.NoError(t, err, "the environment is read once")
	assert.Len(t, fake.Requests(), 2)
}
