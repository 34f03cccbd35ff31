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

var validateTests = []struct {
	name  string
	opts  portal.GenerateLinkOpts
	field string // "" when valid
}{
	{"organization only", portal.GenerateLinkOpts{Organization: "org_123"}, ""},
	{"real organization ID", portal.GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT"}, ""},
	{"empty organization", portal.GenerateLinkOpts{}, "organization"},
	{"organization prefix alone", portal.GenerateLinkOpts{Organization: "org_"}, "organization"},
	{"organization of another kind", portal.GenerateLinkOpts{Organization: "conn_01EHZNVPK3SFK441A1RGBFSHRT"},
		"organization"},
	{"organization with punctuation", portal.GenerateLinkOpts{Organization: "org_01-EHZ"}, "organization"},
	{"upper-case prefix", portal.GenerateLinkOpts{Organization: "ORG_123"}, "organization"},

	{"every documented intent", portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.BringYourOwnKey}, ""},
	{"a well-formed unknown intent", portal.GenerateLinkOpts{Organization: "org_1", Intent: "scim2"}, ""},
	{"intent with a hyphen", portal.GenerateLinkOpts{Organization: "org_1", Intent: "audit-logs"}, "intent"},
	{"intent with a space", portal.GenerateLinkOpts{Organization: "org_1", Intent: " sso"}, "intent"},

	{"https URL", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com/settings"}, ""},
	{"http URL on any host", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "http://staging.internal/"}, ""},
	{"upper-case scheme", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "HTTPS://app.example.com/"}, ""},
	{"IPv6 host and port", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "http://[::1]:8080/done"}, ""},
	{"user info", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "https://user@app.example.com/"}, ""},
	{"internationalised host", portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "https://bücher.example/"}, ""},
	{"a long URL", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app.example.com/?q=" + strings.Repeat("a", 10000)}, ""},
	{"a stray percent sign", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app.example.com/reports/50%off"}, ""},
	{"percent signs in query and fragment", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: "https://app.example.com/?q=100%&r=%zz#50%"}, ""},
	{"a space and brackets in the path", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app.example.com/my reports/[1]"}, ""},
	{"a backslash ends the host", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: `https://app.example.com\settings%`}, ""},
	{"port", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "http://localhost:8080/settings"}, ""},
	{"empty port", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com:/"}, ""},
	{"no path", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com"}, ""},
	{"query at once", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://app.example.com?x=1"}, ""},
	{"scheme-relative URL", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "//app.example.com/"}, "return_url"},
	{"a space in the host", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app example.com/"}, "return_url"},
	{"a port that is not a number", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "https://app.example.com:http/"}, "return_url"},
	{"an unclosed IPv6 literal", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://[::1/"}, "return_url"},
	{"only a scheme", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://"}, "return_url"},
	{"no scheme", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "app.example.com/settings"}, "return_url"},
	{"user info without a host", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: "https://user@/"}, "success_url"},
	{"trailing space", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: "https://app.example.com/ "}, "success_url"},
	{"a DEL character", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: "https://app.example.com/\x7f"}, "success_url"},
	{"invalid UTF-8", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: "https://app.example.com/\xff"}, "success_url"},
	{"data URL", portal.GenerateLinkOpts{Organization: "org_1",
		ReturnURL: "data:text/html,<script>alert(1)</script>"}, "return_url"},
	{"opaque https", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https:app.example.com"}, "return_url"},
	{"port without host", portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "https://:443/"}, "return_url"},
	{"tab in URL", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: "https://app.example.com/\t"}, "success_url"},
	{"leading space", portal.GenerateLinkOpts{Organization: "org_1",
		SuccessURL: " https://app.example.com/"}, "success_url"},

	{"no contacts", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{}}, ""},
	{"address literal", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{"it@[192.0.2.1]"}}, ""},
	{"empty contact", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{""}}, "it_contact_emails"},
	{"no local part", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"@example.com"}}, "it_contact_emails"},
	{"no domain", portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{"it@"}}, "it_contact_emails"},
	{"two at signs", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"it@desk@example.com"}}, "it_contact_emails"},
	{"double dot", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"it..desk@example.com"}}, "it_contact_emails"},
	{"trailing dot in domain", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"it@example.com."}}, "it_contact_emails"},
	{"hyphen-ended label", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"it@example-.com"}}, "it_contact_emails"},
	{"space", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"it desk@example.com"}}, "it_contact_emails"},
	{"comma-separated list", portal.GenerateLinkOpts{Organization: "org_1",
		ITContactEmails: []string{"a@example.com,b@example.com"}}, "it_contact_emails"},
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
			assert.LessOrEqual(t, len(err.Error()), 300, "%s: the error quotes a bounded excerpt of the value", tt.name)
		}
	}
}

func TestValidationErrorText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts portal.GenerateLinkOpts
		want string
	}{
		{portal.GenerateLinkOpts{}, "portal: invalid organization: is required"},
		{portal.GenerateLinkOpts{Organization: "acme"},
			`portal: invalid organization: must be "org_" followed by letters and digits; got "acme"`},
		{portal.GenerateLinkOpts{Organization: "org_1", Intent: "Audit Logs"},
			`portal: invalid intent: must be lower-case letters, digits and underscores, like "audit_logs"; got "Audit Logs"`},
		{portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "javascript:alert(1)"},
			`portal: invalid return_url: must be an absolute http or https URL with a host; got "javascript:alert(1)"`},
		{portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: emails(21)},
			"portal: invalid it_contact_emails: must list at most 20 addresses; got 21"},
		{portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{"a@example.com", "IT\ndesk"}},
			`portal: invalid it_contact_emails: item 1 must be an e-mail address; got "IT\ndesk"`},
	} {
		assert.EqualError(t, tt.opts.Validate(), tt.want)
	}
	long := portal.GenerateLinkOpts{Organization: "org_" + strings.Repeat("é", 1000) + "!"}
	assert.Less(t, len(long.Validate().Error()), 200)
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
	for _, intent := range []string{"scim2", "", "Audit Logs"} {
		var opts portal.GenerateLinkOpts
		require.NoError(t, json.Unmarshal([]byte(`{"organization":"org_1","intent":`+strconv.Quote(intent)+`}`), &opts))
		assert.Equal(t, portal.Intent(intent), opts.Intent)
	}
	b, err := json.Marshal(portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.DSync})
	require.NoError(t, err)
	assert.JSONEq(t, `{"organization":"org_1","intent":"dsync"}`, string(b))
}
