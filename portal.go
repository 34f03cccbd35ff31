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
// the signed-in admin to it at once; never log, cache or e-mail it.
//
// Bad options are a [*ValidationError], and nothing is sent. Answers outside
// 2xx are an [*APIError], which [errors.Is] matches against [ErrRateLimited]
// and the other sentinels. Failures that may pass are retried with backoff,
// honouring Retry-After, within ctx's deadline. An intent newer than this
// package is sent as it is: portal.Intent("new_intent").
//
// An empty API key means WORKOS_API_KEY, and WORKOS_BASE_URL replaces the
// API's address, which is how CI points unchanged code at a mock: package
// portaltest is one for Go tests, and cmd/portal-mock serves it to any
// language. [SetAPIKey] and [GenerateLink] keep the WorkOS docs' snippet working.
package portal

import (
	"context"
	"sync"
)

// Version is this library's version, sent in the User-Agent header.
const Version = "0.2.0"

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

// defaultClient backs SetAPIKey and the package-level GenerateLink.
var defaultClient struct {
	mu     sync.Mutex
	client *Client
	err    error // from SetAPIKey, returned until the next one
}

// SetAPIKey sets the key of the default client, which the package-level
// GenerateLink uses; empty means WORKOS_API_KEY. It builds that client at
// once, reading WORKOS_BASE_URL; the next GenerateLink reports an unusable
// key. Calls in flight finish with the old key.
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
