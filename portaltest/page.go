package portaltest

import (
	"bytes"
	"encoding/csv"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// launch serves the page a link opens: the portal for its organization and
// intent the first time, and a 410 page after that or once it expired,
// which leads back to the application when the link named a return_url.
//
// Opening a link uses it up, although a GET changes nothing elsewhere in the
// fake: the link's token is the credential, as for the real portal, and a
// page can only use up a link it holds. A HEAD, which link checkers send,
// is refused and uses up nothing.
func (f *Fake) launch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		renderPage(w, http.StatusMethodNotAllowed, pageData{Title: "Method not allowed",
			Problem: "Open this link in a browser."})
		return
	}
	f.mu.Lock()
	link := f.links[r.URL.Query().Get("token")]
	var expired, used bool
	if link != nil {
		expired, used = !f.now().Before(link.issuedAt.Add(linkLifetime)), link.used
		link.used = true
	}
	f.mu.Unlock()
	switch {
	case link == nil:
		renderPage(w, http.StatusNotFound, pageData{Title: "Link not found", Problem: "This Admin Portal link is not valid."})
	case used:
		renderPage(w, http.StatusGone, pageData{Title: "Link already used", ReturnURL: link.returnURL,
			Problem: "This Admin Portal link has already been used. Ask the application for a new one."})
	case expired:
		renderPage(w, http.StatusGone, pageData{Title: "Link expired", ReturnURL: link.returnURL,
			Problem: "This Admin Portal link has expired: links work for five minutes. Ask the application for a new one."})
	default:
		renderPage(w, http.StatusOK, portalPage(link, f.now()))
	}
}

type pageData struct {
	Title        string
	Problem      string // set for the error pages
	Organization string
	Intent       string
	Heading      string
	Summary      string
	Events       []auditEvent
	CSV          template.URL
	ReturnURL    string
	SuccessURL   string
}

type auditEvent struct {
	Time   string
	Actor  string
	Action string
	Target string
}

func portalPage(link *issuedLink, now time.Time) pageData {
	h, ok := intents[link.intent]
	if !ok {
		h = [2]string{"Settings", "Manage how your organization connects to this application."}
	}
	d := pageData{
		Title:        "Admin Portal · " + h[0],
		Organization: link.organization,
		Intent:       link.intent,
		Heading:      h[0],
		Summary:      h[1],
		ReturnURL:    link.returnURL,
		SuccessURL:   link.successURL,
	}
	if link.intent == "audit_logs" {
		d.Events = sampleEvents(now)
		d.CSV = eventsCSV(d.Events)
	}
	return d
}

// sampleEvents returns a few plausible events ending at now.
func sampleEvents(now time.Time) []auditEvent {
	events := []auditEvent{
		{Actor: "jane@example.com", Action: "user.signed_in", Target: "jane@example.com"},
		{Actor: "jane@example.com", Action: "document.exported", Target: "Q3 board deck"},
		{Actor: "omar@example.com", Action: "user.invited", Target: "lee@example.com"},
		{Actor: "admin@example.com", Action: "sso_connection.updated", Target: "Okta SAML"},
		{Actor: "ci-bot", Action: "api_key.created", Target: "deploy key"},
	}
	for i := range events {
		events[i].Time = now.Add(-time.Duration(i*37+3) * time.Minute).UTC().Format(time.RFC3339)
	}
	return events
}

// eventsCSV returns the events as a data: URL, so the export needs no
// further request and no external asset.
func eventsCSV(events []auditEvent) template.URL {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write([]string{"occurred_at", "actor", "action", "target"})
	for _, e := range events {
		_ = cw.Write([]string{e.Time, e.Actor, e.Action, e.Target})
	}
	cw.Flush()
	return template.URL("data:text/csv;charset=utf-8," + strings.ReplaceAll(url.QueryEscape(b.String()), "+", "%20"))
}

func renderPage(w http.ResponseWriter, status int, d pageData) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		http.Error(w, "portaltest: rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
    color: #1c2024; background: #f7f8fa; }
  header { background: #fff; border-bottom: 1px solid #e4e7ec; padding: 14px 32px;
    display: flex; align-items: center; gap: 12px; }
  header .logo { width: 28px; height: 28px; border-radius: 7px; background: #6363f1; }
  header strong { font-size: 16px; }
  header .org { margin-left: auto; color: #60646c; font-family: ui-monospace, monospace; font-size: 13px; }
  main { max-width: 880px; margin: 32px auto; padding: 0 24px; }
  .card { background: #fff; border: 1px solid #e4e7ec; border-radius: 10px; padding: 24px 28px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  p.summary { color: #60646c; margin: 0 0 20px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 20px; }
  dt { color: #60646c; } dd { margin: 0; font-family: ui-monospace, monospace; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid #eef0f3; }
  th { color: #60646c; font-weight: 600; }
  td code { font-size: 13px; }
  .actions { display: flex; gap: 12px; margin-top: 20px; }
  a.button { display: inline-block; padding: 8px 14px; border-radius: 6px;
    background: #6363f1; color: #fff; text-decoration: none; }
  a.secondary { background: #fff; color: #1c2024; border: 1px solid #d0d5dd; }
  .problem { border-left: 4px solid #e5484d; }
</style>
</head>
<body>
<header><span class="logo"></span><strong>Admin Portal</strong>
  {{if .Organization}}<span class="org" id="organization">{{.Organization}}</span>{{end}}</header>
<main>
{{if .Problem}}
<div class="card problem"><h1>{{.Title}}</h1><p id="problem">{{.Problem}}</p>
  {{if .ReturnURL}}<div class="actions">
    <a class="button secondary" id="return" href="{{.ReturnURL}}">Back to the application</a>
  </div>{{end}}</div>
{{else}}
<div class="card">
  <h1>{{.Heading}}</h1>
  <p class="summary">{{.Summary}}</p>
  <dl>
    <dt>Organization</dt><dd id="org-id">{{.Organization}}</dd>
    {{if .Intent}}<dt>Intent</dt><dd id="intent">{{.Intent}}</dd>{{end}}
  </dl>
  {{if .Events}}
  <table id="events">
    <thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Target</th></tr></thead>
    <tbody>
    {{range .Events}}<tr><td>{{.Time}}</td><td>{{.Actor}}</td><td><code>{{.Action}}</code></td><td>{{.Target}}</td></tr>
    {{end}}</tbody>
  </table>
  {{end}}
  <div class="actions">
    {{if .CSV}}<a class="button" id="export" download="audit-log-events.csv" href="{{.CSV}}">Export as CSV</a>{{end}}
    {{if .SuccessURL}}<a class="button" id="success" href="{{.SuccessURL}}">Done</a>{{end}}
    {{if .ReturnURL}}<a class="button secondary" id="return" href="{{.ReturnURL}}">Back to the application</a>{{end}}
  </div>
</div>
{{end}}
</main>
</body>
</html>
`))
