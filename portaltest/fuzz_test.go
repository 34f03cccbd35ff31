package portaltest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// FuzzValidate checks that option validation never panics, that whatever it
// accepts is well formed, and that the fake agrees with it: options the
// client would send get a link, options it refuses are refused by the fake
// too.
func FuzzValidate(f *testing.F) {
	f.Add("org_123", "audit_logs", "https://app.example.com/settings", "", "it@example.com", "", "")
	f.Add("org_01EHZNVPK3SFK441A1RGBFSHRT", "sso", "http://localhost:3000/", "http://[::1]/done", "", "GoogleSAML", "")
	f.Add("org_1", "domain_verification", "", "", "a.b+c@sub.example.co", "", "example.com")
	f.Add("acme", "billing", "javascript:alert(1)", "//x", "IT <it@example.com>", "Google SAML", "-bad-.com")
	f.Add(" ", "AUDIT_LOGS", "https://user@host/", "https://h:99999/", "a..b@example.com", "", "")
	fake := portaltest.NewFake(portaltest.WithAPIKey("sk_test_fuzz"))
	f.Fuzz(func(t *testing.T, org, intent, ret, success, email, provider, domain string) {
		opts := portal.GenerateLinkOpts{Organization: org, Intent: portal.Intent(intent), ReturnURL: ret, SuccessURL: success}
		if email != "" {
			opts.ITContactEmails = []string{email}
		}
		if provider != "" {
			opts.IntentOptions = &portal.IntentOptions{SSO: &portal.SSOIntentOptions{ProviderType: provider}}
		}
		if domain != "" {
			if opts.IntentOptions == nil {
				opts.IntentOptions = &portal.IntentOptions{}
			}
			opts.IntentOptions.DomainVerification = &portal.DomainVerificationIntentOptions{DomainName: domain}
		}
		err := opts.Validate()
		if err == nil {
			for _, u := range []string{ret, success} {
				if u == "" {
					continue
				}
				parsed, perr := url.Parse(u)
				if perr != nil || parsed.Host == "" || parsed.User != nil || !(strings.EqualFold(parsed.Scheme, "https") || strings.EqualFold(parsed.Scheme, "http")) {
					t.Fatalf("Validate accepted URL %q, which url.Parse reads as %+v (%v)", u, parsed, perr)
				}
			}
		} else if !strings.Contains(err.Error(), err.(*portal.ValidationError).Field) {
			t.Fatalf("error %q does not name its field", err)
		}

		body, merr := json.Marshal(opts)
		if merr != nil {
			t.Fatal(merr)
		}
		req := httptest.NewRequest(http.MethodPost, "/portal/generate_link", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer sk_test_fuzz")
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, req)
		switch {
		case err == nil && rec.Code != http.StatusOK:
			t.Fatalf("client accepts %s, the fake answers %d %s", body, rec.Code, rec.Body)
		case err != nil && rec.Code == http.StatusOK:
			t.Fatalf("client refuses %s (%v), the fake issues a link", body, err)
		case err != nil && rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity:
			t.Fatalf("the fake answers %d to %s", rec.Code, body)
		}
		fake.Reset() // keep memory flat over millions of runs
	})
}
