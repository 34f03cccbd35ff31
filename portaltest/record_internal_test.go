package portaltest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
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
	assert.True(t, strings.HasSuffix(w.Body.String(), "]}\n"), "the list is whole JSON")
}
