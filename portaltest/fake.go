package portaltest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/adminportal/portal"
)

// maxRequestBody bounds what the fake reads of a request, as the API does.
const maxRequestBody = 1 << 20

// Fake is the fake API as an http.Handler, for tests that mount it in a
// server of their own. Most tests want a Server instead. It is safe for
// concurrent use.
type Fake struct {
	apiKey string          // "" accepts any sk_test_ key
	orgs   map[string]bool // nil: every well-formed ID exists
	now    func() time.Time

	closed    chan struct{} // closed by Close, to end injected latencies
	closeOnce sync.Once

	arrivals atomic.Int64 // numbers requests as they arrive, to keep Requests in arrival order

	mu       sync.Mutex
	requests []Request
	links    map[string]*issuedLink // by token
	replays  map[string]replay      // by Idempotency-Key
	faults   []*activeFault
}

// Request is one generate-link request as the fake saw and answered it.
type Request struct {
	Time   time.Time   `json:"time"`   // when it arrived, by the fake's clock
	Method string      `json:"method"` // as sent, POST unless the caller erred
	Path   string      `json:"path"`   // /portal/generate_link
	Header http.Header `json:"header"` // every header, Authorization included
	// Body is the raw request body.
	Body string `json:"body"`
	// Opts holds the fields of the body, as far as they parsed.
	Opts portal.GenerateLinkOpts `json:"opts"`
	// IdempotencyKey and UserAgent repeat the headers of those names.
	IdempotencyKey string `json:"idempotency_key"`
	UserAgent      string `json:"user_agent"` // e.g. "adminportal-go/0.1.0"
	// Status, Response and RequestID are what the fake answered; Status is
	// zero for a dropped connection.
	Status    int    `json:"status"`
	Response  string `json:"response"`   // the body answered
	RequestID string `json:"request_id"` // the X-Request-ID answered
	// Link is the link issued, if any.
	Link string `json:"link,omitempty"`
	// Fault names the injected fault that shaped the answer, if any:
	// "status", "drop", "malformed" or "latency".
	Fault string `json:"fault,omitempty"`

	arrival int64
}

// issuedLink is a link the fake issued, until it is opened or expires.
type issuedLink struct {
	opts     portal.GenerateLinkOpts
	issuedAt time.Time
	used     bool
}

// replay is a stored answer to an Idempotency-Key: the API answers a retried
// request with the answer of the first, so the work is done once.
type replay struct {
	bodyHash [32]byte
	status   int
	response string
	link     string
}

// NewFake returns a fake API that is not listening anywhere; see NewServer.
func NewFake(opts ...Option) *Fake {
	f := &Fake{now: time.Now, closed: make(chan struct{}), links: map[string]*issuedLink{}, replays: map[string]replay{}}
	for _, opt := range opts {
		if opt != nil {
			opt(f)
		}
	}
	return f
}

// ServeHTTP serves the API, the launch pages its links open, and the control
// endpoints under /__mock/.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-ID", newRequestID())
	switch {
	case r.URL.Path == "/portal/generate_link":
		f.generateLink(w, r)
	case r.URL.Path == "/portal/launch":
		f.launch(w, r)
	case strings.HasPrefix(r.URL.Path, "/__mock/"):
		f.control(w, r)
	default:
		writeJSON(w, http.StatusNotFound, `{"code":"not_found","message":"Not Found"}`)
	}
}

// Requests returns a copy of the generate-link requests answered so far, in
// the order they arrived. It is safe to call while requests are being
// served; a request still in progress is not listed yet.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	out := make([]Request, len(f.requests))
	copy(out, f.requests)
	f.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].arrival < out[j].arrival })
	return out
}

// Close ends the injected latencies in progress by dropping their
// connections, so that a server shutting down does not wait for them. The
// fake keeps answering other requests.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.closed) })
}

// Reset forgets recorded requests, issued links, stored idempotent answers
// and faults, as if the fake had just started.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
	f.links = map[string]*issuedLink{}
	f.replays = map[string]replay{}
	f.faults = nil
}

func (f *Fake) generateLink(w http.ResponseWriter, r *http.Request) {
	rec := Request{
		arrival:        f.arrivals.Add(1),
		Time:           f.now(),
		Method:         r.Method,
		Path:           r.URL.Path,
		Header:         r.Header.Clone(),
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		UserAgent:      r.Header.Get("User-Agent"),
		RequestID:      w.Header().Get("X-Request-ID"),
	}
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	rec.Body = string(body)
	answered := f.answer(w, r, body, readErr, &rec)
	rec.Status, rec.Response = answered.status, answered.body
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.mu.Unlock()
}

type answer struct {
	status int
	body   string
}

// answer decides and writes the response to a generate-link request, in the
// order the API checks things: faults stand in for the network and the API
// failing before anything else.
func (f *Fake) answer(w http.ResponseWriter, r *http.Request, body []byte, readErr error, rec *Request) answer {
	if fault := f.nextFault(); fault != nil {
		if a, done := fault.apply(w, r, rec, f.closed); done {
			return a
		}
	}
	switch {
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		return respond(w, http.StatusMethodNotAllowed, `{"code":"method_not_allowed","message":"Method Not Allowed"}`)
	case !f.authorized(r.Header.Get("Authorization")):
		return respond(w, http.StatusUnauthorized, `{"code":"unauthorized","message":"Invalid API key provided."}`)
	case readErr != nil:
		return respond(w, http.StatusBadRequest, `{"code":"invalid_request","message":"The request body could not be read."}`)
	case len(body) > maxRequestBody:
		return respond(w, http.StatusRequestEntityTooLarge, `{"code":"payload_too_large","message":"The request body is too large."}`)
	}
	opts, status, msg := f.parse(body)
	rec.Opts = opts
	if status != 0 {
		return respond(w, status, msg)
	}
	hash := sha256.Sum256(body)
	f.mu.Lock()
	prev, seen := f.replays[rec.IdempotencyKey]
	f.mu.Unlock()
	if seen && rec.IdempotencyKey != "" {
		if prev.bodyHash != hash {
			return respond(w, http.StatusConflict, `{"code":"idempotency_key_reused","message":"This Idempotency-Key was used with a different request body."}`)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		rec.Link = prev.link
		return respond(w, prev.status, prev.response)
	}
	token := newToken()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	link := scheme + "://" + r.Host + "/portal/launch?token=" + token
	resp, _ := json.Marshal(struct {
		Link string `json:"link"`
	}{link})
	f.mu.Lock()
	f.links[token] = &issuedLink{opts: opts, issuedAt: f.now()}
	if rec.IdempotencyKey != "" {
		f.replays[rec.IdempotencyKey] = replay{bodyHash: hash, status: http.StatusOK, response: string(resp), link: link}
	}
	f.mu.Unlock()
	rec.Link = link
	return respond(w, http.StatusOK, string(resp))
}

func (f *Fake) authorized(header string) bool {
	key, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || key == "" {
		return false
	}
	if f.apiKey == "" {
		return strings.HasPrefix(key, "sk_test_")
	}
	return key == f.apiKey
}

// wireOpts is the request body as the API reads it. Pointers tell a missing
// or null field from an empty one; admin_emails is the older name of
// it_contact_emails, still sent by some SDKs.
type wireOpts struct {
	Organization    *string               `json:"organization"`
	Intent          *string               `json:"intent"`
	ReturnURL       *string               `json:"return_url"`
	SuccessURL      *string               `json:"success_url"`
	ITContactEmails []string              `json:"it_contact_emails"`
	AdminEmails     []string              `json:"admin_emails"`
	IntentOptions   *portal.IntentOptions `json:"intent_options"`
}

// parse reads and validates a request body. It returns the options and, when
// the API would refuse them, the status and JSON body of its answer.
func (f *Fake) parse(body []byte) (portal.GenerateLinkOpts, int, string) {
	var in wireOpts
	if err := json.Unmarshal(body, &in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return portal.GenerateLinkOpts{}, http.StatusUnprocessableEntity,
				validationBody(typeErr.Field, typeErr.Field+"_invalid", "portal: invalid "+typeErr.Field+": must be a "+typeErr.Type.String())
		}
		return portal.GenerateLinkOpts{}, http.StatusBadRequest, `{"code":"invalid_json","message":"The request body is not valid JSON."}`
	}
	opts := portal.GenerateLinkOpts{
		Organization:    deref(in.Organization),
		Intent:          portal.Intent(deref(in.Intent)),
		ReturnURL:       deref(in.ReturnURL),
		SuccessURL:      deref(in.SuccessURL),
		ITContactEmails: in.ITContactEmails,
		IntentOptions:   in.IntentOptions,
	}
	if len(opts.ITContactEmails) == 0 {
		opts.ITContactEmails = in.AdminEmails
	}
	if opts.Organization == "" {
		return opts, http.StatusUnprocessableEntity, validationBody("organization", "organization_required", "portal: invalid organization: is required")
	}
	// The API checks the fields' form first and looks the organization up
	// last, so a valid stand-in ID separates the two.
	formOnly := opts
	formOnly.Organization = "org_0"
	var ve *portal.ValidationError
	if err := formOnly.Validate(); errors.As(err, &ve) {
		code := ve.Field + "_invalid"
		if strings.HasPrefix(ve.Rule, "is required") {
			code = ve.Field + "_required"
		}
		return opts, http.StatusUnprocessableEntity, validationBody(ve.Field, code, ve.Error())
	}
	if opts.Validate() != nil || (f.orgs != nil && !f.orgs[opts.Organization]) {
		msg, _ := json.Marshal(struct {
			Message string `json:"message"`
		}{fmt.Sprintf("Could not find an organization with the id, %s.", opts.Organization)})
		return opts, http.StatusBadRequest, string(msg)
	}
	return opts, 0, ""
}

func validationBody(field, code, message string) string {
	b, _ := json.Marshal(struct {
		Code    string              `json:"code"`
		Message string              `json:"message"`
		Errors  []portal.FieldError `json:"errors"`
	}{"invalid_request_parameters", "Validation failed", []portal.FieldError{{Field: field, Code: code, Message: message}}})
	return string(b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// respond writes an answer and returns it for the record. A body that is
// not a JSON object is served as HTML, like the proxy pages a fault mimics.
func respond(w http.ResponseWriter, status int, body string) answer {
	if body != "" && body[0] != '{' {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	} else {
		writeJSON(w, status, body)
	}
	return answer{status: status, body: body}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// newToken returns an unguessable link token: 256 random bits.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newRequestID returns an ID shaped like the API's: "req_" and 26 characters
// of Crockford base32, as in a ULID.
func newRequestID() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [26]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return "req_" + string(b[:])
}
