package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/smtp/smtptest"
	"github.com/parley-chat/parley/transport/wsclient"
)

// H9, C7: a new ticket's e-mail is owed from the moment its message is
// stored: while the mail server is down it is retried, a kill -9 loses it
// not, and once a mail server answers (the settings corrected meanwhile)
// it arrives, once.
func TestNewTicketEmailSurvivesAKill(t *testing.T) {
	bin := crashBuild(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--identity-secret", "s3cret", "--admin-token", "adm1n",
		"--public-url", "https://chat.example.com"}
	child := startChild(t, bin, args...)

	// A mail server that is not there: the port is closed.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := closed.Addr().String()
	closed.Close()
	notifyPut(t, child.addr, down)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, started, _ := child.chatAs(ctx, t, "s3cret", engine.Visitor{ProfileID: "cust-9", Name: "Grace Hopper", Email: "grace@example.com"})
	if _, err := conn.SendMessage(ctx, wsclient.Message{ClientID: "m1", Text: "The printer is on fire."}); err != nil {
		t.Fatal(err)
	}
	conn.CloseNow()
	// Let an attempt fail against the closed port, then kill the server.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(child.logs.String(), "retrying"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt logged:\n%s", child.logs.String())
		}
	}
	child.kill()

	srv := smtptest.NewServer(t, smtptest.Config{})
	child = startChild(t, bin, args...)
	notifyPut(t, child.addr, srv.Addr) // the admin fixes the address: the retry uses it
	ss := srv.Next(t)
	msg, err := mail.ReadMessage(bytes.NewReader(ss.Data))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Grace Hopper", "grace@example.com", "The printer is on fire.",
		"https://chat.example.com/inbox?ticket=" + started.Conversation} {
		if !bytes.Contains(text, []byte(want)) {
			t.Fatalf("the mail lacks %q:\n%s", want, text)
		}
	}
	srv.None(t)
	child.stop(t)
}

// notifyPut points the server's notification e-mail at an SMTP address.
func notifyPut(t *testing.T, addr, smtpAddr string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"notifications": map[string]any{"email": map[string]any{
		"enabled": true, "to": []string{"team@example.com"}, "from": "parley@example.com",
		"smtp": map[string]any{"addr": smtpAddr}}}})
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/api/v1/settings", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer adm1n")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT notifications: %d %s", resp.StatusCode, b)
	}
}
