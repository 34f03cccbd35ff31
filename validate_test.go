package portal

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var validationTests = []struct {
	name      string
	opts      GenerateLinkOpts
	wantField string // "" when the options are valid
	wantRule  string // a fragment of the rule the error must state
}{
	{name: "seed example", opts: GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs}},
	{name: "ULID organization", opts: GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: SSO}},
	{name: "64 characters after prefix", opts: GenerateLinkOpts{Organization: "org_" + strings.Repeat("A", 64), Intent: SSO}},
	{name: "empty organization", opts: GenerateLinkOpts{Intent: AuditLogs}, wantField: "organization", wantRule: "is required"},
	{name: "blank organization", opts: GenerateLinkOpts{Organization: "  \t", Intent: AuditLogs}, wantField: "organization", wantRule: "is required"},
	{name: "no prefix", opts: GenerateLinkOpts{Organization: "01EHZNVPK3SFK441A1RGBFSHRT", Intent: AuditLogs}, wantField: "organization", wantRule: `"org_"`},
	{name: "prefix wrong case", opts: GenerateLinkOpts{Organization: "ORG_123", Intent: AuditLogs}, wantField: "organization", wantRule: `"org_"`},
	{name: "prefix alone", opts: GenerateLinkOpts{Organization: "org_", Intent: AuditLogs}, wantField: "organization", wantRule: "1 to 64"},
	{name: "65 characters after prefix", opts: GenerateLinkOpts{Organization: "org_" + strings.Repeat("A", 65), Intent: AuditLogs}, wantField: "organization", wantRule: "1 to 64"},
	{name: "organization with hyphen", opts: GenerateLinkOpts{Organization: "org_12-3", Intent: AuditLogs}, wantField: "organization", wantRule: "letters or digits"},
	{name: "organization with space", opts: GenerateLinkOpts{Organization: "org_123 ", Intent: AuditLogs}, wantField: "organization", wantRule: "letters or digits"},
	{name: "organization with path", opts: GenerateLinkOpts{Organization: "org_123/../x", Intent: AuditLogs}, wantField: "organization", wantRule: "letters or digits"},
	{name: "organization non-ASCII", opts: GenerateLinkOpts{Organization: "org_１２３", Intent: AuditLogs}, wantField: "organization", wantRule: "letters or digits"},
	{name: "missing intent", opts: GenerateLinkOpts{Organization: "org_123"}, wantField: "intent", wantRule: "is required"},
	{name: "unknown intent", opts: GenerateLinkOpts{Organization: "org_123", Intent: "billing"}, wantField: "intent", wantRule: "must be one of sso, dsync, audit_logs"},
	{name: "intent wrong case", opts: GenerateLinkOpts{Organization: "org_123", Intent: "Audit_Logs"}, wantField: "intent", wantRule: "exact case"},
	{name: "https return URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "https://app.example.com/settings#sso"}},
	{name: "http localhost success URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, SuccessURL: "http://localhost:8080/done"}},
	{name: "http loopback IPv4", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, SuccessURL: "http://127.0.0.1:8080/done"}},
	{name: "http loopback IPv6", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "http://[::1]:8080/"}},
	{name: "uppercase scheme", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "HTTPS://App.Example.com"}},
	{name: "http remote return URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "http://app.example.com/settings"}, wantField: "return_url", wantRule: "must use https"},
	{name: "javascript URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "javascript:alert(1)"}, wantField: "return_url", wantRule: "absolute https URL"},
	{name: "relative URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, SuccessURL: "/settings"}, wantField: "success_url", wantRule: "absolute https URL"},
	{name: "scheme-relative URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, SuccessURL: "//evil.example/x"}, wantField: "success_url", wantRule: "absolute https URL"},
	{name: "URL without host", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, SuccessURL: "https:///path"}, wantField: "success_url", wantRule: "host is missing"},
	{name: "URL with user info", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "https://app.example.com@evil.example/"}, wantField: "return_url", wantRule: "user info"},
	{name: "URL with space", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "https://app.example.com/a b"}, wantField: "return_url", wantRule: "percent-encoded"},
	{name: "URL with bad escape", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "https://app.example.com/%zz"}, wantField: "return_url", wantRule: "percent-encoded"},
	{name: "URL with bad port", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "https://app.example.com:99999/"}, wantField: "return_url", wantRule: "port"},
	{name: "URL with newline", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "https://app.example.com/\r\nX: y"}, wantField: "return_url", wantRule: "percent-encoded"},
	{name: "blank URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: " "}, wantField: "return_url", wantRule: "absolute https URL"},
	{name: "overlong URL", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ReturnURL: "https://a.example/" + strings.Repeat("a", 2048)}, wantField: "return_url", wantRule: "at most 2048"},
	{name: "20 contacts", opts: GenerateLinkOpts{Organization: "org_123", Intent: CertificateRenewal, ITContactEmails: emails(20)}},
	{name: "21 contacts", opts: GenerateLinkOpts{Organization: "org_123", Intent: CertificateRenewal, ITContactEmails: emails(21)}, wantField: "it_contact_emails", wantRule: "at most 20"},
	{name: "contact with display name", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ITContactEmails: []string{"IT <it@example.com>"}}, wantField: "it_contact_emails", wantRule: "bare e-mail address"},
	{name: "contact without domain", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ITContactEmails: []string{"it@"}}, wantField: "it_contact_emails", wantRule: "item 0"},
	{name: "contact without dot in domain", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ITContactEmails: []string{"ok@example.com", "it@localhost"}}, wantField: "it_contact_emails", wantRule: "item 1"},
	{name: "contact with double dot", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ITContactEmails: []string{"a..b@example.com"}}, wantField: "it_contact_emails", wantRule: "bare e-mail"},
	{name: "empty contact", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ITContactEmails: []string{""}}, wantField: "it_contact_emails", wantRule: "bare e-mail"},
	{name: "duplicate contact", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, ITContactEmails: []string{"it@example.com", "IT@Example.com"}}, wantField: "it_contact_emails", wantRule: "twice"},
	{name: "sso options with sso", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, IntentOptions: &IntentOptions{SSO: &SSOIntentOptions{BookmarkSlug: "app_1", ProviderType: "GoogleSAML"}}}},
	{name: "empty intent options", opts: GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs, IntentOptions: &IntentOptions{}}},
	{name: "sso options with audit logs", opts: GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs, IntentOptions: &IntentOptions{SSO: &SSOIntentOptions{ProviderType: "GoogleSAML"}}}, wantField: "intent_options", wantRule: `need intent "sso"`},
	{name: "domain options with sso", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, IntentOptions: &IntentOptions{DomainVerification: &DomainVerificationIntentOptions{DomainName: "example.com"}}}, wantField: "intent_options", wantRule: `need intent "domain_verification"`},
	{name: "bad bookmark slug", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, IntentOptions: &IntentOptions{SSO: &SSOIntentOptions{BookmarkSlug: "a b"}}}, wantField: "intent_options", wantRule: "bookmark_slug"},
	{name: "bad provider type", opts: GenerateLinkOpts{Organization: "org_123", Intent: SSO, IntentOptions: &IntentOptions{SSO: &SSOIntentOptions{ProviderType: "Google SAML"}}}, wantField: "intent_options", wantRule: "provider_type"},
	{name: "bad domain name", opts: GenerateLinkOpts{Organization: "org_123", Intent: DomainVerification, IntentOptions: &IntentOptions{DomainVerification: &DomainVerificationIntentOptions{DomainName: "https://example.com"}}}, wantField: "intent_options", wantRule: "domain_name"},
}

func emails(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "admin" + string(rune('a'+i)) + "@example.com"
	}
	return out
}

func TestValidate(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, linkHandler)
	c, _ := f.newTestClient(t)
	var sent int64
	for _, tt := range validationTests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			_, callErr := c.GenerateLink(context.Background(), tt.opts)
			if tt.wantField == "" {
				require.NoError(t, err)
				require.NoError(t, callErr)
				sent++
				return
			}
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "Validate(%+v) = %v, want a *ValidationError", tt.opts, err)
			assert.Equal(t, tt.wantField, ve.Field)
			assert.Contains(t, ve.Rule, tt.wantRule)
			assert.Contains(t, err.Error(), tt.wantField, "the message names the field")
			assert.Equal(t, err, callErr, "GenerateLink returns the validation error")
			assert.Equal(t, sent, f.requests.Load(), "invalid options must not reach the network")
		})
	}
}

func TestValidateAllocatesNothing(t *testing.T) {
	opts := GenerateLinkOpts{
		Organization:    "org_01EHZNVPK3SFK441A1RGBFSHRT",
		Intent:          SSO,
		ReturnURL:       "https://app.example.com/settings?tab=sso",
		SuccessURL:      "http://[::1]:8080/done",
		ITContactEmails: emails(20),
		IntentOptions:   &IntentOptions{SSO: &SSOIntentOptions{BookmarkSlug: "app", ProviderType: "OktaSAML"}},
	}
	require.NoError(t, opts.Validate())
	if n := testing.AllocsPerRun(100, func() { _ = opts.Validate() }); n != 0 {
		t.Errorf("Validate of valid options: %v allocations, want 0", n)
	}
}

// TestWebURLRuleAgreesWithURLParse holds the hand-written URL check to
// net/url: whatever it accepts, url.Parse reads with the same scheme and host.
func TestWebURLRuleAgreesWithURLParse(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"https://example.com", "https://example.com/", "https://a.b.example.com:8443/p/a/t/h?q=1&r=%20#frag",
		"http://localhost", "http://LOCALHOST:3000", "http://app.localhost/x", "http://127.0.0.1", "http://127.8.9.10:1/",
		"http://[::1]/", "https://[2001:db8::1]:443/", "https://xn--bcher-kva.example/", "https://under_score.example/",
		"https://example.com/~user/(x)!$'*+,;=:@/", "https://example.com?x", "https://example.com#x",
		"ftp://example.com", "https:example.com", "https://", "https://:443", "https://[::1", "https://[fe80::1%25eth0]/",
		"https://example.com:0/", "https://example.com:/", "https://ex ample.com", "https://-bad.example/", "https://bad-.example/",
		"https://example..com/", "https://example.com./", "https://example.com/<script>", "https://example.com/\"", "https://example.com/\\",
		"http://127.0.0.1.example.com/", "http://0x7f.0.0.1/", "http://[::ffff:127.0.0.1]/", "https://a@b/", "https://é.example/",
	} {
		if webURLRule(u, false) != "" {
			continue
		}
		parsed, err := url.Parse(u)
		if !assert.NoError(t, err, "webURLRule accepts %q but url.Parse fails", u) {
			continue
		}
		assert.True(t, strings.EqualFold(parsed.Scheme, "https") || strings.EqualFold(parsed.Scheme, "http"), u)
		assert.NotEmpty(t, parsed.Hostname(), u)
		assert.True(t, parsed.IsAbs(), u)
		assert.Nil(t, parsed.User, u)
	}
	for _, u := range []string{"http://example.com", "http://127.0.0.1.example.com/", "http://[::ffff:8.8.8.8]/", "https://a@b/", "https://é.example/"} {
		assert.NotEmpty(t, webURLRule(u, false), "webURLRule(%q) accepted", u)
	}
}

func TestRequestBodyMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	// Validation keeps these characters out of real requests, but the
	// encoder must still be right for anything it is given.
	tricky := []string{"", "plain", `quote " backslash \ slash /`, "<tag>&amp;", "tab\tnewline\nreturn\r", "\x00\x01\x1f\x7f",
		"é ü 日本", "\u2028\u2029", "bad \xff utf8 \xc3", "emoji 😀"}
	for _, s := range tricky {
		opts := GenerateLinkOpts{
			Organization: s, Intent: Intent(s), ReturnURL: s, SuccessURL: s, ITContactEmails: []string{s, s},
			IntentOptions: &IntentOptions{
				SSO:                &SSOIntentOptions{BookmarkSlug: s, ProviderType: s},
				DomainVerification: &DomainVerificationIntentOptions{DomainName: s},
			},
		}
		want, err := json.Marshal(opts)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendRequestBody(nil, &opts)), "body for %q", s)
	}
}

func TestParseLink(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		body string
		want string
		ok   bool
	}{
		{`{"link":"https://x.example/a?b=c"}`, "https://x.example/a?b=c", true},
		{" {\n  \"link\" : \"https://x.example/\"\t}\n", "https://x.example/", true},
		{`{"link":"https:\/\/x.example\/\u0041"}`, "https://x.example/A", true},
		{`{"object":"portal_link","link":"https://x.example/"}`, "https://x.example/", true},
		{`{"link":""}`, "", true},
		{`{"link":null}`, "", false},
		{`{"link":42}`, "", false},
		{`{}`, "", false},
		{`{"link":"https://x.example/"`, "", false},
		{`{"link":"https://x.example/"} trailing`, "", false},
		{`{"link":"https://x.example/"}{"link":"https://y.example/"}`, "", false},
		{`["https://x.example/"]`, "", false},
		{`<html>502 Bad Gateway</html>`, "", false},
		{``, "", false},
	} {
		got, ok := parseLink([]byte(tt.body))
		assert.Equal(t, tt.ok, ok, "parseLink(%q)", tt.body)
		assert.Equal(t, tt.want, got, "parseLink(%q)", tt.body)
	}
}

// TestValidationErrorMessage pins the wording users see.
func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	err := GenerateLinkOpts{Organization: "acme", Intent: AuditLogs}.Validate()
	assert.EqualError(t, err, `portal: invalid organization: must be "org_" followed by 1 to 64 letters or digits; got "acme"`)
	err = GenerateLinkOpts{Organization: "org_1", Intent: "audit"}.Validate()
	assert.EqualError(t, err, `portal: invalid intent: must be one of sso, dsync, audit_logs, log_streams, domain_verification, certificate_renewal, bring_your_own_key (exact case); got "audit"`)
}
