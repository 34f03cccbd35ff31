// Command portal-mock serves a fake of the WorkOS Admin Portal API for CI
// jobs in any language, in the manner of stripe-mock: the fake of package
// portaltest behind a standalone server.
//
// Usage:
//
//	portal-mock [-addr 127.0.0.1:8484] [-org org_123 ...] [-host NAME ...]
//	            [-tls [-tls-host NAME ...] [-tls-cert-out FILE]]
//	portal-mock -healthcheck [-addr 127.0.0.1:8484]
//	portal-mock -version
//
// The first line it prints holds its base URL. It accepts any sk_test_ key,
// or only the key in PORTAL_MOCK_API_KEY (or -api-key, which every local
// user can read in the process list). It answers only requests whose Host
// is localhost, a loopback IP, or a name given with -host or -tls-host, so
// that a web page whose name rebinds to 127.0.0.1 cannot reach it, and
// refuses cross-site requests on every path but the portal page; the first
// such name is the host of the links it issues.
//
// With -tls it serves HTTPS (HTTP/2 too) with a certificate it makes at
// start for 127.0.0.1, ::1, localhost and every -tls-host, and writes that
// certificate to -tls-cert-out, for clients to trust through SSL_CERT_FILE
// (Go), NODE_EXTRA_CA_CERTS (Node) and the like. It logs one line per
// request to standard error, never a key, and stops on SIGINT or SIGTERM,
// ending requests in flight, with status 0. -healthcheck asks the mock at
// -addr for /__mock/health and exits 0 if it answers, for an image without
// curl.
//
// # Pointing an SDK at the mock
//
// Of the official SDKs, only Python reads WORKOS_BASE_URL from the
// environment, as this module does; the others take the address as an
// option, so code that builds its client without one calls the real API
// whatever WORKOS_BASE_URL says. From each SDK's source:
//
//	SDK            reads WORKOS_BASE_URL  how to set the address
//	this module    yes                    portal.WithBaseURL(url)
//	Go, workos-go  no                     workos.NewClient(key, workos.WithBaseURL(url))
//	Node           no                     new WorkOS(key, {apiHostname: "127.0.0.1", port: 8484, https: false})
//	Python         yes                    WorkOSClient(api_key=key, base_url=url)
//	Ruby           no                     WorkOS::Client.new(api_key: key, base_url: url)
//	PHP            no                     new \WorkOS\WorkOS(apiKey: $key, baseUrl: $url)
//	Java/Kotlin    no                     WorkOS(apiKey, apiBaseUrl = url), or WorkOS.builder().apiBaseUrl(url)
//	.NET           no                     new WorkOSClient(new WorkOSOptions { ApiKey = key, ApiBaseURL = url })
//
// Node takes a host, not a URL, and recent versions of @workos-inc/node
// need Node 22.11 or later. Ruby drops the path of its URL.
package main

import (
	"cmp"
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

// envAPIKey names the variable that gives the one key to accept.
const envAPIKey = "PORTAL_MOCK_API_KEY"

// maxHeaderBytes bounds the request headers the mock reads, far above what
// an SDK sends, so that a client cannot fill memory.
const maxHeaderBytes = 16 << 10

// version is the release's version, which the release build sets with
// -ldflags "-X main.version=v1.2.3"; see buildVersion.
var version string

// buildVersion returns version, or else the module version that go install
// and go tool record, or "devel" for a build from a checkout.
func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// checkHealth asks the mock at addr for /__mock/health, over HTTPS and then
// plain HTTP, as an image's health check cannot know whether the mock runs
// with -tls. It verifies no certificate: it sends nothing secret, and the
// certificate is made at start.
func checkHealth(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every interface: ask on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, Proxy: nil}
	defer tr.CloseIdleConnections()
	var problems []string
	for _, scheme := range []string{"https", "http"} {
		url := scheme + "://" + net.JoinHostPort(host, port) + "/__mock/health"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"status":"ok"`) {
			return nil // portal-mock itself, not whatever else answers 200
		}
		problems = append(problems, scheme+": "+resp.Status)
	}
	return errors.New("unhealthy: " + strings.Join(problems, "; "))
}

// list collects a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// run serves until ctx is done: main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portal-mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8484",
		"`address` to listen on (or to ask, with -healthcheck); port 0 picks a free port")
	apiKey := fs.String("api-key", "", "the only API `key` to accept (default: $"+envAPIKey+
		", else any sk_test_ key); prefer the variable, which the process list does not show")
	var orgs, hosts, tlsHosts list
	fs.Var(&orgs, "org", "an organization `ID` that exists (repeatable; default: every well-formed ID)")
	fs.Var(&hosts, "host", "a `name` to answer to besides localhost and loopback IPs, such as a CI service's "+
		"host name (repeatable)")
	useTLS := fs.Bool("tls", false, "serve HTTPS, with a certificate made at start")
	fs.Var(&tlsHosts, "tls-host", "a `name` to answer to that the certificate also covers (repeatable); "+
		"the first of these, else of -host, is the links' host")
	certOut := fs.String("tls-cert-out", "", "write the certificate, PEM-encoded, to `file`")
	healthcheck := fs.Bool("healthcheck", false,
		"ask the mock at -addr for /__mock/health, and exit 0 if it answers")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *showVersion:
		fmt.Fprintln(stdout, "portal-mock", buildVersion())
		return nil
	case *healthcheck:
		return checkHealth(ctx, *addr)
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
	for _, name := range append(tlsHosts, hosts...) {
		if net.ParseIP(name) == nil && (name == "" || strings.ContainsAny(name, ":/[]@ ")) {
			return fmt.Errorf("-host or -tls-host %q: want a host name or an IP address, without scheme or port", name)
		}
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
	baseURL := scheme + publicAddr(ln.Addr(), append(tlsHosts, hosts...))

	var opts []portaltest.Option
	if key := cmp.Or(*apiKey, os.Getenv(envAPIKey)); key != "" {
		opts = append(opts, portaltest.WithAPIKey(key))
	}
	if len(orgs) > 0 {
		opts = append(opts, portaltest.WithOrganizations(orgs...))
	}
	opts = append(opts, portaltest.WithHosts(append(tlsHosts, hosts...)...))
	fake := portaltest.NewFake(baseURL, opts...)
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
