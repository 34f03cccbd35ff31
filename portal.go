// Package portal generates WorkOS Admin Portal links: short-lived URLs that
// let a customer's IT admin set up SSO or Directory Sync, or view and export
// their organization's Audit Log events.
//
// Build one [Client] at start-up, ask for a link in a request handler, and
// redirect the admin's browser to it, or let [RedirectHandler] do both:
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
// the signed-in admin to it at once, and never log, cache or e-mail it.
//
// Options that break a rule of the API are a [*ValidationError], and
// nothing is sent. Any answer outside 2xx is an [*APIError], which
// [errors.Is] matches against [ErrRateLimited] and the other sentinels.
// Timeouts, rate limits, 5xx answers that may pass and network failures
// are retried with backoff, honouring Retry-After, within ctx's deadline.
//
// An intent newer than this package needs no new release: convert its
// name, as in portal.Intent("new_intent"), and the API decides.
//
// An empty API key means WORKOS_API_KEY, and WORKOS_BASE_URL replaces the
// API's address: that is how CI points unchanged code at a mock. [SetAPIKey]
// and the package-level [GenerateLink] keep the WorkOS documentation's Go
// snippet working. Package portaltest is a fake of the API for Go tests, and
// cmd/portal-mock serves it to CI jobs in any language.
package portal

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
)

// Version is this library's version, sent in the User-Agent header.
const Version = "0.2.0"

// GenerateLinkOpts describes the portal session to open. Only Organization
// is required; the other fields are sent when set.
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

// LogValue keeps the link's token out of structured logs: slog records only
// its host, since anyone holding the whole URL can open the portal.
func (l Link) LogValue() slog.Value {
	u, err := url.Parse(l.Link)
	if err != nil {
		return slog.StringValue("[unparsable link]")
	}
	return slog.GroupValue(slog.String("host", u.Host))
}

// defaultClient backs SetAPIKey and the package-level GenerateLink.
var defaultClient struct {
	mu     sync.Mutex
	client *Client
	err    error // from SetAPIKey, returned until the next one
}

// SetAPIKey sets the API key of the default client that the package-level
// GenerateLink uses; an empty key means WORKOS_API_KEY. It builds that
// client at once, reading WORKOS_BASE_URL. Calls already in flight finish
// with the old key; an unusable key is reported by the next GenerateLink.
func SetAPIKey(key string) {
	c, err := NewClient(key)
	defaultClient.mu.Lock()
	defer defaultClient.mu.Unlock()
	defaultClient.client, defaultClient.err = c, err
}

// GenerateLink generates a link with the default client. Without SetAPIKey,
// its first successful use builds that client from WORKOS_API_KEY and
// WORKOS_BASE_URL, which are not read again.
func GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error) {
	defaultClient.mu.Lock()
	c, err := defaultClient.client, defaultClient.err
	if c == nil && err == nil {
		if c, err = NewClient(""); err == nil {
			defaultClient.client = c
		}
	}
	defaultClient.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return c.GenerateLink(ctx, opts)
}
