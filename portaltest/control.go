package portaltest

import (
	"cmp"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// control serves the endpoints under /__mock/, through which test suites in
// any language inspect and steer the fake:
//
//	GET    /__mock/health    {"status":"ok"}
//	GET    /__mock/requests  {"total": n, "requests": [...]}, the recorded requests;
//	                         with ?min=N, once N requests have arrived (a test waits without sleeping),
//	                         or after ?timeout (default 30s, at most 5m): compare total with N
//	POST   /__mock/reset     forget requests, links and faults
//	POST   /__mock/faults    add a fault (a JSON faultJSON)
//	DELETE /__mock/faults    remove every fault
//
// A web page the developer happens to visit must not steer the fake, so
// cross-site requests are refused (by Origin or Sec-Fetch-Site), and every
// request that changes something must be application/json, which no form
// can send and no script can send cross-site without the CORS approval
// that the fake never gives.
func (f *Fake) control(w http.ResponseWriter, r *http.Request) {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" || !sameOrigin(r) {
		messageAnswer(http.StatusForbidden, "Cross-site requests to the control endpoints are refused.").write(w)
		return
	}
	if mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method != http.MethodGet &&
		mediaType != "application/json" {
		messageAnswer(http.StatusUnsupportedMediaType,
			"Control requests must be sent as Content-Type: application/json.").write(w)
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /__mock/health":
		jsonAnswer(http.StatusOK, map[string]string{"status": "ok"}).write(w)
	case "GET /__mock/requests":
		if atLeast, err := strconv.Atoi(r.URL.Query().Get("min")); err == nil {
			timeout, err := time.ParseDuration(cmp.Or(r.URL.Query().Get("timeout"), "30s"))
			if err != nil || timeout < 0 || timeout > 5*time.Minute {
				messageAnswer(http.StatusBadRequest, "timeout must be a duration from 0s to 5m, such as 10s").write(w)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			_, _ = f.WaitForRequests(ctx, atLeast) // the fake closing, or the time running out, ends the wait too
			if r.Context().Err() != nil {
				return // the caller gave up
			}
		}
		f.mu.Lock()
		list := struct {
			Total    int64     `json:"total"`
			Requests []Request `json:"requests"`
		}{f.log.total, f.log.snapshot()}
		f.mu.Unlock()
		jsonAnswer(http.StatusOK, list).write(w)
	case "POST /__mock/reset":
		f.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "POST /__mock/faults":
		var in faultJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultJSON))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			messageAnswer(http.StatusBadRequest, "invalid fault JSON: "+err.Error()).write(w)
			return
		}
		if err := f.InjectFault(in.fault()); err != nil {
			messageAnswer(http.StatusBadRequest, err.Error()).write(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "DELETE /__mock/faults":
		f.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		messageAnswer(http.StatusNotFound, "Not Found").write(w)
	}
}

// maxFaultJSON bounds a fault's JSON, and with it the fault's Body.
const maxFaultJSON = 64 << 10

// sameOrigin reports whether a request carries no Origin (curl, SDKs) or the
// origin of the address it was sent to.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host && (u.Scheme == "https") == (r.TLS != nil)
}

// faultJSON is a Fault as POST /__mock/faults takes it, for example
//
//	{"status":429,"retry_after":"2","count":3}
//	{"drop":true,"probability":0.2,"seed":7}
//	{"latency_ms":1500}
type faultJSON struct {
	Status      int     `json:"status"`
	Body        string  `json:"body"`
	RetryAfter  string  `json:"retry_after"`
	LatencyMS   int64   `json:"latency_ms"`
	Drop        bool    `json:"drop"`
	Malformed   bool    `json:"malformed"`
	Count       int     `json:"count"`
	Probability float64 `json:"probability"`
	Seed        uint64  `json:"seed"`
}

func (j faultJSON) fault() Fault {
	return Fault{Status: j.Status, Body: j.Body, RetryAfter: j.RetryAfter,
		Latency: time.Duration(j.LatencyMS) * time.Millisecond, Drop: j.Drop, Malformed: j.Malformed,
		Count: j.Count, Probability: j.Probability, Seed: j.Seed}
}
