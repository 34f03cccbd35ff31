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
	"strconv"
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
	Method string    `json:"method"` // always POST: other methods are refused before they are recorded
	Path   string    `json:"path"`   // always /portal/generate_link
	Proto  string    `json:"proto"`  // "HTTP/1.1" or "HTTP/2.0"
	// Header holds every header but Authorization, Proxy-Authorization and
	// Cookie, up to 8 KiB of them.
	Header http.Header `json:"header"`
	Key    string      `json:"key"` // Fingerprint of the bearer key; "" without one
	// Body is the request body, cut to its first 4 KiB (BodyTruncated).
	Body          string `json:"body"`
	BodyTruncated bool   `json:"body_truncated,omitempty"`
	// Opts holds the body's fields, up to 4 KiB of them, whenever the body
	// is a JSON object, whatever the answer (a 401 or a fault's too).
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

// What a record keeps is bounded by one measure, its budget: every string
// costs its bytes and its slot, so that a list of empty strings costs what
// its length says. The record's 20 KiB are shared out between its parts,
// so that none crowds out another.
const (
	maxRecorded       = 1000    // requests kept; older ones are only counted
	maxRecordedBody   = 4 << 10 // the body's share, and the response's
	maxRecordedOpts   = 4 << 10 // the body's fields'
	maxRecordedHeader = 8 << 10 // the headers'
)

// A budget is what a part of a record may still keep, in bytes of memory.
type budget int

const (
	slot     = 16 // what a string takes besides its text: a pointer and a length
	mapEntry = 64 // what a header name takes besides its text: a map entry and a slice
)

// keep returns s, scrubbed, cut to limit and to what b allows, and copied,
// and charges b for it; ok is false, and nothing is charged, once b cannot
// pay for even an empty string.
func (b *budget) keep(sc *scrubber, s string, limit int) (kept string, ok bool) {
	if *b < slot {
		return "", false
	}
	kept = sc.cut(s, min(limit, int(*b)-slot))
	*b -= budget(slot + len(kept))
	return kept, true
}

// requestLog keeps the most recent maxRecorded requests, oldest first,
// until Reset replaces it.
type requestLog struct {
	ring    []*Request
	next    int           // where the next record goes once ring is full
	total   int64         // requests since the start or the last reset
	changed chan struct{} // closed and replaced when a request is recorded, or the log reset
}

func newRequestLog() *requestLog { return &requestLog{changed: make(chan struct{})} }

// oldest is the Seq of the oldest record kept.
func (l *requestLog) oldest() int64 { return l.total - int64(len(l.ring)) + 1 }

// record adds a request on its arrival, keeping of it only what its budget
// allows, as copies: no record keeps a piece of the request alive.
func (f *Fake) record(r *http.Request, key string, body []byte, requestID string) *Request {
	sc := newScrubber(key, f.apiKey)
	bodyRoom := budget(maxRecordedBody + slot)
	rec := &Request{Time: f.now(), Method: http.MethodPost, Path: generateLinkPath,
		Proto: "HTTP/" + strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor), RequestID: requestID,
		Header: recordHeader(r.Header, sc), Opts: readOpts(body, sc), BodyTruncated: len(body) > maxRecordedBody}
	rec.Body, _ = bodyRoom.keep(sc, string(body[:min(len(body), maxRecordedBody+lookPast)]), maxRecordedBody)
	if key != "" {
		rec.Key = Fingerprint(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.log
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

// recordHeader keeps the headers of a request but its credentials (Cookie,
// and any *Authorization), in name order, within their share of the budget.
func recordHeader(h http.Header, sc *scrubber) http.Header {
	out := http.Header{}
	room := budget(maxRecordedHeader)
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if name == "Cookie" || strings.Contains(strings.ToLower(name), "authorization") {
			continue
		}
		room -= mapEntry - slot // the name's entry, besides the string that keep charges
		kept, ok := room.keep(sc, name, maxRecordedHeader)
		for _, v := range h[name] {
			if v, ok = room.keep(sc, v, maxRecordedHeader); !ok {
				break
			}
			out[kept] = append(out[kept], v)
		}
		if !ok {
			break
		}
	}
	return out
}

// readOpts reads the fields of a body that is a JSON object, within their
// share of the budget.
func readOpts(body []byte, sc *scrubber) Opts {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return Opts{}
	}
	room := budget(maxRecordedOpts)
	text := func(name string) string {
		var s string
		_ = json.Unmarshal(members[name], &s) // another type stays empty
		s, _ = room.keep(sc, s, maxRecordedOpts)
		return s
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
		e, ok := room.keep(sc, e, maxRecordedOpts)
		if !ok {
			break
		}
		o.ITContactEmails = append(o.ITContactEmails, e)
	}
	return o
}

// finish records the answer to rec, before the client can see it.
func (f *Fake) finish(rec *Request, key string, a *answer, fault, link string) {
	room := budget(maxRecordedBody + slot)
	response, _ := room.keep(newScrubber(key, f.apiKey), a.body, maxRecordedBody)
	f.mu.Lock()
	defer f.mu.Unlock()
	rec.Fault, rec.Link = fault, link
	if !a.drop {
		rec.Status, rec.Response = a.status, response
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

// find returns the record of request seq, if it is kept.
func (l *requestLog) find(seq int64) *Request {
	if seq < l.oldest() || seq > l.total {
		return nil
	}
	return l.ring[(l.next+int(seq-l.oldest()))%len(l.ring)]
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
