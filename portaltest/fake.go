package portaltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fake is the fake API as an http.Handler, for a server of one's own (a
// test's [httptest.Server], or cmd/portal-mock); most tests want a
// [Server]. It is safe for concurrent use.
type Fake struct {
	base   url.URL         // where the fake is reached: the scheme and path of its links
	hosts  map[string]bool // the names it answers to, besides localhost and loopback IPs
	apiKey string          // "" accepts any sk_test_ key, and exampleAPIKey
	orgs   map[string]bool // nil: every well-formed ID exists
	now    func() time.Time
	mux    *http.ServeMux

	closed    chan struct{} // closed by Close, to end injected latencies
	closeOnce sync.Once
	held      chan struct{} // a token for each request that a latency holds
	reading   chan struct{} // a token for each request whose body is read and recorded

	mu         sync.Mutex
	log        *requestLog
	resets     int                    // Resets so far: a listing stops at one (any change would do, f.resets-- too)
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
	maxHeld      = 100             // requests that latencies hold at once; more are dropped
	maxReading   = 32              // requests whose bodies are read at once; more wait their turn
)

const generateLinkPath = "/portal/generate_link"

// NewFake returns a fake API that is reached at baseURL, such as
// "http://127.0.0.1:8484". Its links have the scheme and path of baseURL,
// and the host and port that each request was sent to, when that host is
// localhost, 127.0.0.1, ::1 or a name of WithHosts, so that they work
// through a remapped port; else the host of baseURL. It answers only
// requests whose Host is localhost, a loopback IP, the host of baseURL, or
// a name of WithHosts, so that a web page whose name rebinds to 127.0.0.1
// cannot reach it.
func NewFake(baseURL string, opts ...Option) *Fake {
	f := &Fake{
		hosts:   map[string]bool{},
		now:     time.Now,
		closed:  make(chan struct{}),
		held:    make(chan struct{}, maxHeld),
		reading: make(chan struct{}, maxReading),
		links:   map[string]*issuedLink{},
	}
	f.setBaseURL(baseURL)
	f.log = newRequestLog()
	for _, opt := range opts {
		if opt != nil {
			opt(f)
		}
	}
	f.mux = f.routes()
	return f
}

func (f *Fake) setBaseURL(baseURL string) {
	if u, err := url.Parse(strings.TrimRight(baseURL, "/")); err == nil {
		f.base = *u
	}
	if f.base.Scheme == "" {
		f.base.Scheme = "http"
	}
	if name := f.base.Hostname(); name != "" {
		f.hosts[strings.ToLower(name)] = true
	}
}

// routes are the fake's endpoints: the API's, the portal page its links
// open, and the control endpoints of control.go.
func (f *Fake) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+generateLinkPath, f.generateLink)
	mux.HandleFunc(generateLinkPath, func(w http.ResponseWriter, _ *http.Request) {
		a := messageAnswer(http.StatusMethodNotAllowed, "Method Not Allowed")
		a.header.Set("Allow", http.MethodPost)
		a.write(w)
	})
	mux.HandleFunc("/portal/launch", f.launch)
	mux.HandleFunc("GET /__mock/health", func(w http.ResponseWriter, _ *http.Request) {
		jsonAnswer(http.StatusOK, map[string]string{"status": "ok"}).write(w)
	})
	mux.HandleFunc("GET /__mock/requests", f.listRequests)
	mux.Handle("POST /__mock/reset", jsonOnly(func(w http.ResponseWriter, _ *http.Request) {
		f.Reset()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.Handle("POST /__mock/faults", jsonOnly(f.addFault))
	mux.Handle("DELETE /__mock/faults", jsonOnly(func(w http.ResponseWriter, _ *http.Request) {
		f.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		messageAnswer(http.StatusNotFound, "Not Found").write(w)
	})
	return mux
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
	case r.URL.Path != cleanPath(r.URL.Path):
		// Before the ServeMux, which would redirect, and so turn a POST into a GET.
		messageAnswer(http.StatusNotFound, "Not Found: the path has a doubled slash or a dot segment, "+
			"as a base URL that ends in / gives //portal/generate_link.").write(w)
	default:
		f.mux.ServeHTTP(w, r)
	}
}

// cleanPath is p as http.ServeMux would have it.
func cleanPath(p string) string {
	clean := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// serves reports whether the fake answers to host, a Host header: a
// rebinding attack sends its own name, which the fake must refuse.
func (f *Fake) serves(host string) bool {
	name, ok := hostName(host)
	ip := net.ParseIP(name)
	return ok && (name == "localhost" || ip != nil && ip.IsLoopback() || f.hosts[name])
}

// hostName returns the name of a Host header, lower-case and without a
// final dot (a fully qualified name is the same host), or false if it is
// no host name: brackets hold an IPv6 address and nothing else.
func hostName(host string) (string, bool) {
	bracketed := strings.HasPrefix(host, "[")
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	} else if bracketed {
		host = strings.TrimSuffix(host[1:], "]")
	}
	if addr, err := netip.ParseAddr(host); bracketed && (err != nil || !addr.Is6()) {
		return "", false
	}
	return strings.TrimSuffix(strings.ToLower(host), "."), true
}

// linkBase returns the base URL of a link issued to r: the fake's, with
// the host and port that r was sent to when that host may name the fake in
// a link.
func (f *Fake) linkBase(r *http.Request) string {
	u := f.base
	if host, ok := f.linkHost(r.Host); ok {
		u.Host = host
	}
	return u.String()
}

// linkHost returns a Host header rebuilt from its parts if its name may
// stand in a link: localhost, 127.0.0.1 and ::1, which a -tls certificate
// covers, or a name the fake was given. A link is thus made of names chosen
// by whoever runs the fake, and a port: a page that rebinds its own name
// to 127.0.0.1 gets no link to it.
func (f *Fake) linkHost(host string) (string, bool) {
	name, ok := hostName(host)
	if !ok || name != "localhost" && name != "127.0.0.1" && name != "::1" && !f.hosts[name] {
		return "", false
	}
	_, port, err := net.SplitHostPort(host)
	switch {
	case err != nil && strings.Contains(name, ":"): // an IPv6 address, without a port
		return "[" + name + "]", true
	case err != nil:
		return name, true
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", false
	}
	return net.JoinHostPort(name, port), true
}

// crossSite reports whether a web page of another site sent r: by its
// Sec-Fetch-Site, or an Origin other than the address it was sent to.
// SDKs and curl send neither; nor does Chromium to a plain-http name other
// than localhost, which is why changes need more (see jsonOnly and
// generateLink).
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

// isJSON reports whether a Content-Type is application/json: what no web
// page can send to another site without a CORS preflight, which the fake
// never approves.
func isJSON(contentType string) bool {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	return mediaType == "application/json"
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
	close(f.log.changed) // wake waiters, so that they see the reset
	f.log = newRequestLog()
	f.resets++
	f.links, f.linkTokens, f.linkBytes = map[string]*issuedLink{}, nil, 0
	f.faults = nil
}

// generateLink answers POST /portal/generate_link. A request that a web
// page could send to another site without a CORS preflight (no bearer
// key, no JSON) gets the API's answer to a request without a key, and
// changes nothing. Others are recorded on arrival, before a fault acts on
// them, so that a client that has seen its answer (or its dropped
// connection) finds its request in Requests.
func (f *Fake) generateLink(w http.ResponseWriter, r *http.Request) {
	key := bearer(r.Header.Get("Authorization"))
	if key == "" && !isJSON(r.Header.Get("Content-Type")) {
		messageAnswer(http.StatusUnauthorized, "Unauthorized").write(w)
		return
	}
	select { // so that many requests at once cannot hold many bodies
	case f.reading <- struct{}{}:
	case <-r.Context().Done():
		return // the client left
	case <-f.closed:
		return
	}
	rec, refusal, req := f.arrive(w, r, key)
	<-f.reading
	fault := f.nextFault()
	var a *answer
	link := ""
	switch {
	case fault != nil && !f.hold(r, fault.Latency):
		a = dropAnswer
	case fault != nil && fault.kind() != nil:
		a = fault.kind().answer(fault)
	case refusal != nil:
		a = refusal
	default:
		a, link = f.issue(r, req)
	}
	f.finish(rec, key, a, fault.name(), link)
	a.write(w)
}

// arrive reads and records a request, and returns the API's refusal of it,
// if any, or what it asks for: what an answer needs, and no more of the
// body, so that a latency holds none of it.
func (f *Fake) arrive(w http.ResponseWriter, r *http.Request, key string) (*Request, *answer, linkRequest) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	rec := f.record(r, key, body, w.Header().Get("X-Request-Id"))
	var tooLarge *http.MaxBytesError
	switch {
	case !f.authorized(key):
		return rec, messageAnswer(http.StatusUnauthorized, "Unauthorized"), linkRequest{}
	case errors.As(readErr, &tooLarge):
		return rec, messageAnswer(http.StatusRequestEntityTooLarge, "request entity too large"), linkRequest{}
	case readErr != nil:
		return rec, messageAnswer(http.StatusBadRequest, "The request body could not be read."), linkRequest{}
	}
	req, refusal := parseRequest(body)
	switch {
	case refusal != nil:
		return rec, refusal, linkRequest{}
	case !f.exists(req.Organization):
		// The text the real API gave (workos-ruby's recorded generate_link_invalid.yml, and the Node
		// SDK's fixture), not the spec's example, which matches a recording of another endpoint.
		return rec, messageAnswer(http.StatusBadRequest,
			"Could not find an organization with the id, "+req.Organization+"."), linkRequest{}
	}
	return rec, nil, req
}

// issue issues a link for req, which works for five minutes from now.
func (f *Fake) issue(r *http.Request, req linkRequest) (*answer, string) {
	token := rand.Text() + rand.Text()
	f.keepLink(token, &issuedLink{organization: req.Organization, intent: req.Intent,
		returnURL: req.ReturnURL, successURL: req.SuccessURL, issuedAt: f.now()})
	link := f.linkBase(r) + "/portal/launch?token=" + token
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
	drop   bool // no response: the connection is closed
}

// dropAnswer closes the connection without a response.
var dropAnswer = &answer{drop: true}

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
	if a.drop {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream instead
	}
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
