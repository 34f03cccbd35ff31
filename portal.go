// Package portal generates WorkOS Admin Portal links: short-lived URLs that
// let a customer's IT admin set up SSO or Directory Sync, or view and export
// their organization's Audit Log events.
//
// Build one [Client] at start-up, ask for a link in a request handler, and
// redirect the admin's browser to it (or let [RedirectHandler] do both):
//
//	client, err := portal.NewClient(os.Getenv("WORKOS_API_KEY"))
//	...
//	link, err := client.GenerateLink(r.Context(), portal.GenerateLinkOpts{
//		Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT",
//		Intent:       portal.AuditLogs,
//	})
//	if err != nil { ... }
//	http.Redirect(w, r, link.Link, http.StatusSeeOther)
//
// A link opens the portal for whoever holds it, for five minutes: redirect
// the signed-in admin to it at once; never log, cache or e-mail it.
//
// Bad options are a [*ValidationError], and nothing is sent. Answers outside
// 2xx are an [*APIError], which [errors.Is] matches against [ErrRateLimited]
// and the other sentinels. Failures that may pass are retried, within ctx's
// deadline; a [*RetryError] says why the retries stopped, with a reason that
// errors.Is matches, such as [ErrNoRetriesLeft]. The text of every error is
// safe to log: one printable line of at most 1 KB that holds no key and no
// link, whatever the server echoed.
//
// An empty API key means WORKOS_API_KEY, and WORKOS_BASE_URL replaces the
// API's address: package portaltest is a fake of the API for Go tests, and
// cmd/portal-mock serves it to CI in any language. [SetAPIKey] and
// [GenerateLink] keep the WorkOS documentation's snippet working.
package portal

// Version is this library's version, sent in the User-Agent header: the newest
// release in CHANGELOG.md, which a test keeps equal to it.
const Version = "1.0.0"

// GenerateLinkOpts describes the portal session to open; only Organization
// is required.
type GenerateLinkOpts struct {
	// Organization is the ID of the organization, such as "org_01EHZNVPK3SFK441A1RGBFSHRT".
	Organization string `json:"organization"`
	// Intent selects the portal's flow, such as AuditLogs.
	Intent Intent `json:"intent,omitempty"`
	// ReturnURL is where the admin goes on clicking your logo in the portal.
	ReturnURL string `json:"return_url,omitempty"`
	// SuccessURL is where the admin goes after finishing setup.
	SuccessURL string `json:"success_url,omitempty"`
	// ITContactEmails lists up to 20 IT contacts to grant access and alert.
	ITContactEmails []string `json:"it_contact_emails,omitempty"`
}

// Link is a generated Admin Portal link.
type Link struct {
	// Link is the URL to send the admin's browser to.
	Link string `json:"link"`
}
