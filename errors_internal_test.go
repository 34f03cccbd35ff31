package portal

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		s     string
		limit int
		want  string
	}{
		{"abcde", 5, "abcde"},
		{"abcdef", 5, "ab…"},
		{"abé" + "defg", 6, "ab…"},       // the cut falls inside é, and moves before it
		{"abé" + "defg", 7, "abé…"},      // after it
		{"\x80\x80\x80\x80\x80", 4, "…"}, // nothing but continuation bytes: nothing is kept
		{"", 0, ""},
	} {
		got := truncate(tt.s, tt.limit)
		assert.Equal(t, tt.want, got, "truncate(%q, %d)", tt.s, tt.limit)
		assert.LessOrEqual(t, len(got), max(tt.limit, len("…")))
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"5cf84612-cd60-4d91-9c7e-e1e11bb6b074": "5cf84612-cd60-4d91-9c7e-e1e11bb6b074",
		"  two  words\n\tand\u2028lines  ":     "two words and lines",
		"a\x1b[31mb\u202ec\u200bd\xffe\ufffdf": "a[31mbcdef",
	} {
		assert.Equal(t, want, printable(in), "printable(%q)", in)
	}
}

func TestClean(t *testing.T) {
	const key = "sk_test_Tq7vXm2LpR9wZk4NbY8c"
	for _, tt := range []struct{ in, want string }{
		{"Bearer " + key, "[REDACTED]"},
		{"half: " + key[14:], "[REDACTED]"},
		{"in pieces: " + key[:7] + "." + key[7:], "[REDACTED]"},
		{"in pieces: " + key[:7] + "\u034f" + key[7:14] + "\u3164" + key[14:], "[REDACTED]"},
		{"seven: " + key[10:17] + " only", "seven: " + key[10:17] + " only"},
		{"another sk_live_UvWxyz01 key", "another [REDACTED] key"},
		{"org_sk_live_UvWxyz01", "org_[REDACTED]"},
		// The public prefix is no secret: the API's own messages name it.
		{"Invalid API key: keys start with sk_test_ or sk_live_", "Invalid API key: keys start with sk_test_ or sk_live_"},
		{"sk_test_Tq7vXm2", "sk_test_Tq7vXm2"}, // 7 characters of the secret
		{"sk_test_Tq7vXm2L", "[REDACTED]"},     // 8
		{"_test_Tq7vXm2L", "[REDACTED]"},
		{"Tq7vXm2L", "[REDACTED]"},
		{"not a key: desk_top_drawer, disk_space_exhausted", "not a key: desk_top_drawer, disk_space_exhausted"},
		{"Could not find an organization with the id, bogus-id.", "Could not find an organization with the id, bogus-id."},
	} {
		assert.Equal(t, tt.want, clean(tt.in, key), "clean(%q)", tt.in)
	}
	assert.Equal(t, "[REDACTED]", clean("a short b", "short"), "a key under 8 characters counts whole")
	assert.Equal(t, "a short b", clean("a short b", "sk_test_short"), "a short secret counts with its prefix")
	assert.Equal(t, "[REDACTED]", clean("Bearer sk_test_short", "sk_test_short"))
	assert.Equal(t, "[REDACTED]", clean("some text with sk_testab", "sk_testabcdefgh"), "no prefix: all is secret")
	assert.Equal(t, "[REDACTED]", clean("BEARER "+strings.ToUpper(key), key), "whatever the case")
	assert.Equal(t, "[REDACTED]", clean(key[:12]+`\"`+key[12:], key), "quoted by net/http")
	// Short test keys, such as the README's and portaltest's, leave the
	// text of every answer alone: only the whole key is theirs.
	for _, short := range []string{"sk_test_ci", "sk_test_123", "sk_test_1234", "sk_test_portaltest"} {
		for _, text := range []string{"portal: 500 Internal Server Error", "Validation failed (intent_invalid)",
			"7d3c1f22-0a4b-4c5e-9f10-123412341234", "http://127.0.0.1:41234/portal/generate_link",
			"http://ci-portal-mock:8484", "https://portal.example/portal/launch?token=TESTTOKEN"} {
			assert.False(t, hidesKey(text, short), "hidesKey(%q, %q)", text, short)
		}
	}
	assert.Equal(t, "no key", clean("no key", ""))
	// A link is a credential: of a URL, only its scheme and host stay.
	for in, want := range map[string]string{
		"Found. Redirecting to https://setup.workos.com/portal/launch?token=LIVE": "Found. Redirecting to " +
			"https://setup.workos.com/[REDACTED]",
		`<a href="HTTP://id.workos.com?secret=s">here</a>`: `<a href="HTTP://id.workos.com/[REDACTED]">here</a>`,
		"see https://workos.com#x, or http://a.example/": "see https://workos.com/[REDACTED] " +
			"or http://a.example/[REDACTED]",
		"https://api.workos.com alone": "https://api.workos.com alone",
		"no link: httpd said so":       "no link: httpd said so",
	} {
		assert.Equal(t, want, clean(in, key), "clean(%q)", in)
	}
	assert.LessOrEqual(t, len(clean(strings.Repeat("é", 1000), key)), maxServerText)
	assert.Equal(t, `"org_123"`, quote("org_123", key))
	assert.Equal(t, `"[REDACTED]"`, quote("https://api.workos.com/"+key[8:], key))
	assert.Equal(t, `"[REDACTED]"`, quote(key, ""), "shaped like a key")
}

// TestAPIErrorIsBounded: an error body of many field errors, empty or
// not, keeps at most maxFieldErrorBytes of them, slots counted.
func TestAPIErrorIsBounded(t *testing.T) {
	for _, item := range []string{`{}`, `{"field":"f","code":"c","message":"` + strings.Repeat("m", 600) + `"}`} {
		body := `{"errors":[` + strings.TrimSuffix(strings.Repeat(item+",", 60000/len(item)), ",") + `]}`
		e := newAPIError(422, "", []byte(body), "")
		kept := 0
		for _, fe := range e.Errors {
			kept += fieldErrorSlot + len(fe.Field) + len(fe.Code) + len(fe.Message)
		}
		assert.LessOrEqual(t, kept, maxFieldErrorBytes, item)
		assert.Greater(t, kept, maxFieldErrorBytes-fieldErrorSlot-600-8, "%s: the budget is spent, not wasted", item)
	}
	one := newAPIError(422, "", []byte(`{"errors":[{"field":"intent","code":"intent_invalid"}]}`), "")
	assert.Equal(t, []FieldError{{Field: "intent", Code: "intent_invalid"}}, one.Errors)
}

// TestErrorsOfPartsPrint: a RetryError that a stub builds in part, or with
// a reason of any length, prints in at most 1 KB, and truncate takes any
// limit.
func TestErrorsOfPartsPrint(t *testing.T) {
	assert.Equal(t, "<nil> [attempts: 0; <nil>]", (&RetryError{}).Error())
	longErr := &RetryError{Attempts: 3, Reason: ErrNoRetriesLeft, Err: errors.New(strings.Repeat("e", 2000))}
	assert.Len(t, longErr.Error(), maxErrorText, "the failure cut so that all fits in 1 KB")
	assert.True(t, strings.HasSuffix(longErr.Error(), "… [attempts: 3; no retries left]"), longErr.Error())
	long := &RetryError{Attempts: 2, Reason: errors.New(strings.Repeat("why ", 1000)), Err: errors.New("failed")}
	assert.LessOrEqual(t, len(long.Error()), maxErrorText)
	assert.True(t, strings.HasPrefix(long.Error(), "failed [attempts: 2; why why"), long.Error())
	for limit := -3; limit < 5; limit++ {
		assert.LessOrEqual(t, len(truncate("abcdefgh", limit)), max(limit, len("…")), limit)
	}
}

// TestFieldErrorBudgetIsExact: field errors that fit the budget exactly are
// all kept, and one more is not.
func TestFieldErrorBudgetIsExact(t *testing.T) {
	item := `{"field":"ffffffff","code":"cccc","message":"mmmm"}` // costs the slot and 16 bytes
	perItem := fieldErrorSlot + 16
	require.Zero(t, maxFieldErrorBytes%perItem, "the items fill the budget exactly")
	fit := maxFieldErrorBytes / perItem
	body := `{"errors":[` + strings.TrimSuffix(strings.Repeat(item+",", fit+1), ",") + `]}`
	assert.Len(t, newAPIError(422, "", []byte(body), "").Errors, fit)
}

// TestStatusSentinelsAtTheirEdges pins each sentinel's range of statuses.
func TestStatusSentinelsAtTheirEdges(t *testing.T) {
	for _, tt := range []struct {
		sentinel error
		in, out  []int
	}{
		{ErrServer, []int{500, 599}, []int{499, 600}},
		{ErrInvalidResponse, []int{200, 299}, []int{199, 300}},
		{ErrBadRequest, []int{400}, []int{399, 401}},
	} {
		for _, status := range tt.in {
			assert.ErrorIs(t, &APIError{StatusCode: status}, tt.sentinel, status)
		}
		for _, status := range tt.out {
			assert.NotErrorIs(t, &APIError{StatusCode: status}, tt.sentinel, status)
		}
	}
}

// TestKeyPiecesAtTheirEdges pins what counts as a piece of the key: 8
// characters of a secret of 8 or more, its last 8 among them; the whole key
// for a shorter secret.
func TestKeyPiecesAtTheirEdges(t *testing.T) {
	assert.True(t, hidesKey("id abcdefgh", "sk_test_abcdefgh"), "a secret of exactly 8")
	assert.False(t, hidesKey("id abcdefg", "sk_test_abcdefg"), "a secret of 7 needs its prefix")
	assert.True(t, hidesKey("id sk_test_abcdefg", "sk_test_abcdefg"))
	assert.True(t, hidesKey("CDEFGHIJ", "sk_test_ABCDEFGHIJ"), "the last 8")
	assert.False(t, hidesKey("CDEFGHI", "sk_test_ABCDEFGHIJ"), "7 are no piece")
	assert.False(t, hidesKey("anything", ""), "no key, nothing to hide")
}
