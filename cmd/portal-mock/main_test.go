package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/adminportal/portal"
)

// binary is portal-mock, built once for the tests that run it as CI does.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portal-mock-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "portal-mock")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building portal-mock: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

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

// mock is a running portal-mock process.
type mock struct {
	URL    string
	cmd    *exec.Cmd
	stderr *syncBuffer
	client *http.Client // trusts the mock's certificate when it has one
}

// startMock starts portal-mock on a free port with args and reads its base
// URL from its first line. certOut, when the mock runs with -tls, is where
// it wrote its certificate.
func startMock(t *testing.T, certOut string, args ...string) *mock {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	m := &mock{cmd: cmd, stderr: &syncBuffer{}, client: &http.Client{Transport: &http.Transport{}}}
	cmd.Stderr = m.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		m.client.CloseIdleConnections()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "stderr: %s", m.stderr)
	m.URL = regexp.MustCompile(`https?://\S+`).FindString(line)
	require.NotEmpty(t, m.URL, "the first line %q holds the base URL", line)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if certOut != "" {
		m.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certPool(t, certOut)}, ForceAttemptHTTP2: true}
	}
	return m
}

func certPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	pemCert, err := os.ReadFile(file)
	require.NoError(t, err)
	block, _ := pem.Decode(pemCert)
	require.NotNil(t, block, "a PEM certificate in %s", file)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// do sends a request to the mock; control requests are JSON.
func (m *mock) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, m.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// requests returns the mock's record, once at least min requests arrived.
func (m *mock) requests(t *testing.T, min int) (total int64, reqs []map[string]any) {
	t.Helper()
	status, body := m.do(t, http.MethodGet, "/__mock/requests?min="+strconv.Itoa(min), "")
	require.Equal(t, http.StatusOK, status, body)
	var list struct {
		Total    int64
		Requests []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	return list.Total, list.Requests
}

// stop sends sig and returns the exit status and how long the exit took.
func (m *mock) stop(t *testing.T, sig os.Signal) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	require.NoError(t, m.cmd.Process.Signal(sig))
	err := m.cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), time.Since(start)
	}
	require.NoError(t, err)
	return 0, time.Since(start)
}

// runConformance runs portaltest's conformance table against the mock.
func runConformance(t *testing.T, m *mock, certOut string) {
	t.Helper()
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestConformance$", "../../portaltest")
	cmd.Env = append(os.Environ(), "PORTAL_MOCK_URL="+m.URL, "PORTAL_MOCK_CERT="+certOut)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

var conformanceArgs = []string{"-api-key", "sk_test_conformance", "-org", "org_01EHZNVPK3SFK441A1RGBFSHRT", "-org", "org_123"}

func TestConformanceOverHTTP(t *testing.T) {
	t.Parallel()
	runConformance(t, startMock(t, "", conformanceArgs...), "")
}

func TestConformanceOverTLS(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	m := startMock(t, certOut, append(conformanceArgs, "-tls", "-tls-cert-out", certOut)...)
	assert.True(t, strings.HasPrefix(m.URL, "https://127.0.0.1:"), m.URL)
	runConformance(t, m, certOut)
}

// TestGoClientOverTLS is the container-CI recipe: unchanged code that reads
// WORKOS_BASE_URL, trusting the mock through SSL_CERT_FILE.
func TestGoClientOverTLS(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	m := startMock(t, certOut, "-tls", "-tls-host", "portal-mock.test", "-tls-cert-out", certOut)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(m.URL, "https://"))
	assert.Equal(t, "https://portal-mock.test:"+port, m.URL, "the first -tls-host names the links' host")
	m.URL = "https://127.0.0.1:" + port // portal-mock.test resolves nowhere here

	cmd := exec.Command("go", "run", "../../examples/generatelink", "-org", "org_123", "-intent", "sso")
	cmd.Env = append(os.Environ(), portal.EnvAPIKey+"=sk_test_ci", portal.EnvBaseURL+"=https://127.0.0.1:"+port, "SSL_CERT_FILE="+certOut)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())
	assert.Regexp(t, `^https://portal-mock\.test:`+port+`/portal/launch\?token=[A-Z2-7]+\n$`, string(out))

	_, reqs := m.requests(t, 1)
	require.Len(t, reqs, 1)
	assert.Equal(t, "HTTP/2.0", reqs[0]["proto"], "the default transport speaks HTTP/2 to the mock")
}

// It uses the shared default transport and closes its idle connections,
// so it does not run in parallel with another test that does.
func TestClientAgainstTheBinary(t *testing.T) {
	m := startMock(t, "", "-api-key", "sk_test_ci", "-org", "org_123", "-org", "org_456")
	client, err := portal.NewClient("sk_test_ci", portal.WithBaseURL(m.URL), portal.WithRetryBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	defer client.CloseIdleConnections()
	for _, intent := range []portal.Intent{"", portal.SSO, portal.DSync, portal.AuditLogs, portal.LogStreams,
		portal.DomainVerification, portal.CertificateRenewal, portal.BringYourOwnKey} {
		link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_456", Intent: intent})
		require.NoError(t, err, intent)
		status, page := m.do(t, http.MethodGet, strings.TrimPrefix(link.Link, m.URL), "")
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "org_456")
		status, _ = m.do(t, http.MethodGet, strings.TrimPrefix(link.Link, m.URL), "")
		assert.Equal(t, http.StatusGone, status, "a link opens once")
	}
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_789", Intent: portal.SSO})
	var apiErr *portal.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "portal: 400 Bad Request: Organization not found: 'org_789'. [request ID "+apiErr.RequestID+"]", err.Error())

	// A fault, then the record of it and of the retry that passed it.
	status, body := m.do(t, http.MethodPost, "/__mock/faults", `{"status":503,"retry_after":"0","count":1}`)
	require.Equal(t, http.StatusNoContent, status, body)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
	require.NoError(t, err)
	total, reqs := m.requests(t, 11)
	assert.Equal(t, int64(11), total)
	last, prev := reqs[len(reqs)-1], reqs[len(reqs)-2]
	assert.Equal(t, 201.0, last["status"])
	assert.Equal(t, 503.0, prev["status"])
	assert.Equal(t, "status", prev["fault"])

	status, _ = m.do(t, http.MethodPost, "/__mock/reset", "")
	assert.Equal(t, http.StatusNoContent, status)
	total, _ = m.requests(t, 0)
	assert.Zero(t, total)

	code, _ := m.stop(t, syscall.SIGINT)
	assert.Zero(t, code)
	logs := m.stderr.String()
	assert.Regexp(t, `POST /portal/generate_link 201 \S+ [0-9a-f]{8}-[0-9a-f]{4}-4`, logs)
	assert.Contains(t, logs, "POST /portal/generate_link 400")
	assert.Contains(t, logs, "stopped")
	assert.NotContains(t, logs, "sk_test_ci", "the key is never logged")
}

func TestRecordsNeverHoldAKey(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", "-api-key", "sk_test_the_right_key")
	for _, key := range []string{"sk_live_pasted_by_mistake", "sk_test_the_right_key"} {
		req, _ := http.NewRequest(http.MethodPost, m.URL+"/portal/generate_link", strings.NewReader(`{"organization":"org_1"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := m.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	_, body := m.do(t, http.MethodGet, "/__mock/requests", "")
	assert.NotContains(t, body, "pasted_by_mistake")
	assert.NotContains(t, body, "the_right_key")
	assert.Contains(t, body, `"key":"sha256:`)
}

func TestCrossSiteControlRequestsAreRefused(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	for _, h := range []map[string]string{
		{"Content-Type": "text/plain"},
		{"Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
		{"Content-Type": "application/json", "Origin": "https://evil.example"},
	} {
		req, _ := http.NewRequest(http.MethodPost, m.URL+"/__mock/faults", strings.NewReader(`{"drop":true,"probability":1}`))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := m.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Contains(t, []int{http.StatusForbidden, http.StatusUnsupportedMediaType}, resp.StatusCode, "%v", h)
	}
	status, _ := m.do(t, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
	assert.Equal(t, http.StatusUnauthorized, status, "no fault was installed")
}

func TestHostHeaderDoesNotSteerLinks(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	req, _ := http.NewRequest(http.MethodPost, m.URL+"/portal/generate_link", strings.NewReader(`{"organization":"org_1"}`))
	req.Host = "evil.example"
	req.Header.Set("Authorization", "Bearer sk_test_x")
	resp, err := m.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct{ Link string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	assert.True(t, strings.HasPrefix(out.Link, m.URL+"/portal/launch?token="), out.Link)
}

func TestDropIsRecordedBeforeTheClientSeesIt(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	for round := 1; round <= 100; round++ {
		status, _ := m.do(t, http.MethodPost, "/__mock/faults", `{"drop":true}`)
		require.Equal(t, http.StatusNoContent, status)
		req, _ := http.NewRequest(http.MethodPost, m.URL+"/portal/generate_link", strings.NewReader(`{"organization":"org_1"}`))
		req.Header.Set("Authorization", "Bearer sk_test_x")
		if resp, err := m.client.Do(req); err == nil {
			resp.Body.Close()
			t.Fatal("the connection was answered, not dropped")
		}
		status, body := m.do(t, http.MethodGet, "/__mock/requests", "")
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `"total":`+strconv.Itoa(round)+`,`, "round %d", round)
	}
}

// TestShutdownEndsLatencies: SIGTERM with a 60-second latency fault in
// flight exits 0 at once, dropping the held request.
func TestShutdownEndsLatencies(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	status, _ := m.do(t, http.MethodPost, "/__mock/faults", `{"latency_ms":60000}`)
	require.Equal(t, http.StatusNoContent, status)
	held := make(chan error)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, m.URL+"/portal/generate_link", strings.NewReader(`{"organization":"org_1"}`))
		req.Header.Set("Authorization", "Bearer sk_test_x")
		resp, err := m.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	m.requests(t, 1) // the request is in, and held
	code, took := m.stop(t, syscall.SIGTERM)
	assert.Zero(t, code)
	assert.Less(t, took, 3*time.Second)
	assert.Error(t, <-held)
}

// TestMemoryIsBounded sends 120 one-megabyte bodies and 20,000 requests;
// the record stays small and so does the process.
func TestMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 20,000 requests")
	}
	t.Parallel()
	m := startMock(t, "")
	big := `{"organization":"org_1","return_url":"https://example.com/` + strings.Repeat("a", 1<<20) + `"}`
	send := func(n int, key, body string) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					req, _ := http.NewRequest(http.MethodPost, m.URL+"/portal/generate_link", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key)
					if resp, err := m.client.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
	}
	send(60, "sk_test_x", big)
	send(60, "not a key", big)
	send(20000, "sk_test_x", `{"organization":"org_1","intent":"audit_logs"}`)

	_, body := m.do(t, http.MethodGet, "/__mock/requests", "")
	assert.Less(t, len(body), 32<<20, "GET /__mock/requests")
	assert.Contains(t, body, `"total":20120,`)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		t.Skip("no /proc here to read the process's memory from")
	}
	peak := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	require.NotNil(t, peak)
	kb, _ := strconv.Atoi(string(peak[1]))
	t.Logf("peak RSS %d MB; /__mock/requests %d KB", kb>>10, len(body)>>10)
	assert.Less(t, kb, 300<<10, "peak resident memory")
}

func TestFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-org", "acme"}, {"-nope"}, {"extra"}, {"-addr", "256.0.0.1:99999"}, {"-tls-host", "x"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		assert.Error(t, err, "%q", args)
		assert.Empty(t, stdout.String())
	}
	var stderr bytes.Buffer
	assert.ErrorIs(t, run(context.Background(), []string{"-h"}, io.Discard, &stderr), flag.ErrHelp)
	assert.Contains(t, stderr.String(), "-tls-cert-out")
	out, err := exec.Command(binary, "-h").CombinedOutput()
	assert.NoError(t, err, "-h exits 0")
	assert.Contains(t, string(out), "Usage")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(context.Background(), []string{"-addr", ln.Addr().String()}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "-addr", "a busy port says what to do")
}

// It uses the shared default transport and closes its idle connections,
// so it does not run in parallel with another test that does.
func TestRunInProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0"}, w, io.Discard) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, r) }()
	base := strings.TrimSpace(strings.TrimPrefix(line, "portal-mock listening on "))
	client, err := portal.NewClient("sk_test_anything", portal.WithBaseURL(base))
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.DSync})
	require.NoError(t, err)
	client.CloseIdleConnections()
	cancel()
	require.NoError(t, <-errc)
	w.Close()
}
