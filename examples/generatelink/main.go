// Command generatelink prints one Admin Portal link: the command-line way to
// get one, say for a support engineer.
//
//	go run ./examples/generatelink -org org_123 -intent audit_logs
//
// With WORKOS_API_KEY set it asks the API (or WORKOS_BASE_URL); without it,
// an embedded fake of the API, so that it runs with no WorkOS account. It
// exits 0 after printing the link, 2 for bad input and 1 for any other
// failure, with the reason on standard error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"time"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process, for tests; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("generatelink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "org_123", "the organization's `ID`")
	intent := fs.String("intent", string(portal.AuditLogs), "the portal's `intent`: sso, dsync, audit_logs, "+
		"log_streams, domain_verification, certificate_renewal, bring_your_own_key, or a newer one")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	client, err := portal.NewClient("")
	if errors.Is(err, portal.ErrNoAPIKey) {
		fake := httptest.NewServer(portaltest.NewFake("http://127.0.0.1"))
		defer fake.Close()
		fmt.Fprintf(stderr, "No %s set: asking an embedded fake of the API, which stops with this program, "+
			"so its link is for show (run portal-mock for one that stays).\n", portal.EnvAPIKey)
		client, err = portal.NewClient("sk_test_generatelink", portal.WithBaseURL(fake.URL))
	}
	if err != nil {
		fmt.Fprintln(stderr, "generatelink:", err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	link, err := client.GenerateLink(ctx, portal.GenerateLinkOpts{Organization: *org, Intent: portal.Intent(*intent)})
	if err != nil {
		fmt.Fprintln(stderr, "generatelink:", err)
		if errors.As(err, new(*portal.ValidationError)) || errors.Is(err, portal.ErrUnprocessable) {
			return 2
		}
		return 1
	}
	fmt.Fprintln(stdout, link.Link)
	fmt.Fprintln(stderr, "Open it once, within five minutes.")
	return 0
}
