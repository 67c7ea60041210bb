package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

func TestParseServeUploadFlags(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	c, err := parseServe(nil, get, io.Discard)
	if err != nil || c.MaxUpload != 10<<20 || c.PublicURL != "" {
		t.Fatalf("defaults: %d %q %v", c.MaxUpload, c.PublicURL, err)
	}
	env["PARLEY_MAX_UPLOAD_BYTES"], env["PARLEY_PUBLIC_URL"] = "2MiB", "https://chat.example.com/"
	if c, err = parseServe(nil, get, io.Discard); err != nil || c.MaxUpload != 2<<20 || c.PublicURL != "https://chat.example.com" {
		t.Fatalf("from the environment: %d %q %v", c.MaxUpload, c.PublicURL, err)
	}
	c, err = parseServe([]string{"--max-upload-bytes", "512KiB", "--public-url", "http://10.0.0.5:8080/parley"}, get, io.Discard)
	if err != nil || c.MaxUpload != 512<<10 || c.PublicURL != "http://10.0.0.5:8080/parley" {
		t.Fatalf("flags over the environment: %d %q %v", c.MaxUpload, c.PublicURL, err)
	}
	clear(env)
	for _, bad := range []string{"0", "100", "65MiB", "1GiB", "lots", "-1"} {
		if _, err := parseServe([]string{"--max-upload-bytes", bad}, get, io.Discard); err == nil || !strings.Contains(err.Error(), "--max-upload-bytes") {
			t.Errorf("--max-upload-bytes %q: %v", bad, err)
		}
	}
	for _, bad := range []string{"chat.example.com", "ftp://chat.example.com", "https://", "https:///path", "javascript:alert(1)",
		"https://user:pw@chat.example.com", "https://chat.example.com/?q=1", "https://chat.example.com/#top", "https://chat.example.com?",
		"https://chat.example.com:port", "mailto:a@example.com", "//chat.example.com"} {
		if _, err := parseServe([]string{"--public-url", bad}, get, io.Discard); err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("--public-url %q: %v", bad, err)
		}
	}
}

// The real binary takes both flags: upload URLs are built on --public-url,
// and an image over --max-upload-bytes is refused with 413.
func TestServeUploadFlags(t *testing.T) {
	bin := crashBuild(t)
	child := startChild(t, bin, "--data", t.TempDir(), "--admin-token", "T0k", "--identity-secret", "s3cret",
		"--max-upload-bytes", "2KiB", "--public-url", "https://chat.example.com/")
	post := func(data []byte) (int, map[string]string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		w, _ := mw.CreateFormFile("file", "a.png")
		_, _ = w.Write(data)
		_ = mw.Close()
		req, _ := http.NewRequest("POST", "http://"+child.addr+"/api/v1/uploads", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer T0k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	status, out := post(img.Bytes())
	name, ok := strings.CutPrefix(out["url"], "https://chat.example.com/uploads/")
	if status != 201 || !ok || out["content_type"] != "image/png" {
		t.Fatalf("upload: %d %v", status, out)
	}
	resp, err := http.Get("http://" + child.addr + "/uploads/" + name)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, img.Bytes()) {
		t.Fatalf("GET /uploads/%s: %d, %d bytes", name, resp.StatusCode, len(got))
	}
	if status, out := post(append(img.Bytes(), make([]byte, 2<<10)...)); status != 413 {
		t.Fatalf("an upload over --max-upload-bytes: %d %v", status, out)
	}
	child.stop(t)

	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--public-url", "ftp://chat.example.com")
	cmd.Env = childEnv()
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "--public-url") {
		t.Fatalf("serve with an ftp --public-url: %v\n%s", err, b)
	}
}
