package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// logRequests logs one line per request: method, route, status (or
// "dropped"), duration and request ID. It logs no header, and a method and
// a path only when they are among the few it knows, so that no key, nor a
// line that a request forged, reaches a CI log.
func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := "dropped"
			if sw.status != 0 {
				status = strconv.Itoa(sw.status)
			}
			method, route := r.Method, r.URL.Path
			if !knownMethods[method] {
				method = "(another method)"
			}
			if !knownRoutes[route] {
				route = "(another path)"
			}
			logger.Printf("%s %s %s %s %s", method, route, status, time.Since(start).Round(time.Microsecond),
				w.Header().Get("X-Request-Id"))
		}()
		next.ServeHTTP(sw, r)
	})
}

// knownMethods and knownRoutes are what the log shows of a request.
var (
	knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true,
		http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}
	knownRoutes = map[string]bool{"/portal/generate_link": true, "/portal/launch": true, "/__mock/health": true,
		"/__mock/requests": true, "/__mock/reset": true, "/__mock/faults": true}
)

// logWriter writes lines to w from a goroutine of its own, and drops them
// when it falls 1,000 lines behind, saying how many it dropped, so that a
// standard error that nobody reads (a pipe that fills up) can hold neither
// a request nor the shutdown.
type logWriter struct {
	lines  chan []byte
	done   chan struct{}
	mu     sync.Mutex
	drops  int
	closed bool // a handler that outlives the server's shutdown may still log
}

func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{lines: make(chan []byte, 1000), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for line := range l.lines {
			_, _ = w.Write(line)
		}
	}()
	return l
}

// Write hands a line to the writing goroutine, or drops it.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	if l.drops > 0 {
		select {
		case l.lines <- []byte("(" + strconv.Itoa(l.drops) + " lines dropped: nobody read them)\n"):
			l.drops = 0
		default:
		}
	}
	select {
	case l.lines <- bytes.Clone(p):
	default:
		l.drops++
	}
	return len(p), nil
}

// Close writes out the lines waiting, for at most a second, since a writer
// that nobody reads must not hold the shutdown.
func (l *logWriter) Close() {
	l.mu.Lock()
	l.closed = true
	close(l.lines)
	l.mu.Unlock()
	select {
	case <-l.done:
	case <-time.After(time.Second):
	}
}

// statusWriter remembers the status written; Unwrap lets the fake drop the
// connection under it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
