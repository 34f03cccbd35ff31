package portal_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
			assert.Contains(t, err.Error(), "[REDACTED]")
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
	_, err = portal.NewClient("sk_test_!~")
	assert.NoError(t, err, "printable ASCII, from ! to ~, is a well-formed key")
	for _, key := range []string{"sk_test_with space", "sk_test_new\nline", "sk_test_ünicode", "sk_test_\x7f"} {
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
// when two string arguments are swapped, is not quoted in the error.
func TestAKeyInTheOptionsIsMasked(t *testing.T) {
	t.Parallel()
	for _, opts := range []portal.GenerateLinkOpts{
		{Organization: testKey},
		{Organization: "org_1", Intent: portal.Intent(testKey)},
		{Organization: "org_1", ReturnURL: testKey},
		{Organization: "org_1", ITContactEmails: []string{testKey}},
	} {
		err := opts.Validate()
		require.Error(t, err)
		requireNoKey(t, err.Error())
		assert.Contains(t, err.Error(), "[REDACTED]")
	}
}
