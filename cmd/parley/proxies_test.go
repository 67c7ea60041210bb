package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestParseServeTrustedProxies(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	c, err := parseServe(nil, get, io.Discard)
	if err != nil || c.TrustedProxies != nil {
		t.Fatalf("default: %v %v", c.TrustedProxies, err)
	}
	env["PARLEY_TRUSTED_PROXIES"] = "10.0.0.0/8"
	c, err = parseServe([]string{"--trusted-proxies", " 192.168.1.7/24, 127.0.0.1,::1 ,fd00::/8,"}, get, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.168.1.0/24", "127.0.0.1/32", "::1/128", "fd00::/8"}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("got %v, want %v", c.TrustedProxies, want)
	}
	for i, p := range c.TrustedProxies {
		if p.String() != want[i] {
			t.Fatalf("got %v, want %v", c.TrustedProxies, want)
		}
	}
	if c, err = parseServe(nil, get, io.Discard); err != nil || len(c.TrustedProxies) != 1 ||
		c.TrustedProxies[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Fatalf("from the environment: %v %v", c.TrustedProxies, err)
	}
	clear(env)
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0", "10.0.0.1:80", "fe80::1%eth0", "10.0.0.0/8 10.1.0.0/16", "*"} {
		if _, err := parseServe([]string{"--trusted-proxies", "127.0.0.1," + bad}, get, io.Discard); err == nil ||
			!strings.Contains(err.Error(), "--trusted-proxies") {
			t.Errorf("--trusted-proxies %q: %v", bad, err)
		}
	}
}

// The real binary takes --trusted-proxies: behind the proxy each client
// has its own upgrade budget and upload URLs use the scheme and host the
// client used; an invalid entry, from the flag or the environment, stops
// it with an error naming the flag.
func TestServeTrustedProxies(t *testing.T) {
	bin := crashBuild(t)
	child := startChild(t, bin, "--data", t.TempDir(), "--admin-token", "T0k", "--identity-secret", "s3cret",
		"--trusted-proxies", "127.0.0.1", "--ws-conn-rate", "0.01", "--ws-conn-burst", "1")
	dial := func(client string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, resp, err := websocket.Dial(ctx, "ws://"+child.addr+"/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"X-Forwarded-For": {client}}})
		if err == nil {
			_ = ws.CloseNow()
			return 0
		}
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return resp.StatusCode
	}
	if st := dial("203.0.113.1"); st != 0 {
		t.Fatalf("client A: %d", st)
	}
	if st := dial("203.0.113.1"); st != http.StatusTooManyRequests {
		t.Fatalf("client A past its burst: %d, want 429", st)
	}
	if st := dial("203.0.113.2"); st != 0 {
		t.Fatalf("client B while A is held back: %d", st)
	}
	var img, body bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("file", "a.png")
	_, _ = w.Write(img.Bytes())
	_ = mw.Close()
	req, _ := http.NewRequest("POST", "http://"+child.addr+"/api/v1/uploads", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer T0k")
	req.Header.Set("X-Forwarded-For", "203.0.113.1")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "chat.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ URL string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.HasPrefix(out.URL, "https://chat.example.com/uploads/") {
		t.Fatalf("upload through the proxy: %d %q", resp.StatusCode, out.URL)
	}
	child.stop(t)

	for _, args := range [][]string{{"--trusted-proxies", "10.0.0.0/8,proxy.internal"}, {}} {
		cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		cmd.Env = childEnv()
		if len(args) == 0 {
			cmd.Env = append(cmd.Env, "PARLEY_TRUSTED_PROXIES=10.0.0.0/40")
		}
		if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "--trusted-proxies") {
			t.Fatalf("serve %v: %v\n%s", args, err, b)
		}
	}
}
