// Command portal-mock serves a fake of the WorkOS Admin Portal API for CI
// jobs in any language, in the manner of stripe-mock: the fake of package
// portaltest behind a standalone server.
//
// Usage:
//
//	portal-mock [-addr 127.0.0.1:8484] [-org org_123 ...] [-host NAME ...]
//	            [-tls [-tls-cert-out FILE]]
//	portal-mock -healthcheck [-addr 127.0.0.1:8484]
//	portal-mock -version
//
// The first line it prints holds its base URL. It accepts any sk_test_ key
// and sk_example_123456789, the placeholder key of the WorkOS documentation's
// snippets, or only the key in PORTAL_MOCK_API_KEY (or -api-key, which every local
// user can read in the process list). It answers only requests whose Host
// is localhost, a loopback IP, or a name given with -host, so that a web
// page whose name rebinds to 127.0.0.1 cannot reach it; it refuses
// cross-site requests on every path but the portal page, and nothing that
// a page can send without a CORS preflight changes it. Its links name the
// host and port a request was sent to, so that they work through a
// remapped port: localhost, 127.0.0.1, ::1 or a -host name; the first
// -host name is the host of the base URL it prints.
//
// With -tls it serves HTTPS (HTTP/2 too) with a certificate it makes at
// start for 127.0.0.1, ::1, localhost and every -host, and writes that
// certificate to -tls-cert-out, for clients to trust through SSL_CERT_FILE
// (Go), NODE_EXTRA_CA_CERTS (Node) and the like; -tls-host is -host, kept
// from before. It logs one line per request to standard error, never a
// key, and stops on SIGINT or SIGTERM, ending requests in flight, with
// status 0; a standard error closed early loses log lines, not the mock. It
// exits 1, saying why, when its address is taken. -healthcheck asks the mock
// at -addr for /__mock/health and exits 0 if it answers, for an image
// without curl.
//
// # Pointing an SDK at the mock
//
// Of the official SDKs, only Python reads WORKOS_BASE_URL from the
// environment, as this module does; the others take the address as an
// option, so code that builds its client without one calls the real API
// whatever WORKOS_BASE_URL says. From each SDK's source, for the version the
// WorkOS documentation page's snippet is written for (page) and the current
// major; the tests run the Node, Python and Java 7 SDKs against the mock and
// replay the others' exact requests:
//
//	SDK, version              how to set the address
//	this module               portal.WithBaseURL(url), or WORKOS_BASE_URL
//	Go workos-go v3-v6 (page) portal.DefaultClient.Endpoint = url
//	Go workos-go v10          workos.NewClient(key, workos.WithBaseURL(url))
//	Node 8.13.0 (page), 12.x  new WorkOS(key, {apiHostname: "127.0.0.1", port: 8484, https: false})
//	Python 5.x (page), 10.x   WorkOSClient(api_key=key, base_url=url), or WORKOS_BASE_URL
//	Java 4.x (page)           workos.apiHostname, workos.https = false, workos.port
//	Java/Kotlin 7.x           WorkOS.builder().apiKey(key).apiBaseUrl(url).build()
//	Ruby up to 6.x (page)     WORKOS_API_HOSTNAME=name: HTTPS on port 443 only (-addr :443 -tls -tls-host name)
//	Ruby 10.x                 WorkOS::Client.new(api_key: key, base_url: url)
//	PHP 4.x (page)            WorkOS\WorkOS::setApiBaseUrl("http://127.0.0.1:8484/"), ending in /
//	PHP 9.x                   new \WorkOS\WorkOS(apiKey: $key, baseUrl: $url)
//	.NET 2.x (page)           WorkOS.WorkOSClient = new WorkOSClient(new WorkOSOptions { ApiKey, ApiBaseURL = url })
//	.NET 6.x                  new WorkOSClient(new WorkOSOptions { ApiKey = key, ApiBaseURL = url })
//
// Node takes a host, not a URL; @workos-inc/node 9 and later declare Node
// 22.11 or later. Ruby 10 drops the path of its URL. .NET joins the base URL
// and the path as they are, so a base ending in / requests
// //portal/generate_link, which the mock answers 404. To trust -tls:
// SSL_CERT_FILE (Go, Python, Ruby), NODE_EXTRA_CA_CERTS (Node), a JVM trust
// store (-Djavax.net.ssl.trustStore, made with keytool -importcert).
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
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/adminportal/portal/portaltest"
)

func main() {
	// Without this, a write to a standard error that nobody reads any more
	// (a CI step that closed its pipe) would kill the mock with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	if os.Getenv("GOMEMLIMIT") == "" {
		// What the mock keeps is bounded by construction; this has a flood's
		// garbage collected before it doubles that in memory.
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "portal-mock:", err)
		os.Exit(1)
	}
}

// memoryLimit is the heap size at which the garbage collector works harder,
// unless GOMEMLIMIT sets another.
const memoryLimit = 64 << 20

// maxHeaderBytes bounds the request headers the mock reads, far above what
// an SDK sends, so that a client cannot fill memory.
const maxHeaderBytes = 16 << 10

// run serves until ctx is done: main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := c.flagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case c.version:
		fmt.Fprintln(stdout, "portal-mock", buildVersion())
		return nil
	case c.healthcheck:
		return checkHealth(ctx, c.addr)
	}
	if err := c.check(fs.Args()); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: is another portal-mock running there? "+
			"Pick another address with -addr, or -addr 127.0.0.1:0 for any free port", err)
	} else if err != nil {
		return err
	}
	defer ln.Close()
	scheme := "http://"
	if c.tls {
		cert, pemCert, err := newCertificate(c.names())
		if err != nil {
			return err
		}
		if c.certOut != "" {
			if err := os.WriteFile(c.certOut, pemCert, 0o644); err != nil {
				return err
			}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert},
			NextProtos: []string{"h2", "http/1.1"}})
		scheme = "https://"
	}
	baseURL := scheme + publicAddr(ln.Addr().(*net.TCPAddr), c.names())
	fake := portaltest.NewFake(baseURL, c.options()...)
	return serve(ctx, ln, fake, baseURL, stdout, stderr)
}

// serve serves fake on ln until ctx is done, logging to stderr.
func serve(ctx context.Context, ln net.Listener, fake *portaltest.Fake, baseURL string,
	stdout, stderr io.Writer,
) error {
	logs := newLogWriter(stderr)
	defer logs.Close()
	logger := log.New(logs, "", log.LstdFlags|log.Lmicroseconds)
	srv := &http.Server{
		Handler:           logRequests(logger, fake),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second, // a client trickling its request cannot hold the server
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
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
	// ctx is done by now: the shutdown keeps its values but gets a deadline of its own.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
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
func publicAddr(addr *net.TCPAddr, names []string) string {
	host := addr.IP.String()
	switch {
	case len(names) > 0:
		host = names[0]
	case addr.IP.IsUnspecified():
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
