package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// The tests in this file run the binary, for what only a process has:
// signals, exit codes, its standard streams, its command line and
// environment, its memory.

// TestSignalsStopTheMock: SIGINT and SIGTERM stop the mock at once, with
// status 0, ending a request that a latency holds and a pending long poll.
func TestSignalsStopTheMock(t *testing.T) {
	t.Parallel()
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			m := startBinary(t, nil, nil)
			status, _ := m.do(t, http.MethodPost, "/__mock/faults", `{"latency_ms":60000}`)
			require.Equal(t, http.StatusNoContent, status)
			held, poll := make(chan error, 1), make(chan error, 1)
			go func() {
				_, err := m.generateLink("sk_test_held0123456789")
				held <- err
			}()
			go func() {
				resp, err := m.client.Get(m.URL + "/__mock/requests?min=3") // waits up to 30s
				if err == nil {
					resp.Body.Close()
				}
				poll <- err
			}()
			m.requests(t, 1) // the request is in, and held
			start := time.Now()
			require.NoError(t, m.cmd.Process.Signal(sig))
			assert.Zero(t, exitCode(t, m.cmd.Wait()))
			assert.Less(t, time.Since(start), 3*time.Second)
			assert.Error(t, <-held, "the held request is dropped")
			<-poll // the poll ended too
			assert.True(t, strings.HasSuffix(m.stderr.String(), " stopped\n"), m.stderr.String())
		})
	}
}

// TestClosedStandardErrorLosesLinesNotTheMock: when nothing reads the
// mock's standard error any more (the pipe's reader closed), its log lines
// are lost, and it goes on serving rather than die of SIGPIPE.
func TestClosedStandardErrorLosesLinesNotTheMock(t *testing.T) {
	t.Parallel()
	closed, pipe, err := os.Pipe()
	require.NoError(t, err)
	defer pipe.Close()
	require.NoError(t, closed.Close())
	m := startBinary(t, nil, pipe)
	for i := range 50 {
		status, err := m.generateLink("sk_test_sigpipe0123456789")
		require.NoError(t, err, "request %d", i)
		assert.Equal(t, http.StatusCreated, status)
	}
	require.NoError(t, m.cmd.Process.Signal(syscall.SIGTERM))
	assert.Zero(t, exitCode(t, m.cmd.Wait()))
}

// TestStandardErrorThatNobodyReads: a harness that pipes the mock's
// standard error and never reads it (a full pipe) holds neither a request
// nor the shutdown; the lines that could not be written are dropped.
func TestStandardErrorThatNobodyReads(t *testing.T) {
	t.Parallel()
	unread, pipe, err := os.Pipe()
	require.NoError(t, err)
	defer unread.Close()
	defer pipe.Close()
	m := startBinary(t, nil, pipe)
	for range 2000 { // some 200 KB of log lines, more than a pipe and the mock's 1,000 lines hold
		status, _ := m.do(t, http.MethodGet, "/__mock/health", "")
		require.Equal(t, http.StatusOK, status)
	}
	start := time.Now()
	require.NoError(t, m.cmd.Process.Signal(syscall.SIGTERM))
	assert.Zero(t, exitCode(t, m.cmd.Wait()))
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestKeyFromTheEnvironmentStaysHidden: the key PORTAL_MOCK_API_KEY gives
// shows in neither the process's command line nor the usage.
func TestKeyFromTheEnvironmentStaysHidden(t *testing.T) {
	t.Parallel()
	env := []string{envAPIKey + "=sk_test_from_the_environment"}
	m := startBinary(t, env, nil)
	status, err := m.generateLink("sk_test_from_the_environment")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, status)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", m.cmd.Process.Pid))
	if err == nil {
		assert.NotContains(t, string(cmdline), "from_the_environment")
	}
	help := exec.Command(binary, "-h")
	help.Env = append(os.Environ(), env...)
	out, err := help.CombinedOutput()
	require.NoError(t, err, "-h exits 0")
	assert.Contains(t, string(out), "Usage of portal-mock")
	assert.Contains(t, string(out), envAPIKey)
	assert.NotContains(t, string(out), "from_the_environment", "the usage never shows the key")
}

// TestVersion: -version prints the version that the release build sets;
// a build from a checkout prints "devel", or the pseudo-version that Go
// stamps from git (-buildvcs).
func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "-version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Regexp(t, `^portal-mock (devel|v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+dirty)?)\n$`, string(out))

	released := filepath.Join(t.TempDir(), "portal-mock")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7", "-o", released, ".")
	out, err = build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(released, "-version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "portal-mock v9.8.7\n", string(out))
}

// TestExitCodes: -healthcheck exits 0 for a mock that answers and 1 when
// nothing does; a mock whose port is taken exits 1, and says why.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	m := startMock(t, "")
	addr := strings.TrimPrefix(m.URL, "http://")
	out, err := exec.Command(binary, "-healthcheck", "-addr", addr).CombinedOutput()
	assert.Zero(t, exitCode(t, err), "%s", out)

	taken := exec.Command(binary, "-addr", addr)
	out, err = taken.CombinedOutput()
	assert.Equal(t, 1, exitCode(t, err))
	assert.Regexp(t, `^portal-mock: listen tcp 127\.0\.0\.1:\d+: bind: address already in use: `+
		`is another portal-mock running there\? Pick another address with -addr`, string(out))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	free := ln.Addr().String()
	ln.Close()
	out, err = exec.Command(binary, "-healthcheck", "-addr", free).CombinedOutput()
	assert.Equal(t, 1, exitCode(t, err))
	assert.Contains(t, string(out), "portal-mock: unhealthy: ")

	out, err = exec.Command(binary, "-nope").CombinedOutput()
	assert.Equal(t, 1, exitCode(t, err))
	assert.Contains(t, string(out), "flag provided but not defined: -nope")
}

// TestGoClientOverTLS: unchanged code that reads WORKOS_BASE_URL reaches a
// -tls mock, trusting it through SSL_CERT_FILE, over HTTP/2.
func TestGoClientOverTLS(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	m := startMock(t, certOut, "-tls", "-tls-cert-out", certOut)
	cmd := exec.Command("go", "run", "../../examples/generatelink", "-org", "org_123", "-intent", "sso")
	cmd.Env = append(os.Environ(), portal.EnvAPIKey+"=sk_test_ci0123456789", portal.EnvBaseURL+"="+m.URL,
		"SSL_CERT_FILE="+certOut)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())
	assert.Regexp(t, `^`+regexp.QuoteMeta(m.URL)+`/portal/launch\?token=[A-Z2-7]{52}\n$`, string(out))
	_, reqs := m.requests(t, 1)
	require.Len(t, reqs, 1)
	assert.Equal(t, "HTTP/2.0", reqs[0]["proto"], "the default transport speaks HTTP/2 to the mock")
}

// readmeBlock returns the README's sh block that holds marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(block[1], marker) {
			return regexp.MustCompile(`(?m)^  `).ReplaceAllString(block[1], "") // a block in a list is indented
		}
	}
	t.Fatalf("no sh block of the README holds %q", marker)
	return ""
}

// TestGoToolRunsTheMock runs the README's commands for Go projects, as
// written, in a module of their own, offline: a replace stands in for the
// module proxy, and the module's go.sum for the checksum database.
func TestGoToolRunsTheMock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := t.TempDir()
	goMod := "module example.com/ci\n\ngo 1.25\n\nreplace github.com/adminportal/portal => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o644))

	lines := strings.Split(strings.TrimSpace(readmeBlock(t, "go get -tool")), "\n")
	require.Equal(t, []string{"go get -tool github.com/adminportal/portal/cmd/portal-mock@v1.0.0",
		"go tool portal-mock -version"}, lines)
	for _, line := range lines {
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", line, out)
		if strings.HasPrefix(line, "go tool") {
			assert.Equal(t, "portal-mock v1.0.0\n", string(out), "the version in go.mod")
		}
	}
	goModAfter, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(goModAfter), "tool github.com/adminportal/portal/cmd/portal-mock\n")
}

// TestREADMEStartLoop runs the README's loop that starts the mock and waits
// for it: it succeeds once the mock listens, and fails at once when the
// mock cannot start, even with another mock on its port.
func TestREADMEStartLoop(t *testing.T) {
	t.Parallel()
	loop := strings.ReplaceAll(readmeBlock(t, "until grep"), "go tool portal-mock", binary)
	require.Contains(t, loop, "127.0.0.1:8484")
	start := func(t *testing.T, addr string, extra ...string) (out, first string, err error) {
		dir := t.TempDir()
		script := strings.ReplaceAll(loop, "127.0.0.1:8484", addr)
		script = strings.Replace(script, "-org org_123", "-org org_123 "+strings.Join(extra, " "), 1)
		cmd := exec.Command("bash", "-c", script+`echo "pid $!"`+"\n")
		cmd.Dir = dir
		// A file, not a pipe, which the mock left running would hold open.
		outFile, err := os.Create(filepath.Join(dir, "loop.out"))
		require.NoError(t, err)
		defer outFile.Close()
		cmd.Stdout, cmd.Stderr = outFile, outFile
		err = waitFor(t, cmd, 10*time.Second)
		output, _ := os.ReadFile(outFile.Name())
		if pid := regexp.MustCompile(`pid (\d+)`).FindSubmatch(output); pid != nil {
			t.Cleanup(func() { _ = exec.Command("kill", string(pid[1])).Run() })
		}
		firstLine, _ := os.ReadFile(filepath.Join(dir, "portal-mock.out"))
		return string(output), string(firstLine), err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	free := ln.Addr().String()
	ln.Close()
	out, first, err := start(t, free)
	require.NoError(t, err, out)
	assert.Equal(t, "portal-mock listening on http://"+free+"\n", first)

	taken := startMock(t, "") // a mock from before, still there
	out, _, err = start(t, strings.TrimPrefix(taken.URL, "http://"))
	assert.Error(t, err, "it fails, rather than find the other mock")
	assert.Contains(t, out, "address already in use")
	assert.Contains(t, out, "portal-mock did not start")

	out, _, err = start(t, free, "-nope")
	assert.Error(t, err, "a bad flag fails at once, not forever")
	assert.Contains(t, out, "portal-mock did not start")
}

// TestMemoryIsBounded attacks the mock's memory as a hostile client would,
// with every attack found so far, and reads its peak resident memory. It
// sends some 30,000 requests: .ci/run sets PORTAL_MEMORY_TEST to run it.
// Each bound also has a test of its own in package portaltest.
func TestMemoryIsBounded(t *testing.T) {
	if os.Getenv("PORTAL_MEMORY_TEST") == "" {
		t.Skip("set PORTAL_MEMORY_TEST=1 to send some 30,000 requests (.ci/run does)")
	}
	t.Parallel()
	m := startBinary(t, nil, nil)
	if _, err := peakRSS(m.cmd.Process.Pid); err != nil {
		t.Skip("no /proc here to read the process's memory from:", err)
	}
	a := &attack{t: t, m: m}
	total := a.run()
	assert.Equal(t, a.wantTotal, total, "every generate-link request that the server took was recorded")
	_, body := m.do(t, http.MethodGet, "/__mock/requests", "")
	assert.Less(t, len(body), 24<<20, "GET /__mock/requests")
	kb, err := peakRSS(m.cmd.Process.Pid)
	require.NoError(t, err)
	t.Logf("peak RSS %d MB; /__mock/requests %d KB", kb>>10, len(body)>>10)
	assert.Less(t, kb, 150<<10, "peak resident memory")
}

// peakRSS returns the peak resident memory of process pid, in kB.
func peakRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int
		if _, err := fmt.Sscanf(sc.Text(), "VmHWM: %d kB", &kb); err == nil {
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM line in /proc/%d/status", pid)
}
