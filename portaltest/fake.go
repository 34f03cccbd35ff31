package portaltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/adminportal/portal"
)

// Fake is the fake API as an http.Handler, for tests that mount it in a
// server of their own; most tests want a [Server]. It is safe for
// concurrent use.
type Fake struct {
	baseURL string          // where the fake is reached: links point here
	apiKey  string          // "" accepts any sk_test_ key
	orgs    map[string]bool // nil: every well-formed ID exists
	now     func() time.Time

	closed    chan struct{} // closed by Close, to end injected latencies
	closeOnce sync.Once

	mu         sync.Mutex
	log        requestLog
	links      map[string]*issuedLink // by token
	linkTokens []string               // the tokens of links, oldest first
	faults     []*activeFault
}

// issuedLink is a link the fake issued, until it is opened or expires.
type issuedLink struct {
	req      linkRequest
	issuedAt time.Time
	used     bool
}

const (
	linkLifetime = 5 * time.Minute // how long a link works, as the API reference says
	maxLinks     = 10000           // links kept; older ones are forgotten
)

// NewFake returns a fake API that is reached at baseURL, such as
// "http://127.0.0.1:8484": the links it issues point there, whatever Host
// header a request carries.
func NewFake(baseURL string, opts ...Option) *Fake {
	f := &Fake{
		baseURL: strings.TrimRight(baseURL, "/"),
		now:     time.Now,
		closed:  make(chan struct{}),
		links:   map[string]*issuedLink{},
	}
	f.log.reset()
	for _, opt := range opts {
		if opt != nil {
			opt(f)
		}
	}
	return f
}

// ServeHTTP serves the API, the portal pages its links open, and the
// control endpoints under /__mock/. Every answer carries an X-Request-Id,
// a UUID as the API's are.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", newUUID())
	switch {
	case r.URL.Path == "/portal/generate_link":
		f.generateLink(w, r)
	case r.URL.Path == "/portal/launch":
		f.launch(w, r)
	case strings.HasPrefix(r.URL.Path, "/__mock/"):
		f.control(w, r)
	default:
		messageAnswer(http.StatusNotFound, "Not Found").write(w)
	}
}

// Close ends the injected latencies under way by dropping their
// connections, so that a server shutting down need not wait for them. The
// fake goes on answering other requests.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.closed) })
}

// Reset forgets recorded requests, issued links and faults, as if the fake
// had just started.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.reset()
	f.links, f.linkTokens = map[string]*issuedLink{}, nil
	f.faults = nil
}

// generateLink answers POST /portal/generate_link. The request is recorded
// on arrival, before any fault acts on it, so that a client that has seen
// its answer (or its dropped connection) finds it in Requests.
func (f *Fake) generateLink(w http.ResponseWriter, r *http.Request) {
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	rec := f.record(r, key, body, w.Header().Get("X-Request-Id"))
	if fault := f.nextFault(); fault != nil {
		a, drop := fault.apply(r, f.closed)
		if drop || a != nil {
			f.finish(rec, key, a, fault.name(), portal.GenerateLinkOpts{}, "")
			if drop {
				dropConnection(w)
			} else {
				a.write(w)
			}
			return
		}
	}
	a, opts, link := f.answer(r.Method, key, body, readErr)
	f.finish(rec, key, a, "", opts, link)
	a.write(w)
}

// answer decides the answer to a generate-link request, checking what the
// API checks in the order it does.
func (f *Fake) answer(method, key string, body []byte, readErr error) (a *answer, opts portal.GenerateLinkOpts, link string) {
	var tooLarge *http.MaxBytesError
	switch {
	case method != http.MethodPost:
		a = messageAnswer(http.StatusMethodNotAllowed, "Method Not Allowed")
		a.header.Set("Allow", http.MethodPost)
		return a, opts, ""
	case !f.authorized(key):
		return messageAnswer(http.StatusUnauthorized, "Unauthorized"), opts, ""
	case errors.As(readErr, &tooLarge):
		return messageAnswer(http.StatusRequestEntityTooLarge, "request entity too large"), opts, ""
	case readErr != nil:
		return messageAnswer(http.StatusBadRequest, "The request body could not be read."), opts, ""
	}
	req, refusal := parseRequest(body)
	opts = portal.GenerateLinkOpts{Organization: req.Organization, Intent: portal.Intent(req.Intent),
		ReturnURL: req.ReturnURL, SuccessURL: req.SuccessURL, ITContactEmails: req.ITContactEmails}
	switch {
	case refusal != nil:
		return refusal, opts, ""
	case !f.exists(req.Organization):
		return messageAnswer(http.StatusBadRequest, "Organization not found: '"+req.Organization+"'."), opts, ""
	}
	token := rand.Text() + rand.Text()
	link = f.baseURL + "/portal/launch?token=" + token
	f.mu.Lock()
	f.links[token] = &issuedLink{req: req, issuedAt: f.now()}
	f.linkTokens = append(f.linkTokens, token)
	if len(f.linkTokens) > maxLinks {
		delete(f.links, f.linkTokens[0])
		f.linkTokens = f.linkTokens[1:]
	}
	f.mu.Unlock()
	return jsonAnswer(http.StatusCreated, struct {
		Link string `json:"link"`
	}{link}), opts, link
}

func (f *Fake) authorized(key string) bool {
	if f.apiKey == "" {
		return strings.HasPrefix(key, "sk_test_")
	}
	return key == f.apiKey
}

func (f *Fake) exists(org string) bool {
	if f.orgs != nil {
		return f.orgs[org]
	}
	return wellFormedOrganization(org)
}

// answer is a response the fake writes, and records.
type answer struct {
	status int
	header http.Header
	body   string
}

func messageAnswer(status int, message string) *answer {
	return jsonAnswer(status, struct {
		Message string `json:"message"`
	}{message})
}

func jsonAnswer(status int, v any) *answer {
	b, _ := json.Marshal(v)
	return &answer{status: status, body: string(b), header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}
}

func (a *answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// newUUID returns a random (version 4) UUID, the form of the API's request
// IDs.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
