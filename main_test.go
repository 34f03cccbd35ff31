package portal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain prepares what the process must know before any TLS or proxy
// code runs, since Go reads both once: a test certificate authority that
// the system roots trust (SSL_CERT_FILE), and a proxy for one test host
// (HTTPS_PROXY, NO_PROXY). After the tests, it closes the shared
// transport's idle connections and fails the run if any goroutine is left.
//
// With PORTAL_TEST_SERVER set, the test binary is instead the TLS server of
// the cross-process benchmarks (see serveOutOfProcess).
func TestMain(m *testing.M) {
	if os.Getenv(outOfProcessEnv) != "" {
		serveOutOfProcess()
		return
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
	code := m.Run()
	sharedTransport().CloseIdleConnections()
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

// Test hosts: the server certificate covers them; proxiedHost is reached
// only through the test proxy, and directHost is in NO_PROXY.
const (
	proxiedHost = "api.proxied.test"
	directHost  = "api.direct.test"
)

var (
	testCert     tls.Certificate // the servers' certificate, signed by the test CA
	testCertFile string          // the test CA, PEM, which SSL_CERT_FILE names
	testKeyFile  string          // testCert and its key, PEM, for the out-of-process server
)

// setUpTestTLS makes a certificate authority, trusted through
// SSL_CERT_FILE, and a server certificate for loopback and the test hosts.
func setUpTestTLS(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
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
		SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost", proxiedHost, directHost},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	testCert = tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	testCertFile, testKeyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem")
	if err := os.WriteFile(testCertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return err
	}
	server := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	if err := os.WriteFile(testKeyFile, server, 0o600); err != nil {
		return err
	}
	return os.Setenv("SSL_CERT_FILE", testCertFile)
}
