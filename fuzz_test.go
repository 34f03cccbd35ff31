package portal

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets hold the hand-written fast paths to encoding/json and
// the parsers to their contracts. CI runs each for a few seconds:
//
//	go test -run '^$' -fuzz '^FuzzParseLink$' -fuzztime 10s .

func FuzzParseLink(f *testing.F) {
	for _, seed := range []string{
		`{"link":"https://setup.workos.com/portal/launch?token=abc"}`,
		` {"link" : "https://x.example/"} `,
		`{"link":"https:\/\/x.example\/\u00e9"}`,
		`{"link":"a","link":"b"}`,
		`{"link":null}`, `{"link":1}`, `{"LINK":"x"}`, `{"link":"x"}x`, `{"link":"\xff"}`, `[]`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := parseLink(body)
		var ref struct {
			Link *string `json:"link"`
		}
		refOK := json.Unmarshal(body, &ref) == nil && ref.Link != nil
		if ok != refOK {
			t.Fatalf("parseLink(%q) ok = %v, encoding/json says %v", body, ok, refOK)
		}
		if ok && got != *ref.Link {
			t.Fatalf("parseLink(%q) = %q, encoding/json says %q", body, got, *ref.Link)
		}
		if plain, ok := parsePlainLink(body); ok && (!refOK || plain != *ref.Link) {
			t.Fatalf("parsePlainLink(%q) = %q, encoding/json disagrees", body, plain)
		}
	})
}

func FuzzParseErrorBody(f *testing.F) {
	for _, seed := range []string{
		`{"code":"not_found","message":"Not Found"}`,
		`{"message":"Could not find an organization with the id, bogus-id."}`,
		`{"code":"invalid_request_parameters","message":"Validation failed","errors":[{"field":"intent","code":"intent_invalid"}]}`,
		`{"code":"x","errors":[{"field":"f","code":"c","message":"m"},{}]}`,
		`{"error":"invalid_grant","error_description":"The code has expired."}`,
		`{"error":"Intent not enabled"}`,
		`{"code":1,"message":["x"],"errors":"no"}`,
		`{"errors":[]}`, `{"errors":null}`, `{}`, `{"extra":true}`,
		"<html><title>502 Bad Gateway</title></html>", "", "\x00\xff",
	} {
		f.Add(502, []byte(seed), "7")
	}
	f.Add(429, []byte(`{"message":"slow"}`), "Wed, 21 Oct 2026 07:28:00 GMT")
	now := time.Date(2026, 10, 21, 7, 28, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		e := newAPIError(status, http.Header{"Retry-After": {retryAfter}, "X-Request-Id": {"req_1"}}, body, now)
		if e.StatusCode != status || e.RequestID != "req_1" {
			t.Fatalf("status or request ID lost: %+v", e)
		}
		if e.RetryAfter < 0 || e.RetryAfter > retryAfterCeiling {
			t.Fatalf("RetryAfter %v out of range", e.RetryAfter)
		}
		_ = e.Error()
		if strings.HasPrefix(e.Message, "unexpected response body: ") && len(e.Message) > len("unexpected response body: ")+maxExcerpt+len("…")+utf8.UTFMax {
			t.Fatalf("excerpt too long: %d bytes", len(e.Message))
		}
		var plain errorBody
		if plain.decodePlain(body) {
			var ref errorBody
			if err := json.Unmarshal(body, &ref); err != nil {
				t.Fatalf("decodePlain accepted %q, encoding/json fails: %v", body, err)
			}
			if !reflect.DeepEqual(plain, ref) {
				t.Fatalf("decodePlain(%q) = %+v, encoding/json says %+v", body, plain, ref)
			}
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{"7", "0", "-5", "86400", "9999999999999", "99999999999999999999999", "soon", "1e9", " 12 ",
		"Wed, 21 Oct 2026 07:28:03 GMT", "Wednesday, 21-Oct-26 07:28:03 GMT", "Wed Oct 21 07:28:03 2026", "Wed, 21 Oct 2015 07:28:00 GMT", ""} {
		f.Add(seed)
	}
	now := time.Date(2026, 10, 21, 7, 28, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > retryAfterCeiling {
			t.Fatalf("parseRetryAfter(%q) = %v, out of [0, %v]", v, d, retryAfterCeiling)
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			want := retryAfterCeiling
			if n <= uint64(retryAfterCeiling/time.Second) {
				want = time.Duration(n) * time.Second
			}
			if d != want {
				t.Fatalf("parseRetryAfter(%q) = %v, want %v", v, d, want)
			}
		}
	})
}

// FuzzRequestBody holds the hand-written request encoder to encoding/json
// for any options, valid or not.
func FuzzRequestBody(f *testing.F) {
	f.Add("org_123", "audit_logs", "https://app.example.com/?a=1&b=<2>", "", "it@example.com", "GoogleSAML", "example.com")
	f.Add("\xff\x00", "\u2028", "\"\\", "\t", "", "", "")
	f.Fuzz(func(t *testing.T, org, intent, ret, success, email, provider, domain string) {
		opts := GenerateLinkOpts{Organization: org, Intent: Intent(intent), ReturnURL: ret, SuccessURL: success}
		if email != "" {
			opts.ITContactEmails = []string{email, email}
		}
		if provider != "" || domain != "" {
			opts.IntentOptions = &IntentOptions{SSO: &SSOIntentOptions{ProviderType: provider}}
			if domain != "" {
				opts.IntentOptions.DomainVerification = &DomainVerificationIntentOptions{DomainName: domain}
			}
		}
		want, err := json.Marshal(opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRequestBody(nil, &opts); string(got) != string(want) {
			t.Fatalf("body\n got %s\nwant %s", got, want)
		}
	})
}
