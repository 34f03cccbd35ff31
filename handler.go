package portal

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// LinkGenerator is what RedirectHandler needs of a Client; a test can stub it.
type LinkGenerator interface {
	GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error)
}

// RedirectHandler returns a handler that sends the browser to an Admin
// Portal link, such as a settings page's "View audit logs" button. It
// answers GET and POST (prefer POST, which no prefetch or crawler sends);
// other methods, HEAD included, get 405 and cost no API call.
//
// It authenticates nobody: pick decides, from the application's session,
// which organization and intent the signed-in user may open, or returns an
// error to refuse. Success is a 303 with Cache-Control: no-store and
// Referrer-Policy: no-referrer, as the link is a credential.
//
// An error from pick or g that implements [http.Handler] (found with
// [errors.As]) answers the request itself: a redirect to a sign-in page,
// say. Others get plain text that reveals nothing of the API's answer: 400
// for a [*ValidationError], 403 for other errors from pick, 503 with
// Retry-After when the API rate limits, 502 for other failures of g, and
// nothing when the browser has gone away.
func RedirectHandler(g LinkGenerator, pick func(*http.Request) (GenerateLinkOpts, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			plainError(w, http.StatusMethodNotAllowed, "Method not allowed.")
			return
		}
		opts, err := pick(r)
		if err != nil {
			serveError(w, r, err, http.StatusForbidden, "You may not open this Admin Portal.")
			return
		}
		link, err := g.GenerateLink(r.Context(), opts)
		switch {
		case err == nil:
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
			http.Redirect(w, r, link.Link, http.StatusSeeOther)
		case r.Context().Err() == nil:
			serveError(w, r, err, http.StatusBadGateway, "The Admin Portal is unavailable. Try again shortly.")
		}
	})
}

// serveError answers a failure with status and text, unless err's kind decides.
func serveError(w http.ResponseWriter, r *http.Request, err error, status int, text string) {
	var custom http.Handler
	var apiErr *APIError
	switch {
	case errors.As(err, &custom):
		custom.ServeHTTP(w, r)
		return
	case errors.As(err, new(*ValidationError)):
		status, text = http.StatusBadRequest, "Bad request."
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int((max(apiErr.RetryAfter, time.Second)+time.Second-1)/time.Second)))
		status, text = http.StatusServiceUnavailable, "The Admin Portal is busy. Try again shortly."
	}
	plainError(w, status, text)
}

func plainError(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text + "\n"))
}
