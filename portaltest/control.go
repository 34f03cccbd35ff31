package portaltest

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
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
// ServeHTTP refuses cross-site requests, and every request here that
// changes something must be application/json, which no form can send and
// no script can send cross-site without the CORS approval that the fake
// never gives.
func (f *Fake) control(w http.ResponseWriter, r *http.Request) {
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
		f.listRequests(w, r)
	case "POST /__mock/reset":
		f.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "POST /__mock/faults":
		var in faultJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultJSON))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil || dec.More() {
			messageAnswer(http.StatusBadRequest, "invalid fault JSON: want one object of the fields below").write(w)
			return
		}
		if in.LatencyMS > int64(time.Hour/time.Millisecond) {
			messageAnswer(http.StatusBadRequest, "invalid fault JSON: latency_ms is at most an hour").write(w)
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

// listRequests answers GET /__mock/requests: {"total": n, "requests": [...]},
// once ?min requests have arrived, or ?timeout passed. It encodes one
// record at a time, under the lock, and writes it out, so that no list of
// every record is held in memory, however many such requests come at once.
func (f *Fake) listRequests(w http.ResponseWriter, r *http.Request) {
	if q := r.URL.Query(); q.Has("min") {
		atLeast, err := strconv.Atoi(q.Get("min"))
		timeout, err2 := time.ParseDuration(cmp.Or(q.Get("timeout"), "30s"))
		if err != nil || err2 != nil || timeout < 0 || timeout > 5*time.Minute {
			messageAnswer(http.StatusBadRequest, "min must be a number, and timeout a duration from 0s to 5m, "+
				"such as ?min=2&timeout=10s").write(w)
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
	total, records := f.log.total, f.log.inOrder()
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `{"total":%d,"requests":[`, total)
	for i, rec := range records {
		f.mu.Lock()
		b, _ := json.Marshal(rec)
		f.mu.Unlock()
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		_, _ = bw.Write(b)
	}
	_, _ = bw.WriteString("]}\n")
	_ = bw.Flush()
}

// maxFaultJSON bounds a fault's JSON, and with it the fault's Body.
const maxFaultJSON = 64 << 10

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
