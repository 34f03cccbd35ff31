package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/adminportal/portal/portaltest"
)

// envAPIKey names the variable that gives the one key to accept.
const envAPIKey = "PORTAL_MOCK_API_KEY"

// config is what the flags set.
type config struct {
	addr        string
	apiKey      string
	orgs        list
	hosts       list
	tls         bool
	tlsHosts    list
	certOut     string
	healthcheck bool
	version     bool
}

// list collects a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// flagSet returns the flags, which set c; its usage goes to stderr.
func (c *config) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("portal-mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8484",
		"`address` to listen on (or to ask, with -healthcheck); port 0 picks a free port")
	fs.StringVar(&c.apiKey, "api-key", "", "the only API `key` to accept (default: $"+envAPIKey+
		", else any sk_test_ key and the documentation's sk_example_123456789); "+
		"prefer the variable, which the process list does not show")
	fs.Var(&c.orgs, "org", "an organization `ID` that exists (repeatable; default: every well-formed ID)")
	fs.Var(&c.hosts, "host", "a `name` to answer to besides localhost and loopback IPs, such as a CI service's "+
		"host name, which -tls's certificate covers (repeatable); the first is the base URL's host")
	fs.BoolVar(&c.tls, "tls", false, "serve HTTPS, with a certificate made at start")
	fs.Var(&c.tlsHosts, "tls-host", "the same as -host, with -tls (repeatable)")
	fs.StringVar(&c.certOut, "tls-cert-out", "", "write the certificate, PEM-encoded, to `file`")
	fs.BoolVar(&c.healthcheck, "healthcheck", false,
		"ask the mock at -addr for /__mock/health, and exit 0 if it answers")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	return fs
}

// check refuses flags that contradict each other or cannot be used.
func (c *config) check(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments: %q", args)
	}
	for _, org := range c.orgs {
		if !strings.HasPrefix(org, "org_") {
			return fmt.Errorf("-org %q: want an organization ID, such as org_123", org)
		}
	}
	if !c.tls && (len(c.tlsHosts) > 0 || c.certOut != "") {
		return errors.New("-tls-host and -tls-cert-out need -tls")
	}
	for _, name := range c.names() {
		if net.ParseIP(name) == nil && (name == "" || strings.ContainsAny(name, ":/[]@ ")) {
			return fmt.Errorf("-host %q: want a host name or an IP address, without scheme or port", name)
		}
	}
	return nil
}

// names are the names to answer to besides localhost and loopback IPs.
func (c *config) names() []string { return append(append([]string(nil), c.tlsHosts...), c.hosts...) }

// options are the fake's.
func (c *config) options() []portaltest.Option {
	opts := []portaltest.Option{portaltest.WithHosts(c.names()...)}
	if key := cmp.Or(c.apiKey, os.Getenv(envAPIKey)); key != "" {
		opts = append(opts, portaltest.WithAPIKey(key))
	}
	if len(c.orgs) > 0 {
		opts = append(opts, portaltest.WithOrganizations(c.orgs...))
	}
	return opts
}
