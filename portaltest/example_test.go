package portaltest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// A test of code that generates links. In a real test, Start(t) replaces
// NewServer and Close.
func ExampleServer() {
	srv := portaltest.NewServer(portaltest.WithOrganizations("org_123"))
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}

	link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.AuditLogs})
	if err != nil {
		log.Fatal(err)
	}

	req := srv.Requests()[0]
	fmt.Println(req.Opts.Organization, req.Opts.Intent, req.Status)

	resp, err := http.Get(link.Link)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	again, err := http.Get(link.Link)
	if err != nil {
		log.Fatal(err)
	}
	again.Body.Close()
	fmt.Println(resp.StatusCode, again.StatusCode)
	// Output:
	// org_123 audit_logs 200
	// 200 410
}

// Testing how code copes with a rate limit: the client retries through two
// 429s and gets a link.
func ExampleFake_InjectFault() {
	srv := portaltest.NewServer()
	defer srv.Close()
	if err := srv.InjectFault(portaltest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0", Count: 2}); err != nil {
		log.Fatal(err)
	}
	client, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
	fmt.Println(err)
	for _, r := range srv.Requests() {
		fmt.Println(r.Status, r.Fault)
	}
	// Output:
	// <nil>
	// 429 status
	// 429 status
	// 200
}
