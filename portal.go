// Package portal generates WorkOS Admin Portal links: short-lived, single-use
// URLs that let a customer's IT admin configure SSO, Directory Sync, or view
// and export their Audit Log events, for one organization.
//
// A backend asks for a link from a request handler and redirects the admin's
// browser to it:
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
// # Links are credentials
//
// A link grants portal access to whoever opens it and expires five minutes
// after it is issued ([Link.ExpiresAt]). Redirect the signed-in admin to it
// at once; never e-mail, log or cache it.
//
// # Validation
//
// GenerateLink checks every field ([GenerateLinkOpts.Validate]) before it
// sends anything: a bad organization ID, intent, URL or e-mail address is a
// [*ValidationError] naming the API field, and no request is made.
//
// # Errors and retries
//
// Every answer outside 2xx is an [*APIError] carrying the status, the API's
// code and message, and the request ID; [errors.Is] matches it against
// [ErrUnauthorized], [ErrNotFound], [ErrRateLimited] and the other sentinels.
// Rate limits (429), 500, 502, 503, 504 and network failures are retried
// with exponential backoff and full jitter, honouring Retry-After, with one
// Idempotency-Key for all attempts of a call so the API does the work once.
//
// # Configuration and testing
//
// [NewClient] takes the API key and [Option] values; an empty key means the
// WORKOS_API_KEY environment variable, and WORKOS_BASE_URL, when set, replaces
// the API's address, which is how a CI job points unchanged code at a mock
// server. [SetAPIKey] and the package-level [GenerateLink] keep the WorkOS
// documentation's Go snippet working on a shared default client.
package portal

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Version is this library's version, sent in the User-Agent header.
const Version = "0.1.0"

// LinkLifetime is how long a generated link stays valid after it is issued.
const LinkLifetime = 5 * time.Minute

// GenerateLinkOpts describes the portal session to create. Organization and
// Intent are required; the other fields are sent only when set.
type GenerateLinkOpts struct {
	// Organization is the ID of the organization whose settings or events
	// the portal shows, e.g. "org_01EHZNVPK3SFK441A1RGBFSHRT".
	Organization string `json:"organization"`
	// Intent selects the portal flow, e.g. AuditLogs.
	Intent Intent `json:"intent"`
	// ReturnURL is where the admin goes when they click your logo in the
	// portal; the dashboard's default when empty.
	ReturnURL string `json:"return_url,omitempty"`
	// SuccessURL is where the admin goes after finishing setup.
	SuccessURL string `json:"success_url,omitempty"`
	// ITContactEmails lists up to 20 IT contacts to grant access and to
	// alert, for example about expiring certificates.
	ITContactEmails []string `json:"it_contact_emails,omitempty"`
	// IntentOptions tunes the flow of the SSO and DomainVerification intents.
	IntentOptions *IntentOptions `json:"intent_options,omitempty"`
}

// IntentOptions holds settings that apply to one intent each. Setting the
// options of an intent other than GenerateLinkOpts.Intent is a validation
// error rather than being silently ignored.
type IntentOptions struct {
	SSO                *SSOIntentOptions                `json:"sso,omitempty"`                 // only with Intent SSO
	DomainVerification *DomainVerificationIntentOptions `json:"domain_verification,omitempty"` // only with Intent DomainVerification
}

// SSOIntentOptions tunes the SSO flow.
type SSOIntentOptions struct {
	// BookmarkSlug creates a bookmark app with this slug alongside the
	// connection, for identity providers that show apps as tiles.
	BookmarkSlug string `json:"bookmark_slug,omitempty"`
	// ProviderType preselects the identity provider, e.g. "GoogleSAML".
	ProviderType string `json:"provider_type,omitempty"`
}

// DomainVerificationIntentOptions tunes the domain verification flow.
type DomainVerificationIntentOptions struct {
	// DomainName prefills the domain to verify, e.g. "example.com".
	DomainName string `json:"domain_name,omitempty"`
}

// Link is a generated Admin Portal link.
type Link struct {
	// Link is the URL to redirect the admin's browser to. It is a one-time
	// credential: do not log, store or e-mail it.
	Link string `json:"link"`
	// ExpiresAt is when the link stops working: LinkLifetime after the
	// response arrived, which is a little after the API's own clock started.
	ExpiresAt time.Time `json:"expires_at"`
}

// LogValue keeps the link's token out of structured logs: only the host and
// expiry are logged, since anyone holding the full URL can open the portal.
func (l Link) LogValue() slog.Value {
	host := l.Link
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	return slog.GroupValue(slog.String("host", host), slog.Time("expires_at", l.ExpiresAt))
}

// appendRequestBody appends the JSON body for o, which must be valid, to dst.
// It produces exactly what encoding/json does for GenerateLinkOpts (the tests
// hold it to that) without reflection, because this runs on every call.
func appendRequestBody(dst []byte, o *GenerateLinkOpts) []byte {
	dst = append(dst, `{"organization":`...)
	dst = appendJSONString(dst, o.Organization)
	dst = append(dst, `,"intent":`...)
	dst = appendJSONString(dst, string(o.Intent))
	if o.ReturnURL != "" {
		dst = append(dst, `,"return_url":`...)
		dst = appendJSONString(dst, o.ReturnURL)
	}
	if o.SuccessURL != "" {
		dst = append(dst, `,"success_url":`...)
		dst = appendJSONString(dst, o.SuccessURL)
	}
	if len(o.ITContactEmails) > 0 {
		dst = append(dst, `,"it_contact_emails":[`...)
		for i, e := range o.ITContactEmails {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, e)
		}
		dst = append(dst, ']')
	}
	if io := o.IntentOptions; io != nil {
		dst = append(dst, `,"intent_options":{`...)
		if sso := io.SSO; sso != nil {
			dst = append(dst, `"sso":{`...)
			sep := ""
			if sso.BookmarkSlug != "" {
				dst = append(dst, `"bookmark_slug":`...)
				dst = appendJSONString(dst, sso.BookmarkSlug)
				sep = ","
			}
			if sso.ProviderType != "" {
				dst = append(dst, sep...)
				dst = append(dst, `"provider_type":`...)
				dst = appendJSONString(dst, sso.ProviderType)
			}
			dst = append(dst, '}')
		}
		if dv := io.DomainVerification; dv != nil {
			if io.SSO != nil {
				dst = append(dst, ',')
			}
			dst = append(dst, `"domain_verification":{`...)
			if dv.DomainName != "" {
				dst = append(dst, `"domain_name":`...)
				dst = appendJSONString(dst, dv.DomainName)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (including its HTML-safe \u003c, \u003e and \u0026, and the
// \b and \f it uses since Go 1.22).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// defaultClient backs SetAPIKey and the package-level GenerateLink, the form
// the WorkOS documentation shows. It is built on first use, so that
// environment variables set before that (by a test, say) are honoured.
var defaultClient struct {
	mu     sync.Mutex
	apiKey string
	client *Client // nil after SetAPIKey, until the next call builds it
	last   *Client // whose connections the next one shares, so a key change keeps the pool
}

// SetAPIKey sets the API key of the default client used by the package-level
// GenerateLink. An empty key means WORKOS_API_KEY. It is safe to call at any
// time, from any goroutine; calls already in flight keep the old key.
func SetAPIKey(key string) {
	defaultClient.mu.Lock()
	defer defaultClient.mu.Unlock()
	defaultClient.apiKey = key
	defaultClient.client = nil
}

// GenerateLink generates a link with the default client, configured by
// SetAPIKey and the WORKOS_API_KEY and WORKOS_BASE_URL environment
// variables. Programs that need other options should build their own Client
// with NewClient.
func GenerateLink(ctx context.Context, opts GenerateLinkOpts, callOpts ...CallOption) (*Link, error) {
	c, err := sharedClient()
	if err != nil {
		return nil, err
	}
	return c.GenerateLink(ctx, opts, callOpts...)
}

func sharedClient() (*Client, error) {
	defaultClient.mu.Lock()
	defer defaultClient.mu.Unlock()
	if defaultClient.client != nil {
		return defaultClient.client, nil
	}
	c, err := NewClient(defaultClient.apiKey, withConnectionsOf(defaultClient.last))
	if err != nil {
		return nil, err
	}
	defaultClient.client, defaultClient.last = c, c
	return c, nil
}
