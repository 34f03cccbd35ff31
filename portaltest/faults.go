package portaltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A Fault changes how the fake answers generate-link requests, to test how
// a caller handles rate limits, outages and broken networks. Latency comes
// first; then at most one of Drop, Malformed and Status decides the answer.
// A Fault with only Latency delays the real answer.
//
// A fault applies to the next request, or to the next Count; with
// Probability, to that fraction of requests, drawn from a generator seeded
// with Seed so that runs repeat, until ClearFaults or Reset. Faults are
// consulted in the order they were injected.
//
// Its JSON is what POST /__mock/faults takes, with Latency in milliseconds
// as latency_ms: {"status":429,"retry_after":"2","count":3}.
type Fault struct {
	// Status answers with this HTTP status and Body, or, when Body is
	// empty, a body like the one the API (or a proxy before it) sends.
	Status int    `json:"status,omitempty"`
	Body   string `json:"body,omitempty"`
	// RetryAfter is sent as the Retry-After header: seconds ("7") or an
	// HTTP date.
	RetryAfter string `json:"retry_after,omitempty"`
	// Latency, at most an hour, delays the answer, or the dropped
	// connection. At most 100 requests wait out a latency at once; the
	// connections of more are dropped.
	Latency time.Duration `json:"-"`
	// Drop closes the connection without an answer.
	Drop bool `json:"drop,omitempty"`
	// Malformed answers 201 with a truncated JSON body.
	Malformed bool `json:"malformed,omitempty"`

	Count       int     `json:"count,omitempty"`       // how many of the next requests it applies to (default 1)
	Probability float64 `json:"probability,omitempty"` // instead of Count: the fraction of requests, from now on
	Seed        uint64  `json:"seed,omitempty"`        // seeds the draws of Probability
}

// A faultKind is one of the answers a Fault can impose instead of the real
// one. A new kind is a field of Fault and an entry here.
type faultKind struct {
	name   string // what Request.Fault records
	set    func(*Fault) bool
	answer func(*Fault) *answer
}

var faultKinds = []faultKind{
	{"drop", func(f *Fault) bool { return f.Drop }, func(*Fault) *answer { return dropAnswer }},
	{"malformed", func(f *Fault) bool { return f.Malformed }, func(*Fault) *answer {
		return &answer{status: http.StatusCreated, body: `{"link":"http://`,
			header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}
	}},
	{"status", func(f *Fault) bool { return f.Status != 0 }, (*Fault).statusAnswer},
}

// kind returns the kind of answer fault imposes, or nil if it only delays
// the real one.
func (fault *Fault) kind() *faultKind {
	for i := range faultKinds {
		if faultKinds[i].set(fault) {
			return &faultKinds[i]
		}
	}
	return nil
}

// name is what Request.Fault records of the fault: "" for none.
func (fault *Fault) name() string {
	if fault == nil {
		return ""
	}
	if k := fault.kind(); k != nil {
		return k.name
	}
	return "latency"
}

// faultFields are a Fault's fields without its methods, for its JSON.
type faultFields Fault

// faultJSON is a Fault as the control endpoint takes it.
type faultJSON struct {
	faultFields
	LatencyMS int64 `json:"latency_ms,omitempty"`
}

// MarshalJSON encodes the fault as POST /__mock/faults takes it.
func (fault Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{faultFields(fault), fault.Latency.Milliseconds()})
}

// UnmarshalJSON decodes a fault as POST /__mock/faults takes it, refusing
// members it does not know.
func (fault *Fault) UnmarshalJSON(b []byte) error {
	var in faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	if in.LatencyMS > math.MaxInt64/int64(time.Millisecond) {
		return errors.New("portaltest: latency_ms is too large")
	}
	*fault = Fault(in.faultFields)
	fault.Latency = time.Duration(in.LatencyMS) * time.Millisecond
	return nil
}

// maxFaults bounds the faults waiting at once, and so the memory they take.
const maxFaults = 100

type activeFault struct {
	Fault
	remaining int        // for Count faults
	rng       *rand.Rand // for Probability faults
}

// InjectFault adds a fault. It returns an error for a fault that has no
// effect or contradicts itself.
func (f *Fake) InjectFault(fault Fault) error {
	var kinds, set []string
	for _, k := range faultKinds {
		kinds = append(kinds, k.name)
		if k.set(&fault) {
			set = append(set, k.name)
		}
	}
	switch {
	case len(set) == 0 && fault.Latency <= 0:
		return fmt.Errorf("portaltest: the fault has no effect: give it a latency, or one of %s",
			strings.Join(kinds, ", "))
	case len(set) > 1:
		return fmt.Errorf("portaltest: the fault sets %s: at most one of them", strings.Join(set, " and "))
	case fault.Status != 0 && (fault.Status < 200 || fault.Status > 599):
		return fmt.Errorf("portaltest: fault status %d is not an HTTP status", fault.Status)
	case fault.Count < 0 || fault.Latency < 0:
		return errors.New("portaltest: fault Count and Latency must not be negative")
	case fault.Latency > time.Hour:
		return errors.New("portaltest: fault Latency is at most an hour")
	case fault.Probability < 0 || fault.Probability > 1:
		return errors.New("portaltest: fault Probability must be between 0 and 1")
	case fault.Probability > 0 && fault.Count > 0:
		return errors.New("portaltest: the fault sets both Count and Probability")
	}
	a := &activeFault{Fault: fault, remaining: max(fault.Count, 1)}
	if fault.Probability > 0 {
		a.rng = rand.New(rand.NewPCG(fault.Seed, fault.Seed^0x9e3779b97f4a7c15))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.faults) == maxFaults {
		return fmt.Errorf("portaltest: %d faults are waiting already, the most there can be; clear them first", maxFaults)
	}
	f.faults = append(f.faults, a)
	return nil
}

// ClearFaults removes every fault.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// nextFault returns the fault that shapes the next answer, if any, and uses
// it up.
func (f *Fake) nextFault() *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range f.faults {
		if a.rng != nil {
			// Float64 draws from [0, 1): <= would differ only on a draw equal to Probability, which is
			// as good as never, so no test can tell the two apart.
			if a.rng.Float64() < a.Probability {
				return &a.Fault
			}
			continue
		}
		if a.remaining--; a.remaining == 0 {
			f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		}
		return &a.Fault
	}
	return nil
}

// hold waits out a latency, and reports whether it passed; it is cut short
// when the client leaves or the fake closes, and refused when maxHeld
// requests are waiting already.
func (f *Fake) hold(r *http.Request, latency time.Duration) bool {
	if latency <= 0 {
		return true
	}
	select {
	case f.held <- struct{}{}:
		defer func() { <-f.held }()
	default:
		return false
	}
	t := time.NewTimer(latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-f.closed:
	}
	return false
}

// statusAnswer is the answer of a Status fault.
func (fault *Fault) statusAnswer() *answer {
	a := &answer{status: fault.Status, body: fault.Body, header: http.Header{
		"Content-Type":           {"text/html; charset=utf-8"},
		"X-Content-Type-Options": {"nosniff"},
		// A fault's body is the caller's text: a page that cannot run anything.
		"Content-Security-Policy": {"sandbox; default-src 'none'"},
	}}
	if a.body == "" {
		a.body = defaultBody(fault.Status)
	}
	if strings.HasPrefix(a.body, "{") {
		a.header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if fault.RetryAfter != "" {
		a.header.Set("Retry-After", fault.RetryAfter)
	}
	return a
}

// defaultBody is what the API, or the proxy before it, answers with status.
func defaultBody(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return `{"message":"Too many requests.","code":"rate_limit_exceeded"}`
	case status == http.StatusBadGateway:
		return "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
			"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
	}
	return `{"message":` + strconv.Quote(http.StatusText(status)) + `}`
}
