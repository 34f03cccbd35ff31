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

// The examples call a fake of the API from package portaltest; in
// production, the client comes from portal.NewClient(os.Getenv("WORKOS_API_KEY")).

func Example() {
	api := httptest.NewServer(portaltest.NewFake("http://127.0.0.1"))
	defer api.Close()
	client, err := portal.NewClient("sk_test_example", portal.WithBaseURL(api.URL))
	if err != nil {
		log.Fatal(err) // a missing key or a bad option: fail at start-up
	}

	// In a request handler:
	link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{
		Organization: "org_01EHZNVPK3SFK441A1RGBFSHRT",
		Intent:       portal.AuditLogs,
	})
	if err != nil {
		log.Print(err)
		return
	}
	// http.Redirect(w, r, link.Link, http.StatusSeeOther)
	fmt.Println(strings.HasPrefix(link.Link, api.URL+"/portal/launch?token="))
	// Output: true
}

func ExampleSetAPIKey() {
	api := httptest.NewServer(portaltest.NewFake("http://127.0.0.1"))
	defer api.Close()
	os.Setenv("WORKOS_BASE_URL", api.URL) // as a CI job points this module's unchanged code at a mock
	defer os.Unsetenv("WORKOS_BASE_URL")

	portal.SetAPIKey("sk_test_example") // usually os.Getenv("WORKOS_API_KEY")
	link, err := portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{
		Organization: "org_123",
		Intent:       portal.AuditLogs,
	})
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Println(link.Link != "")
	// Output: true
}

func ExampleRedirectHandler() {
	api := httptest.NewServer(portaltest.NewFake("http://127.0.0.1"))
	defer api.Close()
	client, err := portal.NewClient("sk_test_example", portal.WithBaseURL(api.URL))
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /settings/admin-portal/{intent}", portal.RedirectHandler(client,
		func(r *http.Request) (portal.GenerateLinkOpts, error) {
			// Take the organization from your own session, after checking
			// that the signed-in user administers it.
			intent, err := portal.ParseIntent(r.PathValue("intent")) // 400 unless documented
			return portal.GenerateLinkOpts{Organization: "org_123", Intent: intent}, err
		}))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/settings/admin-portal/audit_logs", nil))
	fmt.Println(w.Code, strings.HasPrefix(w.Header().Get("Location"), api.URL))
	// Output: 303 true
}

func ExampleAPIError() {
	fake := portaltest.NewFake("http://127.0.0.1")
	api := httptest.NewServer(fake)
	defer api.Close()
	_ = fake.InjectFault(portaltest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30"})
	client, err := portal.NewClient("sk_test_example", portal.WithBaseURL(api.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123"})
	var apiErr *portal.APIError
	if errors.Is(err, portal.ErrRateLimited) && errors.As(err, &apiErr) {
		fmt.Println("rate limited; come back in", apiErr.RetryAfter)
	}
	// Output: rate limited; come back in 30s
}

// An intent newer than this package is sent as it is; the API decides.
// (The fake knows only the documented intents, so it refuses this one.)
func ExampleIntent() {
	api := httptest.NewServer(portaltest.NewFake("http://127.0.0.1"))
	defer api.Close()
	client, err := portal.NewClient("sk_test_example", portal.WithBaseURL(api.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{
		Organization: "org_123",
		Intent:       portal.Intent("billing_portal"),
	})
	fmt.Println(errors.Is(err, portal.ErrUnprocessable))
	// Output: true
}

// ParseIntent takes the documented intents only, such as from a URL path.
func ExampleParseIntent() {
	for _, name := range []string{"audit_logs", "Audit Logs", "billing"} {
		intent, err := portal.ParseIntent(name)
		var invalid *portal.ValidationError
		fmt.Printf("%q %q %v\n", name, intent, errors.As(err, &invalid) && invalid.Field == "intent")
	}
	// Output:
	// "audit_logs" "audit_logs" false
	// "Audit Logs" "" true
	// "billing" "" true
}

func ExampleGenerateLinkOpts_Validate() {
	opts := portal.GenerateLinkOpts{Organization: "org_123", ReturnURL: "/settings"}
	var invalid *portal.ValidationError
	if err := opts.Validate(); errors.As(err, &invalid) {
		fmt.Println(invalid.Field)
		fmt.Println(err)
	}
	// Output:
	// return_url
	// portal: invalid return_url "/settings": must be an http or https URL with a host
}
