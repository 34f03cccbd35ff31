package portaltest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

func TestPortalRedirectWaitsOutARateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := portaltest.NewServer(t) // inside the bubble: its network and clock are the bubble's
		api.InjectFault(portaltest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
		h := portal.RedirectHandler(api.Client(), func(*http.Request) (portal.GenerateLinkOpts, error) {
			return portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs}, nil
		})

		start := time.Now()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/settings/admin-portal", nil))
		if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther ||
			!strings.HasPrefix(loc, api.URL+"/portal/launch?token=") {
			t.Fatalf("got %d to %q, want a 303 to a portal link", w.Code, loc)
		}
		if waited := time.Since(start); waited != 2*time.Second {
			t.Errorf("waited %v, want the 2s that the API asked for", waited)
		}
	})
}
