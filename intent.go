package portal

// Intent names the Admin Portal flow a link opens. The portal shows only the
// screens of that flow, so an admin given an AuditLogs link cannot, for
// example, reconfigure SSO.
type Intent string

// The intents the API accepts. Values are case-sensitive.
const (
	// SSO lets the admin create and manage SSO connections.
	SSO Intent = "sso"
	// DSync lets the admin create Directory Sync connections.
	DSync Intent = "dsync"
	// AuditLogs lets the admin view and export the organization's Audit Log events.
	AuditLogs Intent = "audit_logs"
	// LogStreams lets the admin create Log Streams.
	LogStreams Intent = "log_streams"
	// DomainVerification lets the admin verify the organization's domains.
	DomainVerification Intent = "domain_verification"
	// CertificateRenewal lets the admin renew SAML certificates.
	CertificateRenewal Intent = "certificate_renewal"
	// BringYourOwnKey lets the admin configure Bring Your Own Key encryption.
	BringYourOwnKey Intent = "bring_your_own_key"
)

// Intents returns every intent the API accepts, in the order of the API
// reference. The slice is new on each call, so callers may modify it.
func Intents() []Intent {
	return []Intent{SSO, DSync, AuditLogs, LogStreams, DomainVerification, CertificateRenewal, BringYourOwnKey}
}

// Valid reports whether i is one of the intents the API accepts, with exact case.
func (i Intent) Valid() bool {
	switch i {
	case SSO, DSync, AuditLogs, LogStreams, DomainVerification, CertificateRenewal, BringYourOwnKey:
		return true
	}
	return false
}
