package portal_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/adminportal/portal"
)

// These tests hold the client to its bounds whatever the server answers:
// every call ends, with a link or an error, within the caller's deadline
// and the 30-second bound on each attempt.

// TestSwitchingProtocolsEndsTheAttempt: a 101 hands over the raw
// connection, which no request context governs; the client reads none of
// it, closes it, and fails at once.
func TestSwitchingProtocolsEndsTheAttempt(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	closed := make(chan struct{})
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
			return
		}
		fmt.Fprint(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		_, _ = io.Copy(io.Discard, conn) // hold the connection until the client closes it
		close(closed)
	}()
	client, err := portal.NewClient(testKey, portal.WithBaseURL("http://"+ln.Addr().String()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = client.GenerateLink(ctx, portal.GenerateLinkOpts{Organization: "org_1"})
	var apiErr *portal.APIError
	require.ErrorAs(t, err, &apiErr, "an answer, not a wait for the deadline")
	assert.Equal(t, http.StatusSwitchingProtocols, apiErr.StatusCode)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorAs(t, err, new(*portal.RetryError), "a server that switches protocols will do it again")
	<-closed // the client closed the connection it was handed
}

// endless is a body that never ends and ignores every context, as a
// hijacked connection or a careless transport's body does: only Close
// ends a Read.
type endless struct {
	closed chan struct{}
}

func (b *endless) Read([]byte) (int, error) {
	<-b.closed
	return 0, errors.New("read on a closed body")
}

func (b *endless) Close() error {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

// endlessTransport answers every request with status and a body that
// never ends.
type endlessTransport struct{ status int }

func (e endlessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: e.status, Header: http.Header{}, Body: &endless{closed: make(chan struct{})},
		Request: req}, nil
}

// TestBodiesThatNeverEndAreCut: whatever transport WithHTTPClient brings,
// a body that never ends is cut by the caller's deadline, or by each
// attempt's bound, which is retried.
func TestBodiesThatNeverEndAreCut(t *testing.T) {
	for _, status := range []int{http.StatusCreated, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, err := portal.NewClient(testKey, portal.WithHTTPClient(&http.Client{
					Transport: endlessTransport{status}}), portal.WithRetryBackoff(time.Second, time.Second))
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				start := time.Now()
				_, err = client.GenerateLink(ctx, portal.GenerateLinkOpts{Organization: "org_1"})
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, 5*time.Second, time.Since(start), "the caller's deadline, exactly")

				start = time.Now()
				_, err = client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
				assert.ErrorIs(t, err, portal.ErrAttemptTimeout)
				assert.ErrorIs(t, err, portal.ErrNoRetriesLeft)
				elapsed := time.Since(start)
				assert.GreaterOrEqual(t, elapsed, 90*time.Second, "three attempts of 30s")
				assert.LessOrEqual(t, elapsed, 92*time.Second, "and two backoffs of at most 1s")
			})
		})
	}
}

// TestInformationalAnswersAreNotTheAnswer: 1xx answers before the real one
// (100 Continue, 103 Early Hints) are skipped, as net/http does.
func TestInformationalAnswersAreNotTheAnswer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
			return
		}
		fmt.Fprint(conn, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"+
			"HTTP/1.1 201 Created\r\nContent-Length: "+fmt.Sprint(len(recordedBody))+"\r\n\r\n"+recordedBody)
	}()
	client, err := portal.NewClient(testKey, portal.WithBaseURL("http://"+ln.Addr().String()))
	require.NoError(t, err)
	defer client.CloseIdleConnections()
	link, err := client.GenerateLink(context.Background(), portal.GenerateLinkOpts{Organization: "org_1"})
	require.NoError(t, err)
	assert.Equal(t, recordedLink, link.Link)
}

// TestAnswersThatNeverStartAreCut: a server that accepts and never answers
// costs each attempt its bound, and the call the caller's deadline.
func TestAnswersThatNeverStartAreCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: []step{{hang: true}}}
		ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
		defer cancel()
		start := time.Now()
		_, err := scriptedClient(t, s).GenerateLink(ctx, portal.GenerateLinkOpts{Organization: "org_1"})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 45*time.Second, time.Since(start))
		assert.Equal(t, 2, s.attempts(), "one bound of 30s, then the deadline cuts the retry")
		assert.False(t, strings.Contains(err.Error(), "\n"))
	})
}
