package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The HTTP server cuts off a client that dribbles its request headers, and
// refuses headers larger than 16 KiB, before any handler runs.
func TestHeaderAbuseIsCutOff(t *testing.T) {
	addr, _, stop := startServe(t, "--data", t.TempDir(), "--read-header-timeout", "300ms")
	defer stop()

	t.Run("dribbling", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 512)
		for { // the server may answer 408 before it closes; either way it hangs up
			if _, err := conn.Read(buf); err != nil {
				break
			}
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Fatalf("a dribbling client was kept for %v", waited)
		}
	})

	t.Run("oversized", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"
		_, _ = conn.Write([]byte(req)) // the server may stop reading early
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
}

func TestPreviousIdentitySecretFlag(t *testing.T) {
	c, err := parseServe([]string{"--identity-secret", "new", "--identity-secret-previous", "old", "--identity-secret-grace", "2h"},
		func(string) string { return "" }, nil)
	if err != nil || c.PrevSecret != "old" || c.PrevGrace != 2*time.Hour {
		t.Fatalf("%+v %v", c, err)
	}
}
