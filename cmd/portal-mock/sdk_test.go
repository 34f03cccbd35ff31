package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOfficialNodeSDK runs the official WorkOS Node SDK, unchanged, against
// the binary, over plain HTTP and over HTTPS with NODE_EXTRA_CA_CERTS, as a
// CI job in another language would. .ci/run installs the SDK and sets
// PORTAL_NODE_SDK_DIR; without it (or without node) the test is skipped,
// since tests do not download, unless PORTAL_REQUIRE_NODE_SDK is set.
func TestOfficialNodeSDK(t *testing.T) {
	dir := os.Getenv("PORTAL_NODE_SDK_DIR")
	_, nodeErr := exec.LookPath("node")
	if dir == "" || nodeErr != nil {
		if os.Getenv("PORTAL_REQUIRE_NODE_SDK") != "" {
			t.Fatal("PORTAL_REQUIRE_NODE_SDK is set, but PORTAL_NODE_SDK_DIR or node is missing")
		}
		t.Skip("PORTAL_NODE_SDK_DIR is not set or node is missing: " +
			"install @workos-inc/node there to run this test (.ci/run does)")
	}
	script, err := filepath.Abs("testdata/node-sdk.mjs")
	require.NoError(t, err)
	args := []string{"-api-key", "sk_test_node_sdk", "-org", "org_123"}
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	for name, m := range map[string]*mock{
		"http":  startMock(t, "", args...),
		"https": startMock(t, certOut, append(args, "-tls", "-tls-cert-out", certOut)...),
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("node", script, dir, m.URL, "sk_test_node_sdk")
			cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+certOut)
			out, err := cmd.Output()
			require.NoError(t, err, "node: %s", out)
			checkNodeResults(t, m.URL, string(out))
		})
	}
}

func checkNodeResults(t *testing.T, base, out string) {
	type result struct {
		Case      string `json:"case"`
		OK        bool   `json:"ok"`
		Link      string `json:"link"`
		Opened    []int  `json:"opened"`
		Page      string `json:"page"`
		Error     string `json:"error"`
		Status    int    `json:"status"`
		RequestID string `json:"requestID"`
	}
	results := map[string]result{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r result
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		results[r.Case] = r
	}
	for _, name := range []string{"success", "no intent"} {
		ok := results[name]
		require.True(t, ok.OK, "%s: %+v", name, ok)
		assert.True(t, strings.HasPrefix(ok.Link, base+"/portal/launch?token="), ok.Link)
		assert.Equal(t, []int{200, 410}, ok.Opened, "the link opens once")
		assert.Contains(t, ok.Page, "org_123")
	}
	assert.Contains(t, results["success"].Page, "audit_logs")
	for name, want := range map[string]struct {
		class  string
		status int
	}{
		"wrong key":            {"UnauthorizedException", 401},
		"unknown intent":       {"UnprocessableEntityException", 422},
		"unknown organization": {"GenericServerException", 400},
		"missing organization": {"UnprocessableEntityException", 422},
	} {
		r := results[name]
		assert.False(t, r.OK, name)
		assert.Equal(t, want.class, r.Error, name)
		assert.Equal(t, want.status, r.Status, name)
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, r.RequestID, name)
	}
}
