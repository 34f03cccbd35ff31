package portal

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// LinkGenerator is what RedirectHandler needs of a Client; a test can stub it.
type LinkGenerator interface {
	GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error)
}

// RedirectHandler returns a [Redirector] that serves links from g for the
// options that pick returns, such as for a "View audit logs" button.
func RedirectHandler(g LinkGenerator, pick func(*http.Request) (GenerateLinkOpts, error)) *Redirector {
	return &Redirector{Links: g, Pick: pick}
}

// Redirector is an http.Handler that sends the browser to an Admin Portal
// link. It answers GET and POST (prefer POST, which no prefetch sends);
// other methods, HEAD included, get 405 and cost no API call.
//
// It authenticates nobody: Pick decides, from the application's session,
// which organization and intent the signed-in user may open, or returns an
// error to refuse. Success is a 303 with Cache-Control: no-store and
// Referrer-Policy: no-referrer, as the link is a credential.
//
// Without an ErrorHandler, failures get plain text that reveals nothing of
// the API's answer: 400 for a [*ValidationError], 403 for other errors from
// Pick; for the call's errors, which [slog.Default] logs, 503 for
// [ErrRateLimited] and [context.Canceled] (the browser left, or the server
// is shutting down), 504 for [context.DeadlineExceeded] and 502 for the
// rest.
type Redirector struct {
	Links LinkGenerator                                 // usually a *Client
	Pick  func(*http.Request) (GenerateLinkOpts, error) // the options for the signed-in user, or why not

	// ErrorHandler, if set, answers every failure of Pick or of the call,
	// given the error as it is: log it and render your own page, or
	// redirect to sign in, say.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// ServeHTTP answers one click.
func (h *Redirector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		plainError(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	opts, err := h.Pick(r)
	if err != nil {
		h.fail(w, r, err, false)
		return
	}
	link, err := h.Links.GenerateLink(r.Context(), opts)
	if err != nil {
		h.fail(w, r, err, true)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, link.Link, http.StatusSeeOther)
}

// fail answers a failure of Pick or, when ofCall, of the call.
func (h *Redirector) fail(w http.ResponseWriter, r *http.Request, err error, ofCall bool) {
	if h.ErrorHandler != nil {
		h.ErrorHandler(w, r, err)
		return
	}
	status, text := http.StatusBadGateway, "The Admin Portal is unavailable. Try again shortly."
	switch {
	case errors.As(err, new(*ValidationError)):
		status, text = http.StatusBadRequest, "Bad request."
	case !ofCall:
		status, text = http.StatusForbidden, "You may not open this Admin Portal."
	case errors.Is(err, ErrRateLimited):
		status, text = http.StatusServiceUnavailable, "The Admin Portal is busy. Try again shortly."
	case errors.Is(err, context.DeadlineExceeded):
		status, text = http.StatusGatewayTimeout, "The Admin Portal did not answer in time. Try again."
	case errors.Is(err, context.Canceled): // the browser has gone, or the server is shutting down
		status, text = http.StatusServiceUnavailable, "The request was cancelled. Try again."
	}
	if ofCall {
		slog.Default().ErrorContext(r.Context(), "portal: RedirectHandler: no link", "status", status, "error", err.Error())
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
