package portal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
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
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		g := &stub{link: recordedLink}
		w := serve(portal.RedirectHandler(g, pickAuditLogs), method)
		assert.Equal(t, http.StatusSeeOther, w.Code)
		assert.Equal(t, recordedLink, w.Header().Get("Location"))
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
		assert.Equal(t, portal.GenerateLinkOpts{Organization: "org_1", Intent: portal.AuditLogs}, g.got)
	}
}

func TestRedirectHandlerSpendsNoLinkOnOtherMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		g := &stub{link: recordedLink}
		w := serve(portal.RedirectHandler(g, pickAuditLogs), method)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, method)
		assert.Equal(t, "GET, POST", w.Header().Get("Allow"))
		assert.Zero(t, g.calls.Load(), "%s costs no API call", method)
	}
}

// signInFirst is an application's own error that answers the request
// itself: a redirect to its sign-in page.
type signInFirst struct{}

func (signInFirst) Error() string { return "not signed in" }
func (signInFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/login?next=/settings", http.StatusSeeOther)
}

func TestRedirectHandlerFailures(t *testing.T) {
	t.Parallel()
	apiMessage := "Organization not found: 'org_1'. secret detail"
	for _, tt := range []struct {
		name     string
		pickErr  error
		callErr  error
		status   int
		location string
		header   map[string]string
	}{
		{"pick refuses", errors.New("not an admin"), nil, http.StatusForbidden, "", nil},
		{"pick finds bad input", &portal.ValidationError{Field: "intent", Rule: "x"}, nil, http.StatusBadRequest, "", nil},
		{"pick's error renders itself", fmt.Errorf("settings: %w", signInFirst{}), nil, http.StatusSeeOther, "/login?next=/settings", nil},
		{"invalid options", nil, &portal.ValidationError{Field: "organization", Rule: "is required"}, http.StatusBadRequest, "", nil},
		{"API rate limits", nil, &portal.APIError{StatusCode: 429, Message: apiMessage, RetryAfter: 1500 * time.Millisecond},
			http.StatusServiceUnavailable, "", map[string]string{"Retry-After": "2"}},
		{"API rate limits without saying for how long", nil, &portal.APIError{StatusCode: 429},
			http.StatusServiceUnavailable, "", map[string]string{"Retry-After": "1"}},
		{"API refuses", nil, &portal.APIError{StatusCode: 400, Message: apiMessage}, http.StatusBadGateway, "", nil},
		{"API down", nil, &portal.APIError{StatusCode: 503, Message: apiMessage}, http.StatusBadGateway, "", nil},
		{"network", nil, errors.New("portal: dial tcp: connection refused"), http.StatusBadGateway, "", nil},
		{"generator's error renders itself", nil, signInFirst{}, http.StatusSeeOther, "/login?next=/settings", nil},
	} {
		g := &stub{link: recordedLink, err: tt.callErr}
		pick := func(*http.Request) (portal.GenerateLinkOpts, error) {
			return portal.GenerateLinkOpts{Organization: "org_1"}, tt.pickErr
		}
		w := serve(portal.RedirectHandler(g, pick), http.MethodPost)
		assert.Equal(t, tt.status, w.Code, tt.name)
		assert.Equal(t, tt.location, w.Header().Get("Location"), tt.name)
		for k, v := range tt.header {
			assert.Equal(t, v, w.Header().Get(k), tt.name)
		}
		if tt.location == "" {
			assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"), tt.name)
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), tt.name)
			assert.NotContains(t, w.Body.String(), "secret", "%s: the API's message stays out of the page", tt.name)
		}
		if tt.pickErr != nil {
			assert.Zero(t, g.calls.Load(), "%s: a refused request costs no API call", tt.name)
		}
	}
}

func TestRedirectHandlerWritesNothingWhenTheBrowserLeft(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	g := &stub{err: fmt.Errorf("portal: %w", context.Canceled)}
	h := portal.RedirectHandler(g, func(*http.Request) (portal.GenerateLinkOpts, error) {
		cancel() // the browser goes away during the call
		return portal.GenerateLinkOpts{Organization: "org_1"}, nil
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodPost, "/admin-portal", nil))
	assert.False(t, w.Flushed)
	assert.Empty(t, w.Body.String())
	assert.Empty(t, w.Header())
}

// TestRedirectHandlerWithTheClient runs the handler with a real Client,
// against an API that refuses the key.
func TestRedirectHandlerWithTheClient(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, answer{status: 401, body: `{"message":"Unauthorized"}`})
	srv := httptest.NewServer(portal.RedirectHandler(api.client(t), pickAuditLogs))
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "", nil) // its own transport: other tests closing their servers close http.DefaultTransport's idle connections
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	body := new(strings.Builder)
	_, _ = fmt.Fprint(body, resp.Body)
	assert.NotContains(t, body.String(), testKey[8:])
}
