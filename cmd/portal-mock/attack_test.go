package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// attack is TestMemoryIsBounded's flood: every attack on the mock's memory
// found so far, each with the number of generate-link requests it gets
// recorded, the same on every Go version.
type attack struct {
	t         *testing.T
	m         *mock
	wantTotal int64
}

// send sends n requests, 8 at a time (or all at once with concurrent), as
// JSON with header; counted is whether the fake records them.
func (a *attack) send(n int, path, body string, header map[string]string, counted, concurrent bool) {
	workers := 8
	if concurrent {
		workers = n
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				req, _ := http.NewRequest(http.MethodPost, a.m.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				for k, v := range header {
					req.Header.Set(k, v)
				}
				if resp, err := a.m.client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	if counted {
		a.wantTotal += int64(n)
	}
}

func (a *attack) step(name string) {
	kb, _ := peakRSS(a.m.cmd.Process.Pid)
	a.t.Logf("peak RSS after %s: %d MB", name, kb>>10)
}

// run attacks, and returns the total the mock counts.
func (a *attack) run() int64 {
	t, m := a.t, a.m
	key := map[string]string{"Authorization": "Bearer sk_test_attack0123456789"}
	generate := "/portal/generate_link"

	a.send(400, "/__mock/faults", `{"status":500,"count":1000,"body":"`+strings.Repeat("x", 63<<10)+`"}`, nil,
		false, false)
	a.send(400, "/__mock/faults", `{"status":500,"body":"`+strings.Repeat("x", 1<<20)+`"}`, nil, false, false)
	a.step("800 fault POSTs of 64 KiB and 1 MiB")
	status, _ := m.do(t, http.MethodDelete, "/__mock/faults", "")
	require.Equal(t, http.StatusNoContent, status)

	// Refused by the server before the fake: not counted.
	a.send(400, generate, `{"organization":"org_1"}`, map[string]string{"Authorization": key["Authorization"],
		"X-Big": strings.Repeat("h", 1<<20)}, false, false)
	a.step("400 requests with a megabyte of headers")
	many := map[string]string{"Authorization": key["Authorization"]}
	for i := range 400 { // under the 500 values Go 1.27's server takes, and the mock's 16 KiB
		many[fmt.Sprintf("X-%04d", i)] = ""
	}
	a.send(1000, generate, "<"+strings.Repeat("<", 12<<10), many, true, false)
	a.step("1,000 requests with 400 small headers and 12 KB of text that JSON escapes")

	// Clients that stop reading the list of records, and keep their connections.
	var stalled []net.Conn
	for range 8 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL, "http://"))
		require.NoError(t, err)
		_, err = io.WriteString(conn, "GET /__mock/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		require.NoError(t, err)
		stalled = append(stalled, conn)
	}
	defer func() {
		for _, conn := range stalled {
			conn.Close()
		}
	}()
	var polls sync.WaitGroup
	for range 4 { // at once, as a CI job's parallel tests might ask
		polls.Go(func() { m.do(t, http.MethodGet, "/__mock/requests?min=1000000&timeout=2s", "") })
	}
	for range 4 {
		polls.Go(func() { m.do(t, http.MethodGet, "/__mock/requests", "") })
	}
	polls.Wait()
	a.step("8 lists of the records at once, and 8 that nobody reads")

	a.send(2000, generate, `{"organization":"org_1","return_url":"https://x.example/`+
		strings.Repeat("a", 100<<10-100)+`"}`, key, true, false)
	a.step("2,000 links with 100 KiB return URLs")
	big := `{"organization":"org_1","return_url":"https://example.com/` + strings.Repeat("a", 1<<20) + `"}`
	a.send(60, generate, big, key, true, false)
	a.send(60, generate, big, map[string]string{"Authorization": "not a key"}, true, false)
	a.step("120 bodies of a megabyte")

	empties := `{"organization":"org_1","it_contact_emails":[` + strings.Repeat(`"",`, 33000) + `""]}`
	longKey := map[string]string{"Authorization": "Bearer sk_test_" + strings.Repeat("k9", 4<<10)}
	a.send(1000, generate, empties, longKey, true, false)
	a.step("1,000 bodies of 33,000 empty strings, with an 8 KiB key")

	status, _ = m.do(t, http.MethodPost, "/__mock/faults", `{"latency_ms":3000,"probability":1}`)
	require.Equal(t, http.StatusNoContent, status)
	a.send(1200, generate, `{"organization":"org_1","return_url":"https://x.example/`+
		strings.Repeat("a", 90<<10)+`"}`, key, true, true)
	status, _ = m.do(t, http.MethodDelete, "/__mock/faults", "")
	require.Equal(t, http.StatusNoContent, status)
	a.step("1,200 requests of 90 KB at once, which a latency would hold")

	a.send(1000, generate+"?q="+strings.Repeat("q", 15<<10), `{"organization":"org_1"}`, key, true, false)
	a.step("1,000 requests with a 15 KiB query string")

	a.send(20000, generate, `{"organization":"org_1","intent":"audit_logs"}`, key, true, false)
	total, _ := m.requests(t, 0)
	return total
}
