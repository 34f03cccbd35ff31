package portal

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// LinkGenerator is what RedirectHandler needs of a Client; a test can stub it.
type LinkGenerator interface {
	GenerateLink(ctx context.Context, opts GenerateLinkOpts) (*Link, error)
}

// RedirectHandler returns a [Redirector] that serves links from g for the
// options that pick returns, such as for a "View audit logs" button.
func RedirectHandler(g LinkGenerator, pick func(*http.Request) (GenerateLinkOpts, error)) *Redirector {
	return &Redirector{Generator: g, Pick: pick}
}

// Redirector is an http.Handler that sends the browser to an Admin Portal
// link, from a form's POST: a link is a credential, which a safe method
// must not mint, and prefetchers and link checkers send GET. Other methods
// get 405 and cost no API call.
//
// It authenticates nobody: Pick decides, from the application's session,
// which organization and intent the signed-in user may open, or returns an
// error to refuse. Nor does it check where the POST came from: wrap it in
// [http.CrossOriginProtection] so that another site's form cannot make
// your users' browsers open the portal. Success is a 303 with
// Cache-Control: no-store and Referrer-Policy: no-referrer.
//
// Without an ErrorHandler, failures get plain text that reveals nothing of
// the API's answer: 400 for a [*ValidationError], 403 for other errors from
// Pick. The call's failures are logged with [slog.Default] (a cancelled
// request at Info level, others at Error) and answered 503 for
// [ErrRateLimited], with the API's Retry-After, and for [context.Canceled]
// (the browser left, or the server is shutting down), 504 for
// [context.DeadlineExceeded] and 502 for the rest.
type Redirector struct {
	Generator LinkGenerator                                 // usually a *Client
	Pick      func(*http.Request) (GenerateLinkOpts, error) // the options for the signed-in user, or why not

	// ErrorHandler, if set, answers every failure of Pick or of the call,
	// given the error as it is: log it and render your own page, or
	// redirect to sign in, say.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// ServeHTTP answers one click.
func (h *Redirector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plainError(w, http.StatusMethodNotAllowed, "Method not allowed: use a form that POSTs.")
		return
	}
	opts, err := h.Pick(r)
	if err != nil {
		h.pickFailed(w, r, err)
		return
	}
	link, err := h.Generator.GenerateLink(r.Context(), opts)
	if err != nil {
		h.callFailed(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, link.Link, http.StatusSeeOther)
}

// pickFailed answers an error of Pick: the request's fault, or the user's.
func (h *Redirector) pickFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case h.ErrorHandler != nil:
		h.ErrorHandler(w, r, err)
	case errors.As(err, new(*ValidationError)):
		plainError(w, http.StatusBadRequest, "Bad request.")
	default:
		plainError(w, http.StatusForbidden, "You may not open this Admin Portal.")
	}
}

// callFailed answers, and logs, a failure of the call.
func (h *Redirector) callFailed(w http.ResponseWriter, r *http.Request, err error) {
	if h.ErrorHandler != nil {
		h.ErrorHandler(w, r, err)
		return
	}
	status, text, level := http.StatusBadGateway, "The Admin Portal is unavailable. Try again shortly.", slog.LevelError
	var apiErr *APIError
	switch {
	case errors.As(err, new(*ValidationError)):
		status, text = http.StatusBadRequest, "Bad request."
	case errors.Is(err, ErrRateLimited):
		status, text = http.StatusServiceUnavailable, "The Admin Portal is busy. Try again shortly."
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			seconds := (apiErr.RetryAfter + time.Second - 1) / time.Second // whole seconds, rounded up
			w.Header().Set("Retry-After", strconv.FormatInt(int64(seconds), 10))
		}
	case errors.Is(err, context.DeadlineExceeded):
		status, text = http.StatusGatewayTimeout, "The Admin Portal did not answer in time. Try again."
	case errors.Is(err, context.Canceled): // the browser has gone, or the server is shutting down: nothing to fix
		status, text, level = http.StatusServiceUnavailable, "The request was cancelled. Try again.", slog.LevelInfo
	}
	// The text goes through the library's one cleaning, as a stub's error may not have.
	slog.Default().Log(r.Context(), level, "portal: RedirectHandler: no link", "status", status,
		"error", safeText(err.Error(), ""))
	plainError(w, status, text)
}

func plainError(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text + "\n"))
}
