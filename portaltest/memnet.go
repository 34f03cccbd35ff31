package portaltest

import (
	"context"
	"errors"
	"net"
	"sync"
)

// memListener is an in-memory network with one server on it: dial returns
// one end of a net.Pipe and Accept the other. A goroutine that waits on it
// waits on a channel, which a testing/synctest bubble counts as durably
// blocked, so that the bubble's clock moves on while a request is held.
type memListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

var errServerClosed = errors.New("portaltest: the server is closed")

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the address the server reports, the one in its URL.
func (l *memListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// dial connects to the server, whatever the address.
func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, errServerClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
