package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/transport/wsclient"
)

// The real binary serves a chat over wss:// and the agent API over HTTPS
// with certificate files; when the files are replaced and it gets SIGHUP,
// new handshakes present the new certificate while a socket opened before
// keeps working.
func TestTLSReloadOnSIGHUPKeepsSockets(t *testing.T) {
	bin := cliBin(t)
	ca := newTestCA(t)
	dir := t.TempDir()
	cert1, key1 := ca.issue(t, 1)
	certPath, keyPath := writePair(t, dir, cert1, key1)
	const secret, admin = "tls-identity-secret", "tls-admin-token"
	ch := startChildOver(t, bin, ca.roots, "--data", filepath.Join(dir, "data"),
		"--identity-secret", secret, "--admin-token", admin, "--tls-cert", certPath, "--tls-key", keyPath)
	if got := servedSerial(t, ch.addr, ca.roots); got != 1 {
		t.Fatalf("serving serial %d, want 1", got)
	}

	// A shopper chats over wss://.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wsTr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.roots}}
	defer wsTr.CloseIdleConnections()
	ws, err := wsclient.Dial(ctx, "wss://"+ch.addr+"/ws", &wsclient.Options{HTTPClient: &http.Client{Transport: wsTr}})
	if err != nil {
		t.Fatalf("dial wss://: %v", err)
	}
	defer ws.Close()
	if w, err := ws.Hello(ctx, cliMint(t, secret, "cust_tls"), nil); err != nil || !w.Visitor.LoggedIn {
		t.Fatalf("hello over wss://: %+v %v", w, err)
	}
	if _, err := ws.StartChat(ctx); err != nil {
		t.Fatalf("chat.start over wss://: %v", err)
	}
	ack1, err := ws.SendMessage(ctx, wsclient.Message{ClientID: "m1", Text: "Hello over TLS"})
	if err != nil {
		t.Fatalf("message over wss://: %v", err)
	}

	// An agent finds it through the HTTPS API, with the admin token; HSTS
	// comes with the answer.
	api := httpsClient(t, ca.roots)
	for deadline := time.Now().Add(cliWait); ; time.Sleep(20 * time.Millisecond) {
		code, body, hdr := cliDo(t, api, "GET", "https://"+ch.addr+"/api/v1/tickets", admin, "")
		if code == http.StatusOK && hdr.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Fatalf("GET /api/v1/tickets over HTTPS: Strict-Transport-Security %q", hdr.Get("Strict-Transport-Security"))
		}
		if code == http.StatusOK && strings.Contains(body, "Hello over TLS") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/v1/tickets over HTTPS: %d %s, want the shopper's ticket", code, body)
		}
	}

	// New files, then SIGHUP: new handshakes get the new certificate.
	cert2, key2 := ca.issue(t, 2)
	writePair(t, dir, cert2, key2)
	if err := ch.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(cliWait); servedSerial(t, ch.addr, ca.roots) != 2 || !strings.Contains(ch.logs.String(), "why=SIGHUP"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still serving the old certificate %v after SIGHUP:\n%s", cliWait, ch.logs.String())
		}
	}

	// The socket opened with the old certificate carries on, and so does
	// the process.
	ack2, err := ws.SendMessage(ctx, wsclient.Message{ClientID: "m2", Text: "Still here after the reload"})
	if err != nil || ack2.Seq <= ack1.Seq || ack2.Conversation != ack1.Conversation {
		t.Fatalf("message on the socket opened before the reload: %+v %v (first ack %+v)", ack2, err, ack1)
	}
	if code, _, _ := cliDo(t, api, "GET", "https://"+ch.addr+"/api/v1/settings", admin, ""); code != http.StatusOK {
		t.Fatalf("the API after the reload: %d", code)
	}
	ws.Close()
	ch.stop(t)
}
