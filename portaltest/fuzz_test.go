package portaltest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// FuzzValidate holds the client's Validate and the fake's own model of the
// API to each other. Validate refuses only what can never work, so:
//
//   - what the fake accepts, Validate accepts: the client refuses nothing
//     the API would take, except return_url and success_url values that can
//     never be a page (the API states no rule for them; the client refuses
//     javascript: and the like on purpose);
//   - what Validate refuses in organization and it_contact_emails, the fake
//     refuses too: those rules are the API's, checked before a round trip.
//
// Validate leaves the rest to the API (an unknown intent, an address of
// odd form), so that the first rule is the only one both ways. Text that is
// not UTF-8 cannot travel in JSON unchanged, so it is skipped.
func FuzzValidate(f *testing.F) {
	for _, seed := range [][5]string{
		{"org_123", "audit_logs", "https://app.example.com/settings", "", "it@example.com"},
		{"org_01EHZNVPK3SFK441A1RGBFSHRT", "", "http://staging.internal", "https://x.example/done",
			"a@example.com\na@example.com"},
		{"org_1", "billing", "", "", `"it desk"@example.com` + "\nroot@localhost\njosé@exämple.de"},
		{"org_1", "sso", "javascript:alert(1)", "/relative", "it@[192.0.2.1]\nbad@-example.com"},
		{"acme", "Audit Logs", "", "", "@example.com"},
		{"org_x", "dsync", "", "", strings.Repeat("it@example.com\n", 20) + "it@example.com"},
		{"", "", "", "", "a@b..c"},
		{"org_1", "", "", "", `"a\"b"@example.com` + "\n" + `"a\"@example.com` + "\n" + "a@[::1]"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	fake := portaltest.NewFake("http://fake.test")
	f.Fuzz(func(t *testing.T, org, intent, returnURL, successURL, emails string) {
		opts := portal.GenerateLinkOpts{Organization: org, Intent: portal.Intent(intent), ReturnURL: returnURL,
			SuccessURL: successURL}
		if emails != "" {
			opts.ITContactEmails = strings.Split(emails, "\n")
		}
		for _, s := range append([]string{org, intent, returnURL, successURL}, opts.ITContactEmails...) {
			if !utf8.ValidString(s) {
				t.Skip("not UTF-8")
			}
		}
		body, err := json.Marshal(opts)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer sk_test_fuzz")
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		fake.Reset()

		clientErr := opts.Validate()
		var invalid *portal.ValidationError
		switch {
		case w.Code == http.StatusCreated && errors.As(clientErr, &invalid) &&
			invalid.Field != "return_url" && invalid.Field != "success_url":
			t.Errorf("the fake accepts what the client refuses: %v\nrequest: %s", clientErr, body)
		case errors.As(clientErr, &invalid) && (invalid.Field == "organization" || invalid.Field == "it_contact_emails") &&
			w.Code < 400:
			t.Errorf("the client refuses what the fake accepts with %d: %v\nrequest: %s", w.Code, clientErr, body)
		}
	})
}
