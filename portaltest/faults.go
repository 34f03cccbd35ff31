package portaltest

import (
	"errors"
	"fmt"
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
type Fault struct {
	// Status answers with this HTTP status and Body, or, when Body is
	// empty, a body like the one the API (or a proxy before it) sends.
	Status int
	Body   string
	// RetryAfter is sent as the Retry-After header: seconds ("7") or an
	// HTTP date.
	RetryAfter string
	// Latency delays the answer, or the dropped connection.
	Latency time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Malformed answers 201 with a truncated JSON body.
	Malformed bool

	Count       int     // how many of the next requests the fault applies to (default 1)
	Probability float64 // instead of Count: the fraction of requests it applies to, from now on
	Seed        uint64  // seeds the draws of Probability
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
	effects := 0
	for _, on := range []bool{fault.Drop, fault.Malformed, fault.Status != 0} {
		if on {
			effects++
		}
	}
	switch {
	case effects == 0 && fault.Latency <= 0:
		return errors.New("portaltest: the fault has no effect: set Status, Drop, Malformed or Latency")
	case effects > 1:
		return errors.New("portaltest: the fault sets more than one of Status, Drop and Malformed")
	case fault.Status != 0 && (fault.Status < 200 || fault.Status > 599):
		return fmt.Errorf("portaltest: fault status %d is not an HTTP status", fault.Status)
	case fault.Count < 0 || fault.Latency < 0:
		return errors.New("portaltest: fault Count and Latency must not be negative")
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

// name is what Request.Fault records of the fault.
func (fault *Fault) name() string {
	switch {
	case fault.Drop:
		return "drop"
	case fault.Malformed:
		return "malformed"
	case fault.Status != 0:
		return "status"
	}
	return "latency"
}

// apply waits out the fault's latency, then returns the answer it makes,
// or drop to close the connection, or neither when the real answer should
// follow. A latency cut short by the client leaving or the fake closing
// drops the connection.
func (fault *Fault) apply(r *http.Request, closed <-chan struct{}) (a *answer, drop bool) {
	if fault.Latency > 0 {
		t := time.NewTimer(fault.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil, true
		case <-closed:
			return nil, true
		}
	}
	switch {
	case fault.Drop:
		return nil, true
	case fault.Malformed:
		return &answer{status: http.StatusCreated, body: `{"link":"http://`,
			header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}, false
	case fault.Status == 0:
		return nil, false
	}
	a = &answer{status: fault.Status, body: fault.Body, header: http.Header{
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
	return a, false
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

// dropConnection closes the connection under w without an answer.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // HTTP/2: reset the stream instead
}
