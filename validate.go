package portal

import (
	"net/netip"
	"strconv"
	"strings"
)

// The limits below are the API's where it documents one and, where it does
// not, generous bounds that no real value reaches, so that garbage is caught
// here instead of as a 422 on the request path.
const (
	maxOrganizationIDLen = 64   // characters after "org_"
	maxURLLen            = 2048 // return_url, success_url
	maxContactEmails     = 20   // it_contact_emails, per the API reference
	maxEmailLen          = 254  // RFC 5321 path limit
	maxEmailLocalLen     = 64   // RFC 5321
	maxHostnameLen       = 253  // RFC 1035
	maxLabelLen          = 63   // RFC 1035
	maxBookmarkSlugLen   = 128
	maxProviderTypeLen   = 64
	maxIdempotencyKeyLen = 255
)

// Validate reports whether opts would be accepted by the API, applying every
// rule the client enforces before it sends a request. It returns nil or a
// [*ValidationError] naming the first offending field. GenerateLink calls it
// itself; call it directly to check input early, for example in a form
// handler. It allocates nothing when opts are valid.
func (o GenerateLinkOpts) Validate() error {
	if rule := organizationRule(o.Organization); rule != "" {
		return invalid("organization", rule, o.Organization)
	}
	if o.Intent == "" {
		return &ValidationError{Field: "intent", Rule: "is required; want one of " + intentList()}
	}
	if !o.Intent.Valid() {
		return invalid("intent", "must be one of "+intentList()+" (exact case)", string(o.Intent))
	}
	if rule := redirectURLRule(o.ReturnURL); rule != "" {
		return invalid("return_url", rule, o.ReturnURL)
	}
	if rule := redirectURLRule(o.SuccessURL); rule != "" {
		return invalid("success_url", rule, o.SuccessURL)
	}
	if err := validateContactEmails(o.ITContactEmails); err != nil {
		return err
	}
	return validateIntentOptions(o.Intent, o.IntentOptions)
}

// invalid builds a ValidationError whose rule quotes the offending value,
// shortened so that a huge input cannot make a huge error.
func invalid(field, rule, value string) *ValidationError {
	const maxQuoted = 80
	if len(value) > maxQuoted {
		value = value[:maxQuoted] + "…"
	}
	return &ValidationError{Field: field, Rule: rule + "; got " + strconv.Quote(value)}
}

func intentList() string {
	intents := Intents()
	names := make([]string, len(intents))
	for i, in := range intents {
		names[i] = string(in)
	}
	return strings.Join(names, ", ")
}

// organizationRule returns the rule id breaks, or "" if it is well formed:
// "org_" and 1 to 64 ASCII letters or digits (org_123 in examples, a ULID in
// production).
func organizationRule(id string) string {
	const prefix = "org_"
	const rule = `must be "org_" followed by 1 to 64 letters or digits`
	switch {
	case strings.TrimSpace(id) == "":
		return "is required; " + rule
	case !strings.HasPrefix(id, prefix):
		return rule
	}
	rest := id[len(prefix):]
	if len(rest) == 0 || len(rest) > maxOrganizationIDLen {
		return rule
	}
	for i := 0; i < len(rest); i++ {
		if !isAlnum(rest[i]) {
			return rule
		}
	}
	return ""
}

// redirectURLRule returns the rule a return_url or success_url breaks, or ""
// when it is empty (not set) or acceptable.
func redirectURLRule(u string) string {
	if u == "" {
		return ""
	}
	return webURLRule(u, false)
}

// ruleHTTPSOnly is the rule a plain-http URL on a remote host breaks.
const ruleHTTPSOnly = "must use https; http is allowed only for localhost and loopback addresses"

// webURLRule returns the rule u breaks, or "" when u is an absolute https URL
// with a host, or an http one for localhost and loopback addresses (where a
// local development server or a mock has no certificate) or, with anyHTTP,
// for any host (a mock on a CI network, by the caller's explicit choice). It
// is written by hand,
// rather than with url.Parse, so that validating costs no allocation; it is
// stricter than url.Parse (RFC 3986 characters only, no user info), and the
// tests check that whatever it accepts url.Parse reads with the same scheme
// and host.
func webURLRule(u string, anyHTTP bool) string {
	const rule = "must be an absolute https URL (http only for localhost)"
	if len(u) > maxURLLen {
		return "must be at most " + strconv.Itoa(maxURLLen) + " characters"
	}
	var rest string
	var secure bool
	switch {
	case hasPrefixFold(u, "https://"):
		rest, secure = u[len("https://"):], true
	case hasPrefixFold(u, "http://"):
		rest = u[len("http://"):]
	default:
		return rule
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if authority == "" {
		return rule + "; the host is missing"
	}
	if strings.IndexByte(authority, '@') >= 0 {
		return "must not contain user info (user:password@)"
	}
	host, ok := splitHostPort(authority)
	if !ok {
		return rule + "; the host or port is malformed"
	}
	if !secure && !anyHTTP && !isLoopbackHost(host) {
		return ruleHTTPSOnly
	}
	if !validURLTail(tail) {
		return rule + "; it has characters that must be percent-encoded"
	}
	return ""
}

// splitHostPort checks an authority without user info and returns its host
// (without brackets for IPv6).
func splitHostPort(authority string) (host string, ok bool) {
	port := ""
	if authority[0] == '[' {
		closing := strings.IndexByte(authority, ']')
		if closing < 0 {
			return "", false
		}
		host, port = authority[1:closing], authority[closing+1:]
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", false
		}
	} else {
		host = authority
		if i := strings.LastIndexByte(authority, ':'); i >= 0 {
			host, port = authority[:i], authority[i:]
		}
		if !isHostname(host, 1) {
			return "", false
		}
	}
	if port != "" {
		if port[0] != ':' {
			return "", false
		}
		n, err := strconv.ParseUint(port[1:], 10, 16)
		if err != nil || n == 0 || len(port) > 6 {
			return "", false
		}
	}
	return host, true
}

// isHostname reports whether h is a DNS name or IPv4 address of at least
// minLabels dot-separated labels of letters, digits, hyphens and underscores.
func isHostname(h string, minLabels int) bool {
	if h == "" || len(h) > maxHostnameLen {
		return false
	}
	labels := 0
	for h != "" {
		label := h
		if i := strings.IndexByte(h, '.'); i >= 0 {
			label, h = h[:i], h[i+1:]
			if h == "" {
				return false // trailing dot or empty label
			}
		} else {
			h = ""
		}
		if label == "" || len(label) > maxLabelLen || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' && c != '_' {
				return false
			}
		}
		labels++
	}
	return labels >= minLabels
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || hasSuffixFold(host, ".localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// validURLTail reports whether the path, query and fragment use only the
// characters RFC 3986 allows, with well-formed percent escapes.
func validURLTail(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func validateContactEmails(emails []string) error {
	if len(emails) > maxContactEmails {
		return &ValidationError{
			Field: "it_contact_emails",
			Rule:  "must list at most " + strconv.Itoa(maxContactEmails) + " addresses; got " + strconv.Itoa(len(emails)),
		}
	}
	for i, e := range emails {
		if !isEmail(e) {
			return invalid("it_contact_emails", "item "+strconv.Itoa(i)+" must be a bare e-mail address like admin@example.com", e)
		}
		for j := 0; j < i; j++ {
			if strings.EqualFold(emails[j], e) {
				return invalid("it_contact_emails", "must not list an address twice (items "+strconv.Itoa(j)+" and "+strconv.Itoa(i)+")", e)
			}
		}
	}
	return nil
}

// isEmail accepts the common form of an address: a dot-atom local part (RFC
// 5322) and a domain of at least two labels. Quoted local parts, comments,
// display names and IP-literal domains are refused: they are legal but are
// almost always a mistake in a list of contacts, and the API refuses them too.
func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || len(s) > maxEmailLen || at > maxEmailLocalLen {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; !isAlnum(c) && c != '.' && strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) < 0 {
			return false
		}
	}
	return isHostname(domain, 2) && strings.IndexByte(domain, '_') < 0
}

func validateIntentOptions(intent Intent, io *IntentOptions) error {
	if io == nil {
		return nil
	}
	if sso := io.SSO; sso != nil {
		if intent != SSO {
			return invalid("intent_options", `sso options need intent "sso"; the intent is `+strconv.Quote(string(intent)), "sso")
		}
		if sso.BookmarkSlug != "" && !isToken(sso.BookmarkSlug, maxBookmarkSlugLen, "-_") {
			return invalid("intent_options", "sso.bookmark_slug must be 1 to 128 letters, digits, hyphens or underscores", sso.BookmarkSlug)
		}
		if sso.ProviderType != "" && !isToken(sso.ProviderType, maxProviderTypeLen, "") {
			return invalid("intent_options", "sso.provider_type must be 1 to 64 letters or digits, like GoogleSAML", sso.ProviderType)
		}
	}
	if dv := io.DomainVerification; dv != nil {
		if intent != DomainVerification {
			return invalid("intent_options", `domain_verification options need intent "domain_verification"; the intent is `+strconv.Quote(string(intent)), "domain_verification")
		}
		if dv.DomainName != "" && (!isHostname(dv.DomainName, 2) || strings.IndexByte(dv.DomainName, '_') >= 0) {
			return invalid("intent_options", "domain_verification.domain_name must be a domain name like example.com", dv.DomainName)
		}
	}
	return nil
}

// isToken reports whether s is 1 to max ASCII letters, digits or bytes of extra.
func isToken(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// idempotencyKeyRule returns the rule a caller's idempotency key breaks: it
// travels as a header value, so it must be printable ASCII.
func idempotencyKeyRule(k string) string {
	if k == "" || len(k) > maxIdempotencyKeyLen {
		return "must be 1 to 255 characters"
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
