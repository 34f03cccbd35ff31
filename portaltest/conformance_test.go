package portaltest_test

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal/portaltest"
)

// conformance states, once each, what the API does with a request, as its
// published contract and the recorded answers say. TestConformance runs the
// table against the in-process fake; with PORTAL_MOCK_URL set (and
// PORTAL_MOCK_CERT for -tls), against a running portal-mock instead, which
// cmd/portal-mock's tests do.
var conformance = []struct {
	name    string
	method  string // POST unless set
	path    string // /portal/generate_link unless set
	key     string // conformanceKey unless set; "-" sends none
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
	{name: "GET", method: "GET", status: 405},
	{name: "another path", path: "/portal/generate_links", body: `{}`, status: 404},
	{name: "a body too large", body: `{"organization":"org_123","return_url":"https://example.com/` +
		strings.Repeat("a", 200<<10) + `"}`, status: 413},
}

// conformanceKey is the key the fake under test accepts; org_unknown is
// not among its organizations.
const conformanceKey = "sk_test_conformance"

var conformanceOrgs = []string{"org_01EHZNVPK3SFK441A1RGBFSHRT", "org_123"}

func addresses(n int) string {
	list := make([]string, n)
	for i := range list {
		list[i] = `"it` + strings.Repeat("x", i) + `@example.com"`
	}
	return "[" + strings.Join(list, ",") + "]"
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// target returns the base URL and HTTP client of the fake under test.
func target(t *testing.T) (string, *http.Client) {
	client := newHTTPClient(t)
	base := os.Getenv("PORTAL_MOCK_URL")
	if base == "" {
		srv := portaltest.Start(t, portaltest.WithAPIKey(conformanceKey), portaltest.WithOrganizations(conformanceOrgs...))
		return srv.URL, client
	}
	if file := os.Getenv("PORTAL_MOCK_CERT"); file != "" {
		pemCert, err := os.ReadFile(file)
		require.NoError(t, err)
		block, _ := pem.Decode(pemCert)
		require.NotNil(t, block)
		cert, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	return base, client
}

func TestConformance(t *testing.T) {
	base, client := target(t)
	for _, tt := range conformance {
		method, path, key := cmp.Or(tt.method, "POST"), cmp.Or(tt.path, "/portal/generate_link"),
			cmp.Or(tt.key, conformanceKey)
		req, err := http.NewRequest(method, base+path, strings.NewReader(tt.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if key != "-" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := client.Do(req)
		require.NoError(t, err, tt.name)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)

		assert.Equal(t, tt.status, resp.StatusCode, "%s: %s", tt.name, body)
		assert.Regexp(t, uuidV4, resp.Header.Get("X-Request-Id"), "%s: every answer has a UUIDv4 request ID", tt.name)
		var members map[string]any
		require.NoError(t, json.Unmarshal(body, &members), "%s: a JSON object: %s", tt.name, body)
		if tt.status == 201 {
			assert.Equal(t, []string{"link"}, slices.Sorted(maps.Keys(members)), "%s: the answer is exactly {link}", tt.name)
			assert.Regexp(t, `^`+regexp.QuoteMeta(base)+`/portal/launch\?token=[A-Z2-7]{52}$`, members["link"], tt.name)
			continue
		}
		assert.IsType(t, "", members["message"], "%s: every error has a message", tt.name)
		assert.Contains(t, members["message"], tt.message, tt.name)
		if tt.status == 422 {
			assert.Equal(t, "invalid_request_parameters", members["code"], tt.name)
			errs, _ := members["errors"].([]any)
			require.NotEmpty(t, errs, tt.name)
			for _, e := range errs {
				fe, _ := e.(map[string]any)
				assert.Equal(t, []string{"code", "field", "message"}, slices.Sorted(maps.Keys(fe)), tt.name)
			}
		}
		if tt.status == 401 {
			assert.JSONEq(t, `{"message":"Unauthorized"}`, string(body), "%s: the recorded answer", tt.name)
		}
	}
}
