package portaltest_test

import (
	"context"
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

// TestLinksOpenOnceWithinFiveMinutes, outside a bubble, moves the fake's
// clock with WithClock.
func TestLinksOpenOnceWithinFiveMinutes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := portaltest.NewServer(t, portaltest.WithClock(clock))
	client := srv.Client()
	open := func(link string) (int, string) {
		return send(t, srv, http.MethodGet, strings.TrimPrefix(link, srv.URL), "")
	}

	link, err := client.GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	assert.Equal(t, now, srv.Requests()[0].Time, "stamped by the clock")
	status, page := open(link.Link)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "org_123")
	assert.Contains(t, page, "Audit Logs")
	assert.Contains(t, page, "Export as CSV")
	assert.Contains(t, page, "<td>2026-11-27T08:57:00Z</td>", "sample events end at the clock's now")
	assert.Contains(t, page, "<td>2026-11-27T08:20:00Z</td>", "every 37 minutes")
	status, page = open(link.Link)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, page, "already been used")
	assert.Contains(t, page, `href="https://app.example.com/settings"`, "the refusal leads back to the application")

	for _, age := range []time.Duration{5*time.Minute - 1, 5 * time.Minute} {
		link, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123"})
		require.NoError(t, err)
		mu.Lock()
		now = now.Add(age)
		mu.Unlock()
		status, page = open(link.Link)
		if age < 5*time.Minute {
			assert.Equal(t, http.StatusOK, status, "a link works for five minutes")
		} else {
			assert.Equal(t, http.StatusGone, status, "and no longer")
			assert.Contains(t, page, "expired")
		}
	}

	status, _ = open(srv.URL + "/portal/launch?token=forged")
	assert.Equal(t, http.StatusNotFound, status)
}

// TestLinksExpireInABubble: in a synctest bubble the fake's clock is the
// bubble's, and sleeping expires a link.
func TestLinksExpireInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := portaltest.NewServer(t)
		link, err := srv.Client().GenerateLink(context.Background(), auditLogs)
		require.NoError(t, err)
		time.Sleep(5 * time.Minute)
		status, page := send(t, srv, http.MethodGet, strings.TrimPrefix(link.Link, srv.URL), "")
		assert.Equal(t, http.StatusGone, status)
		assert.Contains(t, page, "expired")
	})
}

// TestOnlyAGETOpensALink: a HEAD, which link checkers send, and other
// methods are refused, and leave the link unused.
func TestOnlyAGETOpensALink(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	link, err := srv.Client().GenerateLink(context.Background(), auditLogs)
	require.NoError(t, err)
	path := strings.TrimPrefix(link.Link, srv.URL)
	for _, method := range []string{http.MethodHead, http.MethodPost, http.MethodPut} {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, method)
		assert.Equal(t, http.MethodGet, resp.Header.Get("Allow"), method)
	}
	status, _ := send(t, srv, http.MethodGet, path, "")
	assert.Equal(t, http.StatusOK, status)
}

// TestPortalPages: each intent has its page, and a link without one the
// settings page; only audit logs have events to export; the page runs no
// script.
func TestPortalPages(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t)
	client := srv.Client()
	for intent, heading := range map[portal.Intent]string{"": "Settings", portal.SSO: "Single Sign-On",
		portal.DSync: "Directory Sync", portal.AuditLogs: "Audit Logs", portal.LogStreams: "Log Streams",
		portal.DomainVerification: "Domain Verification", portal.CertificateRenewal: "Certificate Renewal",
		portal.BringYourOwnKey: "Bring Your Own Key"} {
		link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123",
			Intent: intent, SuccessURL: "https://app.example.com/done"})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodGet, link.Link, nil)
		require.NoError(t, err)
		resp, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, string(page), "<title>Admin Portal · "+heading+"</title>", intent)
		assert.Equal(t, intent == portal.AuditLogs, strings.Contains(string(page), `id="events"`), intent)
		assert.Contains(t, string(page), `id="success" href="https://app.example.com/done"`, intent)
		assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		assert.Equal(t, "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
			resp.Header.Get("Content-Security-Policy"))
	}
}
