package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

const demoOrg = "org_01EHZNVPK3SFK441A1RGBFSHRT"

// startApp serves the example app in front of a fake API.
func startApp(t *testing.T) (*httptest.Server, *portaltest.Server) {
	t.Helper()
	fake := portaltest.NewServer(t)
	fake.Start() // for the browser, which opens its links
	app := httptest.NewServer(newApp(fake.Client(), demoOrg, true))
	t.Cleanup(app.Close)
	return app, fake
}

// newBrowser returns an HTTP client of the test's own, which follows no
// redirect. It does not use http.DefaultTransport: httptest.Server.Close
// closes that transport's idle connections, which can break a request that
// another test running in parallel is just starting on one of them.
func newBrowser(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func post(t *testing.T, url, origin string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	require.NoError(t, err)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := newBrowser(t).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return answer{StatusCode: resp.StatusCode, Header: resp.Header}
}

// answer is what post returns of a response, whose body it has closed.
type answer struct {
	StatusCode int
	Header     http.Header
}

func TestSettingsPage(t *testing.T) {
	t.Parallel()
	app, _ := startApp(t)
	resp, err := newBrowser(t).Get(app.URL + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	for _, b := range buttons {
		assert.Contains(t, string(body), `action="/admin-portal/`+string(b.Intent)+`"`)
	}
	assert.Contains(t, string(body), "View audit logs")
	assert.Contains(t, string(body), demoOrg)
	assert.Contains(t, string(body), "embedded fake", "the page says it is not WorkOS")
}

func TestButtonRedirectsToThePortal(t *testing.T) {
	t.Parallel()
	app, fake := startApp(t)
	resp := post(t, app.URL+"/admin-portal/audit_logs", app.URL)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), fake.URL+"/portal/launch?token="))
	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, portaltest.Opts{Organization: demoOrg, Intent: "audit_logs", ReturnURL: app.URL + "/"}, reqs[0].Opts)
}

func TestAppRefusals(t *testing.T) {
	t.Parallel()
	app, fake := startApp(t)
	assert.Equal(t, http.StatusForbidden, post(t, app.URL+"/admin-portal/audit_logs", "https://evil.example").StatusCode)
	assert.Equal(t, http.StatusBadRequest, post(t, app.URL+"/admin-portal/billing", "").StatusCode,
		"only the intents the page offers")
	resp, err := newBrowser(t).Get(app.URL + "/admin-portal/audit_logs")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "only POST spends a link")
	assert.Empty(t, fake.Requests())
}

// failing is a portal.LinkGenerator that always fails, as a stub a test of
// the app can use in place of the client.
type failing struct{ err error }

func (f failing) GenerateLink(context.Context, portal.GenerateLinkOpts) (*portal.Link, error) {
	return nil, f.err
}

func TestAppWithAStubGenerator(t *testing.T) {
	t.Parallel()
	app := httptest.NewServer(newApp(failing{&portal.APIError{StatusCode: 429}}, demoOrg, false))
	defer app.Close()
	resp := post(t, app.URL+"/admin-portal/sso", app.URL)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestRunServesAndStops(t *testing.T) {
	t.Setenv(portal.EnvAPIKey, "")
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0"}, w, io.Discard) }()
	lines := bufio.NewScanner(r)
	require.True(t, lines.Scan())
	assert.Contains(t, lines.Text(), "embedded fake")
	require.True(t, lines.Scan())
	url := strings.TrimSuffix(strings.TrimPrefix(lines.Text(), "Settings page: open "), " in your browser")
	go func() { _, _ = io.Copy(io.Discard, r) }()
	resp, err := newBrowser(t).Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	require.NoError(t, <-errc)
	w.Close()
}

func TestRunFlags(t *testing.T) {
	t.Setenv(portal.EnvAPIKey, "")
	var stderr strings.Builder
	assert.ErrorIs(t, run(context.Background(), []string{"-h"}, io.Discard, &stderr), flag.ErrHelp)
	assert.Contains(t, stderr.String(), "-addr address")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(context.Background(), []string{"-addr", ln.Addr().String()}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "choose another address with -addr")
}

// TestBrowserOpensAuditLogs clicks through the example in headless
// Chromium: the settings page, "View audit logs", the portal page for the
// organization and intent; the same link again, which is refused with a way
// back; and that way back.
func TestBrowserOpensAuditLogs(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("PORTAL_REQUIRE_BROWSER") != "" {
			t.Fatal("Chromium not found, and PORTAL_REQUIRE_BROWSER is set")
		}
		t.Skip("Chromium not found: install Debian's chromium package (.ci/run does) or set CHROMIUM")
	}
	app, _ := startApp(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1200, 900),
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	page, err := chromedp.Run(ctx, chromedp.NavigateResponse(app.URL+"/"))
	require.NoError(t, err)
	assert.Equal(t, int64(200), page.Status)
	assert.Equal(t, "Acme Corp · Organization settings", value(t, ctx, chromedp.Title()))
	assert.Contains(t, value(t, ctx, chromedp.Text(`#fake-notice`)), "embedded fake")

	page, err = chromedp.RunResponse(ctx, chromedp.Click(`button[data-intent="audit_logs"]`))
	require.NoError(t, err)
	assert.Equal(t, int64(200), page.Status, "the redirect leads to the portal page")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(`#events`)))
	portalURL := value(t, ctx, chromedp.Location())
	assert.Contains(t, portalURL, "/portal/launch?token=")
	assert.Equal(t, demoOrg, value(t, ctx, chromedp.Text(`#org-id`)))
	assert.Equal(t, "audit_logs", value(t, ctx, chromedp.Text(`#intent`)))
	assert.Positive(t, value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#events tbody tr").length`)))
	if path := os.Getenv("PORTAL_SCREENSHOT"); path != "" {
		require.NoError(t, os.WriteFile(path, value(t, ctx, chromedp.CaptureScreenshot()), 0o644))
	}

	page, err = chromedp.Run(ctx, chromedp.NavigateResponse(portalURL))
	require.NoError(t, err)
	assert.Equal(t, int64(410), page.Status, "the link opens once")
	assert.Contains(t, value(t, ctx, chromedp.Text(`#problem`)), "already been used")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`#return`),
		chromedp.WaitVisible(`button[data-intent="audit_logs"]`)))
	assert.Equal(t, app.URL+"/", value(t, ctx, chromedp.Location()), "the refusal leads back to the application")
}

// value runs a chromedp action and returns its value.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// findChromium returns the path of a Chromium binary, or "".
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
