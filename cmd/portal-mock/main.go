// Command portal-mock serves a fake of the WorkOS Admin Portal API for CI
// jobs in any language, in the manner of stripe-mock: the fake of package
// portaltest behind a standalone server.
//
// Usage:
//
//	portal-mock [-addr 127.0.0.1:8484] [-api-key sk_test_...] [-org org_123 ...]
//	            [-tls [-tls-host NAME ...] [-tls-cert-out FILE]]
//
// The first line it prints holds its base URL: point an SDK at it with
// WORKOS_BASE_URL. With -tls it serves HTTPS (HTTP/2 too) with a
// certificate it makes at start for 127.0.0.1, ::1, localhost and every
// -tls-host, and writes that certificate to -tls-cert-out, for clients to
// trust through SSL_CERT_FILE (Go), NODE_EXTRA_CA_CERTS (Node) and the
// like. It logs one line per request to standard error, never a key, and
// stops on SIGINT or SIGTERM, ending requests in flight, with status 0.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/adminportal/portal/portaltest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "portal-mock:", err)
		os.Exit(1)
	}
}

// list collects a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// run serves until ctx is done: main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portal-mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8484", "`address` to listen on; port 0 picks a free port")
	apiKey := fs.String("api-key", "", "the only API `key` to accept (default: any sk_test_ key)")
	var orgs, tlsHosts list
	fs.Var(&orgs, "org", "an organization `ID` that exists (repeatable; default: every well-formed ID)")
	useTLS := fs.Bool("tls", false, "serve HTTPS, with a certificate made at start")
	fs.Var(&tlsHosts, "tls-host", "a `name` the certificate also covers, such as a CI service's host name (repeatable); the first is the links' host")
	certOut := fs.String("tls-cert-out", "", "write the certificate, PEM-encoded, to `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	for _, org := range orgs {
		if !strings.HasPrefix(org, "org_") {
			return fmt.Errorf("-org %q: want an organization ID, such as org_123", org)
		}
	}
	if !*useTLS && (len(tlsHosts) > 0 || *certOut != "") {
		return errors.New("-tls-host and -tls-cert-out need -tls")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		var inUse *net.OpError
		if errors.As(err, &inUse) && errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w; pick another address with -addr, or -addr 127.0.0.1:0 for any free port", err)
		}
		return err
	}
	defer ln.Close()
	scheme := "http://"
	if *useTLS {
		cert, pemCert, err := newCertificate(tlsHosts)
		if err != nil {
			return err
		}
		if *certOut != "" {
			if err := os.WriteFile(*certOut, pemCert, 0o644); err != nil {
				return err
			}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
		scheme = "https://"
	}
	baseURL := scheme + publicAddr(ln.Addr(), tlsHosts)

	var opts []portaltest.Option
	if *apiKey != "" {
		opts = append(opts, portaltest.WithAPIKey(*apiKey))
	}
	if len(orgs) > 0 {
		opts = append(opts, portaltest.WithOrganizations(orgs...))
	}
	fake := portaltest.NewFake(baseURL, opts...)
	logger := log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	srv := &http.Server{
		Handler:           logRequests(logger, fake),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second, // a client trickling its request cannot hold the server
		IdleTimeout:       time.Minute,
		ErrorLog:          logger,
	}
	fmt.Fprintf(stdout, "portal-mock listening on %s\n", baseURL)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// End latency faults first, then give other requests a moment.
	fake.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if srv.Shutdown(shutdownCtx) != nil {
		_ = srv.Close()
	}
	<-errc
	logger.Print("stopped")
	return nil
}

// publicAddr is the address clients reach a listener at: the first of
// names, if any, with the listener's port; else the listener's address, with
// loopback in place of an unspecified IP.
func publicAddr(addr net.Addr, names []string) string {
	tcp, host := addr.(*net.TCPAddr), ""
	switch {
	case len(names) > 0:
		host = names[0]
	case tcp.IP.IsUnspecified():
		host = "127.0.0.1"
	default:
		host = tcp.IP.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// logRequests logs one line per request: method, path, status (or
// "dropped"), duration and request ID. It logs no header, so that no key
// reaches a CI log.
func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := "dropped"
			if sw.status != 0 {
				status = strconv.Itoa(sw.status)
			}
			logger.Printf("%s %s %s %s %s", r.Method, r.URL.Path, status, time.Since(start).Round(time.Microsecond), w.Header().Get("X-Request-Id"))
		}()
		next.ServeHTTP(sw, r)
	})
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
