package portaltest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal/portaltest"
)

// TestDocumentationExampleKey: without WithAPIKey, the fake accepts the
// placeholder key of the WorkOS documentation's snippets, so that they run
// as written, and no key that merely resembles it.
func TestDocumentationExampleKey(t *testing.T) {
	srv := portaltest.Start(t)
	client := newHTTPClient(t)
	for key, want := range map[string]int{
		"sk_example_123456789":  http.StatusCreated,
		"sk_test_anything":      http.StatusCreated,
		"sk_example_12345678":   http.StatusUnauthorized,
		"sk_example_1234567890": http.StatusUnauthorized,
		"sk_example_123456780":  http.StatusUnauthorized,
		"SK_EXAMPLE_123456789":  http.StatusUnauthorized,
		"sk_live_123456789":     http.StatusUnauthorized,
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link",
			strings.NewReader(`{"organization":"org_123","intent":"audit_logs"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, "key %q", key)
	}
}
