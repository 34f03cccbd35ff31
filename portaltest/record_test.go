package portaltest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// TestRecordsRoundTripThroughJSON records what a careless client sends,
// malformed intent and all, and reads the record back from its own JSON:
// what the client sent, as plain strings, whatever the answer was.
func TestRecordsRoundTripThroughJSON(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test", portaltest.WithAPIKey(testKey))
	require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 503}))
	bodies := []string{
		// the fault answers it
		`{"organization":"org_123","intent":"Audit Logs"}`,
		`{"organization":"org_123","intent":"Audit Logs","return_url":"https://app.example.com/50%off"}`, // 422
		`{"organization":7,"intent":["sso"],"admin_emails":["it@example.com",3]}`,                        // 422
		`{"organization":`, // 400
	}
	for _, b := range bodies {
		serveFake(fake, http.MethodPost, "/portal/generate_link", b)
	}
	req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(bodies[0]))
	req.Header.Set("Authorization", "Bearer sk_test_wrong")
	fake.ServeHTTP(httptest.NewRecorder(), req) // 401

	w := serveFake(fake, http.MethodGet, "/__mock/requests", "")
	var list struct {
		Total    int64
		Requests []portaltest.Request
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list), "the record decodes from its own JSON")
	require.Len(t, list.Requests, 5)
	for i, want := range []struct {
		status int
		opts   portaltest.Opts
	}{
		{503, portaltest.Opts{Organization: "org_123", Intent: "Audit Logs"}},
		{422, portaltest.Opts{Organization: "org_123", Intent: "Audit Logs", ReturnURL: "https://app.example.com/50%off"}},
		{422, portaltest.Opts{ITContactEmails: []string{"it@example.com", ""}}},
		{400, portaltest.Opts{}},
		{401, portaltest.Opts{Organization: "org_123", Intent: "Audit Logs"}},
	} {
		got := list.Requests[i]
		assert.Equal(t, want.status, got.Status, "request %d", i)
		assert.Equal(t, want.opts, got.Opts, "request %d: Opts hold what the client sent", i)
	}
	sameRecords(t, fake.Requests(), list.Requests)
}

// TestRecordsHoldNoKey sends keys the fake refuses and accepts, in every
// place a careless client might put one.
func TestRecordsHoldNoKey(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t, portaltest.WithAPIKey("sk_test_accepted_0123456789"))
	for _, key := range []string{"sk_live_refused_9876543210", "sk_test_accepted_0123456789"} {
		status, _ := send(t, srv, http.MethodPost, "/portal/generate_link",
			`{"organization":"org_123","return_url":"https://x.example/?k=`+key+`"}`,
			"Authorization", "Bearer "+key, "X-Debug-Key", key, "Cookie", "session="+key)
		assert.Contains(t, []int{401, 201}, status)
	}
	_, raw := send(t, srv, http.MethodGet, "/__mock/requests", "")
	assert.NotContains(t, raw, "refused_9876543210")
	assert.NotContains(t, raw, "accepted_0123456789")
	var list struct {
		Total    int64
		Requests []portaltest.Request
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &list))
	require.Len(t, list.Requests, 2)
	assert.Equal(t, portaltest.Fingerprint("sk_live_refused_9876543210"), list.Requests[0].Key)
	assert.Equal(t, http.StatusUnauthorized, list.Requests[0].Status)
	assert.Equal(t, portaltest.Fingerprint("sk_test_accepted_0123456789"), list.Requests[1].Key)
	assert.Equal(t, http.StatusCreated, list.Requests[1].Status)
	assert.NotEqual(t, list.Requests[0].Key, list.Requests[1].Key)
	assert.Empty(t, list.Requests[1].Header.Get("Cookie"))
}

// TestRecordsKeepNoKeyHoweverItComes sends the key in every place and
// spelling a careless or hostile client might: no record keeps 8 of its
// secret's characters in a row, however it is read.
func TestRecordsKeepNoKeyHoweverItComes(t *testing.T) {
	t.Parallel()
	const key = "sk_test_SecretKey123456"
	srv := portaltest.NewServer(t, portaltest.WithAPIKey(key))
	send := func(header map[string]string, body string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header[k] = []string{v} // as sent, not canonicalised
		}
		resp, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	var escaped strings.Builder
	for _, c := range key {
		fmt.Fprintf(&escaped, `\u%04x`, c)
	}
	plain := `{"organization":"org_123"}`
	send(map[string]string{"Authorization": "bearer " + key, "X-Api-Key": key}, plain)
	send(map[string]string{"Authorization": "Bearer  " + key + " "}, `{"organization":"org_123","return_url":"`+key+`"}`)
	send(map[string]string{"X-Api-Key": key}, plain)
	send(map[string]string{"X-Forwarded-Authorization": "Bearer " + key}, plain)
	send(map[string]string{"Authorization": "Bearer " + key},
		`{"organization":"org_123","success_url":"https://x.example/?k=sk_test_\u0053ecretKey123456"}`)
	send(map[string]string{"Authorization": "Bearer " + key, key: "1"}, plain)
	send(map[string]string{"Authorization": "Bearer " + key}, `{"organization":"org_123","intent":"`+key[:16]+`"}`)
	send(map[string]string{"Authorization": "Token " + key}, `{"organization":"`+key+`"}`)
	send(map[string]string{"Authorization": "Bearer " + key}, `{"organization":"org_123","return_url":"`+
		escaped.String()+`"}`)
	send(map[string]string{"Authorization": "Bearer " + key}, `{"organization":"org_123","return_url":"`+
		"https://x.example/?k=sk_test_%53%65%63%72%65%74%4B%65%79%31%32%33%34%35%36"+`"}`)

	reqs := srv.Requests()
	require.Len(t, reqs, 10)
	raw, err := json.Marshal(reqs)
	require.NoError(t, err)
	for _, view := range readings(string(raw)) {
		for i := len("sk_test_"); i+8 <= len(key); i++ {
			assert.NotContains(t, strings.ToLower(view), strings.ToLower(key[i:i+8]))
		}
	}
	assert.Equal(t, http.StatusCreated, reqs[0].Status, "a lower-case bearer is a bearer")
	assert.Equal(t, http.StatusCreated, reqs[1].Status, "and the spaces around the key do not count")
	assert.Equal(t, "[REDACTED]", reqs[8].Body, "a body that spells the key in JSON escapes is kept whole by none")
	assert.Equal(t, "[REDACTED]", reqs[8].Opts.ReturnURL, "the key, decoded")
	assert.Equal(t, "[REDACTED]", reqs[9].Opts.ReturnURL, "nor in URL escapes")
	assert.Equal(t, `{"organization":"org_123"}`, reqs[0].Body, "a body without the key is kept as it is")
}

// readings returns s, and s as a reader of its JSON escapes and then of
// its URL escapes sees it.
func readings(s string) []string {
	json := regexp.MustCompile(`\\u[0-9a-fA-F]{4}`).ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.ParseUint(m[2:], 16, 32)
		return string(rune(n))
	})
	query, err := url.QueryUnescape(json)
	if err != nil {
		query = json
	}
	return []string{s, json, query}
}

// TestRecordsKeepTheKeysPublicPrefix: the prefix of a key (sk_test_,
// sk_live_) is no secret: a text that names it stays readable.
func TestRecordsKeepTheKeysPublicPrefix(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t, portaltest.WithAPIKey("sk_test_SecretKey123456"))
	const note = "keys start with sk_test_ or sk_live_"
	status, _ := send(t, srv, http.MethodPost, "/portal/generate_link",
		`{"organization":"org_123","return_url":"https://x.example/?note=`+note+`"}`,
		"Authorization", "Bearer sk_live_AnotherKey98765", "X-Note", note)
	require.Equal(t, http.StatusUnauthorized, status)
	rec := srv.Requests()[0]
	assert.Equal(t, "https://x.example/?note="+note, rec.Opts.ReturnURL)
	assert.Equal(t, note, rec.Header.Get("X-Note"))
	assert.Contains(t, rec.Body, note)
}

// TestRecordsKeepNoPieceOfAKey sends the key where a cut falls across it:
// the record is scrubbed before it is cut.
func TestRecordsKeepNoPieceOfAKey(t *testing.T) {
	t.Parallel()
	const key = "sk_test_0123456789abcdefghijklmnop"
	fake := portaltest.NewFake("http://fake.test")
	for cut := 4<<10 - len(key); cut <= 4<<10; cut++ {
		prefix := `{"organization":"org_123","return_url":"https://x.example/?p=`
		body := prefix + strings.Repeat("a", cut-len(prefix)) + key + `"}`
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Echo", strings.Repeat("b", 8<<10-len(key)-cut%97)+key)
		fake.ServeHTTP(httptest.NewRecorder(), req)
	}
	raw, err := json.Marshal(fake.Requests())
	require.NoError(t, err)
	secret := key[len("sk_test_"):]
	for n := 3; n <= len(secret); n++ { // not even a few characters of it at a cut
		assert.NotContains(t, string(raw), `a`+secret[:n]+`"`)
		assert.NotContains(t, string(raw), `b`+secret[:n]+`"`)
	}
}

// TestRecordingIsBounded sends more requests than the fake keeps, with
// bodies larger than it records, straight to its handler.
func TestRecordingIsBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	body := `{"organization":"org_123","return_url":"https://example.com/` + strings.Repeat("a", 8<<10) + `"}`
	for range 1100 {
		serveFake(fake, http.MethodPost, "/portal/generate_link", body)
	}
	reqs := fake.Requests()
	assert.Len(t, reqs, 1000, "the most recent 1,000")
	assert.Equal(t, int64(1100), fake.Total())
	assert.Equal(t, int64(101), reqs[0].Seq, "oldest first")
	assert.Equal(t, int64(1100), reqs[999].Seq)
	assert.Len(t, reqs[0].Body, 4<<10)
	assert.True(t, reqs[0].BodyTruncated)
	assert.Equal(t, body[:4<<10], reqs[0].Body)

	fake.Reset()
	exactly := `{"organization":"org_123","return_url":"https://example.com/`
	exactly += strings.Repeat("a", 4<<10-len(exactly)-2) + `"}`
	serveFake(fake, http.MethodPost, "/portal/generate_link", exactly)
	serveFake(fake, http.MethodPost, "/portal/generate_link", exactly+" ")
	reqs = fake.Requests()
	assert.Equal(t, exactly, reqs[0].Body)
	assert.False(t, reqs[0].BodyTruncated, "4 KiB are kept whole")
	assert.True(t, reqs[1].BodyTruncated)
	require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 500, Body: strings.Repeat("r", 5000)}))
	serveFake(fake, http.MethodPost, "/portal/generate_link", exactly)
	assert.Equal(t, strings.Repeat("r", 4<<10), fake.Requests()[2].Response, "and 4 KiB of the answer")

	fake.Reset()
	assert.Empty(t, fake.Requests())
	assert.Zero(t, fake.Total())
}

// recordSize is what a record keeps, in bytes of memory, as its budget
// counts it: each string's bytes and slot, a header name's map entry.
func recordSize(r portaltest.Request) int {
	size := 0
	for _, s := range append([]string{r.Body, r.Response, r.Opts.Organization, r.Opts.Intent, r.Opts.ReturnURL,
		r.Opts.SuccessURL}, r.Opts.ITContactEmails...) {
		size += len(s) + 16
	}
	for name, values := range r.Header {
		size += len(name) + 64
		for _, v := range values {
			size += len(v) + 16
		}
	}
	return size
}

// TestRecordsAreBounded sends what costs a record most: headers, bodies
// and fields far larger than it keeps, and lists of empty strings, which
// cost memory for their slots alone. Each record keeps 20 KiB at most.
func TestRecordsAreBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	huge := strings.Repeat("a", 30<<10)
	empties := "[" + strings.Repeat(`"",`, 33000) + `""]`
	for _, body := range []string{
		`{"organization":"` + huge + `","intent":"` + huge + `","return_url":"` + huge + `"}`,
		`{"organization":"org_123","it_contact_emails":` + empties + `}`,
		`{"organization":"org_123","admin_emails":` + empties + `}`,
	} {
		req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		for i := range 2000 {
			req.Header.Set(fmt.Sprintf("X-Padding-%04d", i), strings.Repeat("p", i%3*50))
		}
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		require.NotEqual(t, http.StatusRequestEntityTooLarge, w.Code)
	}
	for i, rec := range fake.Requests() {
		assert.LessOrEqual(t, recordSize(rec), 20<<10, "request %d", i)
		assert.NotEmpty(t, rec.Header, "request %d", i)
		assert.LessOrEqual(t, len(rec.Opts.ITContactEmails), 4<<10/16, "request %d", i)
	}
	assert.NotEmpty(t, fake.Requests()[1].Opts.ITContactEmails)
	assert.Equal(t, "org_123", fake.Requests()[2].Opts.Organization)
}

// TestManySmallHeadersAreBounded: a record keeps headers within 8 KiB of
// memory, counting what each name and value takes besides its text.
func TestManySmallHeadersAreBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	req := httptest.NewRequest(http.MethodPost, "http://fake.test/portal/generate_link", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	for i := range 2500 {
		req.Header.Add(fmt.Sprintf("X-%04d", i), "")
	}
	fake.ServeHTTP(httptest.NewRecorder(), req)
	rec := fake.Requests()[0]
	assert.Len(t, rec.Header, 8<<10/(6+64+16), "each costs its name, entry, value and slot")
	assert.LessOrEqual(t, recordSize(rec), 8<<10+4<<10+16)
}

func TestWaitForRequests(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	client := srv.Client()
	go func() {
		for range 3 {
			_, _ = client.GenerateLink(context.Background(), auditLogs)
		}
	}()
	reqs, err := srv.WaitForRequests(context.Background(), 3)
	require.NoError(t, err)
	assert.Len(t, reqs, 3)
	reqs, err = srv.WaitForRequests(context.Background(), 3)
	require.NoError(t, err)
	assert.Len(t, reqs, 3, "no wait for what has arrived")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reqs, err = srv.WaitForRequests(ctx, 4)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, reqs, 3, "and what has arrived")
}

// TestDropIsRecordedBeforeTheClientSeesIt: right after a client sees its
// connection dropped, the fake lists the request.
func TestDropIsRecordedBeforeTheClientSeesIt(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	client := srv.Client(portal.WithMaxRetries(0)) // and no connection is reused, which net/http would retry
	for round := range 100 {
		srv.InjectFault(portaltest.Fault{Drop: true})
		_, err := client.GenerateLink(context.Background(), auditLogs)
		require.Error(t, err)
		reqs := srv.Requests()
		require.Len(t, reqs, round+1, "round %d", round)
		assert.Equal(t, "drop", reqs[round].Fault)
		assert.Zero(t, reqs[round].Status)
	}
}

func TestRequestsAreCopies(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	_, err := srv.Client().GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_123", ITContactEmails: []string{"it@example.com"}})
	require.NoError(t, err)
	reqs := srv.Requests()
	reqs[0].Header.Set("User-Agent", "changed")
	reqs[0].Opts.ITContactEmails[0] = "changed@example.com"
	again := srv.Requests()[0]
	assert.Equal(t, "adminportal-go/"+portal.Version, again.Header.Get("User-Agent"))
	assert.Equal(t, []string{"it@example.com"}, again.Opts.ITContactEmails)
}
