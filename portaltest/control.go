package portaltest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The control endpoints, through which test suites in any language inspect
// and steer the fake (routes registers them):
//
//	GET    /__mock/health    {"status":"ok"}
//	GET    /__mock/requests  {"total": n, "requests": [...]}, the recorded requests;
//	                         with ?min=N, once N requests have arrived (a test waits without sleeping),
//	                         or after ?timeout (default 30s, at most 5m): compare total with N
//	POST   /__mock/reset     forget requests, links and faults
//	POST   /__mock/faults    add a fault (a Fault's JSON)
//	DELETE /__mock/faults    remove every fault

// jsonOnly serves only requests whose body is JSON, which no form can send,
// and no script on another site without the CORS approval that the fake
// never gives: a web page the developer happens to visit must not steer it.
func jsonOnly(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isJSON(r.Header.Get("Content-Type")) {
			messageAnswer(http.StatusUnsupportedMediaType,
				"Control requests must be sent as Content-Type: application/json.").write(w)
			return
		}
		next(w, r)
	})
}

// maxFaultJSON bounds a fault's JSON, and with it the fault's Body.
const maxFaultJSON = 64 << 10

// addFault answers POST /__mock/faults.
func (f *Fake) addFault(w http.ResponseWriter, r *http.Request) {
	var fault Fault
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultJSON))
	if err := dec.Decode(&fault); err != nil || dec.More() {
		messageAnswer(http.StatusBadRequest, "invalid fault JSON: want one object of the fields "+
			"status, body, retry_after, latency_ms, drop, malformed, count, probability and seed").write(w)
		return
	}
	if err := f.InjectFault(fault); err != nil {
		messageAnswer(http.StatusBadRequest, err.Error()).write(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listTimeout bounds how long a client may take to read the list of
// records, so that clients that stop reading hold no goroutine for long.
const listTimeout = 30 * time.Second

// listRequests answers GET /__mock/requests: {"total": n, "requests": [...]},
// once ?min requests have arrived, or ?timeout passed. It encodes one
// record at a time, under the lock, and writes it out before it looks up
// the next, so that a client that reads slowly, or not at all, holds one
// record, and records that leave the log meanwhile are not listed.
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
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(listTimeout))
	f.mu.Lock()
	total, first, resets := f.log.total, f.log.oldest(), f.resets
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	bw := bufio.NewWriter(w)
	_, _ = bw.WriteString(`{"total":` + strconv.FormatInt(total, 10) + `,"requests":[`)
	listed := 0
	for seq := first; seq <= total; seq++ {
		f.mu.Lock()
		var b bytes.Buffer
		if rec := f.log.find(seq); rec != nil && f.resets == resets { // a reset ends the listing
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // a body of "<" costs 1 byte, not 6: the answer is JSON, not HTML
			_ = enc.Encode(rec)
		}
		f.mu.Unlock()
		if b.Len() == 0 {
			continue
		}
		if listed++; listed > 1 {
			_ = bw.WriteByte(',')
		}
		if _, err := bw.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n"))); err != nil {
			return // the client left, or read too slowly
		}
	}
	_, _ = bw.WriteString("]}\n")
	_ = bw.Flush()
}
