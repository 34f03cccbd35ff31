package portal_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// validateTests hold the rules at their edges: what can never work is
// refused, and anything else, however odd, is the API's to judge.
var validateTests = []struct {
	name  string
	opts  portal.GenerateLinkOpts
	field string // "" when valid
}{
	{"organization only", portal.GenerateLinkOpts{Organization: "org_123"}, ""},
	{"real organization ID", portal.GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT"}, ""},
	{"every letter and digit", portal.GenerateLinkOpts{Organization: "org_azAZ09"}, ""},
	{"empty organization", portal.GenerateLinkOpts{}, "organization"},
	{"organization prefix alone", portal.GenerateLinkOpts{Organization: "org_"}, "organization"},
	{"organization of another kind", portal.GenerateLinkOpts{Organization: "conn_01EHZNVPK3SFK441A1RGBFSHRT"},
		"organization"},
	{"organization with punctuation", portal.GenerateLinkOpts{Organization: "org_01-EHZ"}, "organization"},
	{"organization with a space", portal.GenerateLinkOpts{Organization: "org_01 EHZ"}, "organization"},
	{"organization with a non-ASCII letter", portal.GenerateLinkOpts{Organization: "org_é1"}, "organization"},
	{"organization after a character", portal.GenerateLinkOpts{Organization: "xorg_1"}, "organization"},
	{"upper-case prefix", portal.GenerateLinkOpts{Organization: "ORG_123"}, "organization"},

	{"a documented intent", portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.BringYourOwnKey}, ""},
	{"an unknown intent: the API's to judge", portal.GenerateLinkOpts{Organization: "org_1", Intent: "scim2"}, ""},
	{"a malformed intent: the API's to judge", portal.GenerateLinkOpts{Organization: "org_1", Intent: "Audit Logs"}, ""},
	{"intent of invalid UTF-8", portal.GenerateLinkOpts{Organization: "org_1", Intent: "sso\xff"}, "intent"},

	{"https URL", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com/settings"}, ""},
	{"http URL on any host", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "http://staging.internal/"}, ""},
	{"upper-case scheme", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "HTTPS://app.example.com/"}, ""},
	{"upper-case http", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "HTTP://app.example.com/"}, ""},
	{"IPv6 host and port", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "http://[::1]:8080/done"}, ""},
	{"internationalised host", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "https://bücher.example/"}, ""},
	{"a long URL", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app.example.com/?q=" + strings.Repeat("a", 10000)}, ""},
	{"a stray percent sign", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app.example.com/reports/50%off"}, ""},
	{"a space in the path", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app.example.com/my reports/[1]"}, ""},
	{"no path", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com"}, ""},
	{"query at once", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com?x=1"}, ""},
	{"fragment at once", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com#top"}, ""},
	{"scheme-relative URL", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "//app.example.com/"}, "return_url"},
	{"only a scheme", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://"}, "return_url"},
	{"no host, a path", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https:///settings"}, "return_url"},
	{"no host, a query", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "https://?x=1"}, "success_url"},
	{"no host, a fragment", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "http://#x"}, "success_url"},
	{"a port without a host", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://:443/"}, "return_url"},
	{"user info without a host", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://u@/x"}, "return_url"},
	{"user info, a host and a port", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://u:p@app.example.com:8443/x"}, ""},
	{"an IPv6 host without a port", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "http://[::1]/x"}, ""},
	{"no scheme", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "app.example.com/settings"}, "return_url"},
	{"a relative path", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "/settings"}, "return_url"},
	{"ftp", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "ftp://files.example.com/"}, "success_url"},
	{"javascript", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "javascript:alert(1)//"}, "return_url"},
	{"a scheme that ends in https", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "xhttps://app.example.com/"}, "return_url"},
	{"opaque https", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https:app.example.com"}, "return_url"},
	{"invalid UTF-8", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: "https://app.example.com/\xff"}, "success_url"},

	{"no contacts", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{}}, ""},
	{"20 contacts", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: emails(20)}, ""},
	{"21 contacts", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: emails(21)}, "it_contact_emails"},
	{"unusual addresses: the API's to judge", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{
		"it@[192.0.2.1]", `"it desk"@example.com`, "josé@exämple.de", "it..desk@example.com", "a@b@c"}}, ""},
	{"empty contact", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{""}}, "it_contact_emails"},
	{"no @", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{"IT desk"}}, "it_contact_emails"},
	{"no local part", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"@example.com"}}, "it_contact_emails"},
	{"no domain", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{"it@"}}, "it_contact_emails"},
	{"the second contact", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"a@example.com", "it@"}}, "it_contact_emails"},
	{"a contact of invalid UTF-8", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"it\xff@example.com"}}, "it_contact_emails"},
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range validateTests {
		err := tt.opts.Validate()
		if tt.field == "" {
			assert.NoError(t, err, tt.name)
			continue
		}
		var invalid *portal.ValidationError
		if assert.ErrorAs(t, err, &invalid, tt.name) {
			assert.Equal(t, tt.field, invalid.Field, tt.name)
			assert.LessOrEqual(t, len(invalid.Value), 64, "%s: a bounded excerpt of the value", tt.name)
		}
	}
}

// TestValidationErrorParts: the field, the value and the rule are apart,
// and Error composes them.
func TestValidationErrorParts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts portal.GenerateLinkOpts
		want portal.ValidationError
		text string
	}{
		{portal.GenerateLinkOpts{}, portal.ValidationError{Field: "organization", Rule: "is required"},
			"portal: invalid organization: is required"},
		{portal.GenerateLinkOpts{Organization: "acme"},
			portal.ValidationError{Field: "organization", Value: "acme", Rule: `must be "org_" followed by letters and digits`},
			`portal: invalid organization "acme": must be "org_" followed by letters and digits`},
		{portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "javascript:alert(1)"},
			portal.ValidationError{Field: "return_url", Value: "javascript:alert(1)",
				Rule: "must be an http or https URL with a host"},
			`portal: invalid return_url "javascript:alert(1)": must be an http or https URL with a host`},
		{portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "/done"},
			portal.ValidationError{Field: "success_url", Value: "/done", Rule: "must be an http or https URL with a host"},
			`portal: invalid success_url "/done": must be an http or https URL with a host`},
		{portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: emails(21)},
			portal.ValidationError{Field: "it_contact_emails", Rule: "must list at most 20 addresses"},
			"portal: invalid it_contact_emails: must list at most 20 addresses"},
		{portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{"a@example.com", "IT\ndesk"}},
			portal.ValidationError{Field: "it_contact_emails", Value: "IT\ndesk",
				Rule: `each item must have an "@" between non-empty parts`},
			`portal: invalid it_contact_emails "IT\ndesk": each item must have an "@" between non-empty parts`},
		{portal.GenerateLinkOpts{Organization: "org_1", Intent: "\xff"},
			portal.ValidationError{Field: "intent", Value: "\xff", Rule: "must be valid UTF-8, which JSON carries unchanged"},
			`portal: invalid intent "\xff": must be valid UTF-8, which JSON carries unchanged`},
	} {
		err := tt.opts.Validate()
		var got *portal.ValidationError
		require.ErrorAs(t, err, &got)
		assert.Equal(t, tt.want, *got)
		assert.EqualError(t, err, tt.text)
	}
	long := portal.GenerateLinkOpts{Organization: "org_" + strings.Repeat("é", 1000) + "!"}
	var got *portal.ValidationError
	require.ErrorAs(t, long.Validate(), &got)
	assert.Equal(t, "org_"+strings.Repeat("é", 28)+"…", got.Value, "cut to 64 bytes, at a character")
}

func TestParseIntent(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sso", "dsync", "audit_logs", "log_streams", "domain_verification",
		"certificate_renewal", "bring_your_own_key"} {
		intent, err := portal.ParseIntent(name)
		require.NoError(t, err)
		assert.Equal(t, portal.Intent(name), intent)
	}
	for _, name := range []string{"", "SSO", "audit-logs", "billing", "audit_logs "} {
		_, err := portal.ParseIntent(name)
		var invalid *portal.ValidationError
		require.ErrorAs(t, err, &invalid, "%q", name)
		assert.Equal(t, "intent", invalid.Field)
		assert.Contains(t, err.Error(), "must be one of sso, dsync, audit_logs")
	}
}

// TestIntentIsText: an Intent is a string, in JSON as anywhere, whatever
// its value, so that decoding never refuses what the API might take.
func TestIntentIsText(t *testing.T) {
	t.Parallel()
	for _, intent := range []string{"scim2", "", "Audit Logs"} { // each sent as it is
		var opts portal.GenerateLinkOpts
		require.NoError(t, json.Unmarshal([]byte(`{"organization":"org_1","intent":`+strconv.Quote(intent)+`}`), &opts))
		assert.Equal(t, portal.Intent(intent), opts.Intent)
	}
	b, err := json.Marshal(portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.DSync})
	require.NoError(t, err)
	assert.JSONEq(t, `{"organization":"org_1","intent":"dsync"}`, string(b))
}
