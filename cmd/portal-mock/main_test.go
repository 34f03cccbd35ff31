package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/adminportal/portal/internal/syncbuf"
	"github.com/adminportal/portal/internal/testenv"
)

// Most tests run the mock in process, through run, so that what they
// check is the code that mutation testing changes; the tests of what only
// a process has (signals, exit codes, the environment, memory) run the
// binary, built once.
var binary string

func TestMain(m *testing.M) {
	// No test reads the developer's environment: the mock's variable, the
	// client's and Go's are unset for every test and child, and a test that
	// wants one sets it.
	testenv.Isolate()
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

// mock is a running portal-mock: in process, or a process (cmd).
type mock struct {
	URL    string
	client *http.Client // trusts the mock's certificate when it has one
	stderr *syncbuf.Buffer

	cancel context.CancelFunc // in process
	done   chan error
	cmd    *exec.Cmd // a process
}

var firstLine = regexp.MustCompile(`^portal-mock listening on (https?://\S+)\n$`)

// startMock runs portal-mock in process on a free port with args, and
// reads its base URL from its first line. certOut, when the mock runs with
// -tls, is where it wrote its certificate.
func startMock(t *testing.T, certOut string, args ...string) *mock {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := &mock{stderr: &syncbuf.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	stdout, w := io.Pipe()
	go func() {
		m.done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), w, m.stderr)
		w.Close()
	}()
	m.readURL(t, certOut, stdout)
	t.Cleanup(func() {
		_ = m.stop()
		m.client.CloseIdleConnections()
	})
	return m
}

// startBinary runs the binary on a free port with args and env (added to
// the test's), and reads its base URL from its first line. Its standard
// error goes to stderr, or else to m.stderr.
func startBinary(t *testing.T, env []string, stderr io.Writer, args ...string) *mock {
	t.Helper()
	m := &mock{stderr: &syncbuf.Buffer{}}
	m.cmd = exec.Command(binary, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	m.cmd.Env = append(os.Environ(), env...)
	m.cmd.Stderr = m.stderr
	if stderr != nil {
		m.cmd.Stderr = stderr
	}
	stdout, err := m.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, m.cmd.Start())
	t.Cleanup(func() {
		if m.cmd.ProcessState == nil {
			_ = m.cmd.Process.Kill()
			_ = m.cmd.Wait()
		}
	})
	m.readURL(t, "", stdout)
	t.Cleanup(m.client.CloseIdleConnections)
	return m
}

// readURL reads the mock's first line, and goes on reading its standard
// output, so that it never blocks on it.
func (m *mock) readURL(t *testing.T, certOut string, stdout io.Reader) {
	t.Helper()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no first line (%v): the mock ended with %v; stderr: %s", err, m.stop(), m.stderr)
	}
	match := firstLine.FindStringSubmatch(line)
	require.NotNil(t, match, "the first line %q holds the base URL", line)
	m.URL = match[1]
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	tr := &http.Transport{}
	if certOut != "" {
		tr = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certPool(t, certOut)}, ForceAttemptHTTP2: true}
	}
	m.client = &http.Client{Transport: tr}
}

// stop ends the mock, with SIGTERM for a process, and returns how it ended.
func (m *mock) stop() error {
	if m.cmd == nil {
		m.cancel()
		err := <-m.done
		m.done <- err // for the next stop
		return err
	}
	if m.cmd.ProcessState == nil {
		_ = m.cmd.Process.Signal(os.Interrupt)
		return m.cmd.Wait()
	}
	return nil
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

// requests returns the mock's record, once at least min requests arrived,
// or 10 seconds passed.
func (m *mock) requests(t *testing.T, atLeast int) (total int64, reqs []map[string]any) {
	t.Helper()
	status, body := m.do(t, http.MethodGet, "/__mock/requests?timeout=10s&min="+strconv.Itoa(atLeast), "")
	require.Equal(t, http.StatusOK, status, body)
	var list struct {
		Total    int64
		Requests []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	return list.Total, list.Requests
}

// exitCode returns the exit status of a finished process's error.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	require.NoError(t, err)
	return 0
}

// waitFor runs cmd, and fails the test if it runs longer than limit.
func waitFor(t *testing.T, cmd *exec.Cmd, limit time.Duration) error {
	t.Helper()
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s still runs after %v", cmd, limit)
		return nil
	}
}
