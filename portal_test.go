package portal

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testKey    = "sk_test_4f9Xq2LmN8pR7sT1vW3yZ6bC"
	testPrefix = "/v1-proxy" // the fake API is mounted under a path prefix, so a client dropping it fails
	testLink   = "https://setup.workos.com/portal/launch?token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJvcmciOiJvcmdfMTIzIn0.c2lnbmF0dXJl"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// fakeAPI is an httptest server standing in for the API. It counts the
// requests that reach the endpoint and the TCP connections opened to it.
type fakeAPI struct {
	server   *httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func newFakeAPI(t *testing.T, handler http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	mux := http.NewServeMux()
	mux.HandleFunc(testPrefix+"/portal/generate_link", func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		handler(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to unexpected path %s %s: the client lost the base URL's path", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	f.server = httptest.NewUnstartedServer(mux)
	f.server.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.server.Start()
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeAPI) baseURL() string { return f.server.URL + testPrefix }

// concurrently runs call calls times in each of goroutines goroutines, all
// at once, and returns when every call has returned.
func concurrently(goroutines, calls int, call func()) {
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				call()
			}
		}()
	}
	wg.Wait()
}

// sleeps records the waits a client asked for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestClient returns a client of f that records its waits instead of
// sleeping, so retry tests take no time.
func (f *fakeAPI) newTestClient(t *testing.T, opts ...Option) (*Client, *sleeps) {
	t.Helper()
	c, err := NewClient(testKey, append([]Option{WithBaseURL(f.baseURL())}, opts...)...)
	require.NoError(t, err)
	s := &sleeps{}
	c.sleep = s.sleep
	return c, s
}

// writeJSON answers with status and body, with the request ID the API sends.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-ID", "req_01HZX3Y5K2M4N6P8Q0R2S4T6V8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func linkHandler(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, `{"link":"`+testLink+`"}`)
}

// checkRequest asserts everything about a generate-link request: method,
// path, each header the API relies on, and the exact body.
func checkRequest(t *testing.T, r *http.Request, wantBody string) {
	t.Helper()
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, testPrefix+"/portal/generate_link", r.URL.Path)
	assert.Empty(t, r.URL.RawQuery)
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "adminportal-go/"+Version, r.Header.Get("User-Agent"))
	assert.Regexp(t, uuidV4, r.Header.Get("Idempotency-Key"))
	body, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, wantBody, string(body))
	assert.Equal(t, int64(len(wantBody)), r.ContentLength)
}

func TestGenerateLinkSendsExactRequest(t *testing.T) {
	t.Parallel()
	type test struct {
		name     string
		opts     GenerateLinkOpts
		wantBody string
	}
	var tests []test
	for _, intent := range Intents() {
		tests = append(tests, test{
			name:     "intent " + string(intent),
			opts:     GenerateLinkOpts{Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT", Intent: intent},
			wantBody: `{"organization":"org_01EHZNVPK3SFK441A1RGBFSHRT","intent":"` + string(intent) + `"}`,
		})
	}
	tests = append(tests,
		test{
			name: "every optional field",
			opts: GenerateLinkOpts{
				Organization:    "org_123",
				Intent:          AuditLogs,
				ReturnURL:       "https://app.example.com/settings?tab=audit&x=%3C1%3E",
				SuccessURL:      "http://localhost:3000/done",
				ITContactEmails: []string{"it@example.com", "o'brien+sec@corp.example.co.uk"},
			},
			wantBody: `{"organization":"org_123","intent":"audit_logs",` +
				`"return_url":"https://app.example.com/settings?tab=audit\u0026x=%3C1%3E",` +
				`"success_url":"http://localhost:3000/done",` +
				`"it_contact_emails":["it@example.com","o'brien+sec@corp.example.co.uk"]}`,
		},
		test{
			name: "sso intent options",
			opts: GenerateLinkOpts{
				Organization:  "org_123",
				Intent:        SSO,
				IntentOptions: &IntentOptions{SSO: &SSOIntentOptions{BookmarkSlug: "chat-app", ProviderType: "GoogleSAML"}},
			},
			wantBody: `{"organization":"org_123","intent":"sso","intent_options":{"sso":{"bookmark_slug":"chat-app","provider_type":"GoogleSAML"}}}`,
		},
		test{
			name: "sso intent options with only a provider",
			opts: GenerateLinkOpts{
				Organization:  "org_123",
				Intent:        SSO,
				IntentOptions: &IntentOptions{SSO: &SSOIntentOptions{ProviderType: "OktaSAML"}},
			},
			wantBody: `{"organization":"org_123","intent":"sso","intent_options":{"sso":{"provider_type":"OktaSAML"}}}`,
		},
		test{
			name: "domain verification intent options",
			opts: GenerateLinkOpts{
				Organization:  "org_123",
				Intent:        DomainVerification,
				IntentOptions: &IntentOptions{DomainVerification: &DomainVerificationIntentOptions{DomainName: "example.com"}},
			},
			wantBody: `{"organization":"org_123","intent":"domain_verification","intent_options":{"domain_verification":{"domain_name":"example.com"}}}`,
		},
		test{
			name:     "empty contact list is not sent",
			opts:     GenerateLinkOpts{Organization: "org_123", Intent: DSync, ITContactEmails: []string{}},
			wantBody: `{"organization":"org_123","intent":"dsync"}`,
		},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, tt.wantBody)
				linkHandler(w, r)
			})
			c, _ := f.newTestClient(t)
			before := time.Now()
			link, err := c.GenerateLink(context.Background(), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, testLink, link.Link)
			assert.WithinRange(t, link.ExpiresAt, before.Add(LinkLifetime), time.Now().Add(LinkLifetime))
			assert.Equal(t, int64(1), f.requests.Load())

			// The hand-written body is exactly what encoding/json makes.
			want, err := json.Marshal(tt.opts)
			require.NoError(t, err)
			assert.Equal(t, string(want), tt.wantBody)
		})
	}
}

// TestSeedSnippet runs the WorkOS documentation's Go snippet, with only the
// import path changed, against a server found through WORKOS_BASE_URL.
func TestSeedSnippet(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, `{"organization":"org_123","intent":"audit_logs"}`)
		linkHandler(w, r)
	})
	t.Setenv(EnvBaseURL, f.baseURL())
	t.Setenv(EnvAPIKey, testKey)
	t.Cleanup(func() { SetAPIKey("") })

	apiKey := os.Getenv("WORKOS_API_KEY")
	SetAPIKey(apiKey)
	organizationID := "org_123"
	link, err := GenerateLink(context.Background(), GenerateLinkOpts{
		Organization: organizationID,
		Intent:       AuditLogs,
	})
	require.NoError(t, err)
	assert.Equal(t, testLink, link.Link)
}

func TestDefaultClientKeyChangesAndConcurrency(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Authorization")]++
		mu.Unlock()
		linkHandler(w, r)
	})
	t.Setenv(EnvBaseURL, f.baseURL())
	t.Setenv(EnvAPIKey, "")
	t.Cleanup(func() { SetAPIKey("") })

	SetAPIKey("")
	_, err := GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs})
	require.ErrorIs(t, err, ErrNoAPIKey)

	keys := []string{"sk_test_one", "sk_test_two"}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if j%5 == 0 {
					SetAPIKey(keys[(i+j)%2])
				}
				_, err := GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_123", Intent: SSO})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for auth := range seen {
		assert.Contains(t, []string{"Bearer sk_test_one", "Bearer sk_test_two"}, auth)
	}
	assert.Equal(t, 160, seen["Bearer sk_test_one"]+seen["Bearer sk_test_two"])
	// Rebuilding the default client for a new key keeps its connection
	// pool, its connection limiter and its attempt timeout.
	assert.LessOrEqual(t, f.conns.Load(), int64(16), "at most one connection per goroutine")
	c, err := sharedClient()
	require.NoError(t, err)
	assert.NotNil(t, c.limiter)
	assert.Equal(t, DefaultAttemptTimeout, c.attemptTimeout)
}

func TestCallOptions(t *testing.T) {
	t.Parallel()
	var keys []string
	var mu sync.Mutex
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, `{"message":"try later"}`)
	})
	c, _ := f.newTestClient(t)
	opts := GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs}

	_, err := c.GenerateLink(context.Background(), opts, IdempotencyKey("order-7781-portal"), CallMaxRetries(1))
	require.ErrorIs(t, err, ErrServer)
	assert.Equal(t, []string{"order-7781-portal", "order-7781-portal"}, keys)

	_, err = c.GenerateLink(context.Background(), opts, CallMaxRetries(0))
	require.ErrorIs(t, err, ErrServer)
	assert.Len(t, keys, 3)

	for _, bad := range []CallOption{IdempotencyKey(""), IdempotencyKey("has space"), CallMaxRetries(-1), CallMaxRetries(11), CallTimeout(0)} {
		_, err := c.GenerateLink(context.Background(), opts, bad)
		assert.Error(t, err)
	}
	assert.Equal(t, int64(3), f.requests.Load(), "a bad call option must not send a request")
}

func TestCallTimeoutBoundsTheWholeCall(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c, _ := f.newTestClient(t)
	_, err := c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_123", Intent: AuditLogs}, CallTimeout(50*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int64(1), f.requests.Load(), "an expired deadline is not retried")
}

func TestNilAndZeroInputsDoNotPanic(t *testing.T) {
	t.Parallel()
	var nilClient *Client
	_, err := nilClient.GenerateLink(context.Background(), GenerateLinkOpts{})
	assert.Error(t, err)
	_, err = (&Client{}).GenerateLink(context.Background(), GenerateLinkOpts{})
	assert.Error(t, err)
	f := newFakeAPI(t, linkHandler)
	c, _ := f.newTestClient(t)
	//lint:ignore SA1012 the nil context is the bad input under test
	_, err = c.GenerateLink(nil, GenerateLinkOpts{Organization: "org_123", Intent: SSO}) //nolint:staticcheck
	assert.Error(t, err)
	assert.Zero(t, f.requests.Load())
	_, err = c.GenerateLink(context.Background(), GenerateLinkOpts{Organization: "org_123", Intent: SSO}, nil)
	assert.NoError(t, err, "a nil call option is skipped")
}

func TestLinkLogValueHidesToken(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	logger.Info("issued", "link", Link{Link: testLink, ExpiresAt: time.Date(2026, 11, 26, 12, 5, 0, 0, time.UTC)})
	assert.NotContains(t, out.String(), "token")
	assert.Contains(t, out.String(), `"host":"setup.workos.com"`)
}

func TestIntents(t *testing.T) {
	t.Parallel()
	for _, in := range Intents() {
		assert.True(t, in.Valid(), in)
	}
	for _, in := range []Intent{"", "AUDIT_LOGS", "audit-logs", "audit_logs ", "sso\x00"} {
		assert.False(t, in.Valid(), in)
	}
	got := Intents()
	got[0] = "mutated"
	if diff := cmp.Diff(Intents(), []Intent{SSO, DSync, AuditLogs, LogStreams, DomainVerification, CertificateRenewal, BringYourOwnKey}); diff != "" {
		t.Errorf("Intents() (-got +want):\n%s", diff)
	}
}
