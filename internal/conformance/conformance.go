// Package conformance states, once each, what the API does with a
// generate-link request, as its published contract and the recorded answers
// say, and runs that table against a fake of it: portaltest's in process,
// and portal-mock's over HTTP and HTTPS. Only tests import it.
package conformance

import (
	"cmp"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Key is the key the fake under test must accept (and no other).
const Key = "sk_test_conformance"

// Organizations are the organizations that the fake under test must know.
var Organizations = []string{"org_01EHZNVPK3SFK441A1RGBFSHRT", "org_123"}

var cases = []struct {
	name    string
	method  string // POST unless set
	path    string // /portal/generate_link unless set
	key     string // Key unless set; "-" sends none
	body    string
	status  int
	message string // for errors: a part of the answer's message
}{
	{name: "organization only", body: `{"organization":"org_01EHZNVPK3SFK441A1RGBFSHRT"}`, status: 201},
	{name: "sso", body: `{"organization":"org_123","intent":"sso"}`, status: 201},
	{name: "dsync", body: `{"organization":"org_123","intent":"dsync"}`, status: 201},
	{name: "audit_logs", body: `{"organization":"org_123","intent":"audit_logs"}`, status: 201},
	{name: "log_streams", body: `{"organization":"org_123","intent":"log_streams"}`, status: 201},
	{name: "domain_verification", body: `{"organization":"org_123","intent":"domain_verification"}`, status: 201},
	{name: "certificate_renewal", body: `{"organization":"org_123","intent":"certificate_renewal"}`, status: 201},
	{name: "bring_your_own_key", body: `{"organization":"org_123","intent":"bring_your_own_key"}`, status: 201},
	{name: "null optional fields (recorded)", body: `{"intent":"audit_logs","organization":"org_123",` +
		`"return_url":null,"success_url":null,"it_contact_emails":null}`, status: 201},
	{name: "plain-http return URL", body: `{"organization":"org_123",` +
		`"return_url":"http://staging.example.com/settings","success_url":"https://example.com/done"}`, status: 201},
	{name: "20 contacts", body: `{"organization":"org_123","it_contact_emails":` + addresses(20) + `}`, status: 201},
	{name: "repeated contacts",
		body: `{"organization":"org_123","it_contact_emails":["a@example.com","a@example.com"]}`, status: 201},
	{name: "admin_emails, the older name",
		body: `{"organization":"org_123","admin_emails":["it@example.com"]}`, status: 201},
	{name: "unknown members are ignored",
		body: `{"organization":"org_123","intent_options":{"sso":{"bookmark_slug":"x"}}}`, status: 201},

	{name: "missing organization", body: `{"intent":"sso"}`, status: 422, message: "Validation failed"},
	// The spec sets no minLength: "" is a string that names no organization.
	{name: "empty organization", body: `{"organization":""}`, status: 400,
		message: "Could not find an organization with the id, ."},
	{name: "organization not a string", body: `{"organization":123}`, status: 422, message: "Validation failed"},
	{name: "intent outside the enum", body: `{"organization":"org_123","intent":"billing"}`,
		status: 422, message: "Validation failed"},
	{name: "intent not a string", body: `{"organization":"org_123","intent":["sso"]}`,
		status: 422, message: "Validation failed"},
	{name: "return URL not a string", body: `{"organization":"org_123","return_url":{}}`,
		status: 422, message: "Validation failed"},
	{name: "21 contacts", body: `{"organization":"org_123","it_contact_emails":` + addresses(21) + `}`,
		status: 422, message: "Validation failed"},
	{name: "a contact that is not an address", body: `{"organization":"org_123","it_contact_emails":["it desk"]}`,
		status: 422, message: "Validation failed"},
	{name: "contacts not an array", body: `{"organization":"org_123","it_contact_emails":"it@example.com"}`,
		status: 422, message: "Validation failed"},
	{name: "unknown organization", body: `{"organization":"org_unknown"}`,
		status: 400, message: "Could not find an organization with the id, org_unknown."},
	{name: "not an organization ID (recorded)", body: `{"organization":"bogus-id"}`, status: 400,
		message: "Could not find an organization with the id, bogus-id."},
	{name: "malformed JSON", body: `{"organization":`, status: 400, message: "JSON"},
	{name: "not an object", body: `["org_123"]`, status: 400, message: "JSON"},
	{name: "wrong key (recorded)", key: "sk_test_wrong", body: `{"organization":"org_123"}`,
		status: 401, message: "Unauthorized"},
	{name: "no key", key: "-", body: `{"organization":"org_123"}`, status: 401, message: "Unauthorized"},
	{name: "the documentation's example key, where another is named", key: "sk_example_123456789",
		body: `{"organization":"org_123"}`, status: 401, message: "Unauthorized"},
	{name: "GET", method: "GET", status: 405, message: "Method Not Allowed"},
	{name: "another path", path: "/portal/generate_links", body: `{}`, status: 404, message: "Not Found"},
	{name: "a doubled slash, from a base URL that ends in /", path: "//portal/generate_link",
		body: `{"organization":"org_123"}`, status: 404, message: "doubled slash"},
	{name: "a body too large", body: `{"organization":"org_123","return_url":"https://example.com/` +
		strings.Repeat("a", 200<<10) + `"}`, status: 413, message: "too large"},
}

func addresses(n int) string {
	list := make([]string, n)
	for i := range list {
		list[i] = `"it` + strings.Repeat("x", i) + `@example.com"`
	}
	return "[" + strings.Join(list, ",") + "]"
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Run sends every case to the fake at base through client, each in a
// subtest, and checks the answer.
func Run(t *testing.T, base string, client *http.Client) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			method, path, key := cmp.Or(tt.method, "POST"), cmp.Or(tt.path, "/portal/generate_link"),
				cmp.Or(tt.key, Key)
			req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if key != "-" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			check(t, base, tt.status, tt.message, resp, body)
		})
	}
}

func check(t *testing.T, base string, status int, message string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if id := resp.Header.Get("X-Request-Id"); !uuidV4.MatchString(id) {
		t.Errorf("X-Request-Id %q, want a UUID of version 4", id)
	}
	var members map[string]any
	if err := json.Unmarshal(body, &members); err != nil {
		t.Fatalf("the answer is no JSON object: %s", body)
	}
	if status == http.StatusCreated {
		link := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `/portal/launch\?token=[A-Z2-7]{52}$`)
		if s, _ := members["link"].(string); len(members) != 1 || !link.MatchString(s) {
			t.Errorf("answer %s, want exactly {link} with a link under %s", body, base)
		}
		return
	}
	if s, _ := members["message"].(string); !strings.Contains(s, message) {
		t.Errorf("message %q, want one that holds %q", members["message"], message)
	}
	switch status {
	case http.StatusUnprocessableEntity:
		errs, _ := members["errors"].([]any)
		if members["code"] != "invalid_request_parameters" || len(errs) == 0 {
			t.Errorf("answer %s, want code invalid_request_parameters and errors", body)
		}
		for _, e := range errs {
			fe, _ := e.(map[string]any)
			if got := slices.Sorted(maps.Keys(fe)); !slices.Equal(got, []string{"code", "field", "message"}) {
				t.Errorf("error %v has members %v, want code, field and message", e, got)
			}
		}
	case http.StatusUnauthorized:
		if string(body) != `{"message":"Unauthorized"}` {
			t.Errorf("answer %s, want the recorded one", body)
		}
	case http.StatusMethodNotAllowed:
		if allow := resp.Header.Get("Allow"); allow != http.MethodPost {
			t.Errorf("Allow: %q, want POST", allow)
		}
	}
}
