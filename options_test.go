package portal_test

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

func TestBaseURL(t *testing.T) {
	api := newTestAPI(t)
	t.Setenv(portal.EnvBaseURL, api.URL+"/")
	t.Setenv(portal.EnvAPIKey, testKey)
	c, err := portal.NewClient("")
	require.NoError(t, err, "the key and the base URL from the environment")
	_, err = c.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.NoError(t, err)
	assert.Equal(t, "/portal/generate_link", api.Calls()[0].Path)

	c, err = portal.NewClient(testKey, portal.WithBaseURL(api.URL+"/proxy/workos"))
	require.NoError(t, err, "WithBaseURL overrides WORKOS_BASE_URL")
	_, err = c.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.NoError(t, err)
	assert.Equal(t, "/proxy/workos/portal/generate_link", api.Calls()[1].Path, "a path prefix is kept")

	for _, ok := range []string{"https://api.workos.com", "https://10.1.2.3:8443", "http://localhost:8484",
		"http://LOCALHOST", "http://127.0.0.1:1", "http://127.8.9.10", "http://[::1]:8484", "https://mock.localhost",
		"http://portal-mock:8484", "http://PortalMock2", "http://m", "http://mock-1:80", "http://a", "http://z",
		"http://A", "http://Z", "http://a09", "http://z-9"} {
		_, err := portal.NewClient(testKey, portal.WithBaseURL(ok))
		assert.NoError(t, err, ok)
	}
	const plainHTTP = "plain http, which carries the key in clear, is allowed only to a loopback IP or, with an " +
		"sk_test_ key, to localhost or a single-label host name such as a Compose service (http://portal-mock:8484)"
	for base, want := range map[string]string{
		"http://10.0.0.5": plainHTTP,
		// DNS may send a dotted name anywhere
		"http://api.workos.com":        plainHTTP,
		"http://mock.localhost:8484":   plainHTTP,
		"http://localhost.example.com": plainHTTP,
		"http://portal-mock.:8484":     plainHTTP,
		"http://0.0.0.0:8484":          plainHTTP,
		"http://[::ffff:10.0.0.5]":     plainHTTP,
		// single labels that a resolver may read as an IPv4 address, or that are no host name
		"http://1234":                  plainHTTP,
		"http://0x0a000001":            plainHTTP,
		"http://-mock":                 plainHTTP,
		"http://mock-":                 plainHTTP,
		"http://mock_1":                plainHTTP,
		"http://m%C3%B6ck":             plainHTTP,
		"https://api.workos.com/?":     "want no user info, query or fragment",
		"ftp://api.workos.com":         "want an absolute https URL, such as https://api.workos.com",
		"api.workos.com":               "want an absolute https URL, such as https://api.workos.com",
		"https://":                     "want an absolute https URL, such as https://api.workos.com",
		"https://api.workos.com/?v=1":  "want no user info, query or fragment",
		"https://u:p@api.workos.com":   "want no user info, query or fragment",
		"https://api.workos.com/#frag": "want no user info, query or fragment",
	} {
		_, err := portal.NewClient(testKey, portal.WithBaseURL(base))
		assert.EqualError(t, err, `portal: WithBaseURL "`+base+`": `+want)
	}
	for _, key := range []string{"sk_live_a1B2c3D4e5F6g7H8", "sk_a1B2c3D4e5F6g7H8", "sk_testa1B2c3D4e5F6g7H8"} {
		_, err := portal.NewClient(key, portal.WithBaseURL("http://portal-mock:8484"))
		assert.ErrorContains(t, err, plainHTTP, "a key that is not a test key crosses no network in clear")
		_, err = portal.NewClient(key, portal.WithBaseURL("http://localhost:8484"))
		assert.ErrorContains(t, err, plainHTTP, "nor to a name, which DNS may answer, even localhost")
		for _, ip := range []string{"127.0.0.1", "127.9.9.9", "[::1]", "[::ffff:127.0.0.1]"} {
			_, err = portal.NewClient(key, portal.WithBaseURL("http://"+ip+":8484"))
			assert.NoError(t, err, "any key to a loopback IP")
		}
	}
	// A short test key is found only whole: no base URL of a test server is
	// mistaken for one that holds it.
	for port := 1024; port < 65536; port += 7 {
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		_, err := portal.NewClient("sk_test_123", portal.WithBaseURL(base))
		require.NoError(t, err, base)
	}
	t.Setenv(portal.EnvBaseURL, "http://portal-mock.internal:8484")
	_, err = portal.NewClient(testKey)
	assert.EqualError(t, err, `portal: WORKOS_BASE_URL "http://portal-mock.internal:8484": `+plainHTTP,
		"the error names where the URL came from")
}

func TestOptionsAreChecked(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]portal.Option{
		"WithMaxRetries(-1)":       portal.WithMaxRetries(-1),
		"WithMaxRetries(11)":       portal.WithMaxRetries(11),
		"WithRetryBackoff(0, 1s)":  portal.WithRetryBackoff(0, time.Second),
		"WithRetryBackoff(2s, 1s)": portal.WithRetryBackoff(2*time.Second, time.Second),
	} {
		_, err := portal.NewClient(testKey, opt)
		fn, _, _ := strings.Cut(name, "(")
		assert.ErrorContains(t, err, "portal: "+fn, name)
	}
	_, err := portal.NewClient(testKey, nil, portal.WithMaxRetries(10), portal.WithHTTPClient(nil))
	assert.NoError(t, err, "a nil option is skipped, and a nil HTTP client means the default")
}

// TestVersionIsTheNewestRelease: the version the User-Agent names is the
// newest release that CHANGELOG.md lists, so that the two cannot drift.
func TestVersionIsTheNewestRelease(t *testing.T) {
	t.Parallel()
	changelog, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	newest := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`).FindSubmatch(changelog)
	require.NotNil(t, newest, "CHANGELOG.md lists a release")
	assert.Equal(t, string(newest[1]), portal.Version)
}

// TestKeyInABaseURLIsMasked: a key pasted into WORKOS_BASE_URL, or into the
// base URL around the key that the client has, never reaches the error.
func TestKeyInABaseURLIsMasked(t *testing.T) {
	for _, base := range []string{
		testKey,
		"https://" + testKey + "@api.workos.com",
		"https://api.workos.com/?key=" + testKey,
		"http://example.com/" + testKey,
		"sk_live_" + testKey[len("sk_test_"):], // another key than the client's
		"http://[" + testKey,                   // does not parse
		"ftp://x/" + testKey[3:],               // a part of it
		"https://api.workos.com/" + testKey,    // a path prefix, which every log on the way would see
		"https://api.workos.com/" + split(testKey, "/"),
	} {
		t.Setenv(portal.EnvBaseURL, base)
		_, err := portal.NewClient(testKey)
		require.Error(t, err, base)
		requireNoKey(t, err.Error())
		assert.Contains(t, err.Error(), "[REDACTED]", base)
		assert.NotContains(t, err.Error(), "\n")
	}
}

func TestWithHTTPClientIsUsedAndNotChanged(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, answer{status: http.StatusFound,
		header: map[string]string{"Location": "https://elsewhere.example/"}})
	var used bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return api.Client().Transport.RoundTrip(r)
	})}
	_, err := api.client(t, portal.WithHTTPClient(hc)).GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_1"})
	assert.ErrorContains(t, err, "portal: 302 Found")
	assert.True(t, used)
	assert.Nil(t, hc.CheckRedirect, "the caller's client is copied, not changed")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
