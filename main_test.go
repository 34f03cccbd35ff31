package portal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/adminportal/portal/internal/syncbuf"
	"github.com/adminportal/portal/internal/testenv"
)

// TestMain prepares what the process must know before any TLS or proxy
// code runs, since Go reads both once: a test certificate authority that
// the system roots trust (SSL_CERT_FILE), and proxies for one test host
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). It sends slog's default logger to
// testLog, and fails the run if any goroutine is left behind.
func TestMain(m *testing.M) {
	// The developer's environment must not change what the tests see: a
	// test that wants a setting sets it itself, with t.Setenv, or in the
	// environment of a child process (runInChild), which keeps it. Go reads
	// GODEBUG again when it changes.
	if os.Getenv("PORTAL_TEST_CHILD") == "" {
		testenv.Isolate()
	}
	dir, err := os.MkdirTemp("", "portal-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := setUpTestTLS(dir); err != nil {
		fmt.Fprintln(os.Stderr, "setting up the test certificate authority:", err)
		os.Exit(1)
	}
	stopProxy := startTestProxy()
	slog.SetDefault(slog.New(slog.NewTextHandler(&testLog, nil)))
	code := m.Run()
	stopProxy()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// testLog holds what slog's default logger wrote.
var testLog syncbuf.Buffer

// Test hosts: the server certificate covers them; proxiedHost is reached
// only through the test proxy, and directHost is in NO_PROXY.
const (
	proxiedHost = "api.proxied.test"
	directHost  = "api.direct.test"
)

var (
	testCert     tls.Certificate // the servers' certificate, signed by the test CA
	testCertFile string          // the test CA, PEM, which SSL_CERT_FILE names
)

// The test certificates are valid from before the year 2000, where
// testing/synctest's clock starts, to long after today.
var (
	validFrom  = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	validUntil = time.Now().Add(24 * time.Hour)
)

// setUpTestTLS makes a certificate authority, trusted through
// SSL_CERT_FILE, and a server certificate for loopback and the test hosts.
func setUpTestTLS(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: validFrom, NotAfter: validUntil,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), NotBefore: validFrom, NotAfter: validUntil,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost", proxiedHost, directHost},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	testCert = tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
	testCertFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(testCertFile,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return err
	}
	return os.Setenv("SSL_CERT_FILE", testCertFile)
}
