package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attackPage is a page of another site that tries, with everything a page
// can send without a CORS preflight, to use up the mock's faults, mint
// links, reset it and add faults: images, no-cors fetches, a form, and a
// fetch whose preflight the mock never approves. It sets its title to
// "done" once every request has had its answer.
const attackPage = `<!DOCTYPE html>
<title>attack</title>
<form id="form" method="POST" action="MOCK/portal/generate_link" target="sink" enctype="text/plain">
<input name='{"organization":"org_1","x":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
const M = "MOCK";
const image = src => new Promise(done => { const i = new Image(); i.onload = i.onerror = done; i.src = src; });
const json = {"Content-Type": "application/json"};
const body = '{"organization":"org_1"}';
const tries = [
  image(M + "/portal/generate_link"),
  image(M + "/__mock/reset"),
  fetch(M + "/portal/generate_link", {method: "POST", mode: "no-cors", body}),
  fetch(M + "/portal/generate_link", {method: "POST", mode: "no-cors", body,
    headers: {...json, "Authorization": "Bearer sk_test_page0123456789"}}),
  fetch(M + "/portal/generate_link", {method: "POST", headers: json, body}),
  fetch(M + "/__mock/faults", {method: "POST", mode: "no-cors", body: '{"drop":true,"probability":1}'}),
  fetch(M + "/__mock/faults", {method: "POST", mode: "no-cors", headers: json, body: '{"drop":true}'}),
  fetch(M + "/__mock/reset", {method: "POST", mode: "no-cors"}),
  fetch(M + "/__mock/faults", {method: "DELETE", headers: json}),
  new Promise(done => { document.querySelector("iframe").onload = done; }),
];
document.getElementById("form").submit();
Promise.allSettled(tries).then(() => { document.title = "done"; });
</script>`

// TestPagesOfOtherSitesChangeNothing runs attackPage in headless Chromium
// against a mock that answers to the name portal-mock over plain HTTP,
// where Chromium sends neither Origin nor Sec-Fetch-Site with an image's
// GET: the requests reach the mock, and change nothing.
func TestPagesOfOtherSitesChangeNothing(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("PORTAL_REQUIRE_BROWSER") != "" {
			t.Fatal("Chromium not found, and PORTAL_REQUIRE_BROWSER is set")
		}
		t.Skip("Chromium not found: install Debian's chromium package (.ci/run does) or set CHROMIUM")
	}
	t.Parallel()
	m := startMock(t, "", "-host", "portal-mock")
	u, err := url.Parse(m.URL)
	require.NoError(t, err)
	m.URL = "http://127.0.0.1:" + u.Port()
	status, _ := m.do(t, http.MethodPost, "/__mock/faults", `{"status":503}`)
	require.Equal(t, http.StatusNoContent, status)

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(strings.ReplaceAll(attackPage, "MOCK", "http://portal-mock:"+u.Port())))
	}))
	defer page.Close()
	pageURL := strings.Replace(page.URL, "127.0.0.1", "evil.test", 1)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("host-resolver-rules", "MAP portal-mock 127.0.0.1, MAP evil.test 127.0.0.1"),
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`document.title === "done"`, chromedp.WithPollingTimeout(60*time.Second))))

	total, _ := m.requests(t, 0)
	assert.Zero(t, total, "no request of the page was recorded")
	status, err = m.generateLink("sk_test_owner0123456789")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, status, "the fault waited for the test's own request")
	status, err = m.generateLink("sk_test_owner0123456789")
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, status, "and no fault was added")

	require.NoError(t, m.stop())
	logs := m.stderr.String()
	t.Logf("the mock's log:\n%s", logs)
	assert.Contains(t, logs, "GET /portal/generate_link 405", "the image's request arrived, and was refused")
	assert.Contains(t, logs, "GET /__mock/reset 404")
	assert.Regexp(t, `POST /__mock/faults (403|415)`, logs)
	assert.Regexp(t, `POST /portal/generate_link (401|403)`, logs)
	assert.Regexp(t, `OPTIONS /portal/generate_link (403|405)`, logs, "a preflight, which the mock never approves")
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
