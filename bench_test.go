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
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks compare GenerateLink with the cheapest correct call that
// can be written by hand (the Baseline benchmarks): one POST of the same
// JSON through a tuned transport, decoding the link. Run them with
//
//	go test -run '^$' -bench . -benchmem -count 1 .

// benchServer is a loopback API that answers every request with status and
// body, and counts the TCP connections opened to it.
type benchServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newBenchServer(b *testing.B, status int, body string) *benchServer {
	b.Helper()
	s := &benchServer{}
	payload := []byte(body)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = jsonMediaType
		h["X-Request-Id"] = []string{"req_01HZX3Y5K2M4N6P8Q0R2S4T6V8"}
		w.WriteHeader(status)
		_, _ = w.Write(payload)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	b.Cleanup(s.Close)
	return s
}

var benchOpts = GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: AuditLogs}

const benchLinkBody = `{"link":"https://setup.workos.com/portal/launch?token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJvcmciOiJvcmdfMDFFSFpOVlBLM1NGSzQ0MUExUkdCRlNIUlQifQ.c2lnbmF0dXJl"}`

func benchClient(b *testing.B, url string, opts ...Option) *Client {
	b.Helper()
	c, err := NewClient("sk_test_bench", append([]Option{WithBaseURL(url)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// baselineCall is the hand-written floor: marshal, POST with the same
// headers, check the status, decode the link.
func baselineCall(ctx context.Context, hc *http.Client, url string) (string, error) {
	body, err := json.Marshal(benchOpts)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer sk_test_bench")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "baseline/1.0")
	req.Header.Set("Idempotency-Key", "5b0d7a3c-8a44-4f0e-9a61-2f3c7d1e9b42")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Link string `json:"link"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return out.Link, nil
}

func tunedHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}}
}

func BenchmarkGenerateLinkBaseline(b *testing.B) {
	s := newBenchServer(b, http.StatusOK, benchLinkBody)
	hc := tunedHTTPClient()
	url := s.URL + "/portal/generate_link"
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := baselineCall(ctx, hc, url); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateLink(b *testing.B) {
	s := newBenchServer(b, http.StatusOK, benchLinkBody)
	c := benchClient(b, s.URL)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.GenerateLink(ctx, benchOpts); err != nil {
			b.Fatal(err)
		}
	}
}

// parallelism is chosen so that 64 goroutines share one client, whatever
// GOMAXPROCS is.
func parallelism() int { return max(1, 64/runtime.GOMAXPROCS(0)) }

func runParallel(b *testing.B, s *benchServer, call func(context.Context) error) {
	b.Helper()
	ctx := context.Background()
	before := s.conns.Load()
	b.ReportAllocs()
	b.SetParallelism(parallelism())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	opened := s.conns.Load() - before
	b.ReportMetric(float64(opened)/float64(b.N), "conns/op")
	b.ReportMetric(float64(opened), "conns")
}

func BenchmarkGenerateLinkParallelBaseline(b *testing.B) {
	s := newBenchServer(b, http.StatusOK, benchLinkBody)
	hc := tunedHTTPClient()
	url := s.URL + "/portal/generate_link"
	runParallel(b, s, func(ctx context.Context) error {
		_, err := baselineCall(ctx, hc, url)
		return err
	})
}

func BenchmarkGenerateLinkParallel(b *testing.B) {
	s := newBenchServer(b, http.StatusOK, benchLinkBody)
	c := benchClient(b, s.URL)
	runParallel(b, s, func(ctx context.Context) error {
		_, err := c.GenerateLink(ctx, benchOpts)
		return err
	})
}

// BenchmarkGenerateLinkParallelDefaultTransport is the same client through
// Go's default transport, which keeps two idle connections per host: the
// other callers open and close a connection per call.
func BenchmarkGenerateLinkParallelDefaultTransport(b *testing.B) {
	s := newBenchServer(b, http.StatusOK, benchLinkBody)
	c := benchClient(b, s.URL, WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}))
	runParallel(b, s, func(ctx context.Context) error {
		_, err := c.GenerateLink(ctx, benchOpts)
		return err
	})
}

// The error paths: answered, not retried, and the connection kept.
func BenchmarkGenerateLinkError(b *testing.B) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"422", http.StatusUnprocessableEntity, `{"code":"invalid_request_parameters","message":"Validation failed","errors":[{"field":"intent","code":"intent_invalid"}]}`},
		{"429", http.StatusTooManyRequests, `{"code":"rate_limit_exceeded","message":"Too many requests. Please retry later."}`},
		{"500", http.StatusInternalServerError, `{"code":"server_error","message":"Internal Server Error"}`},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s := newBenchServer(b, tt.status, tt.body)
			c := benchClient(b, s.URL, WithMaxRetries(0))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.GenerateLink(ctx, benchOpts); err == nil {
					b.Fatal("want an error")
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(s.conns.Load()), "conns")
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	opts := GenerateLinkOpts{
		Organization:    "org_01EHZNVPK3SFK441A1RGBFSHRT",
		Intent:          SSO,
		ReturnURL:       "https://app.example.com/settings?tab=sso",
		SuccessURL:      "https://app.example.com/done",
		ITContactEmails: []string{"it@example.com", "security@example.com"},
		IntentOptions:   &IntentOptions{SSO: &SSOIntentOptions{ProviderType: "OktaSAML"}},
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := opts.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
