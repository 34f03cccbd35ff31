package portal_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

const handlerKey = "sk_test_handler_9f8e7d6c5b4a"

func TestRedirectHandler(t *testing.T) {
	t.Parallel()
	auditLogs := portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs}
	tests := []struct {
		name        string
		fault       *portaltest.Fault
		key         string
		pick        func(*http.Request) (portal.GenerateLinkOpts, error)
		cancel      bool
		wantStatus  int
		wantHeader  map[string]string
		wantBody    string
		wantCalls   int
		wantLogPart string
	}{
		{
			name: "success", pick: fixed(auditLogs), wantStatus: http.StatusSeeOther, wantCalls: 1,
			wantHeader: map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
		},
		{
			name: "pick refuses", pick: refuse(errors.New("user is not an admin of org_123")),
			wantStatus: http.StatusForbidden, wantBody: "You do not have access", wantCalls: 0, wantLogPart: "access refused",
		},
		{
			name: "pick reports invalid input", pick: refuse(&portal.ValidationError{Field: "intent", Rule: "unknown"}),
			wantStatus: http.StatusBadRequest, wantBody: "Bad request.", wantCalls: 0,
		},
		{
			name: "invalid options reach no API", pick: fixed(portal.GenerateLinkOpts{Organization: "acme", Intent: portal.AuditLogs}),
			wantStatus: http.StatusBadRequest, wantBody: "Bad request.", wantCalls: 0, wantLogPart: "invalid organization",
		},
		{
			name: "upstream rate limit", pick: fixed(auditLogs), fault: &portaltest.Fault{Status: 429, RetryAfter: "37"},
			wantStatus: http.StatusServiceUnavailable, wantHeader: map[string]string{"Retry-After": "37"}, wantCalls: 1, wantLogPart: `"request_id":"req_`,
		},
		{
			name: "upstream rate limit without Retry-After", pick: fixed(auditLogs), fault: &portaltest.Fault{Status: 429, Count: 10},
			wantStatus: http.StatusServiceUnavailable, wantHeader: map[string]string{"Retry-After": "5"}, wantCalls: 3,
		},
		{
			name: "upstream 401", key: "sk_test_wrong", pick: fixed(auditLogs),
			wantStatus: http.StatusBadGateway, wantBody: "unavailable", wantCalls: 1, wantLogPart: "401 Unauthorized",
		},
		{
			name: "upstream 500", pick: fixed(auditLogs), fault: &portaltest.Fault{Status: 500, Count: 10, Body: `{"message":"secret internals ` + handlerKey + `"}`},
			wantStatus: http.StatusBadGateway, wantCalls: 3,
		},
		{
			name: "network failure", pick: fixed(auditLogs), fault: &portaltest.Fault{Drop: true, Count: 10},
			wantStatus: http.StatusBadGateway, wantCalls: 3,
		},
		{
			name: "browser went away", pick: fixed(auditLogs), cancel: true, wantStatus: 0, wantCalls: 0,
		},
		{
			name: "nil pick", pick: nil, wantStatus: http.StatusInternalServerError, wantCalls: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := portaltest.Start(t, portaltest.WithAPIKey(handlerKey))
			if tt.fault != nil {
				require.NoError(t, srv.InjectFault(*tt.fault))
			}
			key := tt.key
			if key == "" {
				key = handlerKey
			}
			var logs bytes.Buffer
			client, err := portal.NewClient(key, portal.WithBaseURL(srv.URL), portal.WithRetryBackoff(1, 1),
				portal.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			require.NoError(t, err)

			req := httptest.NewRequest(http.MethodPost, "/settings/admin-portal/audit_logs", nil)
			if tt.cancel {
				ctx, cancel := context.WithCancel(req.Context())
				cancel()
				req = req.WithContext(ctx)
			}
			rec := httptest.NewRecorder()
			portal.RedirectHandler(client, tt.pick).ServeHTTP(rec, req)

			if tt.wantStatus == 0 {
				assert.False(t, rec.Flushed)
				assert.Empty(t, rec.Body.String())
				assert.Empty(t, rec.Header())
			} else {
				assert.Equal(t, tt.wantStatus, rec.Code)
			}
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, rec.Header().Get(k), k)
			}
			assert.Contains(t, rec.Body.String(), tt.wantBody)
			assert.Len(t, srv.Requests(), tt.wantCalls)
			if tt.wantStatus >= 400 {
				assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
				assert.NotContains(t, rec.Body.String(), "secret internals")
			}
			if tt.wantStatus == http.StatusSeeOther {
				reqs := srv.Requests()
				assert.Equal(t, reqs[0].Link, rec.Header().Get("Location"))
			}
			if tt.wantLogPart != "" {
				assert.Contains(t, logs.String(), tt.wantLogPart)
			}
			everything := rec.Body.String() + headerText(rec.Header()) + logs.String()
			assert.NotContains(t, everything, handlerKey, "no response or log contains the API key")
		})
	}
}

func fixed(opts portal.GenerateLinkOpts) func(*http.Request) (portal.GenerateLinkOpts, error) {
	return func(*http.Request) (portal.GenerateLinkOpts, error) { return opts, nil }
}

func refuse(err error) func(*http.Request) (portal.GenerateLinkOpts, error) {
	return func(*http.Request) (portal.GenerateLinkOpts, error) { return portal.GenerateLinkOpts{}, err }
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

func TestClientRedirectLeavesErrorsToTheCaller(t *testing.T) {
	t.Parallel()
	srv := portaltest.Start(t, portaltest.WithOrganizations("org_123"))
	client, err := srv.Client()
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	err = client.Redirect(rec, httptest.NewRequest(http.MethodPost, "/", nil), portal.GenerateLinkOpts{Organization: "org_404", Intent: portal.SSO})
	require.ErrorIs(t, err, portal.ErrBadRequest)
	assert.Empty(t, rec.Header(), "nothing is written on failure")
	assert.Empty(t, rec.Body.String())

	rec = httptest.NewRecorder()
	require.NoError(t, client.Redirect(rec, httptest.NewRequest(http.MethodPost, "/", nil), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO}))
	assert.Equal(t, http.StatusSeeOther, rec.Code)
	assert.True(t, strings.HasPrefix(rec.Header().Get("Location"), srv.URL+"/portal/launch?token="))
}
