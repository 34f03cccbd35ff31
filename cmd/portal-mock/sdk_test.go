package main

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOfficialNodeSDK runs the official WorkOS Node SDK, unchanged, against
// the binary. .ci/run installs the SDK and sets PORTAL_NODE_SDK_DIR; without
// it (or without node) the test is skipped, since tests do not download.
func TestOfficialNodeSDK(t *testing.T) {
	dir := os.Getenv("PORTAL_NODE_SDK_DIR")
	if dir == "" {
		t.Skip("PORTAL_NODE_SDK_DIR is not set: install @workos-inc/node there to run this test (.ci/run does)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	base, _, _ := startBinary(t, "-api-key", "sk_test_node_sdk", "-org", "org_123")
	u, err := url.Parse(base)
	require.NoError(t, err)
	script, err := filepath.Abs("testdata/node-sdk.mjs")
	require.NoError(t, err)
	out, err := exec.Command("node", script, dir, u.Port(), "sk_test_node_sdk").Output()
	require.NoError(t, err, "node: %s", out)

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
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r result
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		results[r.Case] = r
	}
	ok := results["success"]
	require.True(t, ok.OK, "%+v", ok)
	assert.True(t, strings.HasPrefix(ok.Link, base+"/portal/launch?token="), ok.Link)
	assert.Equal(t, []int{200, 410}, ok.Opened, "the link opens once")
	assert.Contains(t, ok.Page, "org_123")
	assert.Contains(t, ok.Page, "audit_logs")

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
		assert.Regexp(t, `^req_`, r.RequestID, name)
	}
}
