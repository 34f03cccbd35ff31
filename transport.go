package portal

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// sharedTransport serves every Client built without WithHTTPClient, so that
// they share connections: over HTTP/2, which the API speaks, one connection
// carries every concurrent call.
var sharedTransport = sync.OnceValue(newTransport)

func newTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
	tlsDialer := &tlsDialer{dial: dialer.DialContext, hosts: map[string]*tlsHost{}}
	return &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DialContext:       dialer.DialContext,
		DialTLSContext:    tlsDialer.DialTLSContext,
		ForceAttemptHTTP2: true,
		// An HTTP/1.1 server (a mock, an old proxy) needs a connection per
		// concurrent call; Go's default keeps two idle per host.
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: handshakeTimeout, // through a proxy, net/http handshakes itself
		// Pings find an HTTP/2 connection that died silently before a call waits on it.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
	}
}

const handshakeTimeout = 10 * time.Second

// dialWaitKey keys the context of a request, which tlsDialer waits on instead
// of dialing while another dial's handshake is under way.
type dialWaitKey struct{}

// tlsDialer makes one TLS handshake at a time per server while the server
// may speak HTTP/2. net/http dials for every request that finds no idle
// connection and learns the protocol only after a handshake, so a burst on
// a cold client would handshake once per call, then keep one connection.
// Here a dial that finds a handshake under way waits: if it brings HTTP/2,
// net/http hands that connection to every waiting request, and the dial
// stands down when its own request ends (its error unseen, as net/http
// served the request). If not, the dial goes ahead: HTTP/1.1 needs a
// connection per call.
type tlsDialer struct {
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	mu    sync.Mutex
	hosts map[string]*tlsHost // by address
}

type tlsHost struct {
	http1 bool       // the server chose HTTP/1.1: dials never wait
	lead  *handshake // the handshake under way, if any
}

type handshake struct {
	done  chan struct{} // closed when the handshake ends
	http2 bool          // it brought HTTP/2; set before done is closed
}

// DialTLSContext returns a connection to addr after a TLS handshake with the
// standard verification of the server's certificate.
func (d *tlsDialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	request, _ := ctx.Value(dialWaitKey{}).(context.Context)
	d.mu.Lock()
	host := d.hosts[addr]
	if host == nil {
		host = &tlsHost{}
		d.hosts[addr] = host
	}
	lead := host.lead
	switch {
	case host.http1:
		d.mu.Unlock()
		return d.handshake(ctx, network, addr)
	case lead != nil && request != nil:
		d.mu.Unlock()
		select {
		case <-lead.done:
		case <-request.Done():
			return nil, request.Err()
		}
		if !lead.http2 {
			return d.handshake(ctx, network, addr)
		}
		<-request.Done()
		return nil, request.Err()
	}
	lead = &handshake{done: make(chan struct{})}
	host.lead = lead
	d.mu.Unlock()
	conn, err := d.handshake(ctx, network, addr)
	d.mu.Lock()
	if host.lead == lead {
		host.lead = nil
	}
	if err == nil {
		lead.http2 = conn.(*tls.Conn).ConnectionState().NegotiatedProtocol == "h2"
		host.http1 = !lead.http2
	}
	d.mu.Unlock()
	close(lead.done)
	return conn, err
}

// handshake dials addr and completes a TLS handshake offering HTTP/2, within
// handshakeTimeout.
func (d *tlsDialer) handshake(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	raw, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	conn := tls.Client(raw, &tls.Config{ServerName: host, NextProtos: []string{"h2", "http/1.1"}})
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return conn, nil
}
