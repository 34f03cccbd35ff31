package portal

import (
	"strings"
	"unicode/utf8"
)

// These rules refuse only what can never work: a request without an
// organization, pages a browser cannot be sent to, more contacts than the
// spec's maxItems, and text that JSON cannot carry unchanged. Anything else
// is the API's to judge, so that a request it would accept is never refused
// here, and an intent it adds tomorrow works today.

const maxContactEmails = 20 // the spec's maxItems

// Validate returns nil if opts can be sent, or a [*ValidationError] naming
// the first field that breaks a rule: organization is required, "org_" and
// letters and digits; return_url and success_url, when set, are http or
// https URLs with a host; it_contact_emails lists at most 20 addresses, each
// with an "@" between non-empty parts; every field is valid UTF-8.
func (o GenerateLinkOpts) Validate() error {
	if err := o.validate(""); err != nil {
		return err
	}
	return nil
}

// validate is Validate, redacting key from the values its errors quote.
func (o GenerateLinkOpts) validate(key string) *ValidationError {
	invalid := func(field, value, rule string) *ValidationError {
		return &ValidationError{Field: field, Value: excerpt(value, key), Rule: rule}
	}
	for _, f := range [...]struct{ name, value string }{{"organization", o.Organization},
		{"intent", string(o.Intent)}, {"return_url", o.ReturnURL}, {"success_url", o.SuccessURL}} {
		if !utf8.ValidString(f.value) {
			return invalid(f.name, f.value, utf8Rule)
		}
	}
	switch {
	case o.Organization == "":
		return &ValidationError{Field: "organization", Rule: "is required"}
	case !isOrganizationID(o.Organization):
		return invalid("organization", o.Organization, `must be "org_" followed by letters and digits`)
	case o.ReturnURL != "" && !isPageURL(o.ReturnURL):
		return invalid("return_url", o.ReturnURL, pageURLRule)
	case o.SuccessURL != "" && !isPageURL(o.SuccessURL):
		return invalid("success_url", o.SuccessURL, pageURLRule)
	case len(o.ITContactEmails) > maxContactEmails:
		return &ValidationError{Field: "it_contact_emails", Rule: "must list at most 20 addresses"}
	}
	for _, email := range o.ITContactEmails {
		local, domain, _ := strings.Cut(email, "@")
		switch {
		case !utf8.ValidString(email):
			return invalid("it_contact_emails", email, utf8Rule)
		case local == "" || domain == "":
			return invalid("it_contact_emails", email, `each item must have an "@" between non-empty parts`)
		}
	}
	return nil
}

const (
	pageURLRule = "must be an http or https URL with a host"
	utf8Rule    = "must be valid UTF-8, which JSON carries unchanged"
)

// isOrganizationID reports whether id is "org_" and then ASCII letters and
// digits, the form of every organization ID (a ULID, for a real one): no
// other ID can name an organization.
func isOrganizationID(id string) bool {
	rest, ok := strings.CutPrefix(id, "org_")
	return ok && rest != "" && !strings.ContainsFunc(rest, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	})
}

// isPageURL reports whether a browser can be sent to s: its scheme is http
// or https, and "://" and a host follow, besides any user info and port. The rest, which browsers read more
// leniently than net/url does ("https://app.example.com/50%off"), is the
// API's to judge.
func isPageURL(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	host := authority[strings.LastIndexByte(authority, '@')+1:] // after any user info
	if end := strings.LastIndexByte(host, ':'); end >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:end] // before the port, unless the colon is an IPv6 literal's
	}
	return ok && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http")) && host != ""
}
