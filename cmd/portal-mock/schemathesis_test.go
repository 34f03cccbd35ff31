package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSchemathesis runs schemathesis, a field tool that tests an API against
// its OpenAPI spec, on the binary with the generate-link operation of
// WorkOS's spec (testdata/openapi, trimmed, with where it follows the
// recorded API instead), over HTTP and HTTPS, with all its checks: status
// codes, content types and response schemas the spec documents, negative
// data refused, valid data accepted, and no 5xx. It must find no failure.
// .ci/run installs schemathesis, pinned, and names its st command in
// PORTAL_SCHEMATHESIS; without it the test is skipped, unless
// PORTAL_REQUIRE_SCHEMATHESIS is set.
func TestSchemathesis(t *testing.T) {
	t.Parallel()
	st := os.Getenv("PORTAL_SCHEMATHESIS")
	if st == "" {
		if os.Getenv("PORTAL_REQUIRE_SCHEMATHESIS") != "" {
			t.Fatal("PORTAL_REQUIRE_SCHEMATHESIS is set, but PORTAL_SCHEMATHESIS is not")
		}
		t.Skip("PORTAL_SCHEMATHESIS is not set: .ci/run installs schemathesis and sets it to its st command")
	}
	spec, err := filepath.Abs("testdata/openapi/generate_link.yaml")
	require.NoError(t, err)
	config, err := filepath.Abs("testdata/openapi/schemathesis.toml")
	require.NoError(t, err)
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	for _, mode := range []struct{ name, cert string }{{"http", ""}, {"https", certOut}} {
		t.Run(mode.name, func(t *testing.T) {
			var args, tlsArgs []string
			if mode.cert != "" {
				args = []string{"-tls", "-tls-cert-out", mode.cert}
				tlsArgs = []string{"--tls-verify", mode.cert}
			}
			m := startMock(t, mode.cert, append(args, "-api-key", "sk_test_schemathesis")...)
			cmd := exec.Command(st, append([]string{"--config-file", config, "run", spec, "--url", m.URL,
				"-H", "Authorization: Bearer sk_test_schemathesis", "--checks", "all",
				"--seed", "1", "--generation-database", "none", "--no-color"}, tlsArgs...)...)
			cmd.Dir = t.TempDir() // for anything it writes
			cmd.Env = sdkEnv()
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "schemathesis found failures:\n%s", out)
			summary := regexp.MustCompile(`(\d+) generated, (\d+) passed`).FindSubmatch(out)
			require.NotNil(t, summary, "schemathesis's summary line:\n%s", out)
			assert.Equal(t, string(summary[1]), string(summary[2]), "every generated case passed:\n%s", out)
			generated, _ := strconv.Atoi(string(summary[1]))
			assert.Greater(t, generated, 100, "schemathesis generated cases:\n%s", out)
			// Its probes without a key and a JSON body, or with another method,
			// change nothing, so the mock records only the rest.
			total, _ := m.requests(t, 100)
			assert.Greater(t, total, int64(100), "the mock answered them")
			t.Logf("schemathesis: %s", summary[0])
		})
	}
}
