package portaltest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecordsShareNoMemoryWithTheRequest: every string a record keeps is a
// copy, so that no record keeps its request's line, headers or body alive
// (a 15 KiB query string would otherwise cost 15 MB per 1,000 records).
func TestRecordsShareNoMemoryWithTheRequest(t *testing.T) {
	t.Parallel()
	const key = "sk_test_Tq7vXm2LpR9wZk4N"
	line := "POST /portal/generate_link?q=" + strings.Repeat("q", 15<<10) + " HTTP/1.1" +
		"X-Name" + "value" + "Bearer " + key + "application/json"
	body := []byte(`{"organization":"org_123","intent":"sso","it_contact_emails":["a@example.com"]}`)
	at := func(s string) string { i := strings.Index(line, s); return line[i : i+len(s)] }
	r := &http.Request{Method: line[:4], URL: &url.URL{Path: at("/portal/generate_link"), RawQuery: at("q=qqq")},
		Proto: at("HTTP/1.1"), ProtoMajor: 1, ProtoMinor: 1, Host: "localhost",
		Header: http.Header{at("X-Name"): {at("value")}, "Content-Type": {at("application/json")}}}
	f := NewFake("http://localhost")
	rec := f.record(r, key, body, "id")
	f.finish(rec, key, &answer{status: 201, body: `{"link":"x"}`}, "", "x")

	inside := func(s, within string) bool {
		p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(within)))
		return len(s) > 0 && p >= start && p < start+uintptr(len(within))
	}
	strs := []string{rec.Method, rec.Path, rec.Proto, rec.Body, rec.Opts.Organization, rec.Opts.Intent}
	strs = append(strs, rec.Opts.ITContactEmails...)
	for name, values := range rec.Header {
		strs = append(append(strs, name), values...)
	}
	for _, s := range strs {
		assert.False(t, inside(s, line), "%q is a piece of the request line", s)
		assert.False(t, inside(s, unsafe.String(&body[0], len(body))), "%q is a piece of the body", s)
	}
	assert.Equal(t, "POST /portal/generate_link HTTP/1.1", rec.Method+" "+rec.Path+" "+rec.Proto)
	assert.Equal(t, "value", rec.Header.Get("X-Name"))
	assert.Equal(t, "sso", rec.Opts.Intent)
}

// stallingWriter takes the first write, then blocks every write until
// released, as a client that stops reading does.
type stallingWriter struct {
	*httptest.ResponseRecorder
	stalled, release chan struct{}
	writes           int
}

func (w *stallingWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes == 2 {
		close(w.stalled)
		<-w.release
	}
	return w.ResponseRecorder.Write(p)
}

// TestStalledListHoldsNoOldRecords: a client that stops reading the list
// of records holds none of the records that leave the log meanwhile, and
// the list it gets lists none of them.
func TestStalledListHoldsNoOldRecords(t *testing.T) {
	t.Parallel()
	f := NewFake("http://fake.test")
	post := func() {
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(
			`{"organization":"org_123","return_url":"https://x.example/`+strings.Repeat("a", 1000)+`"}`))
		req.Header.Set("Content-Type", "application/json")
		f.ServeHTTP(httptest.NewRecorder(), req)
	}
	for range maxRecorded {
		post()
	}
	var old []weak.Pointer[Request]
	f.mu.Lock()
	for _, rec := range f.log.ring {
		old = append(old, weak.Make(rec))
	}
	f.mu.Unlock()

	w := &stallingWriter{ResponseRecorder: httptest.NewRecorder(), stalled: make(chan struct{}),
		release: make(chan struct{})}
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		f.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://fake.test/__mock/requests", nil))
	}()
	<-w.stalled
	f.Reset()
	post() // a new first request, which a list of the old log must not show
	for range maxRecorded {
		post()
	}
	runtime.GC()
	alive := 0
	for _, p := range old {
		if p.Value() != nil {
			alive++
		}
	}
	assert.LessOrEqual(t, alive, 10, "the stalled list holds the record it writes, not the others")
	close(w.release)
	<-listed
	require.Equal(t, http.StatusOK, w.Code)
	assert.Less(t, strings.Count(w.Body.String(), `"seq":`), 20, "records that left are not listed")
	assert.Equal(t, 1, strings.Count(w.Body.String(), `"seq":1,`), "nor those after a reset")
	assert.True(t, strings.HasSuffix(w.Body.String(), "]}\n"), "the list is whole JSON")
}

func TestBudget(t *testing.T) {
	t.Parallel()
	sc := newScrubber()
	b := budget(100)
	kept, ok := b.keep(sc, strings.Repeat("x", 200), 1000)
	assert.True(t, ok)
	assert.Len(t, kept, 100-slot, "what the budget allows, besides the string's slot")
	assert.Zero(t, b)
	_, ok = b.keep(sc, "", 1000)
	assert.False(t, ok, "not even an empty string's slot is left")

	b = budget(slot)
	kept, ok = b.keep(sc, "x", 1000)
	assert.True(t, ok, "an empty string fits in a slot")
	assert.Empty(t, kept)
	b = budget(100)
	kept, _ = b.keep(sc, strings.Repeat("x", 200), 10)
	assert.Len(t, kept, 10, "and no more than the limit")
	assert.Equal(t, budget(100-slot-10), b)
}

// TestLinksAreBounded: the fake forgets the oldest links once they are
// more than 10,000, or their pages' text takes more than 16 MiB, counting
// every field.
func TestLinksAreBounded(t *testing.T) {
	t.Parallel()
	f := NewFake("http://fake.test")
	quarter := strings.Repeat("q", maxLinkBytes/4)
	f.keepLink("whole", &issuedLink{organization: quarter, intent: quarter, returnURL: quarter, successURL: quarter})
	assert.NotNil(t, f.links["whole"], "exactly 16 MiB is kept")
	f.keepLink("small", &issuedLink{organization: "o"})
	assert.Nil(t, f.links["whole"], "one byte more forgets the oldest")
	assert.NotNil(t, f.links["small"])
	assert.Equal(t, 1, f.linkBytes)
	assert.Equal(t, []string{"small"}, f.linkTokens)

	f.Reset()
	for i := range maxLinks {
		f.keepLink(strconv.Itoa(i), &issuedLink{})
	}
	assert.Len(t, f.links, maxLinks, "10,000 are kept")
	f.keepLink("one more", &issuedLink{})
	assert.Len(t, f.links, maxLinks)
	assert.Nil(t, f.links["0"], "the oldest is forgotten")
	assert.NotNil(t, f.links["1"])
}
