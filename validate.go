package portal

import (
	"cmp"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// These rules refuse only what the API's published contract rules out or
// what can never work. Anything else is the API's to judge, so that a
// request it would accept is never refused here.
var (
	organizationPattern = regexp.MustCompile(`^org_[A-Za-z0-9]+$`)
	intentPattern       = regexp.MustCompile(`^[a-z0-9_]+$`) // the form of every intent the API has had
	// emailPattern is JSON Schema's "email" format, RFC 5321's Mailbox with
	// non-ASCII text as in RFC 6531; lengths are left to the API.
	emailPattern = regexp.MustCompile(`^(?:` + atom + `(?:\.` + atom + `)*` + // dot-atom
		`|"(?:[^"\\\x00-\x1F\x7F]|\\[^\x00-\x1F\x7F])*")` + // quoted string
		`@(?:` + label + `(?:\.` + label + `)*|\[[!-?A-Z^-~]+\])$`) // labels, or a literal
)

const (
	atom             = `[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~\-\x{80}-\x{10FFFF}]+`
	label            = `[A-Za-z0-9\x{80}-\x{10FFFF}](?:[A-Za-z0-9\-\x{80}-\x{10FFFF}]*[A-Za-z0-9\x{80}-\x{10FFFF}])?`
	maxContactEmails = 20 // the spec's maxItems
	pageURLRule      = "must be an absolute http or https URL with a host"
)

// Validate returns nil if opts can be sent, or a [*ValidationError] naming
// the first field that breaks a rule: organization is required, "org_" and
// letters and digits; intent is lower-case letters, digits and underscores;
// return_url and success_url are absolute http or https URLs; there are at
// most 20 it_contact_emails, each an e-mail address; all is valid UTF-8.
func (o GenerateLinkOpts) Validate() error {
	switch {
	case o.Organization == "":
		return &ValidationError{Field: "organization", Rule: "is required"}
	case !organizationPattern.MatchString(o.Organization):
		return invalid("organization", `must be "org_" followed by letters and digits`, o.Organization)
	case o.Intent != "" && !intentPattern.MatchString(string(o.Intent)):
		return invalid("intent", `must be lower-case letters, digits and underscores, like "audit_logs"`, string(o.Intent))
	case o.ReturnURL != "" && !isPageURL(o.ReturnURL):
		return invalid("return_url", pageURLRule, o.ReturnURL)
	case o.SuccessURL != "" && !isPageURL(o.SuccessURL):
		return invalid("success_url", pageURLRule, o.SuccessURL)
	case len(o.ITContactEmails) > maxContactEmails:
		return &ValidationError{Field: "it_contact_emails",
			Rule: "must list at most 20 addresses; got " + strconv.Itoa(len(o.ITContactEmails))}
	}
	for i, e := range o.ITContactEmails {
		if !utf8.ValidString(e) || !emailPattern.MatchString(e) {
			return invalid("it_contact_emails", "item "+strconv.Itoa(i)+" must be an e-mail address", e)
		}
	}
	return nil
}

// isPageURL reports whether a browser can be sent to s: an absolute http or
// https URL with a host. Only the scheme and authority go to net/url, which
// refuses in the rest what browsers take ("https://app.example.com/50%off").
// What a browser would strip first (control characters, white space at
// either end) is a mistake: refused.
func isPageURL(s string) bool {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) || strings.TrimSpace(s) != s {
		return false
	}
	scheme, rest, _ := strings.Cut(s, "://")
	if end := strings.IndexAny(rest, `/\?#`); end != -1 { // browsers read "\" as "/" in http(s) URLs
		rest = rest[:end]
	}
	u, err := url.Parse(scheme + "://" + rest)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Hostname() == "" {
		return false
	}
	_, err = strconv.ParseUint(cmp.Or(u.Port(), "0"), 10, 16) // browsers take no port past 65535
	return err == nil
}
