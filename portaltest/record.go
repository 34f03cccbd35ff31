package portaltest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"regexp"
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
	keys := secrets{key, f.apiKey}
	rec := &Request{Time: f.now(), Method: r.Method, Path: r.URL.Path, Proto: r.Proto, RequestID: requestID,
		Header: recordHeader(r.Header, keys), Body: keys.cut(string(body), maxRecordedBody),
		BodyTruncated: len(body) > maxRecordedBody, Opts: readOpts(body, keys)}
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

// recordHeader copies the headers of a request but for its credentials
// (Cookie, and any *Authorization), scrubbed of keys, up to
// maxRecordedHeader bytes as they take in memory, and 64 values.
func recordHeader(h http.Header, keys secrets) http.Header {
	out := http.Header{}
	size, count := 0, 0
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if name == "Cookie" || strings.Contains(strings.ToLower(name), "authorization") {
			continue
		}
		for _, v := range h[name] {
			// A value costs its name, its text and a string header besides.
			if size, count = size+len(name)+len(v)+32, count+1; size > maxRecordedHeader || count > 64 {
				return out
			}
			scrubbed := keys.cut(name, maxRecordedHeader)
			out[scrubbed] = append(out[scrubbed], keys.cut(v, maxRecordedHeader))
		}
	}
	return out
}

// readOpts reads the fields of a body that is a JSON object, scrubbed of
// keys, keeping at most 4 KiB of their text, as for the body.
func readOpts(body []byte, keys secrets) Opts {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return Opts{}
	}
	room := maxRecordedBody
	keep := func(s string) string {
		s = keys.cut(s, room)
		room -= len(s) // cut keeps at most room bytes
		return s
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
		rec.Status, rec.Response = a.status, secrets{key, f.apiKey}.cut(a.body, maxRecordedBody)
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

// inOrder returns the records kept, oldest first. They are shared: read
// them under the fake's lock.
func (l *requestLog) inOrder() []*Request {
	out := make([]*Request, 0, len(l.ring))
	for i := range l.ring {
		out = append(out, l.ring[(l.next+i)%len(l.ring)])
	}
	return out
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

// secrets are the keys that the fake must not record: the one a request
// presented, and the one it accepts.
type secrets []string

// keyShaped matches text that has the form of an API key, in any case, as
// a header's name takes.
var keyShaped = regexp.MustCompile(`(?i)sk_[a-z]+_[0-9a-z]{4,}`)

// cut returns a copy of the first limit bytes of s, masked before it is
// cut, so that no cut leaves a piece of a key: anything shaped like a key,
// and every 8 characters in a row of a secret (all of a shorter one),
// become [REDACTED]. Only the start of s is read, so that a large body
// costs no more than a small one.
func (k secrets) cut(s string, limit int) string {
	s = s[:min(len(s), limit+1024)] // far longer than a key
	s = keyShaped.ReplaceAllString(s, "[REDACTED]")
	for _, key := range k {
		run := min(8, len(key))
		for i := 0; run > 0 && i+run <= len(key); i++ {
			s = strings.ReplaceAll(s, key[i:i+run], "[REDACTED]")
		}
	}
	return strings.Clone(s[:min(len(s), limit)])
}
