package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// syncBuffer is a bytes.Buffer safe to read while the process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBinary builds portal-mock, starts it on port 0 with args, and
// returns its base URL (read from its first line of output) and the process.
func startBinary(t *testing.T, args ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portal-mock")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	require.NotEmpty(t, base, "first line %q holds no base URL", line)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return base, cmd, stderr
}

func TestBinaryServesTheFake(t *testing.T) {
	base, cmd, stderr := startBinary(t, "-api-key", "sk_test_ci", "-org", "org_123", "-org", "org_456")

	client, err := portal.NewClient("sk_test_ci", portal.WithBaseURL(base), portal.WithRetryBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	for _, intent := range portal.Intents() {
		link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_456", Intent: intent})
		require.NoError(t, err, intent)
		page := mustGet(t, link.Link, http.StatusOK)
		assert.Contains(t, page, "org_456")
		assert.Contains(t, page, string(intent))
		mustGet(t, link.Link, http.StatusGone)
	}

	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_789", Intent: portal.SSO})
	var apiErr *portal.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.NotEmpty(t, apiErr.RequestID)

	wrong, err := portal.NewClient("sk_test_other", portal.WithBaseURL(base))
	require.NoError(t, err)
	_, err = wrong.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
	require.ErrorIs(t, err, portal.ErrUnauthorized)

	// Control endpoints: a fault, the recorded requests, a reset.
	mustDo(t, "POST", base+"/__mock/faults", `{"status":503,"retry_after":"0","count":1}`, http.StatusNoContent)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
	require.NoError(t, err, "the client retries past the injected 503")
	var reqs []struct {
		Status         int    `json:"status"`
		Fault          string `json:"fault"`
		IdempotencyKey string `json:"idempotency_key"`
		Opts           struct {
			Organization string `json:"organization"`
		} `json:"opts"`
	}
	require.NoError(t, json.Unmarshal([]byte(mustGet(t, base+"/__mock/requests", http.StatusOK)), &reqs))
	require.Len(t, reqs, len(portal.Intents())+4)
	last, prev := reqs[len(reqs)-1], reqs[len(reqs)-2]
	assert.Equal(t, 200, last.Status)
	assert.Equal(t, 503, prev.Status)
	assert.Equal(t, "status", prev.Fault)
	assert.Equal(t, prev.IdempotencyKey, last.IdempotencyKey)
	assert.Equal(t, "org_123", last.Opts.Organization)

	mustDo(t, "POST", base+"/__mock/faults", `{"bogus":1}`, http.StatusBadRequest)
	mustDo(t, "POST", base+"/__mock/faults", `{"drop":true,"probability":1}`, http.StatusNoContent)
	mustDo(t, "DELETE", base+"/__mock/faults", ``, http.StatusNoContent)
	mustDo(t, "POST", base+"/__mock/reset", ``, http.StatusNoContent)
	assert.Equal(t, "[]", mustGet(t, base+"/__mock/requests", http.StatusOK))
	assert.JSONEq(t, `{"status":"ok"}`, mustGet(t, base+"/__mock/health", http.StatusOK))

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "stops cleanly on SIGTERM")
	logs := stderr.String()
	assert.Regexp(t, `POST /portal/generate_link 200 \S+ req_[0-9A-Z]{26}`, logs)
	assert.Contains(t, logs, "POST /portal/generate_link 400")
	assert.Contains(t, logs, "stopped")
	assert.NotContains(t, logs, "sk_test_ci", "the key is never logged")
}

func TestBinaryStopsOnSIGINT(t *testing.T) {
	_, cmd, _ := startBinary(t)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	require.NoError(t, cmd.Wait())
}

func TestRunRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-org", "acme"}, {"-nope"}, {"extra"}, {"-addr", "256.0.0.1:99999"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		assert.Error(t, err, "%q", args)
		assert.Empty(t, stdout.String())
	}
}

func TestRunInProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0"}, w, io.Discard) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	require.NoError(t, err)
	base := strings.TrimSpace(strings.TrimPrefix(line, "portal-mock listening on "))
	client, err := portal.NewClient("sk_test_anything", portal.WithBaseURL(base))
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.DSync})
	require.NoError(t, err)
	cancel()
	require.NoError(t, <-errc)
}

func mustGet(t *testing.T, url string, want int) string {
	t.Helper()
	return mustDo(t, "GET", url, "", want)
}

func mustDo(t *testing.T, method, url, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, url, b)
	return string(b)
}
