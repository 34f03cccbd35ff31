package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal/portaltest"

	"github.com/adminportal/portal/internal/syncbuf"
)

// An officialSDK is one version of an official WorkOS SDK that CI runs,
// unchanged, against the binary, and what it must send and raise. .ci/run
// installs each version, pinned, and names where in dirEnv; a test skips
// an SDK whose variable is unset, since tests download nothing, unless
// PORTAL_REQUIRE_SDKS is set, as .ci/run sets it.
type officialSDK struct {
	name   string
	dirEnv string
	// run starts script (under testdata/sdk) with the SDK in dir, against
	// the mock at base, trusting the certificate in cert.
	run    func(t *testing.T, dir, script, base, cert string) *exec.Cmd
	script string
	org    string // what the snippet asks a link for

	userAgent string // a regular expression
	body      string // the snippet's request body, exactly
	// idempotencyKey returns a regular expression that the Idempotency-Key
	// of a request with body matches; nil for an SDK that sends none.
	idempotencyKey func(body string) string
	attempts       int       // requests one call makes while the mock answers 429
	errors         [3]string // the SDK's error types for a 401, a 422 and a 429
	requestID      bool      // whether those errors carry the answer's X-Request-Id
	retryAfter     bool      // whether the 429's error carries Retry-After
}

var officialSDKs = []officialSDK{
	{
		name: "node 8.13.0, the page's snippet", dirEnv: "PORTAL_NODE_SNIPPET_SDK_DIR",
		run: runNode(""), script: "node/snippet.mjs", org: "org_01EHZNVPK3SFK441A1RGBFSHRT",
		userAgent: `^workos-node/8\.13\.0/fetch \(node/v[0-9.]+\)$`,
		body:      `{"intent":"audit_logs","organization":"org_01EHZNVPK3SFK441A1RGBFSHRT"}`,
		attempts:  1, // 8.x retries only some paths, not this one
		errors:    [3]string{"UnauthorizedException", "UnprocessableEntityException", "RateLimitExceededException"},
		// 8.13.0 reads the request ID as headers["X-Request-ID"] of a fetch
		// Headers object, which has no such property: its errors carry "".
		requestID: false, retryAfter: true,
	},
	{
		name: "node 12.3.0, the current major", dirEnv: "PORTAL_NODE_SDK_DIR",
		run: runNode("PORTAL_NODE_SDK_NODE"), script: "node/current.mjs", org: "org_01EHZNVPK3SFK441A1RGBFSHRT",
		userAgent:      `^workos-node/12\.3\.0$`,
		body:           `{"intent":"audit_logs","organization":"org_01EHZNVPK3SFK441A1RGBFSHRT"}`,
		idempotencyKey: func(string) string { return `^retry-` + uuidPattern + `$` },
		attempts:       4, // 3 retries
		errors:         [3]string{"UnauthorizedException", "UnprocessableEntityException", "RateLimitExceededException"},
		requestID:      true, retryAfter: true,
	},
	{
		name: "python 5.46.0, the page's snippet", dirEnv: "PORTAL_PYTHON_SNIPPET_SDK_DIR",
		run: runPython, script: "python/snippet.py", org: "org_123",
		userAgent: `^WorkOS Python/3\.[0-9.]+ Python SDK/5\.46\.0$`,
		body:      `{"intent":"audit_logs","organization":"org_123"}`,
		attempts:  1, // 5.x does not retry
		// 5.x raises BadRequestException for every 4xx but 401, 403, 404 and 409.
		errors:    [3]string{"AuthenticationException", "BadRequestException", "BadRequestException"},
		requestID: true,
	},
	{
		name: "python 10.8.0, the current major", dirEnv: "PORTAL_PYTHON_SDK_DIR",
		run: runPython, script: "python/current.py", org: "org_123",
		userAgent:      `^WorkOS Python/3\.[0-9.]+ Python SDK/10\.8\.0$`,
		body:           `{"organization":"org_123","intent":"audit_logs"}`,
		idempotencyKey: func(string) string { return `^` + uuidPattern + `$` },
		attempts:       4,
		errors:         [3]string{"AuthenticationError", "UnprocessableEntityError", "RateLimitExceededError"},
		requestID:      true, retryAfter: true,
	},
	{
		name: "java 7.2.0, the current major", dirEnv: "PORTAL_JAVA_SDK_DIR",
		run: runJava, script: "java/Current.java", org: "org_123",
		userAgent: `^workos-kotlin/7\.2\.0$`,
		body:      `{"organization":"org_123","intent":"audit_logs"}`,
		// Not random: a hash of the method, path, query, form and body, so
		// that two identical calls share it.
		idempotencyKey: func(body string) string {
			sum := sha256.Sum256([]byte("POST|/portal/generate_link|||" + body))
			return `^retry-` + hex.EncodeToString(sum[:]) + `$`
		},
		attempts:  4,
		errors:    [3]string{"UnauthorizedException", "UnprocessableEntityException", "RateLimitException"},
		requestID: true, retryAfter: true,
	},
}

const uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// exampleKey is the documentation's placeholder key, which the snippets send
// and the mock accepts without -api-key.
const exampleKey = "sk_example_123456789"

// TestOfficialSDKs runs each official SDK, unchanged, against the binary,
// over plain HTTP and over HTTPS, trusting the mock's certificate the way
// each SDK's HTTP stack reads one, as a CI job in another language would.
func TestOfficialSDKs(t *testing.T) {
	for _, sdk := range officialSDKs {
		t.Run(sdk.name, func(t *testing.T) {
			t.Parallel()
			dir := os.Getenv(sdk.dirEnv)
			if dir == "" {
				if os.Getenv("PORTAL_REQUIRE_SDKS") != "" {
					t.Fatalf("PORTAL_REQUIRE_SDKS is set, but %s is not", sdk.dirEnv)
				}
				t.Skipf("%s is not set: .ci/run installs the SDK and sets it", sdk.dirEnv)
			}
			certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
			for _, mode := range []struct{ name, cert string }{{"http", ""}, {"https", certOut}} {
				t.Run(mode.name, func(t *testing.T) {
					args := []string{}
					if mode.cert != "" {
						args = []string{"-tls", "-tls-cert-out", mode.cert}
					}
					m := startMock(t, mode.cert, args...)
					sdk.check(t, m, sdk.run(t, dir, sdk.script, m.URL, mode.cert))
				})
			}
		})
	}
}

// sdkResult is what a script answers for one case.
type sdkResult struct {
	Case       string   `json:"case"`
	OK         bool     `json:"ok"`
	Link       string   `json:"link"`
	Error      string   `json:"error"`
	Status     int      `json:"status"`
	RequestID  string   `json:"requestID"`
	RetryAfter *float64 `json:"retryAfter"`
	Message    string   `json:"message"`
}

// check drives the script in cmd through its cases, one at a time, injecting
// the 429 before the last, then checks what the mock recorded.
func (sdk officialSDK) check(t *testing.T, m *mock, cmd *exec.Cmd) {
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewReader(stdout)
	ask := func(name string) sdkResult {
		t.Helper()
		_, err := io.WriteString(stdin, name+"\n")
		require.NoError(t, err)
		line, err := lines.ReadString('\n')
		require.NoError(t, err, "%s: stderr: %s", name, &stderr)
		var r sdkResult
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		require.Equal(t, name, r.Case)
		return r
	}

	snippet := ask("snippet")
	require.True(t, snippet.OK, "the snippet gets a link: %+v\nstderr: %s", snippet, &stderr)
	assert.Regexp(t, `^`+regexp.QuoteMeta(m.URL)+`/portal/launch\?token=[A-Z2-7]{52}$`, snippet.Link)
	status, page := m.open(t, snippet.Link)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, sdk.org)
	assert.Contains(t, page, "Audit Logs")
	status, _ = m.open(t, snippet.Link)
	assert.Equal(t, http.StatusGone, status, "the link opens once")

	errs := []sdkResult{ask("wrong key"), ask("invalid")}
	status, body := m.do(t, http.MethodPost, "/__mock/faults",
		`{"status":429,"retry_after":"0","count":`+strconv.Itoa(sdk.attempts)+`}`)
	require.Equal(t, http.StatusNoContent, status, body)
	errs = append(errs, ask("rate limited"))
	require.NoError(t, stdin.Close())
	require.NoError(t, cmd.Wait(), "stderr: %s", &stderr)

	total, reqs := m.requests(t, 3+sdk.attempts)
	require.EqualValues(t, 3+sdk.attempts, total, "one request a case, and the SDK's retries of the 429")
	require.Len(t, reqs, 3+sdk.attempts)
	for i, r := range errs {
		want := []int{401, 422, 429}[i]
		assert.False(t, r.OK, r.Case)
		assert.Equal(t, sdk.errors[i], r.Error, "%s: the SDK's error type (%s)", r.Case, r.Message)
		assert.Equal(t, want, r.Status, r.Case)
		if sdk.requestID {
			answered := reqs[i+1]
			if i == 2 {
				answered = reqs[len(reqs)-1] // the last retry's answer
			}
			assert.Equal(t, answered["request_id"], r.RequestID, "%s: the error carries the X-Request-Id", r.Case)
		}
	}
	if rateLimited := errs[2]; sdk.retryAfter && assert.NotNil(t, rateLimited.RetryAfter, "Retry-After") {
		assert.Zero(t, *rateLimited.RetryAfter, "the error carries Retry-After")
	}

	wantStatus := []any{201.0, 401.0, 422.0}
	for range sdk.attempts {
		wantStatus = append(wantStatus, 429.0)
	}
	for i, rec := range reqs {
		header, _ := rec["header"].(map[string]any)
		first := func(name string) string {
			values, _ := header[name].([]any)
			if len(values) == 0 {
				return ""
			}
			s, _ := values[0].(string)
			return s
		}
		assert.Equal(t, "POST", rec["method"], i)
		assert.Equal(t, "/portal/generate_link", rec["path"], i)
		assert.Equal(t, wantStatus[i], rec["status"], i)
		assert.Regexp(t, sdk.userAgent, first("User-Agent"), i)
		assert.Regexp(t, `^application/json(; ?charset=utf-8)?$`, first("Content-Type"), i)
		body, _ := rec["body"].(string)
		if sdk.idempotencyKey == nil {
			assert.NotContains(t, header, "Idempotency-Key", i)
		} else {
			assert.Regexp(t, sdk.idempotencyKey(body), first("Idempotency-Key"), i)
		}
		if i > 3 {
			assert.Equal(t, reqs[3]["header"], rec["header"], "a retry repeats the request, its Idempotency-Key too")
			assert.Equal(t, reqs[3]["body"], rec["body"])
		}
		if i != 1 {
			assert.Equal(t, portaltest.Fingerprint(exampleKey), rec["key"], "%d: the page's example key", i)
		}
	}
	assert.Equal(t, sdk.body, reqs[0]["body"], "the snippet's body")
	assert.Equal(t, portaltest.Fingerprint("sk_live_not_accepted"), reqs[1]["key"])
	for _, rec := range reqs[3:] {
		assert.Equal(t, "status", rec["fault"], "answered by the injected 429")
	}
}

// open opens a link, and returns the status and the page.
func (m *mock) open(t *testing.T, link string) (int, string) {
	t.Helper()
	resp, err := m.client.Get(link)
	require.NoError(t, err)
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(page)
}

// sdkEnv is the environment the SDKs run in: only what finds their
// runtimes, and what each needs, so that no WORKOS_ variable of the
// developer's reaches them.
func sdkEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, extra...)
}

func testdataScript(t *testing.T, script string) string {
	path, err := filepath.Abs(filepath.Join("testdata", "sdk", script))
	require.NoError(t, err)
	return path
}

// runNode runs a Node script with the SDK in dir/node_modules, from a copy
// of the scripts beside a link to those modules, so that the script imports
// '@workos-inc/node' as the page does; with the Node binary that binEnv
// names, if set (the current major declares Node 22.11 or later).
// NODE_EXTRA_CA_CERTS trusts the mock's certificate.
func runNode(binEnv string) func(t *testing.T, dir, script, base, cert string) *exec.Cmd {
	return func(t *testing.T, dir, script, base, cert string) *exec.Cmd {
		node := "node"
		if binEnv != "" && os.Getenv(binEnv) != "" {
			node = os.Getenv(binEnv)
		}
		work := t.TempDir()
		for _, name := range []string{"cases.mjs", filepath.Base(script)} {
			src, err := os.ReadFile(testdataScript(t, filepath.Join("node", name)))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(work, name), src, 0o644))
		}
		require.NoError(t, os.Symlink(filepath.Join(dir, "node_modules"), filepath.Join(work, "node_modules")))
		cmd := exec.Command(node, filepath.Join(work, filepath.Base(script)), base)
		cmd.Env = sdkEnv("NODE_EXTRA_CA_CERTS=" + cert)
		return cmd
	}
}

// runPython runs a Python script with the SDK installed in dir (pip
// --target); SSL_CERT_FILE trusts the mock's certificate, as httpx reads it.
func runPython(t *testing.T, dir, script, base, cert string) *exec.Cmd {
	cmd := exec.Command("python3", testdataScript(t, script), base)
	cmd.Env = sdkEnv("PYTHONPATH="+dir, "SSL_CERT_FILE="+cert, "PYTHONDONTWRITEBYTECODE=1")
	return cmd
}

// runJava runs a Java source file with the SDK's jars in dir on the class
// path. A trust store that keytool makes from the mock's certificate trusts
// it, through -Djavax.net.ssl.trustStore; the key is in WORKOS_API_KEY, where
// the page's snippet reads it.
func runJava(t *testing.T, dir, script, base, cert string) *exec.Cmd {
	args := []string{"-cp", filepath.Join(dir, "*")}
	if cert != "" {
		store := filepath.Join(t.TempDir(), "truststore.p12")
		out, err := exec.Command("keytool", "-importcert", "-noprompt", "-alias", "portal-mock", "-file", cert,
			"-keystore", store, "-storetype", "PKCS12", "-storepass", "changeit").CombinedOutput()
		require.NoError(t, err, "keytool: %s", out)
		args = append(args, "-Djavax.net.ssl.trustStore="+store, "-Djavax.net.ssl.trustStorePassword=changeit")
	}
	cmd := exec.Command("java", append(args, testdataScript(t, script), base)...)
	cmd.Env = sdkEnv("WORKOS_API_KEY=" + exampleKey)
	return cmd
}
