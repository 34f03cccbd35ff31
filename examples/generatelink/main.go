// Command generatelink prints one Admin Portal link.
//
//	go run ./examples/generatelink -org org_123 -intent audit_logs
//
// Without WORKOS_API_KEY it asks an embedded fake of the API, so it runs
// with no WorkOS account. It exits 0 after printing the link and non-zero,
// with a message on standard error, on any failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/adminportal/portal"
	"github.com/adminportal/portal/portaltest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process, for tests; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("generatelink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "org_123", "organization ID")
	intent := fs.String("intent", string(portal.AuditLogs), "portal intent: sso, dsync, audit_logs, log_streams, domain_verification, certificate_renewal or bring_your_own_key")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	var client *portal.Client
	var err error
	if os.Getenv(portal.EnvAPIKey) != "" {
		client, err = portal.NewClient("", portal.WithAppInfo("generatelink-example", portal.Version))
	} else {
		fake := portaltest.NewServer()
		defer fake.Close()
		fmt.Fprintf(stderr, "No %s set: asking an embedded fake of the API.\n", portal.EnvAPIKey)
		client, err = fake.Client()
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
		var invalid *portal.ValidationError
		if errors.As(err, &invalid) {
			return 2
		}
		return 1
	}
	fmt.Fprintln(stdout, link.Link)
	fmt.Fprintf(stderr, "Open it once, before %s.\n", link.ExpiresAt.Format(time.TimeOnly))
	return 0
}
