package portal

// Intent names the Admin Portal flow a link opens. Any intent is sent as it
// is and the API decides, so that a newer intent than these works without a
// new release: portal.Intent("new_intent").
type Intent string

// The intents the API documents.
const (
	SSO                Intent = "sso"                 // create and manage SSO connections
	DSync              Intent = "dsync"               // create Directory Sync connections
	AuditLogs          Intent = "audit_logs"          // view and export Audit Log events
	LogStreams         Intent = "log_streams"         // stream Audit Log events to a SIEM
	DomainVerification Intent = "domain_verification" // verify the organization's domains
	CertificateRenewal Intent = "certificate_renewal" // renew a SAML signing certificate
	BringYourOwnKey    Intent = "bring_your_own_key"  // set up Bring Your Own Key encryption
)

// ParseIntent returns the documented intent named s (exact case), or a
// [*ValidationError] for any other string. Use it where input should be
// limited to the intents this package knows, such as a URL path.
func ParseIntent(s string) (Intent, error) {
	switch i := Intent(s); i {
	case SSO, DSync, AuditLogs, LogStreams, DomainVerification, CertificateRenewal, BringYourOwnKey:
		return i, nil
	}
	return "", &ValidationError{Field: "intent", Value: excerpt(s, ""), Rule: "must be one of sso, dsync, " +
		"audit_logs, log_streams, domain_verification, certificate_renewal or bring_your_own_key"}
}
