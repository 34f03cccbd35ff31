// Command portal-mock serves a fake of the WorkOS Admin Portal API for CI
// jobs in any language, in the manner of stripe-mock. It is the fake of
// package portaltest behind a standalone HTTP server.
//
// Usage:
//
//	portal-mock [-addr 127.0.0.1:8484] [-api-key sk_test_...] [-org org_123 ...]
//
// The first line it prints to standard output holds its base URL; point an
// SDK at it with WORKOS_BASE_URL. It logs one line per request to standard
// error and stops cleanly on SIGINT or SIGTERM. Control endpoints under
// /__mock/ list recorded requests, reset the fake and inject faults.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/adminportal/portal/portaltest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portal-mock:", err)
		os.Exit(1)
	}
}

// orgList collects the repeatable -org flag.
type orgList []string

func (o *orgList) String() string { return strings.Join(*o, ",") }

func (o *orgList) Set(v string) error {
	if !strings.HasPrefix(v, "org_") {
		return fmt.Errorf("%q is not an organization ID (org_...)", v)
	}
	*o = append(*o, v)
	return nil
}

// run serves until ctx is done. It is main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portal-mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8484", "address to listen on; port 0 picks a free port")
	apiKey := fs.String("api-key", "", "the only API key to accept (default: any sk_test_ key)")
	var orgs orgList
	fs.Var(&orgs, "org", "an organization that exists (repeatable; default: every well-formed ID)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	var opts []portaltest.Option
	if *apiKey != "" {
		opts = append(opts, portaltest.WithAPIKey(*apiKey))
	}
	if len(orgs) > 0 {
		opts = append(opts, portaltest.WithOrganizations(orgs...))
	}
	fake := portaltest.NewFake(opts...)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	srv := &http.Server{
		Handler:           logRequests(logger, fake),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	fmt.Fprintf(stdout, "portal-mock listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Print("stopped")
	return nil
}

// logRequests logs one line per request: method, path, status, duration and
// request ID. It never logs headers, so keys stay out of CI logs.
func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := "dropped"
		if sw.status != 0 {
			status = fmt.Sprint(sw.status)
		}
		logger.Printf("%s %s %s %s %s", r.Method, r.URL.Path, status, time.Since(start).Round(time.Microsecond), w.Header().Get("X-Request-ID"))
	})
}

// statusWriter remembers the status written, and passes hijacking through
// for the fake's dropped-connection fault.
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

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("portal-mock: connection cannot be hijacked")
	}
	return hj.Hijack()
}
