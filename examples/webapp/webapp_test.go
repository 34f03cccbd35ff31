package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

const demoOrg = "org_01EHZNVPK3SFK441A1RGBFSHRT"

// startApp serves the example app in front of a fake API.
func startApp(t *testing.T) (*httptest.Server, *portaltest.Server) {
	t.Helper()
	fake := portaltest.Start(t)
	client, err := fake.Client()
	require.NoError(t, err)
	app := httptest.NewServer(newApp(client, demoOrg))
	t.Cleanup(app.Close)
	return app, fake
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestSettingsPageOffersEveryIntent(t *testing.T) {
	t.Parallel()
	app, _ := startApp(t)
	resp, err := http.Get(app.URL + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	for _, intent := range portal.Intents() {
		assert.Contains(t, string(body), `action="/admin-portal/`+string(intent)+`"`)
	}
	assert.Contains(t, string(body), "View audit logs")
	assert.Contains(t, string(body), demoOrg)
}

func TestButtonRedirectsToPortal(t *testing.T) {
	t.Parallel()
	app, fake := startApp(t)
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/admin-portal/audit_logs", nil)
	req.Header.Set("Origin", app.URL)
	resp, err := noRedirects.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), fake.URL+"/portal/launch?token="))
	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, portal.GenerateLinkOpts{Organization: demoOrg, Intent: portal.AuditLogs, ReturnURL: app.URL + "/"}, reqs[0].Opts)
}

func TestAppRefusals(t *testing.T) {
	t.Parallel()
	app, fake := startApp(t)
	for _, tt := range []struct {
		path, origin string
		want         int
	}{
		{"/admin-portal/audit_logs", "https://evil.example", http.StatusForbidden},
		{"/admin-portal/billing", "", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodPost, app.URL+tt.path, nil)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		resp, err := noRedirects.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tt.want, resp.StatusCode, tt.path)
	}
	resp, err := http.Get(app.URL + "/admin-portal/audit_logs")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "only POST generates links")
	assert.Empty(t, fake.Requests())
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
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	go func() { _, _ = io.Copy(io.Discard, r) }()
	require.NoError(t, <-errc)
}

// TestBrowserOpensAuditLogs clicks through the example in headless
// Chromium: settings page, "View audit logs", the portal page for the
// organization and intent; then the same link again, which is refused.
func TestBrowserOpensAuditLogs(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("PORTAL_REQUIRE_BROWSER") != "" {
			t.Fatal("Chromium not found, and PORTAL_REQUIRE_BROWSER is set")
		}
		t.Skip("Chromium not found: install Debian's chromium package (.ci/run does) or set CHROMIUM")
	}
	app, _ := startApp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startBrowser(t, chromium)
	p, err := b.newPage(ctx)
	require.NoError(t, err)

	require.NoError(t, p.navigate(ctx, app.URL+"/"))
	var title string
	require.NoError(t, p.eval(ctx, "document.title", &title))
	assert.Equal(t, "Acme Corp · Organization settings", title)

	require.NoError(t, p.eval(ctx, `document.querySelector('button[data-intent="audit_logs"]').click()`, nil))
	require.NoError(t, b.waitEvent(ctx, "Page.loadEventFired"))
	var portalPage struct {
		URL    string `json:"url"`
		Status int    `json:"status"`
		Title  string `json:"title"`
		Org    string `json:"org"`
		Intent string `json:"intent"`
		Events int    `json:"events"`
	}
	const inspect = `({url: location.href, status: performance.getEntriesByType("navigation")[0].responseStatus,
		title: document.title, org: document.getElementById("org-id")?.textContent,
		intent: document.getElementById("intent")?.textContent, events: document.querySelectorAll("#events tbody tr").length})`
	require.NoError(t, p.eval(ctx, inspect, &portalPage))
	assert.Contains(t, portalPage.URL, "/portal/launch?token=")
	assert.Equal(t, 200, portalPage.Status)
	assert.Equal(t, "Admin Portal · Audit Logs", portalPage.Title)
	assert.Equal(t, demoOrg, portalPage.Org)
	assert.Equal(t, "audit_logs", portalPage.Intent)
	assert.Positive(t, portalPage.Events)

	if path := os.Getenv("PORTAL_SCREENSHOT"); path != "" {
		png, err := p.screenshot(ctx)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))
		require.NoError(t, os.WriteFile(path, png, 0o644))
	}

	require.NoError(t, p.navigate(ctx, portalPage.URL))
	var again struct {
		Status int    `json:"status"`
		Text   string `json:"text"`
	}
	require.NoError(t, p.eval(ctx, `({status: performance.getEntriesByType("navigation")[0].responseStatus, text: document.body.innerText})`, &again))
	assert.Equal(t, 410, again.Status)
	assert.Contains(t, again.Text, "already been used")
}
