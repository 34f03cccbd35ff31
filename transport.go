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
// they share connections: over HTTP/2, one carries every concurrent call.
var sharedTransport = sync.OnceValue(newTransport)

func newTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}
	tlsDialer := &tlsDialer{dial: dialer.DialContext, leads: map[string]*handshake{}}
	return &http.Transport{
		Proxy:          http.ProxyFromEnvironment,
		DialContext:    dialer.DialContext,
		DialTLSContext: tlsDialer.DialTLSContext, // through a proxy, net/http handshakes itself
		// An HTTP/1.1 server (a mock, an old proxy) needs a connection per
		// concurrent call; Go's default keeps two idle per host.
		ForceAttemptHTTP2: true, MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: handshakeTimeout,
		// Pings find an HTTP/2 connection that died silently before a call waits on it.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
	}
}

const handshakeTimeout = 10 * time.Second

// dialWaitKey keys a request's context, for tlsDialer to wait on.
type dialWaitKey struct{}

// tlsDialer makes one TLS handshake at a time per server. net/http dials
// for every request that finds no idle connection, and learns the protocol
// only after a handshake, so a burst on a cold client would handshake once
// per call, then keep one HTTP/2 connection and close the rest. Here a dial
// that finds a handshake under way waits: if it brings HTTP/2, net/http
// hands that connection to every waiting request, and the dial stands down
// when its own request ends (unseen, as net/http served it). If not, the
// dial goes ahead, as HTTP/1.1 needs a connection per call.
type tlsDialer struct {
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	mu    sync.Mutex
	leads map[string]*handshake // the handshake under way, by address
}

type handshake struct {
	done  chan struct{} // closed when the handshake ends
	http2 bool          // it brought HTTP/2; set before done is closed
}

// DialTLSContext returns a connection to addr after a TLS handshake that
// verifies the server's certificate as net/http would.
func (d *tlsDialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	request, _ := ctx.Value(dialWaitKey{}).(context.Context)
	d.mu.Lock()
	if lead := d.leads[addr]; lead != nil && request != nil {
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
	lead := &handshake{done: make(chan struct{})}
	d.leads[addr] = lead
	d.mu.Unlock()
	conn, err := d.handshake(ctx, network, addr)
	d.mu.Lock()
	if d.leads[addr] == lead {
		delete(d.leads, addr)
	}
	d.mu.Unlock()
	lead.http2 = err == nil && conn.(*tls.Conn).ConnectionState().NegotiatedProtocol == "h2"
	close(lead.done)
	return conn, err
}

// handshake dials addr and handshakes, offering HTTP/2, in handshakeTimeout.
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
