package portal

import (
	"net/url"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// These rules refuse only what the API's published contract rules out or
// what can never work. Anything else is the API's to judge, so that a
// request it would accept is never refused here.
var (
	organizationPattern = regexp.MustCompile(`^org_[A-Za-z0-9]+$`)
	intentPattern       = regexp.MustCompile(`^[a-z0-9_]+$`)
	// emailPattern is JSON Schema's "email" format, RFC 5321's Mailbox,
	// widened to non-ASCII text as RFC 6531 does: a dot-atom or quoted local
	// part, and a domain of letter-digit-hyphen labels or an address
	// literal. Lengths are left to the API.
	emailPattern = regexp.MustCompile(`^(?:[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~\-\x{80}-\x{10FFFF}]+` +
		`(?:\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~\-\x{80}-\x{10FFFF}]+)*` + // dot-atom
		`|"(?:[^"\\\x00-\x1F\x7F]|\\[^\x00-\x1F\x7F])*")` + // quoted string
		`@(?:` + label + `(?:\.` + label + `)*|\[[!-?A-Z^-~]+\])$`) // labels, or a literal
)

const (
	label       = `[A-Za-z0-9\x{80}-\x{10FFFF}](?:[A-Za-z0-9\-\x{80}-\x{10FFFF}]*[A-Za-z0-9\x{80}-\x{10FFFF}])?`
	intentRule  = `must be lower-case letters, digits and underscores, like "audit_logs"`
	pageURLRule = "must be an absolute http or https URL with a host"
)

// Validate returns nil if opts can be sent, or a [*ValidationError] naming
// the first field that breaks a rule (GenerateLink calls it first):
//
//   - organization: required; "org_" followed by letters and digits.
//   - intent: optional; lower-case letters, digits and underscores.
//   - return_url, success_url: optional; absolute http or https URLs.
//   - it_contact_emails: at most 20, each an e-mail address.
//   - all text: valid UTF-8, which JSON alone carries unchanged.
func (o GenerateLinkOpts) Validate() error {
	switch {
	case o.Organization == "":
		return &ValidationError{Field: "organization", Rule: "is required"}
	case !organizationPattern.MatchString(o.Organization):
		return invalid("organization", `must be "org_" followed by letters and digits`, o.Organization)
	case o.Intent != "" && !intentPattern.MatchString(string(o.Intent)):
		return invalid("intent", intentRule, string(o.Intent))
	case o.ReturnURL != "" && !isPageURL(o.ReturnURL):
		return invalid("return_url", pageURLRule, o.ReturnURL)
	case o.SuccessURL != "" && !isPageURL(o.SuccessURL):
		return invalid("success_url", pageURLRule, o.SuccessURL)
	case len(o.ITContactEmails) > 20: // the spec's maxItems
		return &ValidationError{Field: "it_contact_emails", Rule: "must list at most 20 addresses; got " + strconv.Itoa(len(o.ITContactEmails))}
	}
	for i, e := range o.ITContactEmails {
		if !utf8.ValidString(e) || !emailPattern.MatchString(e) {
			return invalid("it_contact_emails", "item "+strconv.Itoa(i)+" must be an e-mail address", e)
		}
	}
	return nil
}

// isPageURL refuses only what a browser can never be sent back to: relative
// URLs, other schemes (javascript:, say), text that does not parse.
func isPageURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && utf8.ValidString(s) && (u.Scheme == "https" || u.Scheme == "http") && u.Hostname() != ""
}

// invalid builds a ValidationError quoting the value, cut short.
func invalid(field, rule, value string) *ValidationError {
	return &ValidationError{Field: field, Rule: rule + "; got " + strconv.Quote(truncate(value, 64))}
}
