package portaltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fake is the fake API as an http.Handler, for tests that mount it in a
// server of their own; most tests want a [Server]. It is safe for
// concurrent use.
type Fake struct {
	baseURL string          // where the fake is reached: links point here
	hosts   map[string]bool // the names it answers to, besides localhost and loopback IPs
	apiKey  string          // "" accepts any sk_test_ key, and exampleAPIKey
	orgs    map[string]bool // nil: every well-formed ID exists
	now     func() time.Time

	closed    chan struct{} // closed by Close, to end injected latencies
	closeOnce sync.Once

	mu         sync.Mutex
	log        requestLog
	links      map[string]*issuedLink // by token
	linkTokens []string               // the tokens of links, oldest first
	linkBytes  int                    // what the links keep, in bytes
	faults     []*activeFault
}

// issuedLink is a link the fake issued, with what its page shows, until it
// is opened or expires.
type issuedLink struct {
	organization, intent, returnURL, successURL string
	issuedAt                                    time.Time
	used                                        bool
}

func (l *issuedLink) size() int {
	return len(l.organization) + len(l.intent) + len(l.returnURL) + len(l.successURL)
}

const (
	linkLifetime = 5 * time.Minute // how long a link works, as the API reference says
	maxLinks     = 10000           // links kept; older ones are forgotten,
	maxLinkBytes = 16 << 20        // and so are they when their pages' text passes this
)

// NewFake returns a fake API that is reached at baseURL, such as
// "http://127.0.0.1:8484": the links it issues point there, whatever Host
// header a request carries. It answers only requests whose Host is
// localhost, a loopback IP, the host of baseURL, or a name of WithHosts,
// so that a web page whose name rebinds to 127.0.0.1 cannot reach it.
func NewFake(baseURL string, opts ...Option) *Fake {
	f := &Fake{
		baseURL: strings.TrimRight(baseURL, "/"),
		hosts:   map[string]bool{},
		now:     time.Now,
		closed:  make(chan struct{}),
		links:   map[string]*issuedLink{},
	}
	if u, err := url.Parse(f.baseURL); err == nil && u.Hostname() != "" {
		f.hosts[strings.ToLower(u.Hostname())] = true
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
	case !f.serves(r.Host):
		messageAnswer(http.StatusMisdirectedRequest, "This mock does not serve the host "+strconv.Quote(r.Host)+
			": it answers to localhost, loopback IPs and the names given with portal-mock -host or -tls-host, "+
			"or portaltest.WithHosts.").write(w)
	case crossSite(r) && r.URL.Path != "/portal/launch": // a link to the portal is opened from the app's page
		messageAnswer(http.StatusForbidden, "Cross-site requests are refused: a web page must not steer "+
			"this mock, nor use up its faults; only the portal pages open from another site.").write(w)
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

// serves reports whether the fake answers to host, a Host header: a
// rebinding attack sends its own name, which the fake must refuse.
func (f *Fake) serves(host string) bool {
	bracketed := strings.HasPrefix(host, "[") // as an IPv6 address must be, and nothing else
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	} else if bracketed {
		host = strings.TrimSuffix(host[1:], "]")
	}
	if addr, err := netip.ParseAddr(host); bracketed && (err != nil || !addr.Is6()) {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".") // a fully qualified name is the same host
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback() || f.hosts[host]
}

// crossSite reports whether a web page of another site sent r: by its
// Sec-Fetch-Site, or an Origin other than the address it was sent to.
// SDKs and curl send neither.
func crossSite(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host || (u.Scheme == "https") != (r.TLS != nil)
}

// Close ends the injected latencies and the waits for requests under way,
// dropping the latencies' connections, so that a server shutting down need
// not wait for them. The fake goes on answering other requests.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.closed) })
}

// Reset forgets recorded requests, issued links and faults, as if the fake
// had just started.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.reset()
	f.links, f.linkTokens, f.linkBytes = map[string]*issuedLink{}, nil, 0
	f.faults = nil
}

// generateLink answers POST /portal/generate_link. The request is recorded
// on arrival, before any fault acts on it, so that a client that has seen
// its answer (or its dropped connection) finds it in Requests.
func (f *Fake) generateLink(w http.ResponseWriter, r *http.Request) {
	key := bearer(r.Header.Get("Authorization"))
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	rec := f.record(r, key, body, w.Header().Get("X-Request-Id"))
	if fault := f.nextFault(); fault != nil {
		a, drop := fault.apply(r, f.closed)
		if drop || a != nil {
			f.finish(rec, key, a, fault.name(), "")
			if drop {
				dropConnection(w)
			} else {
				a.write(w)
			}
			return
		}
	}
	a, link := f.answer(r.Method, key, body, readErr)
	f.finish(rec, key, a, "", link)
	a.write(w)
}

// answer decides the answer to a generate-link request, checking what the
// API checks in the order it does.
func (f *Fake) answer(method, key string, body []byte, readErr error) (a *answer, link string) {
	var tooLarge *http.MaxBytesError
	switch {
	case method != http.MethodPost:
		a = messageAnswer(http.StatusMethodNotAllowed, "Method Not Allowed")
		a.header.Set("Allow", http.MethodPost)
		return a, ""
	case !f.authorized(key):
		return messageAnswer(http.StatusUnauthorized, "Unauthorized"), ""
	case errors.As(readErr, &tooLarge):
		return messageAnswer(http.StatusRequestEntityTooLarge, "request entity too large"), ""
	case readErr != nil:
		return messageAnswer(http.StatusBadRequest, "The request body could not be read."), ""
	}
	req, refusal := parseRequest(body)
	switch {
	case refusal != nil:
		return refusal, ""
	case !f.exists(req.Organization):
		// The text the real API gave (workos-ruby's recorded generate_link_invalid.yml, and the Node
		// SDK's fixture), not the spec's example, which matches a recording of another endpoint.
		return messageAnswer(http.StatusBadRequest,
			"Could not find an organization with the id, "+req.Organization+"."), ""
	}
	token := rand.Text() + rand.Text()
	f.keepLink(token, &issuedLink{organization: req.Organization, intent: req.Intent,
		returnURL: req.ReturnURL, successURL: req.SuccessURL, issuedAt: f.now()})
	link = f.baseURL + "/portal/launch?token=" + token
	return jsonAnswer(http.StatusCreated, struct {
		Link string `json:"link"`
	}{link}), link
}

// keepLink keeps a link for its page, forgetting the oldest links while
// there are too many, or their text takes too much memory.
func (f *Fake) keepLink(token string, l *issuedLink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links[token] = l
	f.linkTokens = append(f.linkTokens, token)
	f.linkBytes += l.size()
	for len(f.linkTokens) > maxLinks || f.linkBytes > maxLinkBytes {
		if old := f.links[f.linkTokens[0]]; old != nil {
			f.linkBytes -= old.size()
			delete(f.links, f.linkTokens[0])
		}
		f.linkTokens = f.linkTokens[1:]
	}
}

// bearer returns the key of an Authorization header, whatever the case of
// its scheme (RFC 9110) and the spaces around the key.
func bearer(header string) string {
	scheme, key, _ := strings.Cut(strings.TrimSpace(header), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(key)
}

// exampleAPIKey is the placeholder key of the WorkOS documentation's
// snippets. Without WithAPIKey the fake accepts it, so that the snippets run
// as written: it is no real key, so accepting it hides no mistake.
const exampleAPIKey = "sk_example_123456789"

func (f *Fake) authorized(key string) bool {
	if f.apiKey == "" {
		return strings.HasPrefix(key, "sk_test_") || key == exampleAPIKey
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
	return &answer{status: status, body: string(b),
		header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}
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
