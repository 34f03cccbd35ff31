// Package portaltest provides a fake of the WorkOS Admin Portal API for
// tests, in the manner of net/http/httptest.
//
// A [Server] serves on an in-memory network, so that a test can run it in a
// [testing/synctest] bubble, where a rate limit's Retry-After, a latency, the
// client's backoff and a link's five minutes pass at once:
//
//	func TestRateLimit(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			api := portaltest.NewServer(t) // inside the bubble
//			api.InjectFault(portaltest.Fault{Status: 429, RetryAfter: "2"})
//			start := time.Now()
//			_, err := api.Client().GenerateLink(t.Context(), portal.GenerateLinkOpts{Organization: "org_123"})
//			if err != nil || time.Since(start) != 2*time.Second {
//				t.Fatalf("got %v after %v, want a link after the 2s the API asked for", err, time.Since(start))
//			}
//		})
//	}
//
// The same test runs outside a bubble, in real time. [Server.Start] moves
// the server to a loopback address for what must reach it from outside the
// process: code that dials WORKOS_BASE_URL with its own client, an SDK in
// another language, a browser.
//
// The fake answers POST /portal/generate_link as the API's published
// contract says the real one does: it checks the bearer key and the body,
// answers 201 with a link or with the API's error bodies, and puts a UUID
// X-Request-Id on every answer. Its links open a small portal page once,
// within five minutes. It records the last 1,000 requests (never a key) and
// injects faults, so that tests can check both what their code sent and how
// it copes with failures.
//
// A web page on the developer's machine must not reach it: it answers only
// requests whose Host is localhost, a loopback IP, its own host or a name of
// [WithHosts] (against DNS rebinding), refuses cross-site requests on every
// path but the portal page, and changes nothing (no record, fault, link or
// setting) for a request that a page could send without a CORS preflight.
// What it keeps is bounded, whatever arrives.
//
// [Fake] is the same fake as an http.Handler, for a server of one's own.
// cmd/portal-mock serves it to CI jobs in any language; its control
// endpoints under /__mock/ are served here too.
package portaltest
