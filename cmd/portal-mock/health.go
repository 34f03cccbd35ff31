package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

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
