// Command webapp is a small settings page that sends an organization's admin
// to the WorkOS Admin Portal: one button per intent, each a form that POSTs
// to a portal.RedirectHandler.
//
//	go run ./examples/webapp
//
// Without WORKOS_API_KEY it embeds portaltest, a fake of the API, and says
// so on the page, so that the whole flow (click, redirect, portal page)
// works with no WorkOS account. With a key it talks to the real API; pass
// a real organization with -org.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to serve the settings page on")
	org := fs.String("org", "org_01EHZNVPK3SFK441A1RGBFSHRT", "the `ID` of the organization whose portal the page opens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil))) // where RedirectHandler logs failed calls

	client, err := portal.NewClient("")
	fake := errors.Is(err, portal.ErrNoAPIKey)
	if fake {
		api := httptest.NewServer(portaltest.NewFake("http://127.0.0.1"))
		defer api.Close()
		fmt.Fprintf(stdout, "No %s set: using an embedded fake of the Admin Portal API at %s (no WorkOS account needed).\n",
			portal.EnvAPIKey, api.URL)
		client, err = portal.NewClient("sk_test_webapp", portal.WithBaseURL(api.URL))
	}
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%w (choose another address with -addr, such as -addr 127.0.0.1:0 for any free port)", err)
	}
	srv := &http.Server{Handler: newApp(client, *org, fake), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Settings page: open http://%s/ in your browser\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// ctx is done by now: the shutdown keeps its values but gets a deadline of its own.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// app is the demo application: one organization, whose admin is signed in.
type app struct {
	org  string
	fake bool // the API is the embedded fake: the page says so
}

// buttons lists the portal flows the settings page offers, in page order.
var buttons = []struct {
	Intent portal.Intent
	Label  string
	About  string
}{
	{portal.AuditLogs, "View audit logs", "See and export who did what in your organization."},
	{portal.SSO, "Configure SSO", "Connect Okta, Entra ID, Google Workspace or another identity provider."},
	{portal.DSync, "Set up Directory Sync", "Provision and deprovision users from your directory."},
	{portal.LogStreams, "Stream logs", "Send audit log events to your SIEM."},
	{portal.DomainVerification, "Verify domains", "Prove that you own your email domains."},
	{portal.CertificateRenewal, "Renew SAML certificate", "Replace a SAML signing certificate before it expires."},
	{portal.BringYourOwnKey, "Bring your own key", "Encrypt your data with a key you control."},
}

// newApp serves the settings page and, through portal.RedirectHandler, its
// buttons. g is the *portal.Client, or a stub in a test.
func newApp(g portal.LinkGenerator, org string, fake bool) http.Handler {
	a := &app{org: org, fake: fake}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.settings)
	mux.Handle("POST /admin-portal/{intent}", portal.RedirectHandler(g, a.pick))
	return mux
}

func (a *app) settings(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := settingsPage.Execute(w, map[string]any{"Org": a.org, "Buttons": buttons, "Fake": a.fake}); err != nil {
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
	}
}

var errCrossOrigin = errors.New("cross-origin request refused")

// pick decides which portal the signed-in user may open. A real application
// takes the organization from its session, after checking that the user
// administers it; this demo has one organization and one admin.
func (a *app) pick(r *http.Request) (portal.GenerateLinkOpts, error) {
	if !sameOrigin(r) {
		return portal.GenerateLinkOpts{}, errCrossOrigin // another site's form must not open our portal: 403
	}
	intent, err := portal.ParseIntent(r.PathValue("intent")) // only the intents the page offers: 400 otherwise
	if err != nil {
		return portal.GenerateLinkOpts{}, err
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return portal.GenerateLinkOpts{
		Organization: a.org,
		Intent:       intent,
		ReturnURL:    scheme + "://" + r.Host + "/", // back to this page from the portal's logo
	}, nil
}

// sameOrigin reports whether a POST came from this site's own page, going by
// the Origin header that browsers send with form submissions.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	return origin == "http://"+r.Host || origin == "https://"+r.Host
}

var settingsPage = template.Must(template.New("settings").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Corp · Organization settings</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
    color: #1c2024; background: #fafafa; }
  main { max-width: 760px; margin: 40px auto; padding: 0 24px; }
  h1 { font-size: 24px; margin: 0; } .org { color: #60646c; font-family: ui-monospace, monospace; font-size: 13px; }
  ul { list-style: none; padding: 0; margin: 24px 0 0;
    border: 1px solid #e4e7ec; border-radius: 10px; background: #fff; }
  li { display: flex; align-items: center; gap: 16px; padding: 14px 20px; border-bottom: 1px solid #eef0f3; }
  li:last-child { border-bottom: 0; }
  li p { margin: 0; flex: 1; color: #60646c; }
  li strong { display: block; color: #1c2024; }
  button { font: inherit; padding: 7px 14px; border-radius: 6px;
    border: 1px solid #d0d5dd; background: #fff; cursor: pointer; }
  button:hover { background: #f2f4f7; }
  .notice { margin: 20px 0 0; padding: 10px 14px; border-radius: 8px; background: #fff8e1; border: 1px solid #f5d37a; }
</style>
</head>
<body>
<main>
  <h1>Acme Corp</h1>
  <div class="org">{{.Org}}</div>
  {{if .Fake}}<p class="notice" id="fake-notice">Demo mode: no <code>WORKOS_API_KEY</code> is set, ` +
	`so these buttons open an embedded fake of the Admin Portal, not WorkOS.</p>{{end}}
  <ul>
  {{range .Buttons}}
    <li>
      <p><strong>{{.Label}}</strong>{{.About}}</p>
      <form method="post" action="/admin-portal/{{.Intent}}">
        <button type="submit" data-intent="{{.Intent}}">{{.Label}}</button>
      </form>
    </li>
  {{end}}
  </ul>
</main>
</body>
</html>
`))
