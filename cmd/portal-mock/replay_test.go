package main

import (
	"bufio"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A replay is the request that one version of an official SDK whose
// registry this machine cannot reach (RubyGems, Packagist, NuGet; and
// Maven Central, which serves no com.workos:workos before 7.2.0) sends for
// the page's call, as its published source builds it, and what that SDK
// makes of the answer. TestSDKReplays sends exactly that to the binary.
type replay struct {
	name string
	// base is how the user points the SDK at the mock, as the README says;
	// path is the request target the SDK composes from it.
	base, path string
	// header holds what the SDK sets itself, in its order; the HTTP stack
	// adds Host and Content-Length.
	header [][2]string
	body   string
	// tlsHost, if set, is the one name the SDK reaches the API by, over TLS
	// on port 443: the mock runs with -tls -tls-host tlsHost, and the Host
	// header carries no port, as for port 443.
	tlsHost string
	// accepts reports whether the SDK takes an answer with this status as
	// success, and reads the link from its JSON body.
	accepts func(status int) bool
	status  int // what the mock must answer
}

func twoHundreds(status int) bool      { return status >= 200 && status < 300 }
func belowFourHundred(status int) bool { return status < 400 }

var replays = []replay{
	{
		// workos-ruby v6.2.0 (lib/workos/portal.rb, client.rb): the page's
		// WorkOS::Portal.generate_link(organization:, intent:). It reads the
		// host from WORKOS_API_HOSTNAME and always uses TLS on port 443
		// (Net::HTTP.new(host, 443), use_ssl); the body has every member,
		// nil as null; no Idempotency-Key, no retry; status >= 400 raises.
		name: "ruby 6.2.0, the page's snippet", base: "WORKOS_API_HOSTNAME=api.workos.test",
		path: "/portal/generate_link", tlsHost: "api.workos.test",
		header: [][2]string{
			{"Content-Type", "application/json"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "WorkOS; ruby/3.3.6; x86_64-linux; v6.2.0"},
			{"Accept-Encoding", "gzip;q=1.0,deflate;q=0.6,identity;q=0.3"}, // Net::HTTP's own
			{"Accept", "*/*"},
		},
		body:    `{"intent":"audit_logs","organization":"org_123","return_url":null,"success_url":null}`,
		accepts: belowFourHundred, status: 201,
	},
	{
		// workos-ruby v10.2.1 (lib/workos/base_client.rb, admin_portal.rb):
		// WorkOS::Client.new(api_key:, base_url:).admin_portal.generate_link.
		// Scheme, host and port come from base_url, its path is dropped;
		// nil members are left out; an Idempotency-Key (a UUID) only on a
		// retry (408, 409, 429, 500, 502-504; 2 retries); success is any 2xx.
		name: "ruby 10.2.1, the current major", base: "http://127.0.0.1:8484/ignored/path",
		path: "/portal/generate_link",
		header: [][2]string{
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "WorkOS; ruby/3.3.6; x86_64-linux; v10.2.1"},
			{"Content-Type", "application/json"},
			{"Accept-Encoding", "gzip;q=1.0,deflate;q=0.6,identity;q=0.3"},
			{"Accept", "*/*"},
		},
		body:    `{"organization":"org_123","intent":"audit_logs"}`,
		accepts: twoHundreds, status: 201,
	},
	{
		// workos-php 4.32.0 (lib/Client.php, Portal.php,
		// RequestClient/CurlRequestClient.php): the page's
		// (new WorkOS\Portal())->generateLink(organization:, intent:), after
		// WorkOS::setApiBaseUrl($url), which is joined to "portal/generate_link"
		// as it is, so it must end in "/". Every member, null too; no
		// Idempotency-Key, no retry; status >= 400 throws.
		name: "php 4.32.0, the page's snippet", base: "http://127.0.0.1:8484/",
		path: "/portal/generate_link",
		header: [][2]string{
			{"User-Agent", "WorkOS PHP/4.32.0"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"Accept", "*/*"}, // curl's own
			{"Content-Type", "application/json"},
		},
		body:    `{"organization":"org_123","intent":"audit_logs","return_url":null,"success_url":null}`,
		accepts: belowFourHundred, status: 201,
	},
	{
		// workos-php v9.0.0 (lib/HttpClient.php, Service/AdminPortal.php):
		// new WorkOS(apiKey:, baseUrl:) then adminPortal()->generateLink(
		// organization:, intent: GenerateLinkIntent::AuditLogs). The base
		// loses its trailing "/" before "/portal/generate_link"; nulls are
		// left out; an Idempotency-Key only when RequestOptions gives one;
		// retries 429, 500, 502-504 (3); status >= 400 throws.
		name: "php 9.0.0, the current major", base: "http://127.0.0.1:8484/",
		path: "/portal/generate_link",
		header: [][2]string{
			{"Content-Type", "application/json"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "WorkOS PHP/9.0.0"},
		},
		body:    `{"organization":"org_123","intent":"audit_logs"}`,
		accepts: belowFourHundred, status: 201,
	},
	{
		// workos-dotnet v2.12.0 (Client/WorkOSClient.cs, Services/Portal):
		// the page's new PortalService().GenerateLink(options), with
		// WorkOS.WorkOSClient = new WorkOSClient(new WorkOSOptions { ApiKey,
		// ApiBaseURL }). The base and "/portal/generate_link" are joined as
		// they are; its User-Agent says 2.10.1, a constant not bumped since.
		// It checks no status: it reads {"link"} from any answer, so an
		// error gives a null link and no exception.
		name: ".NET 2.12.0, the page's snippet", base: "http://127.0.0.1:8484",
		path: "/portal/generate_link",
		header: [][2]string{
			{"Accept-Encoding", "utf-8"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "workos-dotnet/2.10.1"},
			{"Content-Type", "application/json"},
		},
		body:    `{"intent":"audit_logs","organization":"org_123"}`,
		accepts: func(int) bool { return true }, status: 201,
	},
	{
		// The same with the base URL ending in "/": "//portal/generate_link",
		// which the mock answers 404 as a real server would, and the SDK
		// turns into a null link.
		name: ".NET 2.12.0, base URL ending in /", base: "http://127.0.0.1:8484/",
		path: "//portal/generate_link",
		header: [][2]string{
			{"Accept-Encoding", "utf-8"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "workos-dotnet/2.10.1"},
			{"Content-Type", "application/json"},
		},
		body:    `{"intent":"audit_logs","organization":"org_123"}`,
		accepts: func(int) bool { return true }, status: 404,
	},
	{
		// workos-dotnet v6.2.0 (Client/WorkOSClient.cs, Services/AdminPortal):
		// new AdminPortalService(new WorkOSClient(new WorkOSOptions { ApiKey,
		// ApiBaseURL })).GenerateLink(new AdminPortalGenerateLinkOptions {
		// Organization, Intent = GenerateLinkIntent.AuditLogs }). Joined as
		// v2 joins; snake_case members, nulls left out; an Idempotency-Key
		// (a GUID) on every POST, the same on its retries (429, 5xx; 2);
		// success is any 2xx.
		name: ".NET 6.2.0, the current major", base: "http://127.0.0.1:8484",
		path: "/portal/generate_link",
		header: [][2]string{
			{"Accept-Encoding", "utf-8"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"Idempotency-Key", "0f8fad5b-d9cb-469f-a165-70867728950e"},
			{"User-Agent", "workos-dotnet/6.2.0"},
			{"Content-Type", "application/json"},
		},
		body:    `{"organization":"org_123","intent":"audit_logs"}`,
		accepts: twoHundreds, status: 201,
	},
	{
		// The same with the base URL ending in "/": a 404, which v6 raises
		// as NotFoundException.
		name: ".NET 6.2.0, base URL ending in /", base: "http://127.0.0.1:8484/",
		path: "//portal/generate_link",
		header: [][2]string{
			{"Accept-Encoding", "utf-8"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"Idempotency-Key", "0f8fad5b-d9cb-469f-a165-70867728950e"},
			{"User-Agent", "workos-dotnet/6.2.0"},
			{"Content-Type", "application/json"},
		},
		body:    `{"organization":"org_123","intent":"audit_logs"}`,
		accepts: twoHundreds, status: 404,
	},
	{
		// workos-go v6.5.0 (pkg/portal/client.go), like v3, the page's Go
		// import: portal.SetAPIKey, then portal.GenerateLink, with
		// portal.DefaultClient.Endpoint = url joined to "/portal/generate_link"
		// as it is. Every member, "" when unset (no omitempty); success is
		// any 2xx. This module runs the page's snippet itself (TestSeedSnippet).
		name: "go 6.5.0, the page's snippet", base: "http://127.0.0.1:8484",
		path: "/portal/generate_link",
		header: [][2]string{
			{"Content-Type", "application/json"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "workos-go/6.5.0"},
		},
		body:    `{"intent":"audit_logs","organization":"org_123","return_url":"","success_url":""}`,
		accepts: twoHundreds, status: 201,
	},
	{
		// The same without an intent: "intent":"", outside the spec's enum,
		// which the mock refuses with 422.
		name: "go 6.5.0, no intent", base: "http://127.0.0.1:8484",
		path: "/portal/generate_link",
		header: [][2]string{
			{"Content-Type", "application/json"},
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "workos-go/6.5.0"},
		},
		body:    `{"intent":"","organization":"org_123","return_url":"","success_url":""}`,
		accepts: twoHundreds, status: 422,
	},
	{
		// workos-kotlin v4.25.0 (WorkOS.kt, portal/PortalApi.kt), which
		// Maven Central does not serve here: the page's
		// workos.portal.generateLink(GeneratePortalLinkOptions.builder()...),
		// after setting workos.apiHostname, https = false and port. The path
		// replaces the base's (URIBuilder.setPath); Jackson leaves nulls out;
		// no Idempotency-Key; retries only /fga paths; status >= 400 throws
		// (429 as GenericServerException).
		name: "java 4.25.0, the page's snippet", base: `apiHostname="127.0.0.1", https=false, port=8484`,
		path: "/portal/generate_link",
		header: [][2]string{
			{"Authorization", "Bearer sk_example_123456789"},
			{"User-Agent", "workos-kotlin/4.25.0"},
			{"Content-Type", "application/json"},
		},
		body:    `{"organization":"org_123","intent":"audit_logs"}`,
		accepts: belowFourHundred, status: 201,
	},
}

// TestSDKReplays sends each replay's request, byte for byte but for Host
// and Content-Length, to the binary, and checks the answer is one that SDK
// takes: a status it accepts, with the {"link"} it reads; or the 404 of a
// doubled slash, or the 422 of an empty intent.
func TestSDKReplays(t *testing.T) {
	t.Parallel()
	for _, r := range replays {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			var m *mock
			var tlsConfig *tls.Config
			host := ""
			if r.tlsHost != "" {
				certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
				m = startMock(t, certOut, "-tls", "-tls-host", r.tlsHost, "-tls-cert-out", certOut)
				tlsConfig = &tls.Config{ServerName: r.tlsHost, RootCAs: certPool(t, certOut)}
				host = r.tlsHost // Net::HTTP leaves out the default port
			} else {
				m = startMock(t, "")
			}
			u, err := url.Parse(m.URL)
			require.NoError(t, err)
			host = cmp.Or(host, u.Host)

			// Dial loopback, as /etc/hosts would map the name: no DNS.
			status, header, body := sendRaw(t, "127.0.0.1:"+u.Port(), tlsConfig, r.rawRequest(host))
			require.Equal(t, r.status, status, "%s", body)
			assert.Equal(t, "application/json; charset=utf-8", header.Get("Content-Type"))
			var answer map[string]any
			require.NoError(t, json.Unmarshal(body, &answer), "%s", body)
			switch r.status {
			case http.StatusNotFound:
				assert.Contains(t, answer["message"], "doubled slash", "a 404 that says why")
				assert.Len(t, answer, 1)
				return
			case http.StatusUnprocessableEntity:
				assert.Equal(t, "Validation failed", answer["message"])
				assert.False(t, r.accepts(status), "the SDK raises")
				return
			}
			assert.True(t, r.accepts(status), "the SDK takes %d as success", status)
			link, _ := answer["link"].(string)
			// The link names the host the request was sent to, as the SDK sent it.
			assert.True(t, strings.HasPrefix(link, u.Scheme+"://"+host+"/portal/launch?token="),
				"the link it reads: %s", body)
			assert.Len(t, answer, 1, "{link} only")

			// The record, read the same way: m.requests would look the name up.
			status, _, records := sendRaw(t, "127.0.0.1:"+u.Port(), tlsConfig,
				"GET /__mock/requests HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
			require.Equal(t, http.StatusOK, status, "%s", records)
			var list struct{ Requests []map[string]any }
			require.NoError(t, json.Unmarshal(records, &list))
			require.Len(t, list.Requests, 1)
			assert.Equal(t, r.body, list.Requests[0]["body"])
			assert.EqualValues(t, r.status, list.Requests[0]["status"])
		})
	}
}

// rawRequest is the HTTP/1.1 request the SDK sends, to host.
func (r replay) rawRequest(host string) string {
	var b strings.Builder
	b.WriteString("POST " + r.path + " HTTP/1.1\r\nHost: " + host + "\r\n")
	for _, h := range r.header {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(r.body)) + "\r\n\r\n" + r.body)
	return b.String()
}

// sendRaw writes request to addr, over TLS with tlsConfig if set, and reads
// the answer.
func sendRaw(t *testing.T, addr string, tlsConfig *tls.Config, request string) (int, http.Header, []byte) {
	t.Helper()
	var conn net.Conn
	var err error
	if tlsConfig != nil {
		conn, err = tls.Dial("tcp", addr, tlsConfig)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, request)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, body
}

// TestRubyV6Recipe tests the mock's side of the README's recipe for
// workos-ruby up to v6, which reaches the API only as
// https://$WORKOS_API_HOSTNAME:443 and trusts OpenSSL's default store, which
// SSL_CERT_FILE replaces: the mock's certificate, written with
// -tls-cert-out, covers the -tls-host name and verifies for it, and the
// mock answers that name. Port 443 itself needs root or
// CAP_NET_BIND_SERVICE, so this test runs on a free port; TestSDKReplays
// sends v6's request over this TLS.
func TestRubyV6Recipe(t *testing.T) {
	t.Parallel()
	certOut := filepath.Join(t.TempDir(), "portal-mock.pem")
	m := startMock(t, certOut, "-tls", "-tls-host", "api.workos.test", "-tls-cert-out", certOut)
	assert.True(t, strings.HasPrefix(m.URL, "https://api.workos.test:"), "links point at the name: %s", m.URL)

	pemCert, err := os.ReadFile(certOut)
	require.NoError(t, err)
	block, _ := pem.Decode(pemCert)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Contains(t, cert.DNSNames, "api.workos.test")
	_, err = cert.Verify(x509.VerifyOptions{DNSName: "api.workos.test", Roots: certPool(t, certOut)})
	require.NoError(t, err, "a client that trusts the file verifies the name")
	_, err = cert.Verify(x509.VerifyOptions{DNSName: "api.workos.com", Roots: certPool(t, certOut)})
	assert.Error(t, err, "and no other name")

	u, err := url.Parse(m.URL)
	require.NoError(t, err)
	tlsConfig := &tls.Config{ServerName: "api.workos.test", RootCAs: certPool(t, certOut)}
	status, _, body := sendRaw(t, "127.0.0.1:"+u.Port(), tlsConfig,
		"GET /__mock/health HTTP/1.1\r\nHost: api.workos.test\r\n\r\n")
	assert.Equal(t, http.StatusOK, status, "%s", body)
}
