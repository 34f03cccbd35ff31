package portaltest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal/portaltest"
)

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	do := func(method, path, contentType, body string, header ...string) int {
		if contentType != "" {
			header = append(header, "Content-Type", contentType)
		}
		status, _ := send(t, srv, method, path, body, header...)
		return status
	}
	const fault = `{"status":503,"count":1}`
	status, body := send(t, srv, http.MethodGet, "/__mock/health", "")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"status":"ok"}`, body)
	assert.Equal(t, 415, do("POST", "/__mock/faults", "text/plain", fault),
		"a form or simple request cannot steer the fake")
	assert.Equal(t, 415, do("POST", "/__mock/faults", "application/x-www-form-urlencoded", fault))
	assert.Equal(t, 415, do("POST", "/__mock/reset", "", ""))
	assert.Equal(t, 415, do("DELETE", "/__mock/faults", "", ""))
	assert.Equal(t, 403, do("POST", "/__mock/faults", "text/plain", fault, "Origin", "https://evil.example"))
	assert.Equal(t, 403, do("POST", "/__mock/faults", "application/json", fault, "Origin", "https://evil.example"))
	assert.Equal(t, 403, do("POST", "/__mock/faults", "application/json", fault, "Sec-Fetch-Site", "cross-site"))
	assert.Equal(t, 403, do("GET", "/__mock/requests", "", "", "Sec-Fetch-Site", "cross-site"),
		"no page reads the records")
	assert.Equal(t, 403, do("POST", "/__mock/reset", "application/json", "", "Sec-Fetch-Site", "same-site"))
	assert.Empty(t, srv.Requests())

	assert.Equal(t, 204, do("POST", "/__mock/faults", "application/json", fault, "Origin", srv.URL))
	assert.Equal(t, 204, do("POST", "/__mock/faults", "application/json; charset=utf-8",
		`{"drop":true,"probability":0.5,"seed":7}`, "Sec-Fetch-Site", "same-origin"))
	assert.Equal(t, 204, do("POST", "/__mock/faults", "application/json", `{"latency_ms":1500}`))
	status, body = send(t, srv, "POST", "/__mock/faults", `{"bogus":1}`, "Content-Type", "application/json")
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "status, body, retry_after, latency_ms, drop, malformed, count, probability and seed")
	status, body = send(t, srv, "POST", "/__mock/faults", `{}`, "Content-Type", "application/json")
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "the fault has no effect")
	assert.Equal(t, 204, do("DELETE", "/__mock/faults", "application/json", ""))
	assert.Equal(t, 201, do("POST", "/portal/generate_link", "application/json", `{"organization":"org_1"}`,
		"Authorization", "Bearer "+srv.APIKey), "no fault is left")
	assert.Equal(t, 204, do("POST", "/__mock/reset", "application/json", ""))
	assert.Empty(t, srv.Requests())
	assert.Equal(t, 404, do("GET", "/__mock/nothing", "", ""))
	assert.Equal(t, 404, do("POST", "/__mock/health", "application/json", ""), "a route is its method and path")
	assert.Equal(t, 404, do("PUT", "/__mock/faults", "application/json", fault))
}

func TestControlRefusesMalformedRequests(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	for _, tt := range []struct{ method, target, body string }{
		{http.MethodPost, "/__mock/faults", `{"status":503} garbage`},
		{http.MethodPost, "/__mock/faults", `{"status":503}{"status":500}`},
		{http.MethodPost, "/__mock/faults", `{"latency_ms":9223372036854775807}`},
		{http.MethodPost, "/__mock/faults", `{"latency_ms":3600001}`},
		{http.MethodGet, "/__mock/requests?min=abc", ""},
		{http.MethodGet, "/__mock/requests?min=99999999999999999999", ""},
		{http.MethodGet, "/__mock/requests?min=1&timeout=soon", ""},
		{http.MethodGet, "/__mock/requests?min=1&timeout=-1s", ""},
		{http.MethodGet, "/__mock/requests?min=1&timeout=5m1s", ""},
	} {
		w := serveFake(fake, tt.method, tt.target, tt.body)
		assert.Equal(t, http.StatusBadRequest, w.Code, "%s %s %s", tt.method, tt.target, tt.body)
	}
	created := serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
	assert.Equal(t, http.StatusCreated, created.Code, "no fault was added")
}

// TestLongPollEnds: GET /__mock/requests?min=N waits at most its timeout,
// 30s unless it says otherwise, and ends when the fake closes.
func TestLongPollEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := portaltest.NewFake("http://fake.test")
		start := time.Now()
		w := serveFake(fake, http.MethodGet, "/__mock/requests?min=2", "")
		assert.Equal(t, http.StatusOK, w.Code)
		assert.JSONEq(t, `{"total":0,"requests":[]}`, w.Body.String())
		assert.Equal(t, 30*time.Second, time.Since(start))

		for _, timeout := range []time.Duration{0, 2 * time.Second, 5 * time.Minute} {
			start = time.Now()
			w = serveFake(fake, http.MethodGet, "/__mock/requests?min=2&timeout="+timeout.String(), "")
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, timeout, time.Since(start))
		}

		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serveFake(fake, http.MethodGet, "/__mock/requests?min=1", "") }()
		serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`)
		assert.Contains(t, (<-done).Body.String(), `"total":1`, "the request it waited for")

		w = serveFake(fake, http.MethodGet, "/__mock/requests?min=1", "")
		assert.Contains(t, w.Body.String(), `"total":1`, "no wait for what has arrived")

		go func() { done <- serveFake(fake, http.MethodGet, "/__mock/requests?min=5", "") }()
		synctest.Wait()
		start = time.Now()
		fake.Close()
		assert.Equal(t, http.StatusOK, (<-done).Code)
		assert.Zero(t, time.Since(start), "Close ends the wait at once")
		_, err := fake.WaitForRequests(context.Background(), 5)
		assert.ErrorIs(t, err, portaltest.ErrClosed)
	})
}

// TestLongPollOfAClientThatLeaves: the poll ends with its client, and
// answers nothing.
func TestLongPollOfAClientThatLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portaltest.NewServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/__mock/requests?min=1", nil)
		require.NoError(t, err)
		start := time.Now()
		resp, err := srv.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))
	})
}

// TestListOfRecords: the list holds every record kept, oldest first, as
// its own JSON, with HTML's characters as they are.
func TestListOfRecords(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	for i := range 1003 {
		serveFake(fake, http.MethodPost, "/portal/generate_link",
			`{"organization":"org_1","return_url":"https://x.example/<`+strings.Repeat("a", i%3)+`>"}`)
	}
	w := serveFake(fake, http.MethodGet, "/__mock/requests", "")
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Contains(t, w.Body.String(), `"return_url":"https://x.example/<a>"`, "not \\u003c")
	var list struct {
		Total    int64
		Requests []portaltest.Request
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list))
	assert.Equal(t, int64(1003), list.Total)
	require.Len(t, list.Requests, 1000)
	assert.Equal(t, int64(4), list.Requests[0].Seq)
	assert.Equal(t, int64(1003), list.Requests[999].Seq)
	sameRecords(t, fake.Requests(), list.Requests)
}

// TestStalledReaderOfTheListIsCutOff: a client that stops reading the list
// of records holds its answer for 30 seconds at most.
func TestStalledReaderOfTheListIsCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portaltest.NewServer(t)
		for range 50 {
			_, _, err := post(srv)
			require.NoError(t, err)
		}
		resp, err := srv.HTTPClient().Get(srv.URL + "/__mock/requests")
		require.NoError(t, err)
		defer resp.Body.Close()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		_, err = io.ReadAll(resp.Body)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the fake gave up writing")
	})
}
