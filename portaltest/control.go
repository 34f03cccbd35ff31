package portaltest

import (
	"encoding/json"
	"net/http"
	"time"
)

// control serves the endpoints under /__mock/ through which test suites in
// any language inspect and steer the fake:
//
//	GET    /__mock/health    {"status":"ok"}
//	GET    /__mock/requests  the recorded requests, as a JSON array
//	POST   /__mock/reset     forget requests, links and faults
//	POST   /__mock/faults    add a fault (JSON, see faultJSON)
//	DELETE /__mock/faults    remove every fault
func (f *Fake) control(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /__mock/health":
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	case "GET /__mock/requests":
		reqs := f.Requests()
		b, err := json.Marshal(reqs)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, `{"message":"encoding requests failed"}`)
			return
		}
		writeJSON(w, http.StatusOK, string(b))
	case "POST /__mock/reset":
		f.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "POST /__mock/faults":
		var in faultJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, "invalid fault JSON: "+err.Error())
			return
		}
		if err := f.InjectFault(in.fault()); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "DELETE /__mock/faults":
		f.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, `{"code":"not_found","message":"Not Found"}`)
	}
}

// faultJSON is a Fault as the control endpoint takes it, e.g.
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
	return Fault{
		Status: j.Status, Body: j.Body, RetryAfter: j.RetryAfter,
		Latency: time.Duration(j.LatencyMS) * time.Millisecond,
		Drop:    j.Drop, Malformed: j.Malformed,
		Count: j.Count, Probability: j.Probability, Seed: j.Seed,
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	writeJSON(w, status, string(b))
}
