// The Go snippet of the WorkOS documentation page "View Audit Log events for
// an organization in the WorkOS Admin Portal" (workos.com/docs, Audit Logs,
// Admin Portal), with its import path changed to this module's. Two lines are added, marked below: Go refuses
// a variable that is declared and not used, so the snippet needs a use of
// link to compile.
package main

import (
	"context"
	"fmt" // added
	"os"

	"github.com/adminportal/portal"
)

func main() {
	apiKey := os.Getenv("WORKOS_API_KEY")
	portal.SetAPIKey(apiKey)

	// The ID of the organization to start an Admin Portal session for
	organizationID := "org_123"

	link, err := portal.GenerateLink(context.Background(), portal.GenerateLinkOpts{
		Organization: organizationID,
		Intent:       portal.AuditLogs,
	})
	if err != nil {
		// Handle the error...
	}

	// Redirect to link.Link
	fmt.Println(link.Link) // added
}
