package wsclient

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// directTransport is the http.RoundTripper of Options.Direct. It dials the
// server on the caller's goroutine, writes the upgrade request, reads the
// answer and hands coder/websocket the connection itself as the response
// body. net/http's Transport does the same through a dial goroutine and a
// persistConn with a reader and a writer goroutine and their buffers, per
// socket.
type directTransport struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var errDirectScheme = errors.New("wsclient: Options.Direct dials ws:// only")

func (t *directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" { // coder/websocket has made ws:// http://
		return nil, errDirectScheme
	}
	addr := req.URL.Host
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	ctx := req.Context()
	conn, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// The handshake honours ctx: its end cuts the reads and writes below.
	cut := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	resp, err := handshake(req, conn)
	if !cut() || err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return resp, nil
}

func handshake(req *http.Request, conn net.Conn) (*http.Response, error) {
	if err := req.Write(conn); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 1024) // the answer's head; what follows it stays readable through the body
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// A refusal: coder/websocket reads a little of its body for the
		// error, and closing the body lets go of the connection.
		resp.Body = &refusalBody{ReadCloser: resp.Body, conn: conn}
		return resp, nil
	}
	resp.Body = &upgradedConn{Reader: br, Conn: conn}
	return resp, nil
}

type refusalBody struct {
	io.ReadCloser
	conn net.Conn
}

func (b *refusalBody) Close() error {
	b.ReadCloser.Close()
	return b.conn.Close()
}

// upgradedConn is a socket after its upgrade: reads start with what the
// handshake's reader holds already (the server may write right after its
// answer).
type upgradedConn struct {
	*bufio.Reader
	net.Conn
}

func (c *upgradedConn) Read(p []byte) (int, error) { return c.Reader.Read(p) }
