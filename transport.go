package portal

import (
	"net/http"
	"net/url"
	"time"
)

// newTransport returns the transport of a Client of endpoint built without
// WithHTTPClient: net/http's, set through its documented fields, so that
// GODEBUG settings and proxies work as they do for net/http.
func newTransport(endpoint *url.URL) *http.Transport {
	tr := &http.Transport{
		Proxy:               proxyHTTPS,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		// HTTP/1.1 (a proxy, a mock) needs a connection per concurrent call.
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		// The API's headers take a few hundred bytes; net/http's default is 10 MB.
		MaxResponseHeaderBytes: 64 << 10,
		// HTTP/2's health check finds a connection that died silently (a NAT
		// dropped the flow) in 4s: 2s without a frame bring a ping, and 2s
		// without its answer close the connection, so that its calls retry
		// on a new one. A slow but healthy server answers pings as it works.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 2 * time.Second, PingTimeout: 2 * time.Second},
	}
	// net/http offers HTTP/2 to an https proxy, then speaks HTTP/1.1 CONNECT,
	// which fails if the proxy took the offer: so through one, only HTTP/1.1.
	if proxy, _ := proxyHTTPS(&http.Request{URL: endpoint}); proxy != nil && proxy.Scheme == "https" {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(true)
	}
	return tr
}

// proxyHTTPS is http.ProxyFromEnvironment for https only: plain http goes
// to a loopback mock, and a proxy on the way would see the key in clear.
func proxyHTTPS(req *http.Request) (*url.URL, error) {
	if req.URL.Scheme != "https" {
		return nil, nil
	}
	return http.ProxyFromEnvironment(req)
}
