package portaltest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/adminportal/portal"
)

// Request is one generate-link request as the fake saw and answered it. It
// never holds an API key: the key is recorded as a fingerprint, and masked
// wherever else it appears.
type Request struct {
	Seq    int64       `json:"seq"`    // 1 for the first request since the fake started or was reset
	Time   time.Time   `json:"time"`   // arrival, by the fake's clock
	Method string      `json:"method"` // POST, unless the caller erred
	Path   string      `json:"path"`
	Proto  string      `json:"proto"`  // "HTTP/1.1" or "HTTP/2.0"
	Header http.Header `json:"header"` // every header but Authorization, Proxy-Authorization and Cookie
	Key    string      `json:"key"`    // Fingerprint of the bearer key; "" without one
	// Body is the request body, cut to its first 4 KiB (BodyTruncated).
	Body          string `json:"body"`
	BodyTruncated bool   `json:"body_truncated,omitempty"`
	// Opts holds the body's fields, as far as they parsed.
	Opts portal.GenerateLinkOpts `json:"opts"`
	// Status is the status answered: 0 while the request is in progress,
	// and for a dropped connection.
	Status    int    `json:"status"`
	Response  string `json:"response"`   // the body answered, cut to 4 KiB
	RequestID string `json:"request_id"` // the X-Request-Id answered
	Link      string `json:"link,omitempty"`
	// Fault names the injected fault that shaped the answer, if any:
	// "status", "drop", "malformed" or "latency".
	Fault string `json:"fault,omitempty"`
}

const (
	maxRecorded     = 1000    // requests kept; older ones are only counted
	maxRecordedBody = 4 << 10 // of each request and response body
)

// requestLog keeps the most recent maxRecorded requests, oldest first.
type requestLog struct {
	ring    []*Request
	next    int           // where the next record goes once ring is full
	total   int64         // requests since the start or the last reset
	changed chan struct{} // closed and replaced when a request is recorded
}

func (l *requestLog) reset() {
	if l.changed != nil {
		close(l.changed) // wake waiters, so that they see the reset
	}
	*l = requestLog{changed: make(chan struct{})}
}

// record adds a request on its arrival.
func (f *Fake) record(r *http.Request, key string, body []byte, requestID string) *Request {
	header := r.Header.Clone()
	for _, name := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		header.Del(name)
	}
	for _, values := range header {
		for i, v := range values {
			values[i] = scrub(v, key)
		}
	}
	rec := &Request{Time: f.now(), Method: r.Method, Path: r.URL.Path, Proto: r.Proto, Header: header, RequestID: requestID,
		Body: scrub(truncate(string(body), maxRecordedBody), key), BodyTruncated: len(body) > maxRecordedBody}
	if key != "" {
		rec.Key = Fingerprint(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := &f.log
	l.total++
	rec.Seq = l.total
	if len(l.ring) < maxRecorded {
		l.ring = append(l.ring, rec)
	} else {
		l.ring[l.next] = rec
		l.next = (l.next + 1) % maxRecorded
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return rec
}

// finish records the answer to rec, before the client can see it.
func (f *Fake) finish(rec *Request, key string, a *answer, fault string, opts portal.GenerateLinkOpts, link string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	opts.Organization, opts.ReturnURL, opts.SuccessURL = scrub(opts.Organization, key), scrub(opts.ReturnURL, key), scrub(opts.SuccessURL, key)
	opts.Intent = portal.Intent(scrub(string(opts.Intent), key))
	for i, e := range opts.ITContactEmails {
		opts.ITContactEmails[i] = scrub(e, key)
	}
	rec.Fault, rec.Opts, rec.Link = fault, opts, link
	if a != nil {
		rec.Status, rec.Response = a.status, scrub(truncate(a.body, maxRecordedBody), key)
	}
}

// Requests returns copies of the most recent generate-link requests, up to
// 1,000, oldest first; Total counts them all. A request in progress is
// listed, with Status 0.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.snapshot()
}

func (l *requestLog) snapshot() []Request {
	out := make([]Request, 0, len(l.ring))
	for i := range l.ring {
		r := *l.ring[(l.next+i)%len(l.ring)]
		r.Header, r.Opts.ITContactEmails = r.Header.Clone(), slices.Clone(r.Opts.ITContactEmails)
		out = append(out, r)
	}
	return out
}

// Total returns how many generate-link requests arrived since the fake
// started or was reset, including those no longer kept by Requests.
func (f *Fake) Total() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.total
}

// WaitForRequests waits until n generate-link requests have arrived since
// the fake started or was reset, or ctx is done, and returns Requests. A
// test uses it instead of sleeping while its code calls the fake from
// another goroutine.
func (f *Fake) WaitForRequests(ctx context.Context, n int) ([]Request, error) {
	for {
		f.mu.Lock()
		if f.log.total >= int64(n) {
			defer f.mu.Unlock()
			return f.log.snapshot(), nil
		}
		changed := f.log.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return f.Requests(), ctx.Err()
		}
	}
}

// Fingerprint returns what the fake records of an API key (Request.Key):
// the first 12 hex digits of its SHA-256, enough to tell keys apart and
// useless to anyone who reads it.
func Fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// scrub masks key wherever it appears in s.
func scrub(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[REDACTED]")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
