package portaltest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	client := srv.Client(portal.WithMaxRetries(0))
	call := func() error {
		_, err := client.GenerateLink(context.Background(), auditLogs)
		return err
	}

	srv.InjectFault(portaltest.Fault{Status: 429, RetryAfter: "3", Count: 2})
	var apiErr *portal.APIError
	require.ErrorAs(t, call(), &apiErr)
	assert.Equal(t, 3*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "rate_limit_exceeded", apiErr.Code)
	assert.ErrorIs(t, call(), portal.ErrRateLimited)
	assert.NoError(t, call(), "the fault is used up")

	srv.InjectFault(portaltest.Fault{Status: 502})
	require.ErrorAs(t, call(), &apiErr)
	assert.Contains(t, apiErr.Message, "502 Bad Gateway", "a proxy's page")
	srv.InjectFault(portaltest.Fault{Status: 503, Body: `{"message":"down for maintenance"}`})
	require.ErrorAs(t, call(), &apiErr)
	assert.Equal(t, "down for maintenance", apiErr.Message, "a JSON body of one's own")
	srv.InjectFault(portaltest.Fault{Status: 500})
	require.ErrorAs(t, call(), &apiErr)
	assert.Equal(t, "Internal Server Error", apiErr.Message)

	srv.InjectFault(portaltest.Fault{Malformed: true})
	assert.ErrorIs(t, call(), portal.ErrInvalidResponse)

	srv.InjectFault(portaltest.Fault{Drop: true, Probability: 1, Seed: 1})
	assert.Error(t, call())
	assert.Error(t, call())
	srv.ClearFaults()
	assert.NoError(t, call())

	reqs := srv.Requests()
	var names []string
	for _, r := range reqs {
		names = append(names, r.Fault)
	}
	// net/http sends a request with an Idempotency-Key again when a reused connection drops it.
	assert.Equal(t, []string{"status", "status", "", "status", "status", "status", "malformed"}, names[:7])
	require.GreaterOrEqual(t, len(names), 10)
	assert.Subset(t, []string{"drop"}, names[7:len(names)-1])
	assert.Equal(t, "", names[len(names)-1])
	assert.Zero(t, reqs[7].Status, "a dropped connection has no status")
	assert.Empty(t, reqs[7].Response)
}

// TestProbabilityFaultsRepeat: the same seed picks the same requests.
func TestProbabilityFaultsRepeat(t *testing.T) {
	t.Parallel()
	pattern := func() []int {
		fake := portaltest.NewFake("http://fake.test")
		require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 503, Probability: 0.5, Seed: 7}))
		var codes []int
		for range 20 {
			codes = append(codes, serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`).Code)
		}
		return codes
	}
	first := pattern()
	assert.Equal(t, first, pattern())
	assert.Contains(t, first, 503)
	assert.Contains(t, first, 201)
}

func TestInvalidFaults(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	for _, tt := range []struct {
		fault portaltest.Fault
		err   string
	}{
		{portaltest.Fault{}, "the fault has no effect: give it a latency, or one of drop, malformed, status"},
		{portaltest.Fault{Count: 3}, "no effect"},
		{portaltest.Fault{Status: 199}, "fault status 199 is not an HTTP status"},
		{portaltest.Fault{Status: 600}, "fault status 600"},
		{portaltest.Fault{Status: 500, Drop: true}, "the fault sets drop and status: at most one of them"},
		{portaltest.Fault{Malformed: true, Drop: true}, "drop and malformed"},
		{portaltest.Fault{Drop: true, Count: -1}, "must not be negative"},
		{portaltest.Fault{Latency: -time.Second}, "no effect"},
		{portaltest.Fault{Drop: true, Latency: -time.Second}, "must not be negative"},
		{portaltest.Fault{Latency: time.Hour + 1}, "at most an hour"},
		{portaltest.Fault{Drop: true, Probability: 1.01}, "between 0 and 1"},
		{portaltest.Fault{Drop: true, Probability: -0.1}, "between 0 and 1"},
		{portaltest.Fault{Drop: true, Probability: 0.5, Count: 2}, "both Count and Probability"},
	} {
		assert.ErrorContains(t, fake.InjectFault(tt.fault), tt.err, "%+v", tt.fault)
	}
	for _, ok := range []portaltest.Fault{{Status: 200}, {Status: 599}, {Latency: time.Hour}, {Latency: 1},
		{Drop: true, Probability: 1}} {
		assert.NoError(t, fake.InjectFault(ok), "%+v", ok)
	}
}

// TestFaultJSON: a Fault is what POST /__mock/faults takes, both ways.
func TestFaultJSON(t *testing.T) {
	t.Parallel()
	all := portaltest.Fault{Status: 429, Body: "b", RetryAfter: "2", Latency: 1500 * time.Millisecond, Drop: true,
		Malformed: true, Count: 3, Probability: 0.5, Seed: 7}
	b, err := json.Marshal(all)
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":429,"body":"b","retry_after":"2","latency_ms":1500,"drop":true,"malformed":true,`+
		`"count":3,"probability":0.5,"seed":7}`, string(b))
	var back portaltest.Fault
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, all, back)

	b, err = json.Marshal(portaltest.Fault{Status: 503})
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":503}`, string(b), "only what is set")

	for _, bad := range []string{`{"latency":5}`, `{"Status":"x"}`, `{"latency_ms":9223372036855}`, `[]`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &back), bad)
	}
	require.NoError(t, json.Unmarshal([]byte(`{"latency_ms":9223372036854}`), &back))
	assert.Equal(t, 9223372036854*time.Millisecond, back.Latency, "the longest that fits")
}

func TestFaultsAreBounded(t *testing.T) {
	t.Parallel()
	fake := portaltest.NewFake("http://fake.test")
	for range 100 {
		require.NoError(t, fake.InjectFault(portaltest.Fault{Status: 503, Count: 2}))
	}
	assert.ErrorContains(t, fake.InjectFault(portaltest.Fault{Status: 503}), "100 faults")
	fake.ClearFaults()
	w := serveFake(fake, http.MethodPost, "/__mock/faults", `{"status":500,"body":"`+strings.Repeat("x", 70<<10)+`"}`)
	assert.Equal(t, http.StatusBadRequest, w.Code, "a fault's JSON is at most 64 KiB")
	assert.Equal(t, http.StatusCreated,
		serveFake(fake, http.MethodPost, "/portal/generate_link", `{"organization":"org_1"}`).Code,
		"no fault was added")
}

// TestLatencyFault: a latency delays the answer, or the fault's, on the
// bubble's clock; the link it issues is issued when it is answered.
func TestLatencyFault(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fault  portaltest.Fault
		status int
		record string // Request.Fault
	}{
		{"alone", portaltest.Fault{Latency: 2 * time.Second}, http.StatusCreated, "latency"},
		{"with a status", portaltest.Fault{Latency: 2 * time.Second, Status: 503}, http.StatusServiceUnavailable,
			"status"},
		{"with a drop", portaltest.Fault{Latency: 2 * time.Second, Drop: true}, 0, "drop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := portaltest.NewServer(t)
				srv.InjectFault(tt.fault)
				start := time.Now()
				status, _, err := post(srv)
				assert.Equal(t, 2*time.Second, time.Since(start))
				assert.Equal(t, tt.status, status)
				assert.Equal(t, tt.status == 0, err != nil, "%v", err)
				rec := srv.Requests()[0]
				assert.Equal(t, tt.status, rec.Status)
				assert.Equal(t, tt.record, rec.Fault)
				if tt.status == http.StatusCreated {
					time.Sleep(5*time.Minute - time.Nanosecond)
					status, _ := send(t, srv, http.MethodGet, strings.TrimPrefix(rec.Link, srv.URL), "")
					assert.Equal(t, http.StatusOK, status, "five minutes from the answer, not the arrival")
				}
			})
		})
	}
}

// post sends a generate-link request with the server's key, and returns
// the status, the body, or the error of a dropped connection.
func post(srv *portaltest.Server) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link",
		strings.NewReader(`{"organization":"org_123"}`))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestLatenciesHoldAtMost100Requests: the 101st request that a latency
// would hold is dropped at once, so that a flood of them holds little.
func TestLatenciesHoldAtMost100Requests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portaltest.NewServer(t)
		srv.InjectFault(portaltest.Fault{Latency: time.Hour, Count: 130})
		srv.InjectFault(portaltest.Fault{Status: 503}) // no latency: it needs no place among the held
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for range 130 {
			wg.Go(func() {
				status, _, _ := post(srv)
				mu.Lock()
				defer mu.Unlock()
				statuses[status]++
			})
		}
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, map[int]int{0: 30}, statuses, "30 dropped, 100 held")
		mu.Unlock()
		status, _, _ := post(srv)
		assert.Equal(t, http.StatusServiceUnavailable, status, "a fault without latency waits for no place")
		srv.InjectFault(portaltest.Fault{Latency: time.Second})
		status, _, err := post(srv)
		assert.Error(t, err, "a fault with latency does, and drops its request when there is none")
		assert.Zero(t, status)
		time.Sleep(time.Hour)
		wg.Wait()
		assert.Equal(t, map[int]int{0: 30, http.StatusCreated: 100}, statuses)
		srv.InjectFault(portaltest.Fault{Latency: time.Second})
		status, _, _ = post(srv)
		assert.Equal(t, http.StatusCreated, status, "the held gave back their places")
	})
}

func TestFaultBodiesCannotRunScripts(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	srv.InjectFault(portaltest.Fault{Status: 500, Body: "<script>fetch('/__mock/requests')</script>"})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/portal/generate_link", nil)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "sandbox; default-src 'none'", resp.Header.Get("Content-Security-Policy"))
}
