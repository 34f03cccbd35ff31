package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Redirect generates a link for opts and redirects the browser to it with
// 303 See Other, for handlers that render their own error pages. On success
// it has written the response and returns nil; on failure it has written
// nothing and returns GenerateLink's error.
//
// The response carries Cache-Control: no-store and Referrer-Policy:
// no-referrer, because the link is a one-time credential that must not be
// cached or leak to the portal's outbound links.
func (c *Client) Redirect(w http.ResponseWriter, r *http.Request, opts GenerateLinkOpts, callOpts ...CallOption) error {
	link, err := c.GenerateLink(r.Context(), opts, callOpts...)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, link.Link, http.StatusSeeOther)
	return nil
}

// RedirectHandler returns a handler that sends the browser to an Admin
// Portal link, the one-line way to offer "View audit logs" or "Configure
// SSO" from a settings page. Mount it on a POST route, so that link
// generation is never triggered by a prefetch or a crawler.
//
// The handler does no authentication or authorization of its own. pick must
// decide, from the application's session, which organization and intent the
// signed-in user may open, and return an error to refuse: that is a 403, or
// a 400 when the error is a [*ValidationError].
//
// Failures are short plain-text responses that reveal nothing of the API
// key or the API's messages: invalid options are a 400 (and reach no API),
// an upstream rate limit is a 503 with Retry-After, and any other API or
// network failure is a 502. When the browser has gone away, nothing is
// written. Each failure is logged through the client's logger (WithLogger)
// with the API's request ID.
func RedirectHandler(c *Client, pick func(*http.Request) (GenerateLinkOpts, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if pick == nil {
			plainError(w, http.StatusInternalServerError, "Internal server error.")
			return
		}
		opts, err := pick(r)
		var invalid *ValidationError
		switch {
		case err == nil:
			err = c.Redirect(w, r, opts)
			if err == nil || r.Context().Err() != nil {
				return // redirected, or the browser went away and nobody would read an answer
			}
		case !errors.As(err, &invalid):
			c.logRedirectFailure(r, http.StatusForbidden, "access refused by pick", err)
			plainError(w, http.StatusForbidden, "You do not have access to this Admin Portal.")
			return
		}
		// err is pick's *ValidationError or the call's error.
		var apiErr *APIError
		switch {
		case errors.As(err, &invalid):
			c.logRedirectFailure(r, http.StatusBadRequest, "invalid options", err)
			plainError(w, http.StatusBadRequest, "Bad request.")
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests:
			c.logRedirectFailure(r, http.StatusServiceUnavailable, "rate limited by the API", err)
			w.Header().Set("Retry-After", retryAfterSeconds(apiErr.RetryAfter))
			plainError(w, http.StatusServiceUnavailable, "The Admin Portal is busy. Try again shortly.")
		default:
			c.logRedirectFailure(r, http.StatusBadGateway, "the API call failed", err)
			plainError(w, http.StatusBadGateway, "The Admin Portal is unavailable. Try again shortly.")
		}
	})
}

// retryAfterSeconds renders a wait as whole seconds, rounded up, with a
// modest default when the API gave none.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		return "5"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

func plainError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

func (c *Client) logRedirectFailure(r *http.Request, status int, why string, err error) {
	if c == nil || c.logger == nil {
		return
	}
	var requestID string
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		requestID = apiErr.RequestID
	}
	c.logger.LogAttrs(r.Context(), slog.LevelWarn, "portal: redirect failed",
		slog.String("why", why),
		slog.Int("status", status),
		slog.String("request_id", requestID),
		slog.String("error", err.Error()),
	)
}
