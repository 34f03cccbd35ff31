package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks measure the client where production happens: TLS 1.3 with
// HTTP/2 offered, as the API does, against a server with a few milliseconds
// of latency, in this process or in another. Each compares GenerateLink
// with the cheapest correct call written by hand (baseline): the same JSON
// through a tuned net/http transport, decoding the link. Run them with
//
//	go test -run '^$' -bench . -benchmem .

var benchOpts = GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: AuditLogs}

// baseline is the hand-written call: marshal, POST with the same headers,
// check the status, decode the link.
func baseline(ctx context.Context, hc *http.Client, url string) error {
	body, err := json.Marshal(benchOpts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/portal/generate_link", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = http.Header{"Authorization": {"Bearer " + testKey}, "Content-Type": {"application/json"},
		"Accept": {"application/json"}, "User-Agent": {"baseline/1.0"}}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	var out struct {
		Link string `json:"link"`
	}
	if resp.StatusCode != http.StatusCreated {
		return &APIError{StatusCode: resp.StatusCode}
	}
	return json.Unmarshal(data, &out)
}

// baselineClient is the tuned transport a careful hand-written call uses:
// HTTP/2 and enough idle connections, verifying against the system roots.
func baselineClient() *http.Client {
	return &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}}
}

// caller is one way of making the call, for the benchmarks to compare.
type caller struct {
	name string
	// make returns a call on a transport of its own, and the function that
	// closes its connections.
	make func(tb testing.TB, url string) (call func(context.Context) error, closeIdle func())
}

var callers = []caller{
	{"baseline", func(tb testing.TB, url string) (func(context.Context) error, func()) {
		hc := baselineClient()
		return func(ctx context.Context) error { return baseline(ctx, hc, url) }, hc.CloseIdleConnections
	}},
	{"GenerateLink", func(tb testing.TB, url string) (func(context.Context) error, func()) {
		c := freshClient(tb, url)
		return func(ctx context.Context) error {
			_, err := c.GenerateLink(ctx, benchOpts)
			return err
		}, c.CloseIdleConnections
	}},
}

// BenchmarkWarm: one caller at a time on a warm connection. Time is
// dominated by the network; allocations are the client's own.
func BenchmarkWarm(b *testing.B) {
	srv := newTLSServer(b, linkHandler(0), true)
	for _, c := range callers {
		b.Run(c.name, func(b *testing.B) {
			call, closeIdle := c.make(b, srv.URL)
			defer closeIdle()
			if err := call(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := call(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParallel64: 64 callers against a server that takes 5ms, the
// shape of a busy service; ns/op is the inverse of throughput.
func BenchmarkParallel64(b *testing.B) {
	srv := newTLSServer(b, linkHandler(5*time.Millisecond), true)
	for _, c := range callers {
		b.Run(c.name, func(b *testing.B) {
			call, closeIdle := c.make(b, srv.URL)
			defer closeIdle()
			conns, handshakes := srv.conns.Load(), srv.handshakes.Load()
			parallel64(b, call)
			b.ReportMetric(float64(srv.conns.Load()-conns), "conns")
			b.ReportMetric(float64(srv.handshakes.Load()-handshakes), "handshakes")
		})
	}
}

// BenchmarkColdBurst200: 200 callers arrive together at a client with no
// connection, as after start-up or an idle spell, against an HTTP/2 server
// in this process. It reports TLS handshakes and connections per 1,000
// calls.
func BenchmarkColdBurst200(b *testing.B) {
	srv := newTLSServer(b, linkHandler(time.Millisecond), true)
	for _, c := range callers {
		b.Run(c.name, func(b *testing.B) {
			conns, handshakes := srv.conns.Load(), srv.handshakes.Load()
			calls := coldBursts(b, c, srv.URL)
			b.ReportMetric(float64(srv.handshakes.Load()-handshakes)*1000/float64(calls), "handshakes/1000calls")
			b.ReportMetric(float64(srv.conns.Load()-conns)*1000/float64(calls), "conns/1000calls")
		})
	}
}

// BenchmarkColdBurst200OutOfProcess is BenchmarkColdBurst200 against a
// server in another process, so that the CPU time it reports per burst is
// the client's alone.
func BenchmarkColdBurst200OutOfProcess(b *testing.B) {
	srv := startOutOfProcessServer(b, "http2", time.Millisecond)
	for _, c := range callers {
		b.Run(c.name, func(b *testing.B) {
			handshakes, conns := srv.counts(b)
			cpu := cpuTime()
			calls := coldBursts(b, c, srv.URL)
			cpu = cpuTime() - cpu
			afterHandshakes, afterConns := srv.counts(b)
			b.ReportMetric(float64(afterHandshakes-handshakes)*1000/float64(calls), "handshakes/1000calls")
			b.ReportMetric(float64(afterConns-conns)*1000/float64(calls), "conns/1000calls")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "client-cpu-ms/burst")
		})
	}
}

// coldBursts runs b.N bursts of 200 calls, each on a new transport, and
// returns the number of calls.
func coldBursts(b *testing.B, c caller, url string) int {
	b.ReportAllocs()
	for b.Loop() {
		call, closeIdle := c.make(b, url)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 200 {
			wg.Go(func() {
				<-start
				if err := call(context.Background()); err != nil {
					b.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		closeIdle()
	}
	return b.N * 200
}

// BenchmarkHTTP1Parallel64: 64 callers against a plain-HTTP/1.1 loopback
// server (a local mock), which needs a connection per concurrent call; the
// client opens no more than there are callers.
func BenchmarkHTTP1Parallel64(b *testing.B) {
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(linkHandler(time.Millisecond))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	for _, c := range callers {
		b.Run(c.name, func(b *testing.B) {
			call, closeIdle := c.make(b, srv.URL)
			defer closeIdle()
			mu.Lock()
			before := conns
			mu.Unlock()
			parallel64(b, call)
			mu.Lock()
			b.ReportMetric(float64(conns-before), "conns")
			mu.Unlock()
		})
	}
}

// parallel64 makes b.N calls from 64 goroutines.
func parallel64(b *testing.B, call func(context.Context) error) {
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	opts := GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: AuditLogs,
		ReturnURL: "https://app.example.com/settings", ITContactEmails: []string{"it@example.com", "security@example.com"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := opts.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime returns the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
