package portaltest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// A Fault changes how the fake answers generate-link requests, to test a
// caller's handling of rate limits, outages and broken networks. Effects
// combine in this order: Latency, then Drop, Malformed or Status (at most
// one of those); a Fault with only Latency delays the real answer.
//
// By default a fault applies to the next request; Count makes it the next
// Count requests, and Probability makes it apply to that fraction of
// requests, drawn from a generator seeded with Seed so runs repeat, until
// ClearFaults or Reset. Faults are consulted in the order injected.
type Fault struct {
	// Status answers with this HTTP status, and Body (or a body like the
	// API's for that status when Body is empty).
	Status int
	Body   string // the response body for Status
	// RetryAfter is sent as the Retry-After header: seconds ("7") or an
	// HTTP date.
	RetryAfter string
	// Latency delays the answer, or the dropped connection.
	Latency time.Duration
	// Drop closes the connection without answering.
	Drop bool
	// Malformed answers 200 with a truncated JSON body.
	Malformed bool

	Count       int     // how many of the next requests the fault applies to (default 1)
	Probability float64 // instead of Count: the fraction of requests, from now on
	Seed        uint64  // seeds the draws of Probability, so runs repeat
}

type activeFault struct {
	Fault
	remaining int        // for Count faults
	rng       *rand.Rand // for Probability faults
}

// InjectFault adds a fault. It reports an error for a fault that has no
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
		return errors.New("portaltest: fault has no effect: set Status, Drop, Malformed or Latency")
	case effects > 1:
		return errors.New("portaltest: fault sets more than one of Status, Drop and Malformed")
	case fault.Status != 0 && (fault.Status < 200 || fault.Status > 599):
		return fmt.Errorf("portaltest: fault status %d is not an HTTP status", fault.Status)
	case fault.Count < 0 || fault.Latency < 0:
		return errors.New("portaltest: fault Count and Latency must not be negative")
	case fault.Probability < 0 || fault.Probability > 1:
		return errors.New("portaltest: fault Probability must be between 0 and 1")
	case fault.Probability > 0 && fault.Count > 0:
		return errors.New("portaltest: fault sets both Count and Probability")
	}
	a := &activeFault{Fault: fault, remaining: max(fault.Count, 1)}
	if fault.Probability > 0 {
		a.rng = rand.New(rand.NewPCG(fault.Seed, fault.Seed^0x9e3779b97f4a7c15))
	}
	f.mu.Lock()
	f.faults = append(f.faults, a)
	f.mu.Unlock()
	return nil
}

// ClearFaults removes every fault.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	f.faults = nil
	f.mu.Unlock()
}

// nextFault returns the fault that shapes the next answer, if any, and uses
// it up.
func (f *Fake) nextFault() *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range f.faults {
		if a.rng != nil {
			if a.rng.Float64() < a.Probability {
				fault := a.Fault
				return &fault
			}
			continue
		}
		a.remaining--
		if a.remaining == 0 {
			f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		}
		fault := a.Fault
		return &fault
	}
	return nil
}

// apply carries the fault out. It reports done when it has answered (or
// dropped) the request, and false when the real answer should follow.
func (fault *Fault) apply(w http.ResponseWriter, r *http.Request, rec *Request, closed <-chan struct{}) (answer, bool) {
	if fault.Latency > 0 {
		rec.Fault = "latency"
		t := time.NewTimer(fault.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return answer{}, true // the client gave up; nobody is listening
		case <-closed:
			t.Stop()
			dropConnection(w)
			return answer{}, true
		}
	}
	switch {
	case fault.Drop:
		rec.Fault = "drop"
		dropConnection(w)
		return answer{}, true
	case fault.Malformed:
		rec.Fault = "malformed"
		return respond(w, http.StatusOK, `{"link":"http://`), true
	case fault.Status != 0:
		rec.Fault = "status"
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
		body := fault.Body
		if body == "" {
			body = defaultBody(fault.Status)
		}
		return respond(w, fault.Status, body), true
	}
	return answer{}, false
}

// defaultBody is what the API, or the proxy in front of it, answers with a
// status.
func defaultBody(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return `{"code":"rate_limit_exceeded","message":"Too many requests. Please retry later."}`
	case status == http.StatusBadGateway:
		return "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
	case status >= 500:
		return `{"code":"server_error","message":` + strconv.Quote(http.StatusText(status)) + `}`
	}
	return `{"message":` + strconv.Quote(http.StatusText(status)) + `}`
}

// dropConnection closes the connection under w without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
}
