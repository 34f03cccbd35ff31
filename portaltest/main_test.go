package portaltest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/internal/testenv"
	"github.com/adminportal/portal/portaltest"
)

func TestMain(m *testing.M) {
	testenv.Isolate()
	goleak.VerifyTestMain(m)
}

// testKey is the key serveFake sends: random, as a real key is, so that
// the records' masking of it changes no other text.
const testKey = "sk_test_Tq7vXm2LpR9wZk4N"

var auditLogs = portal.GenerateLinkOpts{
	Organization: "org_123",
	Intent:       portal.AuditLogs,
	ReturnURL:    "https://app.example.com/settings",
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// send sends a request to the server through its HTTPClient, with header
// (name, value pairs), and returns the status and body of the answer.
func send(t *testing.T, srv *portaltest.Server, method, path, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// serveFake serves one request straight to fake's handler, with a key, as
// JSON.
func serveFake(fake *portaltest.Fake, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://fake.test"+target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	fake.ServeHTTP(w, req)
	return w
}

// linkOf returns the link of a 201 answer.
func linkOf(t *testing.T, body string) string {
	t.Helper()
	var out struct{ Link string }
	require.NoError(t, json.Unmarshal([]byte(body), &out), body)
	require.NotEmpty(t, out.Link, body)
	return out.Link
}

// sameRecords asserts that got are the records want, as read back from
// their JSON: their times are the same instants.
func sameRecords(t *testing.T, want, got []portaltest.Request) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, want[i].Time.Equal(got[i].Time), "request %d: its time round-trips", i)
		w, g := want[i], got[i]
		w.Time, g.Time = time.Time{}, time.Time{}
		assert.Equal(t, w, g, "request %d round-trips", i)
	}
}

// TestREADMEShowsReadmeTest: the README's synctest test is readme_test.go,
// but for its package clause, so that it runs, as pasted, here.
func TestREADMEShowsReadmeTest(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	ours, err := os.ReadFile("readme_test.go")
	require.NoError(t, err)
	want := strings.Replace(string(ours), "package portaltest_test\n", "package app_test\n", 1)
	assert.Contains(t, string(readme), "```go\n"+want+"```\n")
}
