package portaltest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Request is one generate-link request as the fake saw and answered it,
// whatever the client sent: it round-trips through its own JSON. It never
// holds the API key: the key is recorded as a fingerprint, and masked
// wherever else it appears.
type Request struct {
	Seq    int64     `json:"seq"`    // 1 for the first request since the fake started or was reset
	Time   time.Time `json:"time"`   // arrival, by the fake's clock
	Method string    `json:"method"` // POST, unless the caller erred
	Path   string    `json:"path"`
	Proto  string    `json:"proto"` // "HTTP/1.1" or "HTTP/2.0"
	// Header holds every header but Authorization, Proxy-Authorization and
	// Cookie, up to 8 KiB of them.
	Header http.Header `json:"header"`
	Key    string      `json:"key"` // Fingerprint of the bearer key; "" without one
	// Body is the request body, cut to its first 4 KiB (BodyTruncated).
	Body          string `json:"body"`
	BodyTruncated bool   `json:"body_truncated,omitempty"`
	// Opts holds the body's fields, up to 4 KiB of their text, whenever the
	// body is a JSON object, whatever the answer (a 401 or a fault's too).
	Opts Opts `json:"opts"`
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

// Opts are the fields of a generate-link request body as the client sent
// them, in plain strings: a field that is missing, null or of another type
// is empty, and it_contact_emails is read from admin_emails, its older name,
// when it is not there.
type Opts struct {
	Organization    string   `json:"organization,omitempty"`
	Intent          string   `json:"intent,omitempty"`
	ReturnURL       string   `json:"return_url,omitempty"`
	SuccessURL      string   `json:"success_url,omitempty"`
	ITContactEmails []string `json:"it_contact_emails,omitempty"`
}

const (
	maxRecorded       = 1000    // requests kept; older ones are only counted
	maxRecordedBody   = 4 << 10 // of each request and response body
	maxRecordedHeader = 8 << 10 // of each request's header values
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

// record adds a request on its arrival. What it keeps is scrubbed of the
// key first, then cut short, and copied, so that no cut leaves a piece of
// the key and no record keeps the whole request alive.
func (f *Fake) record(r *http.Request, key string, body []byte, requestID string) *Request {
	text := scrub(string(body), key)
	rec := &Request{Time: f.now(), Method: r.Method, Path: r.URL.Path, Proto: r.Proto, RequestID: requestID,
		Header: recordHeader(r.Header, key), Body: strings.Clone(truncate(text, maxRecordedBody)),
		BodyTruncated: len(text) > maxRecordedBody, Opts: readOpts(body, key)}
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

// recordHeader copies the headers of a request but for its credentials,
// scrubbed of key, up to maxRecordedHeader bytes of values.
func recordHeader(h http.Header, key string) http.Header {
	out := http.Header{}
	size := 0
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if name == "Authorization" || name == "Proxy-Authorization" || name == "Cookie" {
			continue
		}
		for _, v := range h[name] {
			if size += len(name) + len(v); size > maxRecordedHeader {
				return out
			}
			out[name] = append(out[name], scrub(v, key))
		}
	}
	return out
}

// readOpts reads the fields of a body that is a JSON object, scrubbed of
// key, keeping at most 4 KiB of their text, as for the body.
func readOpts(body []byte, key string) Opts {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return Opts{}
	}
	room := maxRecordedBody
	keep := func(s string) string {
		s = truncate(scrub(s, key), room)
		room -= len(s)
		return strings.Clone(s)
	}
	text := func(name string) string {
		var s string
		_ = json.Unmarshal(members[name], &s)
		return keep(s)
	}
	o := Opts{Organization: text("organization"), Intent: text("intent"), ReturnURL: text("return_url"),
		SuccessURL: text("success_url")}
	emails := members["it_contact_emails"]
	if len(emails) == 0 || string(emails) == "null" {
		emails = members["admin_emails"]
	}
	var all []string
	_ = json.Unmarshal(emails, &all) // an item of another type stays empty
	for _, e := range all {
		if room == 0 {
			break
		}
		o.ITContactEmails = append(o.ITContactEmails, keep(e))
	}
	return o
}

// finish records the answer to rec, before the client can see it.
func (f *Fake) finish(rec *Request, key string, a *answer, fault, link string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec.Fault, rec.Link = fault, link
	if a != nil {
		rec.Status, rec.Response = a.status, strings.Clone(truncate(scrub(a.body, key), maxRecordedBody))
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

// ErrClosed is the error of WaitForRequests once the fake is closed.
var ErrClosed = errors.New("portaltest: the fake is closed")

// WaitForRequests waits until n generate-link requests have arrived since
// the fake started or was reset, and returns Requests; or, if ctx is done
// or the fake closes first, it returns Requests and why it stopped waiting.
// A test uses it instead of sleeping while its code calls the fake from
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
		case <-f.closed:
			return f.Requests(), ErrClosed
		}
	}
}

// Fingerprint returns what the fake records of an API key (Request.Key):
// "sha256:" and the first 12 hex digits of its SHA-256, enough to tell keys
// apart and useless to anyone who reads it.
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
