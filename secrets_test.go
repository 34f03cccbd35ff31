package portal_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// requireNoKey fails if s holds the key, or any run of 8 or more of its
// characters (beyond the sk_test_ prefix that every test key shares), even
// once everything but letters and digits is taken out of s, as a reader
// who puts pieces together would.
func requireNoKey(t *testing.T, s string) {
	t.Helper()
	secret := testKey[len("sk_test_"):]
	joined := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, s)
	for i := 0; i+8 <= len(secret); i++ {
		require.NotContains(t, s, secret[i:i+8], "part of the API key leaked")
		require.NotContains(t, joined, secret[i:i+8], "part of the API key leaked in pieces")
	}
}

// split cuts s into pieces of 7 bytes joined by sep, as a hostile server
// might echo a key so that no run of 8 of its characters appears whole.
func split(s, sep string) string {
	var pieces []string
	for len(s) > 7 {
		pieces, s = append(pieces, s[:7]), s[7:]
	}
	return strings.Join(append(pieces, s), sep)
}

// echoingServer answers every request with status, echoing the request's
// Authorization header into each part of the answer that a careless proxy
// or a compromised server could fill.
func echoingServer(t *testing.T, status int, header func(auth string) map[string]string,
	body func(auth string) string) *portal.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		for k, v := range header(auth) {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body(auth)))
	}))
	t.Cleanup(srv.Close)
	client, err := portal.NewClient(testKey, portal.WithBaseURL(srv.URL), portal.WithMaxRetries(0))
	require.NoError(t, err)
	t.Cleanup(client.CloseIdleConnections)
	return client
}

func TestKeyEchoedByTheServerNeverLeaks(t *testing.T) {
	t.Parallel()
	half := func(auth string) string { return auth[len(auth)/2:] } // a long run of the key, not the whole
	for _, tt := range []struct {
		name   string
		status int
		header func(auth string) map[string]string
		body   func(auth string) string
	}{
		{"message", 400, nil, func(a string) string { return `{"message":"bad key ` + a + `"}` }},
		{"code", 401, nil, func(a string) string { return `{"code":"` + a + `","message":"Unauthorized"}` }},
		{"field errors", 422, nil, func(a string) string {
			return `{"code":"x","message":"y","errors":[{"field":"` + a + `","code":"` + half(a) +
				`","message":"got ` + a + `"}]}`
		}},
		{"error member", 422, nil, func(a string) string { return `{"error":"` + half(a) + `"}` }},
		{"HTML page", 502, nil, func(a string) string { return "<html><pre>Authorization: " + a + "</pre></html>" }},
		{"request ID header", 500, func(a string) map[string]string { return map[string]string{"X-Request-Id": a} },
			func(string) string { return `{}` }},
		{"JSON-escaped in a message", 400, nil, func(a string) string {
			return `{"message":"` + strings.ReplaceAll(a, "_", `\u005f`) + `"}`
		}},
		{"2xx body without a link", 201, nil, func(a string) string { return "echo: " + a }},
		{"invalid UTF-8 between pieces, in a message", 400, nil, func(a string) string {
			return `{"message":"` + split(a, "\xff") + `"}`
		}},
		{"invalid UTF-8 between pieces, in an HTML page", 502, nil, func(a string) string {
			return "<pre>" + split(a, "\xff") + "</pre>"
		}},
		{"invalid UTF-8 between pieces, in the request ID", 500, func(a string) map[string]string {
			return map[string]string{"X-Request-Id": split(a, "\xfe")}
		}, func(string) string { return `{}` }},
		{"an invisible combining mark between pieces", 400, nil, func(a string) string {
			return `{"message":"` + split(a, "\u034f") + `"}`
		}},
		{"a Hangul filler between pieces", 400, nil, func(a string) string {
			return `{"message":"` + split(a, "\u3164") + `"}`
		}},
		{"dots between pieces", 502, nil, func(a string) string { return "<p>" + split(a, ".") + "</p>" }},
		{"U+FFFD between pieces", 400, nil, func(a string) string { return `{"message":"` + split(a, "\ufffd") + `"}` }},
		{"control characters between pieces", 400, nil, func(a string) string {
			return `{"message":"` + split(a, `\u0001`) + `"}`
		}},
		{"zero-width spaces between pieces", 400, nil, func(a string) string {
			return `{"code":"` + split(a, "\u200b") + `"}`
		}},
		{"bidi overrides between pieces", 422, nil, func(a string) string {
			return `{"errors":[{"field":"` + split(a, "\u202e") + `","message":"x"}]}`
		}},
		{"2xx with the key as request ID", 201, func(a string) map[string]string {
			return map[string]string{"X-Request-Id": half(a)}
		}, func(string) string { return `{"nolink":1}` }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := tt.header
			if header == nil {
				header = func(string) map[string]string { return nil }
			}
			client := echoingServer(t, tt.status, header, tt.body)
			_, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
			require.Error(t, err)
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				requireNoKey(t, fmt.Sprintf(verb, err))
			}
			var apiErr *portal.APIError
			require.ErrorAs(t, err, &apiErr)
			requireNoKey(t, fmt.Sprintf("%#v", *apiErr))
			if tt.status >= 300 || tt.header != nil { // a 2xx body is never quoted
				assert.Contains(t, err.Error(), "[REDACTED]")
			}
		})
	}
}

// TestKeyInAMalformedAnswerNeverLeaks serves a status line that net/http
// refuses and quotes in its error.
func TestKeyInAMalformedAnswerNeverLeaks(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				fmt.Fprintf(conn, "HTTP/1.1 %s\r\n\r\n", req.Header.Get("Authorization"))
			}()
		}
	}()
	client, err := portal.NewClient(testKey, portal.WithBaseURL("http://"+ln.Addr().String()), portal.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.Error(t, err)
	requireNoKey(t, fmt.Sprintf("%v %+v %#v", err, err, err))
}

func TestServerTextCannotAddLinesOrGrowWithoutBound(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"message":"first line\nFAKE LOG LINE level=ERROR\r\n"}`,
		`{"message":"\u001b[31mred\u001b[0m and \u2028 separated \u202e reversed"}`,
		`{"code":"a\nb","message":"m","errors":[{"field":"f\rg","message":"x\ty"}]}`,
		"<html>\n<body>\n" + strings.Repeat("<p>spam</p>\n", 10000) + "</body>\n</html>",
		`{"message":"` + strings.Repeat("long message ", 5000) + `"}`,
	} {
		client := echoingServer(t, 400, func(string) map[string]string {
			return map[string]string{"X-Request-Id": "id\u0085with\u2029breaks"}
		}, func(string) string { return body })
		_, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
		require.Error(t, err)
		text := err.Error()
		assert.NotContains(t, text, "\n")
		assert.NotContains(t, text, "\r")
		assert.NotContains(t, text, "\x1b")
		assert.NotContains(t, text, "\u2028")
		assert.NotContains(t, text, "\u2029")
		assert.NotContains(t, text, "\u202e")
		assert.NotContains(t, text, "\u0085")
		assert.LessOrEqual(t, len(text), 1024, "%.60q", body)
	}
}

func TestClientNeverPrintsItsKey(t *testing.T) {
	t.Parallel()
	client, err := portal.NewClient(testKey, portal.WithBaseURL("https://api.example.com"))
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		requireNoKey(t, fmt.Sprintf(verb, client))
		requireNoKey(t, fmt.Sprintf(verb, []any{client}))
	}
	var text, jsonLog bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("client", "client", client)
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("client", "client", client)
	requireNoKey(t, text.String())
	requireNoKey(t, jsonLog.String())
}

func TestBadKeysAreNotEchoed(t *testing.T) {
	t.Setenv(portal.EnvAPIKey, "")
	_, err := portal.NewClient("")
	assert.ErrorIs(t, err, portal.ErrNoAPIKey)
	_, err = portal.NewClient("sk_test_azAZ09-_")
	assert.NoError(t, err, "letters, digits, _ and -, which every key has")
	for _, key := range []string{"sk_test_with space", "sk_test_new\nline", "sk_test_ünicode", "sk_test_\x7f",
		`sk_test_quo"te`, `sk_test_back\slash`, "sk_test_per%cent", "sk_test_dot.ted", "sk_test_!", "sk_test_~",
		"sk_test_/", "sk_test_:", "sk_test_@", "sk_test_[", "sk_test_`", "sk_test_{"} {
		_, err := portal.NewClient(key)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "sk_test_")
	}
}

// TestDumpOfAClientHoldsNoKey fails a testify assertion on a struct that
// holds a Client that made calls: testify prints both sides with spew,
// which follows every pointer it can reach, and the Client's transport
// still has the last request, Authorization header and all, in its buffers.
func TestDumpOfAClientHoldsNoKey(t *testing.T) {
	t.Parallel()
	for _, api := range []*testAPI{newTestAPI(t), newTestAPI(t)} {
		client := api.client(t)
		_, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
		require.NoError(t, err)
		type handler struct {
			Client *portal.Client
			Name   string
		}
		var dump failureText
		assert.Equal(&dump, handler{client, "a"}, handler{client, "b"})
		require.Contains(t, dump.String(), "Diff:", "testify printed its dump")
		requireNoKey(t, dump.String())
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			requireNoKey(t, fmt.Sprintf(verb, handler{client, "a"}))
		}
	}
}

// failureText is an assert.TestingT that keeps what a failed assertion says.
type failureText struct{ strings.Builder }

func (f *failureText) Errorf(format string, args ...any) { fmt.Fprintf(&f.Builder, format, args...) }

// TestAKeyInTheOptionsIsMasked: a key passed where an option belongs, as
// when two string arguments are swapped, is not quoted in the error:
// anything shaped like a key by Validate, and the client's own key, shaped
// like one or not, by GenerateLink.
func TestAKeyInTheOptionsIsMasked(t *testing.T) {
	t.Parallel()
	const unshapedKey = "k3yWithNoShape0123456789abcdef"
	for _, tt := range []struct {
		key  string
		opts portal.GenerateLinkOpts
	}{
		{testKey, portal.GenerateLinkOpts{Organization: testKey}},
		{testKey, portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: testKey}},
		{testKey, portal.GenerateLinkOpts{Organization: "org_1", SuccessURL: "/" + testKey}},
		{testKey, portal.GenerateLinkOpts{Organization: "org_1", ITContactEmails: []string{testKey}}},
		{testKey, portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.Intent(testKey + "\xff")}},
		{unshapedKey, portal.GenerateLinkOpts{Organization: "org_1", ReturnURL: "/" + unshapedKey}},
		{unshapedKey, portal.GenerateLinkOpts{Organization: "org_" + unshapedKey + "!"}},
	} {
		api := newTestAPI(t)
		client, err := portal.NewClient(tt.key, portal.WithBaseURL(api.URL))
		require.NoError(t, err)
		_, err = client.GenerateLink(context.Background(), tt.opts)
		var invalid *portal.ValidationError
		require.ErrorAs(t, err, &invalid)
		assert.Equal(t, "[REDACTED]", invalid.Value, "%+v", tt.opts)
		assert.NotContains(t, err.Error(), tt.key[len(tt.key)-8:])
		assert.Empty(t, api.Calls())
		if tt.key == testKey {
			requireNoKey(t, tt.opts.Validate().Error())
		}
	}
}

// hostileErrorCases are answers and transport failures whose text a server,
// a proxy or a certificate controls. The first three are each a way that
// text once skipped the cleaning that API errors got.
var hostileErrorCases = []struct {
	name   string
	client func(t *testing.T) *portal.Client
}{
	{"a certificate whose names forge log lines", func(t *testing.T) *portal.Client {
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t,
			"api.example\nFORGED level=ERROR \x1b[31mred\x1b[0m", "\x1b[2Jcleared")}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		// By name, so that x509's error lists the names the certificate holds.
		return hostileClient(t, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), nil)
	}},
	{"a proxy's reason phrase", func(t *testing.T) *portal.Client {
		proxy := rawServer(t, func(string) string {
			return "HTTP/1.1 407 \x1b[2J\x1b[31mProxy\u202e says " + strings.Repeat("no ", 20000) + "\r\n\r\n"
		})
		proxyURL, _ := url.Parse("http://" + proxy)
		return hostileClient(t, "https://api.proxied.test", &http.Transport{Proxy: http.ProxyURL(proxyURL)})
	}},
	{"a status line of 60,000 bytes", func(t *testing.T) *portal.Client {
		return hostileClient(t, "http://"+rawServer(t, func(string) string {
			return "HTTP/1.1 " + strings.Repeat("\x1bX", 30000) + "\r\n\r\n"
		}), nil)
	}},
	{"a status line that echoes the key", func(t *testing.T) *portal.Client {
		return hostileClient(t, "http://"+rawServer(t, func(auth string) string {
			return "HTTP/1.1 " + auth + "\r\n\r\n"
		}), nil)
	}},
	{"a transport error of any text", func(t *testing.T) *portal.Client {
		s := &script{steps: []step{{err: errors.New("line one\nFORGED\x1b[31m\u2028" + testKey +
			strings.Repeat(" padding", 1000))}}}
		return scriptedClient(t, s, portal.WithRetryBackoff(time.Nanosecond, time.Nanosecond))
	}},
	{"a link behind a byte-order mark", func(t *testing.T) *portal.Client {
		return hostileClient(t, newTestAPI(t, answer{status: 201, body: "\ufeff" + liveLinkBody}).URL, nil)
	}},
	{"a link with a trailing space", func(t *testing.T) *portal.Client {
		return hostileClient(t, newTestAPI(t, answer{status: 201,
			body: `{"link":"https://setup.workos.com/portal/launch?token=` + liveToken + ` "}`}).URL, nil)
	}},
	{"a redirect whose body names a link", func(t *testing.T) *portal.Client {
		return hostileClient(t, newTestAPI(t, answer{status: 302,
			body: "Found. Redirecting to https://setup.workos.com/portal/launch?token=" + liveToken}).URL, nil)
	}},
	{"an error message that names a link", func(t *testing.T) *portal.Client {
		return hostileClient(t, newTestAPI(t, answer{status: 500,
			body: `{"message":"try https://setup.workos.com/portal/launch/` + liveToken + `"}`}).URL, nil)
	}},
	{"a link in a body too large", func(t *testing.T) *portal.Client {
		return hostileClient(t, newTestAPI(t, answer{status: 201,
			body: liveLinkBody + strings.Repeat(" ", 64<<10)}).URL, nil)
	}},
}

// liveToken stands for the token of a live link, which no error may quote.
const liveToken = "eyJhbGciOiJIUzI1NiJ9LIVELINKTOKEN"

var liveLinkBody = `{"link":"https://setup.workos.com/portal/launch?token=` + liveToken + `"}`

// TestEveryErrorIsSafeText: every error the client returns, and the
// RetryError and APIError inside it, is text safe to log: printable, on
// one line of at most 1 KB, with no key and no link. So is the line that
// RedirectHandler logs of it.
func TestEveryErrorIsSafeText(t *testing.T) {
	for _, tt := range hostileErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			client := tt.client(t)
			_, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
			require.Error(t, err)
			texts := []string{err.Error()}
			for _, verb := range []string{"%v", "%+v", "%s"} {
				texts = append(texts, fmt.Sprintf(verb, err))
			}
			var retryErr *portal.RetryError
			if errors.As(err, &retryErr) {
				texts = append(texts, retryErr.Error())
			}
			var apiErr *portal.APIError
			if errors.As(err, &apiErr) {
				texts = append(texts, apiErr.Error())
			}
			w := httptest.NewRecorder()
			portal.RedirectHandler(client, pickAuditLogs).ServeHTTP(w,
				httptest.NewRequest(http.MethodPost, "/admin-portal", nil))
			assert.Equal(t, http.StatusBadGateway, w.Code)
			for _, text := range texts {
				requireSafeText(t, text)
			}
			requireNoKey(t, portal.DefaultLog())
			assert.NotContains(t, portal.DefaultLog(), liveToken)
		})
	}
}

// requireSafeText fails unless text is safe to log.
func requireSafeText(t *testing.T, text string) {
	t.Helper()
	require.LessOrEqual(t, len(text), 1024, "at most 1 KB")
	require.True(t, utf8.ValidString(text))
	for _, r := range text {
		require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029',
			"%U in %q", r, text)
	}
	requireNoKey(t, text)
	require.NotContains(t, text, liveToken, "a live link's token")
}

// hostileClient returns a client of base that makes one attempt, so that
// its errors are the attempt's own, through tr if given.
func hostileClient(t *testing.T, base string, tr http.RoundTripper) *portal.Client {
	t.Helper()
	opts := []portal.Option{portal.WithBaseURL(base), portal.WithMaxRetries(0)}
	if tr != nil {
		opts = append(opts, portal.WithHTTPClient(&http.Client{Transport: tr}))
	}
	c, err := portal.NewClient(testKey, opts...)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// rawServer answers each request on a loopback port with the bytes that
// answer returns for its Authorization header, and closes the connection.
func rawServer(t *testing.T, answer func(auth string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if req, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
				_, _ = io.WriteString(conn, answer(req.Header.Get("Authorization")))
			}
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// selfSigned returns a self-signed certificate for names.
func selfSigned(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), DNSNames: names, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
