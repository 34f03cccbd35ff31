package portaltest_test

import (
	"context"
	"fmt"
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

// servers are the ways a test serves the fake: in memory, and on loopback
// over HTTP and HTTPS.
var servers = []struct {
	name  string
	start func(*portaltest.Server)
	proto string
}{
	{"in memory", func(*portaltest.Server) {}, "HTTP/1.1"},
	{"Start", (*portaltest.Server).Start, "HTTP/1.1"},
	{"StartTLS", (*portaltest.Server).StartTLS, "HTTP/2.0"},
}

func TestClientAgainstTheServer(t *testing.T) {
	t.Parallel()
	for _, mode := range servers {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			srv := portaltest.NewServer(t)
			mode.start(srv)
			link, err := srv.Client().GenerateLink(context.Background(), auditLogs)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(link.Link, srv.URL+"/portal/launch?token="), link.Link)

			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, portaltest.Opts{Organization: "org_123", Intent: "audit_logs",
				ReturnURL: "https://app.example.com/settings"}, r.Opts)
			assert.Equal(t, int64(1), r.Seq)
			assert.Equal(t, "POST", r.Method)
			assert.Equal(t, "/portal/generate_link", r.Path)
			assert.Equal(t, mode.proto, r.Proto)
			assert.Equal(t, http.StatusCreated, r.Status)
			assert.Equal(t, link.Link, r.Link)
			assert.Equal(t, portaltest.Fingerprint(srv.APIKey), r.Key)
			assert.Equal(t, "adminportal-go/"+portal.Version, r.Header.Get("User-Agent"))
			assert.Empty(t, r.Header.Get("Authorization"))
			assert.JSONEq(t, `{"organization":"org_123","intent":"audit_logs",`+
				`"return_url":"https://app.example.com/settings"}`, r.Body)
			assert.JSONEq(t, `{"link":"`+link.Link+`"}`, r.Response)
			assert.Regexp(t, uuidV4, r.RequestID)
			assert.Equal(t, int64(1), srv.Total())

			status, page := send(t, srv, http.MethodGet, strings.TrimPrefix(link.Link, srv.URL), "")
			assert.Equal(t, http.StatusOK, status, "HTTPClient opens the link")
			assert.Contains(t, page, "org_123")
		})
	}
}

func TestServerURLs(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t, portaltest.WithAPIKey("sk_test_mine"))
	assert.Equal(t, "http://127.0.0.1:0", srv.URL, "in memory, where nothing else is reached")
	assert.Equal(t, "sk_test_mine", srv.APIKey)
	assert.Equal(t, "sk_test_4pHq8ZyT2mWk", portaltest.NewServer(t).APIKey)

	srv = portaltest.NewServer(t)
	srv.Start()
	assert.Regexp(t, `^http://127\.0\.0\.1:[1-9][0-9]*$`, srv.URL)
	srv = portaltest.NewServer(t)
	srv.StartTLS()
	assert.Regexp(t, `^https://127\.0\.0\.1:[1-9][0-9]*$`, srv.URL)
}

func TestTLSServerTrustsOnlyItsClients(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	srv.StartTLS()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	_, err := srv.Client(portal.WithHTTPClient(&http.Client{Transport: tr})).GenerateLink(context.Background(),
		auditLogs)
	assert.ErrorContains(t, err, "certificate", "a client that does not trust the fake's certificate is refused")
	assert.Empty(t, srv.Requests())
}

// TestRetryAfterInABubble is the README's synctest test, nearly: the fake's
// 429 asks for 2 seconds, which pass at once on the bubble's clock.
func TestRetryAfterInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := portaltest.NewServer(t)
		api.InjectFault(portaltest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
		start := time.Now()
		link, err := api.Client().GenerateLink(t.Context(), auditLogs)
		require.NoError(t, err)
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.True(t, strings.HasPrefix(link.Link, "http://127.0.0.1:0/portal/launch?token="), link.Link)
		reqs := api.Requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, []int{429, 201}, []int{reqs[0].Status, reqs[1].Status})
		assert.Equal(t, "status", reqs[0].Fault)
		assert.Equal(t, 2*time.Second, reqs[1].Time.Sub(reqs[0].Time), "stamped by the bubble's clock")
	})
}

// TestCloseEndsLatencies: a request held by an hour's latency is dropped
// by Close at once, not answered an hour later.
func TestCloseEndsLatencies(t *testing.T) {
	for _, mode := range servers {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			srv := portaltest.NewServer(t)
			mode.start(srv)
			srv.InjectFault(portaltest.Fault{Latency: time.Hour})
			client := srv.Client(portal.WithMaxRetries(0))
			done := make(chan error)
			go func() {
				_, err := client.GenerateLink(context.Background(), auditLogs)
				done <- err
			}()
			_, err := srv.WaitForRequests(context.Background(), 1)
			require.NoError(t, err)
			srv.Close()
			assert.Error(t, <-done)
			srv.Close() // again: nothing
			_, err = srv.WaitForRequests(context.Background(), 2)
			assert.ErrorIs(t, err, portaltest.ErrClosed)
		})
	}
}

// TestCloseInABubble: Close ends the server's goroutines and its clients',
// which synctest.Test would otherwise wait for forever.
func TestCloseInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portaltest.NewServer(t)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				_, err := srv.Client().GenerateLink(context.Background(), auditLogs)
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		srv.Close()
		_, err := srv.Client(portal.WithMaxRetries(0)).GenerateLink(context.Background(), auditLogs)
		assert.ErrorContains(t, err, "the server is closed")
	})
}

func TestHTTPClientOfAClosedServer(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	srv.Close()
	resp, err := srv.HTTPClient().Get(srv.URL + "/__mock/health")
	if err == nil {
		resp.Body.Close()
	}
	assert.ErrorContains(t, err, "the server is closed")
}

// fatalTB records what a test would fail with.
type fatalTB struct {
	testing.TB
	mu    sync.Mutex
	fatal []string
}

func (tb *fatalTB) Fatal(args ...any) { tb.Fatalf("%s", fmt.Sprint(args...)) }

func (tb *fatalTB) Fatalf(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.fatal = append(tb.fatal, fmt.Sprintf(format, args...))
}

func TestMisuseFailsTheTest(t *testing.T) {
	t.Parallel()
	tb := &fatalTB{TB: t}
	srv := portaltest.NewServer(tb)
	assert.Nil(t, srv.Client(portal.WithMaxRetries(-1)))
	srv.InjectFault(portaltest.Fault{})
	srv.Start() // after Client
	started := portaltest.NewServer(tb)
	started.Start()
	started.StartTLS()
	closed := portaltest.NewServer(tb)
	closed.Close()
	closed.Start()
	require.Len(t, tb.fatal, 5)
	assert.Contains(t, tb.fatal[0], "portaltest: Client: portal: WithMaxRetries(-1)")
	assert.Contains(t, tb.fatal[1], "the fault has no effect")
	for _, msg := range tb.fatal[2:] {
		assert.Contains(t, msg, "portaltest: Start or StartTLS after the server was started, used or closed")
	}
	assert.Equal(t, "http://127.0.0.1:0", srv.URL, "the server stayed in memory")
}

func TestServerFaultsAndReset(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	client := srv.Client(portal.WithMaxRetries(0))
	srv.InjectFault(portaltest.Fault{Status: 503, Count: 2})
	_, err := client.GenerateLink(context.Background(), auditLogs)
	assert.ErrorIs(t, err, portal.ErrServer)
	srv.ClearFaults()
	_, err = client.GenerateLink(context.Background(), auditLogs)
	assert.NoError(t, err, "the fault's second use was cleared")
	assert.Equal(t, int64(2), srv.Total())
	srv.Reset()
	assert.Zero(t, srv.Total())
	assert.Empty(t, srv.Requests())
}
