package portal

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The fuzz targets cover what is written by hand instead of taken from the
// standard library: reading Retry-After, and making server text safe.

func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, seed := range []string{"", "0", "7", " 12 ", "-1", "1.5", "99999999999999999999999", "86401",
		now.Add(time.Minute).Format(http.TimeFormat), "Thu, 01 Jan 1970 00:00:00 GMT", "Mon, 02 Jan 2006 15:04:05 MST"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("parseRetryAfter(%q) = %v, outside [0, 24h]", v, d)
		}
		if secs, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil && secs <= 86400 &&
			d != time.Duration(secs)*time.Second {
			t.Fatalf("parseRetryAfter(%q) = %v, want %ds", v, d, secs)
		}
	})
}

// FuzzErrorBody serves any body and request ID with any status outside
// 2xx: the error never holds a long run of the key, a control or format
// character, or more than 1 KB of text.
func FuzzErrorBody(f *testing.F) {
	const key = "sk_test_fuzz0123456789ABCDEFGHIJ"
	for _, seed := range []struct {
		status    int
		body, rid string
	}{
		{400, `{"message":"Could not find an organization with the id, bogus-id."}`, "5cf84612-cd60-4d91-9c7e-e1e11bb6b074"},
		{422, `{"code":"invalid_request_parameters","message":"Validation failed",` +
			`"errors":[{"code":"email_string_required","message":"x"}]}`, ""},
		{401, `{"message":"Bearer ` + key + `"}`, key},
		{502, "<html>\r\n<title>502</title>\u202e" + key[3:20] + "</html>", "id\nInjected: 1"},
		{429, `{"error":"` + strings.Repeat("\\u001b[31m", 50) + `","errors":"x"}`, ""},
		{500, `{"errors":[{"field":1},{"field":"` + key + `"}]}`, ""},
	} {
		f.Add(seed.status, seed.body, seed.rid)
	}
	f.Fuzz(func(t *testing.T, status int, body, rid string) {
		if status < 300 || status > 599 {
			status = 500
		}
		err := newAPIError(status, rid, []byte(body), key)
		text := err.Error()
		fields := []string{text, err.Code, err.Message, err.RequestID}
		for _, fe := range err.Errors {
			fields = append(fields, fe.Field, fe.Code, fe.Message)
		}
		for _, s := range fields {
			for i := 0; i+8 <= len(key)-len("sk_test_"); i++ {
				if strings.Contains(s, key[len("sk_test_")+i:len("sk_test_")+i+8]) {
					t.Fatalf("part of the key in %q", s)
				}
			}
			if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != unicode.ReplacementChar }) {
				t.Fatalf("a control or format character in %q", s)
			}
		}
		if len(text) > 1024 {
			t.Fatalf("Error() is %d bytes", len(text))
		}
	})
}
