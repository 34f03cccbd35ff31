package portal_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// The WorkOS documentation's Go snippet, unchanged but for its import path.
// Here a portaltest server stands in for the API through the same
// environment variables a CI job would set.
func Example() {
	srv := portaltest.NewServer()
	defer srv.Close()
	os.Setenv("WORKOS_BASE_URL", srv.URL)
	os.Setenv("WORKOS_API_KEY", srv.APIKey)
	defer os.Unsetenv("WORKOS_BASE_URL")
	defer os.Unsetenv("WORKOS_API_KEY")

	apiKey := os.Getenv("WORKOS_API_KEY")
	portal.SetAPIKey(apiKey)

	// The ID of the organization to start an Admin Portal session for
	organizationID := "org_123"

	link, err := portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{
		Organization: organizationID,
		Intent:       portal.AuditLogs,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Redirect to link.Link
	fmt.Println(strings.HasPrefix(link.Link, srv.URL+"/portal/launch?token="))
	// Output: true
}

// A handler that sends the signed-in admin to the audit-log portal of their
// organization. The client is built once at start-up and shared.
func ExampleClient_GenerateLink() {
	srv := portaltest.NewServer() // the real API in production: portal.NewClient(os.Getenv("WORKOS_API_KEY"))
	defer srv.Close()
	client, err := portal.NewClient(srv.APIKey, portal.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orgID := "org_01EHZNVPK3SFK441A1RGBFSHRT" // from your session, after checking the user is an admin of it
		link, err := client.GenerateLink(r.Context(), portal.GenerateLinkOpts{
			Organization: orgID,
			Intent:       portal.AuditLogs,
			ReturnURL:    "https://app.example.com/settings",
		})
		if err != nil {
			http.Error(w, "the Admin Portal is unavailable, try again shortly", http.StatusBadGateway)
			return
		}
		w.Header().Set("Cache-Control", "no-store") // the link is a one-time credential
		http.Redirect(w, r, link.Link, http.StatusSeeOther)
	})

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/settings/audit-logs", nil))
	fmt.Println(rec.Code, strings.HasPrefix(rec.Header().Get("Location"), srv.URL+"/portal/launch?token="))
	// Output: 303 true
}

// Telling the caller's mistakes from the API's failures.
func ExampleAPIError() {
	srv := portaltest.NewServer(portaltest.WithOrganizations("org_123"))
	defer srv.Close()
	client, err := portal.NewClient(srv.APIKey, portal.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	for _, orgID := range []string{"acme", "org_456"} {
		_, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: orgID, Intent: portal.SSO})
		var invalid *portal.ValidationError
		var apiErr *portal.APIError
		switch {
		case errors.As(err, &invalid):
			// Nothing was sent: fix the input.
			fmt.Println("invalid", invalid.Field)
		case errors.Is(err, portal.ErrBadRequest) && errors.As(err, &apiErr):
			fmt.Println(apiErr.StatusCode, apiErr.Message, apiErr.RequestID != "")
		case err != nil:
			fmt.Println("unexpected:", err)
		}
	}
	// Output:
	// invalid organization
	// 400 Could not find an organization with the id, org_456. true
}

// Per-call options: an idempotency key of the caller's, and a tighter
// deadline with no retries for a latency-sensitive path.
func ExampleIdempotencyKey() {
	srv := portaltest.NewServer()
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	opts := portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.DSync}
	first, err := client.GenerateLink(context.Background(), opts, portal.IdempotencyKey("invite-8841"))
	if err != nil {
		log.Fatal(err)
	}
	again, err := client.GenerateLink(context.Background(), opts, portal.IdempotencyKey("invite-8841"), portal.CallMaxRetries(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Link == again.Link)
	// Output: true
}

func ExampleGenerateLinkOpts_Validate() {
	err := portal.GenerateLinkOpts{
		Organization: "org_123",
		Intent:       portal.AuditLogs,
		ReturnURL:    "http://app.example.com/settings",
	}.Validate()
	fmt.Println(err)
	// Output: portal: invalid return_url: must use https; http is allowed only for localhost and loopback addresses; got "http://app.example.com/settings"
}
