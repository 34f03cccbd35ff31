package portaltest_test

import (
	"testing"

	"github.com/adminportal/portal/internal/conformance"
	"github.com/adminportal/portal/portaltest"
)

// TestConformance holds the fake to the API's contract; cmd/portal-mock's
// tests hold the binary to the same table.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := portaltest.NewServer(t, portaltest.WithAPIKey(conformance.Key),
		portaltest.WithOrganizations(conformance.Organizations...))
	conformance.Run(t, srv.URL, srv.HTTPClient())
}
