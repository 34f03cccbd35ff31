// Package testenv keeps a developer's environment out of the tests: a test
// that wants a setting sets it itself, with t.Setenv.
package testenv

import "os"

// variables change what the tests see when a developer has exported them:
// the keys and addresses the client and the mock read, proxies, and Go's
// run-time settings, which Go reads again when they change.
var variables = []string{
	"WORKOS_API_KEY", "WORKOS_BASE_URL", "PORTAL_MOCK_API_KEY",
	"GODEBUG", "SSL_CERT_DIR", "SSL_CERT_FILE",
	"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
}

// Isolate unsets those variables for the process; call it first in
// TestMain. A child process that a test starts gets its environment from
// that test, which may set any of them again.
func Isolate() {
	for _, name := range variables {
		os.Unsetenv(name)
	}
}
