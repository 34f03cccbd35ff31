package portal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// stub is a portal.LinkGenerator for handler tests: it returns link or err
// and counts calls.
type stub struct {
	link  string
	err   error
	calls atomic.Int64
	got   portal.GenerateLinkOpts
}

func (s *stub) GenerateLink(ctx context.Context, opts portal.GenerateLinkOpts) (*portal.Link, error) {
	s.calls.Add(1)
	s.got = opts
	if s.err != nil {
		return nil, s.err
	}
	return &portal.Link{Link: s.link}, nil
}

func pickAuditLogs(r *http.Request) (portal.GenerateLinkOpts, error) {
	return portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.AuditLogs}, nil
}

func serve(h http.Handler, method string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, "/admin-portal", nil))
	return w
}

func TestRedirectHandlerRedirects(t *testing.T) {
	t.Parallel()
	g := &stub{link: recordedLink}
	w := serve(portal.RedirectHandler(g, pickAuditLogs), http.MethodPost)
	assert.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, recordedLink, w.Header().Get("Location"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
	assert.Equal(t, portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.AuditLogs}, g.got)
	assert.Equal(t, int64(1), g.calls.Load())
}

// TestRedirectHandlerSpendsNoLinkOnOtherMethods: a link is minted by POST
// only; a GET, which prefetchers and link checkers send, costs nothing.
func TestRedirectHandlerSpendsNoLinkOnOtherMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete,
		http.MethodOptions} {
		g := &stub{link: recordedLink}
		w := serve(portal.RedirectHandler(g, pickAuditLogs), method)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, method)
		assert.Equal(t, "POST", w.Header().Get("Allow"))
		assert.Empty(t, w.Header().Get("Location"))
		assert.Zero(t, g.calls.Load(), "%s costs no API call", method)
	}
}

func TestRedirectHandlerFailures(t *testing.T) {
	t.Parallel()
	apiMessage := "Organization not found: 'org_1'. secret detail"
	rateLimited := &portal.APIError{StatusCode: 429, Message: apiMessage, RetryAfter: 1500 * time.Millisecond}
	for _, tt := range []struct {
		name    string
		pickErr error
		callErr error
		status  int
	}{
		{"pick refuses", errors.New("not an admin"), nil, http.StatusForbidden},
		{"pick finds bad input", &portal.ValidationError{Field: "intent", Rule: "x"}, nil, http.StatusBadRequest},
		{"pick's deadline is still pick's refusal", context.DeadlineExceeded, nil, http.StatusForbidden},
		{"invalid options", nil, &portal.ValidationError{Field: "organization", Rule: "is required"}, http.StatusBadRequest},
		{"API rate limits", nil, rateLimited, http.StatusServiceUnavailable},
		{"a stub's ErrRateLimited", nil, fmt.Errorf("stub: %w", portal.ErrRateLimited), http.StatusServiceUnavailable},
		{"rate limited without a Retry-After", nil, &portal.APIError{StatusCode: 429}, http.StatusServiceUnavailable},
		{"rate limited for whole seconds", nil, &portal.APIError{StatusCode: 429, RetryAfter: 7 * time.Second},
			http.StatusServiceUnavailable},
		{"rate limited, retries given up", nil,
			&portal.RetryError{Attempts: 3, Reason: portal.ErrNoRetriesLeft, Err: rateLimited},
			http.StatusServiceUnavailable},
		{"a deadline", nil, fmt.Errorf("portal: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
		{"an attempt's timeout", nil,
			&portal.RetryError{Attempts: 3, Reason: portal.ErrNoRetriesLeft, Err: portal.ErrAttemptTimeout},
			http.StatusGatewayTimeout},
		{"API refuses", nil, &portal.APIError{StatusCode: 400, Message: apiMessage}, http.StatusBadGateway},
		{"API down", nil, &portal.APIError{StatusCode: 503, Message: apiMessage}, http.StatusBadGateway},
		{"network", nil, errors.New("portal: dial tcp: connection refused"), http.StatusBadGateway},
		{"a cancelled call", nil, context.Canceled, http.StatusServiceUnavailable},
		{"retries cut short by a cancelled request", nil,
			&portal.RetryError{Attempts: 1, Reason: context.Canceled, Err: rateLimited}, http.StatusServiceUnavailable},
	} {
		g := &stub{link: recordedLink, err: tt.callErr}
		pick := func(*http.Request) (portal.GenerateLinkOpts, error) {
			return portal.GenerateLinkOpts{Organization: "org_1"}, tt.pickErr
		}
		w := serve(portal.RedirectHandler(g, pick), http.MethodPost)
		assert.Equal(t, tt.status, w.Code, tt.name)
		assert.Empty(t, w.Header().Get("Location"), tt.name)
		assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"), tt.name)
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), tt.name)
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), tt.name)
		assert.NotEmpty(t, strings.TrimSpace(w.Body.String()), "%s: never an empty answer", tt.name)
		assert.NotContains(t, w.Body.String(), "secret", "%s: the API's message stays out of the page", tt.name)
		if tt.pickErr != nil {
			assert.Zero(t, g.calls.Load(), "%s: a refused request costs no API call", tt.name)
		}
		wantRetryAfter := ""
		var apiErr *portal.APIError
		if errors.Is(tt.callErr, portal.ErrRateLimited) && errors.As(tt.callErr, &apiErr) {
			wantRetryAfter = map[time.Duration]string{0: "", 7 * time.Second: "7",
				1500 * time.Millisecond: "2"}[apiErr.RetryAfter] // whole seconds, rounded up
		}
		assert.Equal(t, wantRetryAfter, w.Header().Get("Retry-After"), "%s: the API's Retry-After, passed on", tt.name)
	}
}

// TestRedirectHandlerLogLevels: a failure of the call is logged at Error
// level, but a request that the browser (or the server's shutdown)
// cancelled, which nobody can fix, at Info; and the log line goes through
// the library's cleaning, whatever generator made the error.
func TestRedirectHandlerLogLevels(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err   error
		level string
		want  string // in the log line
	}{
		{errors.New("stub: refused, level test 1"), "ERROR", "refused, level test 1"},
		{fmt.Errorf("stub: cancelled, level test 2: %w", context.Canceled), "INFO", "level test 2"},
		{&portal.RetryError{Attempts: 1, Reason: context.Canceled, Err: errors.New("stub: level test 3")}, "INFO",
			"stub: level test 3 [attempts: 1; context canceled]"},
		{fmt.Errorf("stub: level test 4: %w", context.DeadlineExceeded), "ERROR", "level test 4"},
		{errors.New("stub: level test 5 \x1b[31m sk_live_0123456789abcdef\nforged=line"), "ERROR",
			"stub: level test 5 [31m [REDACTED] forged=line"},
	} {
		serve(portal.RedirectHandler(&stub{err: tt.err}, pickAuditLogs), http.MethodPost)
		var line string
		for _, l := range strings.Split(portal.DefaultLog(), "\n") {
			if strings.Contains(l, tt.want) {
				line = l
			}
		}
		require.NotEmpty(t, line, "a log line with %q in:\n%s", tt.want, portal.DefaultLog())
		assert.Contains(t, line, "level="+tt.level+" ", tt.want)
	}
}

// TestRedirectHandlerLogsFailuresOfTheCall: without an ErrorHandler, a
// failure of the call leaves a trace in slog's default logger; a refusal
// by pick is the application's own business.
func TestRedirectHandlerLogsFailuresOfTheCall(t *testing.T) {
	t.Parallel()
	g := &stub{err: errors.New("portal: the call failed, for the log")}
	serve(portal.RedirectHandler(g, pickAuditLogs), http.MethodPost)
	assert.Contains(t, portal.DefaultLog(),
		`msg="portal: RedirectHandler: no link" status=502 error="portal: the call failed, for the log"`)

	refuse := func(*http.Request) (portal.GenerateLinkOpts, error) {
		return portal.GenerateLinkOpts{}, errors.New("pick said no, quietly")
	}
	serve(portal.RedirectHandler(g, refuse), http.MethodPost)
	assert.NotContains(t, portal.DefaultLog(), "pick said no, quietly")
}

// TestRedirectHandlerDeadline: a request whose context reaches its deadline
// (a timeout middleware, say) during the call gets a 504, not an empty 200.
func TestRedirectHandlerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{hang: true}}}
		h := portal.RedirectHandler(scriptedClient(t, s), pickAuditLogs)
		deadline := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
				defer cancel()
				next.ServeHTTP(w, r.WithContext(ctx))
			})
		}
		w := serve(deadline(h), http.MethodPost)
		assert.Equal(t, http.StatusGatewayTimeout, w.Code)
		assert.Contains(t, w.Body.String(), "did not answer in time")
	})
}

// TestErrorHandlerGetsEveryFailure: an ErrorHandler answers each failure,
// given the error as it is: the application's own, the call's, and the
// cancellation of a request whose browser has gone.
func TestErrorHandlerGetsEveryFailure(t *testing.T) {
	t.Parallel()
	errNotSignedIn := errors.New("not signed in")
	callErr := &portal.APIError{StatusCode: 503}
	for _, tt := range []struct {
		name    string
		pickErr error
		callErr error
		cancel  bool
	}{
		{"pick's error", fmt.Errorf("settings: %w", errNotSignedIn), nil, false},
		{"the call's error", nil, callErr, false},
		{"the browser left", nil, context.Canceled, true},
	} {
		var got error
		h := portal.RedirectHandler(&stub{err: tt.callErr}, func(*http.Request) (portal.GenerateLinkOpts, error) {
			return portal.GenerateLinkOpts{Organization: "org_1"}, tt.pickErr
		})
		h.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			if errors.Is(err, errNotSignedIn) {
				http.Redirect(w, r, "/login?next=/settings", http.StatusSeeOther)
				return
			}
			http.Error(w, "Our own page.", http.StatusTeapot)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if tt.cancel {
			cancel()
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodPost, "/admin-portal", nil))
		cancel()
		require.Error(t, got, tt.name)
		if tt.pickErr != nil {
			assert.Equal(t, tt.pickErr, got, tt.name)
			assert.Equal(t, http.StatusSeeOther, w.Code)
			assert.Equal(t, "/login?next=/settings", w.Header().Get("Location"))
		} else {
			assert.Equal(t, tt.callErr, got, "%s: the error as it is", tt.name)
			assert.Equal(t, http.StatusTeapot, w.Code, tt.name)
		}
	}
}

// TestRedirectHandlerAnswersACancelledRequest: a request whose context is
// cancelled during the call (the browser left, or the server's base
// context ended at shutdown) gets a 503, never an empty 200.
func TestRedirectHandlerAnswersACancelledRequest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	g := &stub{err: fmt.Errorf("portal: %w", context.Canceled)}
	h := portal.RedirectHandler(g, func(*http.Request) (portal.GenerateLinkOpts, error) {
		cancel() // the browser goes away during the call
		return portal.GenerateLinkOpts{Organization: "org_1"}, nil
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodPost, "/admin-portal", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "The request was cancelled. Try again.\n", w.Body.String())
}

// TestRedirectHandlerWithTheClient runs the handler with a real Client,
// against an API that refuses the key.
func TestRedirectHandlerWithTheClient(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, answer{status: 401, body: `{"message":"Unauthorized: Bearer ` + testKey + `"}`})
	srv := httptest.NewServer(portal.RedirectHandler(api.client(t), pickAuditLogs))
	defer srv.Close()
	// its own transport: other tests closing their servers close http.DefaultTransport's idle connections
	resp, err := srv.Client().Post(srv.URL, "", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "The Admin Portal is unavailable. Try again shortly.\n", string(body))
	requireNoKey(t, string(body))
	requireNoKey(t, portal.DefaultLog())
	assert.Contains(t, portal.DefaultLog(), "portal: 401 Unauthorized: [REDACTED]", "the log has the masked answer")
}
