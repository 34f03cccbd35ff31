package portaltest_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

// A Fake in a server of one's own: here an httptest.Server, as a program
// without a testing.T (an example, a demo) serves it.
func ExampleFake() {
	fake := portaltest.NewFake("http://127.0.0.1", portaltest.WithOrganizations("org_123"))
	api := httptest.NewServer(fake)
	defer api.Close()
	defer fake.Close()
	client, err := portal.NewClient("sk_test_example", portal.WithBaseURL(api.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = client.GenerateLink(context.Background(),
		portal.GenerateLinkOpts{Organization: "org_123", Intent: portal.SSO})
	fmt.Println(err)
	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_456"})
	fmt.Println(err != nil)
	for _, r := range fake.Requests() {
		fmt.Println(r.Status, r.Opts.Organization, r.Opts.Intent)
	}
	// Output:
	// <nil>
	// true
	// 201 org_123 sso
	// 400 org_456
}

func ExampleFake_InjectFault() {
	fake := portaltest.NewFake("http://127.0.0.1")
	api := httptest.NewServer(fake)
	defer api.Close()
	defer fake.Close()
	client, err := portal.NewClient("sk_test_example", portal.WithBaseURL(api.URL),
		portal.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	if err := fake.InjectFault(portaltest.Fault{Status: 503, Count: 1}); err != nil {
		log.Fatal(err)
	}

	_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_123"})
	fmt.Println(err) // the client retried past the fault
	for _, r := range fake.Requests() {
		fmt.Println(r.Status, r.Fault)
	}
	// Output:
	// <nil>
	// 503 status
	// 201
}
