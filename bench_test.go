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
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks measure the client where production happens: TLS 1.3 with
// HTTP/2, as the API speaks, against a server in this process. Each
// compares GenerateLink with the floor: the cheapest correct call written
// by hand, with the same JSON and headers through a tuned net/http
// transport, a 30-second bound as every SDK's call has, and the link
// decoded. Run them with
//
//	go test -run '^$' -bench . -benchmem .

// floor is the hand-written call.
func floor(ctx context.Context, hc *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body, err := json.Marshal(auditLogs)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/portal/generate_link", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = http.Header{"Authorization": {"Bearer " + testKey}, "Content-Type": {"application/json"},
		"User-Agent": {"floor/1.0"}, "Idempotency-Key": {"0123456789ABCDEFGHIJKLMNOP"}}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return &APIError{StatusCode: resp.StatusCode}
	}
	var out struct {
		Link string `json:"link"`
	}
	return json.Unmarshal(data, &out)
}

// caller is one way of making the call, for the benchmarks to compare.
type caller struct {
	name string
	// make returns a call on a transport of its own.
	make func(tb testing.TB, url string) func(context.Context) error
}

var callers = []caller{
	{"floor", func(tb testing.TB, url string) func(context.Context) error {
		hc := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}}
		tb.Cleanup(hc.CloseIdleConnections)
		return func(ctx context.Context) error { return floor(ctx, hc, url) }
	}},
	{"GenerateLink", func(tb testing.TB, url string) func(context.Context) error {
		c := newTestClient(tb, url)
		return func(ctx context.Context) error {
			_, err := c.GenerateLink(ctx, auditLogs)
			return err
		}
	}},
}

// BenchmarkWarm: one caller at a time on a warm connection. Time is
// dominated by the network; allocations are the client's own.
func BenchmarkWarm(b *testing.B) {
	srv := newTLSServer(b, linkHandler(0), true)
	for _, c := range callers {
		b.Run(c.name, func(b *testing.B) {
			call := c.make(b, srv.URL)
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
			call := c.make(b, srv.URL)
			opened := srv.opened.Load()
			parallel64(b, call)
			b.ReportMetric(float64(srv.opened.Load()-opened), "conns")
		})
	}
}

// BenchmarkHTTP1Parallel64: 64 callers against a plain-HTTP/1.1 loopback
// server (a local mock), which needs a connection per concurrent call.
func BenchmarkHTTP1Parallel64(b *testing.B) {
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(linkHandler(time.Millisecond))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	for _, c := range callers {
		b.Run(c.name, func(b *testing.B) {
			call := c.make(b, srv.URL)
			before := opened.Load()
			parallel64(b, call)
			b.ReportMetric(float64(opened.Load()-before), "conns")
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

// BenchmarkSilentDrop measures, over the real loopback network, how long
// the next call takes after its pooled HTTP/2 connection died silently: a
// relay between client and server stops forwarding without closing, as a
// NAT gateway that forgets a flow does. TestSilentDropCostsSeconds
// measures the same on synctest's clock.
func BenchmarkSilentDrop(b *testing.B) {
	srv := newTLSServer(b, linkHandler(0), true)
	r := startRelay(b, srv.Listener.Addr().String())
	c := newTestClient(b, "https://"+r.ln.Addr().String())
	var total time.Duration
	for b.Loop() {
		if _, err := c.GenerateLink(context.Background(), auditLogs); err != nil {
			b.Fatal(err)
		}
		r.blackhole()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		_, err := c.GenerateLink(ctx, auditLogs)
		total += time.Since(start)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-link")
}

// relay forwards TCP connections to a target until blackhole silences the
// ones it carries.
type relay struct {
	ln     net.Listener
	mu     sync.Mutex
	silent []*atomic.Bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startRelay(tb testing.TB, target string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	r := &relay{ln: ln}
	r.wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			silent := new(atomic.Bool)
			r.mu.Lock()
			r.silent, r.conns = append(r.silent, silent), append(r.conns, down, up)
			r.mu.Unlock()
			r.wg.Go(func() { forward(up, down, silent) })
			r.wg.Go(func() { forward(down, up, silent) })
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return r
}

// forward copies from src to dst, dropping what it reads once silent.
func forward(dst, src net.Conn, silent *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		if !silent.Load() {
			_, _ = dst.Write(buf[:n])
		}
	}
}

func (r *relay) blackhole() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.silent {
		s.Store(true)
	}
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
