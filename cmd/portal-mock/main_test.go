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
	"github.com/adminportal/portal/internal/conformance"
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
		m.client.Transport = &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: certPool(t, certOut)},
			ForceAttemptHTTP2: true,
		}
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

// generateLink asks the mock for a link for org_1 with key, and returns
// the status it answers.
func (m *mock) generateLink(key string) (int, error) {
	body := strings.NewReader(`{"organization":"org_1"}`)
	req, err := http.NewRequest(http.MethodPost, m.URL+"/portal/generate_link", body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// requests returns the mock's record, once at least min requests arrived.
func (m *mock) requests(t *testing.T, atLeast int) (total int64, reqs []map[string]any) {
	t.Helper()
	status, body := m.do(t, http.MethodGet, "/__mock/requests?min="+strconv.Itoa(atLeast), "")
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

// runConformance runs the API's conformance table against the mock.
func runConformance(t *testing.T, m *mock) {
	conformance.Run(t, m.URL, m.client)
}

var conformanceArgs = []string{
	"-api-key", conformance.Key, "-org", conformance.Organizations[0], "-org", conformance.Organizations[1],
}

func TestConformanceOverHTTP(t *testing.T) {
	t.Parallel()
	runConformance(t, startMock(t, "", conformanceArgs...))
}

func TestConformanceOverTLS(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	m := startMock(t, certOut, append(conformanceArgs, "-tls", "-tls-cert-out", certOut)...)
	assert.True(t, strings.HasPrefix(m.URL, "https://127.0.0.1:"), m.URL)
	runConformance(t, m)
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
	cmd.Env = append(os.Environ(), portal.EnvAPIKey+"=sk_test_ci", portal.EnvBaseURL+"=https://127.0.0.1:"+port,
		"SSL_CERT_FILE="+certOut)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())
	assert.Regexp(t, `^https://127\.0\.0\.1:`+port+`/portal/launch\?token=[A-Z2-7]+\n$`, string(out),
		"the link names the host the client reached")

	_, reqs := m.requests(t, 1)
	require.Len(t, reqs, 1)
	assert.Equal(t, "HTTP/2.0", reqs[0]["proto"], "the default transport speaks HTTP/2 to the mock")
}

// It uses the shared default transport and closes its idle connections,
// so it does not run in parallel with another test that does.
func TestClientAgainstTheBinary(t *testing.T) {
	m := startMock(t, "", "-api-key", "sk_test_ci", "-org", "org_123", "-org", "org_456")
	client, err := portal.NewClient("sk_test_ci", portal.WithBaseURL(m.URL),
		portal.WithRetryBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	defer client.CloseIdleConnections()
	for _, intent := range []portal.Intent{"", portal.SSO, portal.DSync, portal.AuditLogs, portal.LogStreams,
		portal.DomainVerification, portal.CertificateRenewal, portal.BringYourOwnKey} {
		link, err := client.GenerateLink(context.Background(),
			portal.GenerateLinkOpts{Organization: "org_456", Intent: intent})
		require.NoError(t, err, intent)
		status, page := m.do(t, http.MethodGet, strings.TrimPrefix(link.Link, m.URL), "")
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "org_456")
		status, _ = m.do(t, http.MethodGet, strings.TrimPrefix(link.Link, m.URL), "")
		assert.Equal(t, http.StatusGone, status, "a link opens once")
	}
	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_789", Intent: portal.SSO})
	var apiErr *portal.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t,
		"portal: 400 Bad Request: Could not find an organization with the id, org_789. [request ID "+apiErr.RequestID+"]",
		err.Error())

	// A fault, then the record of it and of the retry that passed it.
	status, body := m.do(t, http.MethodPost, "/__mock/faults", `{"status":503,"retry_after":"0","count":1}`)
	require.Equal(t, http.StatusNoContent, status, body)
	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
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
		_, err := m.generateLink(key)
		require.NoError(t, err)
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

func TestDropIsRecordedBeforeTheClientSeesIt(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	for round := 1; round <= 100; round++ {
		status, _ := m.do(t, http.MethodPost, "/__mock/faults", `{"drop":true}`)
		require.Equal(t, http.StatusNoContent, status)
		if _, err := m.generateLink("sk_test_x"); err == nil {
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
		_, err := m.generateLink("sk_test_x")
		held <- err
	}()
	m.requests(t, 1) // the request is in, and held
	code, took := m.stop(t, syscall.SIGTERM)
	assert.Zero(t, code)
	assert.Less(t, took, 3*time.Second)
	assert.Error(t, <-held)
}

// TestMemoryIsBounded attacks the mock's memory as a hostile client
// would, and reads the process's peak resident memory: 400 fault POSTs of
// 64 KiB (and 1 MiB), 400 requests with a megabyte of headers, 2,000 links
// with 100 KiB return URLs, 120 bodies of a megabyte, then 20,000
// requests. It stays under 150 MB (it took 9 MB to 642 MB for the faults
// alone, before they were bounded), and its record stays small.
func TestMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 23,000 requests")
	}
	t.Parallel()
	m := startMock(t, "")
	send := func(n int, path, body string, header map[string]string) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					req, _ := http.NewRequest(http.MethodPost, m.URL+path, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					for k, v := range header {
						req.Header.Set(k, v)
					}
					if resp, err := m.client.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
	}
	key := map[string]string{"Authorization": "Bearer sk_test_x"}
	if _, err := peakRSS(m.cmd.Process.Pid); err != nil {
		t.Skip("no /proc here to read the process's memory from:", err)
	}
	peakNow := func(step string) {
		kb, _ := peakRSS(m.cmd.Process.Pid)
		t.Logf("peak RSS after %s: %d MB", step, kb>>10)
	}
	send(400, "/__mock/faults", `{"status":500,"count":1000,"body":"`+strings.Repeat("x", 63<<10)+`"}`, nil)
	send(400, "/__mock/faults", `{"status":500,"body":"`+strings.Repeat("x", 1<<20)+`"}`, nil)
	peakNow("faults")
	status, _ := m.do(t, http.MethodDelete, "/__mock/faults", "")
	require.Equal(t, http.StatusNoContent, status)
	send(400, "/portal/generate_link", `{"organization":"org_1"}`, map[string]string{
		"Authorization": "Bearer sk_test_x", "X-Big": strings.Repeat("h", 1<<20)})
	peakNow("headers")
	many := map[string]string{} // 15 KiB of them, under the 16 KiB the server reads
	for i := range 1400 {
		many[fmt.Sprintf("X-%04d", i)] = ""
	}
	send(1000, "/portal/generate_link", "<"+strings.Repeat("<", 12<<10), many) // small headers, and text that JSON escapes
	peakNow("many small headers")
	var polls sync.WaitGroup
	for range 4 { // at once, as a CI job's parallel tests might ask
		polls.Go(func() { m.do(t, http.MethodGet, "/__mock/requests?min=1000000&timeout=2s", "") })
	}
	for range 4 {
		polls.Go(func() { m.do(t, http.MethodGet, "/__mock/requests", "") })
	}
	polls.Wait()
	peakNow("8 lists of the records at once")
	send(2000, "/portal/generate_link", `{"organization":"org_1","return_url":"https://x.example/`+
		strings.Repeat("a", 100<<10-100)+`"}`, key)
	peakNow("links")
	big := `{"organization":"org_1","return_url":"https://example.com/` + strings.Repeat("a", 1<<20) + `"}`
	send(60, "/portal/generate_link", big, key)
	send(60, "/portal/generate_link", big, map[string]string{"Authorization": "not a key"})
	peakNow("bodies")
	send(20000, "/portal/generate_link", `{"organization":"org_1","intent":"audit_logs"}`, key)

	total, _ := m.requests(t, 0)
	// Those with a megabyte of headers were refused before the fake, and,
	// since Go 1.27 counts a header's overhead too, those with 1,400 headers.
	assert.Contains(t, []int64{22120, 23120}, total)
	_, body := m.do(t, http.MethodGet, "/__mock/requests", "")
	assert.Less(t, len(body), 8<<20, "GET /__mock/requests")
	kb, err := peakRSS(m.cmd.Process.Pid)
	require.NoError(t, err)
	t.Logf("peak RSS %d MB; /__mock/requests %d KB", kb>>10, len(body)>>10)
	assert.Less(t, kb, 150<<10, "peak resident memory")
}

// peakRSS returns the peak resident memory of process pid, in kB.
func peakRSS(pid int) (int, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	peak := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if peak == nil {
		return 0, errors.New("no VmHWM line")
	}
	return strconv.Atoi(string(peak[1]))
}

// TestStandardErrorThatNobodyReads: a harness that pipes the mock's
// standard error and never reads it (a full pipe) holds neither a request
// nor the shutdown; the lines that could not be written are dropped.
func TestStandardErrorThatNobodyReads(t *testing.T) {
	t.Parallel()
	unread, pipe, err := os.Pipe()
	require.NoError(t, err)
	defer unread.Close()
	cmd := exec.Command(binary, "-addr", "127.0.0.1:0")
	cmd.Stderr = pipe
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	pipe.Close()
	m := &mock{cmd: cmd, client: &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}}
	defer m.client.CloseIdleConnections()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	m.URL = regexp.MustCompile(`https?://\S+`).FindString(line)
	for range 3000 { // some 300 KB of log lines, far more than a pipe holds
		status, _ := m.do(t, http.MethodGet, "/__mock/health", "")
		require.Equal(t, http.StatusOK, status)
	}
	code, took := m.stop(t, syscall.SIGTERM)
	assert.Zero(t, code)
	assert.Less(t, took, 5*time.Second)
}

// TestLogHoldsNoPathOfTheClients: a path is logged only when it is one of
// the mock's routes, so that neither a key in a path nor a forged line
// reaches the log.
func TestLogHoldsNoPathOfTheClients(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	for _, path := range []string{"/portal/sk_test_InThePath0123", "/x%0a2026/01/01%2000:00:00%20FORGED"} {
		status, _ := m.do(t, http.MethodGet, path, "")
		assert.Equal(t, http.StatusNotFound, status)
	}
	m.do(t, http.MethodGet, "/__mock/health", "")
	code, _ := m.stop(t, syscall.SIGTERM)
	require.Zero(t, code)
	logs := m.stderr.String()
	assert.NotContains(t, logs, "InThePath")
	assert.NotContains(t, logs, "FORGED")
	assert.Contains(t, logs, "GET (another path) 404")
	assert.Contains(t, logs, "GET /__mock/health 200")
}

// TestKeyFromTheEnvironment: PORTAL_MOCK_API_KEY gives the one key to
// accept, which then shows in neither the usage nor the command line.
func TestKeyFromTheEnvironment(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), envAPIKey+"=sk_test_from_the_environment") // the last one counts
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	m := &mock{
		URL:    regexp.MustCompile(`https?://\S+`).FindString(line),
		client: &http.Client{Transport: &http.Transport{}},
	}
	defer m.client.CloseIdleConnections()
	for key, want := range map[string]int{"sk_test_from_the_environment": 201, "sk_test_another": 401} {
		status, err := m.generateLink(key)
		require.NoError(t, err)
		assert.Equal(t, want, status, key)
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid)); err == nil {
		assert.NotContains(t, string(cmdline), "from_the_environment")
	}
	help := exec.Command(binary, "-h")
	help.Env = cmd.Env
	out, _ := help.CombinedOutput()
	assert.Contains(t, string(out), envAPIKey)
	assert.NotContains(t, string(out), "from_the_environment", "the usage never shows the key")
}

// TestVersion: -version prints the version that the release build sets,
// and "devel" for a build from a checkout.
func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "-version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "portal-mock devel\n", string(out))

	released := filepath.Join(t.TempDir(), "portal-mock")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7", "-o", released, ".")
	out, err = build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(released, "-version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "portal-mock v9.8.7\n", string(out))
}

// TestHealthcheck: -healthcheck exits 0 for a mock that answers, over
// plain HTTP or -tls, and 1 when nothing answers.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	for _, m := range []*mock{startMock(t, ""), startMock(t, certOut, "-tls", "-tls-cert-out", certOut)} {
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(m.URL, "http://"), "https://"))
		for _, addr := range []string{"127.0.0.1:" + port, "0.0.0.0:" + port, ":" + port} {
			out, err := exec.Command(binary, "-healthcheck", "-addr", addr).CombinedOutput()
			assert.NoError(t, err, "%s %s: %s", m.URL, addr, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	out, err := exec.Command(binary, "-healthcheck", "-addr", addr).CombinedOutput()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "%s", out)
	assert.Equal(t, 1, exitErr.ExitCode())
	assert.Contains(t, string(out), "unhealthy")
}

// TestLongPollOnTheBinary: GET /__mock/requests?min=N ends after its
// timeout when N requests never come, and SIGTERM ends a pending one.
func TestLongPollOnTheBinary(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	status, body := m.do(t, http.MethodGet, "/__mock/requests?min=3&timeout=50ms", "")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"total":0,"requests":[]}`, body)

	pending := make(chan error)
	go func() {
		resp, err := m.client.Get(m.URL + "/__mock/requests?min=3") // waits up to 30s
		if err == nil {
			resp.Body.Close()
		}
		pending <- err
	}()
	status, _ = m.do(t, http.MethodGet, "/__mock/health", "") // on its own connection, after the poll's
	require.Equal(t, http.StatusOK, status)
	code, took := m.stop(t, syscall.SIGTERM)
	assert.Zero(t, code)
	assert.Less(t, took, 3*time.Second, "a pending poll does not hold the shutdown")
	select {
	case <-pending:
	case <-time.After(10 * time.Second):
		t.Fatal("the poll is still pending after the mock stopped")
	}
}

// TestGoToolRunsTheMock: a module that pins the mock with a tool line
// (go get -tool) runs it with go tool.
func TestGoToolRunsTheMock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := t.TempDir()
	goMod := "module example.com/ci\n\ngo 1.25\n\n" +
		"tool github.com/adminportal/portal/cmd/portal-mock\n\n" +
		"require github.com/adminportal/portal v0.0.0\n\n" +
		"replace github.com/adminportal/portal => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	for _, args := range [][]string{{"mod", "tidy"}, {"tool", "portal-mock", "-version"}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %v: %s", args, out)
		if args[0] == "tool" {
			assert.Equal(t, "portal-mock v0.0.0\n", string(out), "the version of the require line")
		}
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-org", "acme"}, {"-nope"}, {"extra"}, {"-addr", "256.0.0.1:99999"}, {"-tls-host", "x"},
		{"-host", ""}, {"-host", "portal-mock:8484"}, {"-host", "http://portal-mock"}, {"-host", "a/b"},
		{"-tls", "-tls-host", "[::1]"},
	} {
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
	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.DSync})
	require.NoError(t, err)
	client.CloseIdleConnections()
	cancel()
	require.NoError(t, <-errc)
	w.Close()
}
