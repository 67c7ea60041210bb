package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/transport/identity"
)

// part is one part of a multipart form a test uploads.
type part struct {
	field, filename, contentType string
	data                         []byte
}

func filePart(filename, contentType string, data []byte) part {
	return part{"file", filename, contentType, data}
}

// form builds a multipart/form-data body of parts, as a browser would.
func form(t testing.TB, parts ...part) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		disp := `form-data; name="` + p.field + `"`
		if p.filename != "" {
			disp += `; filename="` + p.filename + `"`
		}
		hdr.Set("Content-Disposition", disp)
		if p.contentType != "" {
			hdr.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// postForm posts body as contentType to /api/v1/uploads with a bearer token.
func (h *harness) postForm(bearer, contentType string, body []byte) (int, map[string]any, http.Header) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/uploads", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		h.t.Fatalf("upload answered %d without a JSON body: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out, resp.Header
}

// upload posts one file and expects 201; it returns the url and type.
func (h *harness) upload(bearer string, p part) (url, contentType string) {
	h.t.Helper()
	body, ct := form(h.t, p)
	status, out, _ := h.postForm(bearer, ct, body)
	url, _ = out["url"].(string)
	contentType, _ = out["content_type"].(string)
	if status != http.StatusCreated || url == "" || contentType == "" || len(out) != 2 {
		h.t.Fatalf("upload of %s: %d %v; want 201 {url, content_type}", p.filename, status, out)
	}
	return url, contentType
}

// agentToken creates an agent of role and returns its API token.
func (h *harness) agentToken(role engine.Role) string {
	h.t.Helper()
	_, tok, err := h.sys.CreateAgent(context.Background(), engine.Agent{Name: "Ana " + string(role), Email: "ana@example.com", Role: role})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func encodedImage(t testing.TB, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.White, color.Black, color.RGBA{200, 30, 30, 255}})
	img.SetColorIndex(1, 1, 2)
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tinyPNG(t testing.TB) []byte {
	return encodedImage(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) })
}

func tinyJPEG(t testing.TB) []byte {
	return encodedImage(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) })
}

func tinyGIF(t testing.TB) []byte {
	return encodedImage(t, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) })
}

// tinyWebP is a whole, valid 1×1 lossless WebP, built by hand.
var tinyWebP = []byte{'R', 'I', 'F', 'F', 0x1a, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L', 0x0d, 0, 0, 0,
	0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0}

// pngBomb is a PNG signature and an IHDR declaring 100,000×100,000 pixels
// (40 GB once decoded), with a valid CRC, then an end: a few dozen bytes.
func pngBomb() []byte {
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(ihdr, 100_000), 100_000)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 13)
	b = binary.BigEndian.AppendUint32(append(b, ihdr...), crc32.ChecksumIEEE(ihdr))
	return append(b, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82)
}

// Each accepted type is stored and answered with an absolute URL under
// /uploads/ whose name ends in the extension of the type read from the
// bytes, whatever the file was called or declared as.
func TestUploadAcceptsEachImageType(t *testing.T) {
	h := start(t, Config{})
	agent := h.agentToken(engine.RoleAgent)
	for _, tc := range []struct {
		name, filename, declared string
		data                     []byte
		want, ext                string
	}{
		{"png", "a.png", "image/png", tinyPNG(t), "image/png", ".png"},
		{"jpeg", "photo.jpeg", "image/jpeg", tinyJPEG(t), "image/jpeg", ".jpg"},
		{"gif", "cat.gif", "image/gif", tinyGIF(t), "image/gif", ".gif"},
		{"webp", "x.webp", "image/webp", tinyWebP, "image/webp", ".webp"},
		{"png named otherwise", "../../etc/passwd.svg", "text/html", tinyPNG(t), "image/png", ".png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, ct := h.upload(agent, filePart(tc.filename, tc.declared, tc.data))
			name, ok := strings.CutPrefix(url, h.ts.URL+"/uploads/")
			if ct != tc.want || !ok || !engine.ValidUploadName(name) || !strings.HasSuffix(name, tc.ext) {
				t.Fatalf("url %q, content type %q; want %s under %s/uploads/ ending %s", url, ct, tc.want, h.ts.URL, tc.ext)
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(got, tc.data) || resp.Header.Get("Content-Type") != tc.want {
				t.Fatalf("GET %s: %d %s, %d bytes", url, resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
			}
		})
	}
	if n := testutil.ToFloat64(h.srv.m.uploads.WithLabelValues(uploadAccepted)); n != 5 {
		t.Fatalf("parley_uploads_total{result=accepted} = %v; want 5", n)
	}
}

// Everything that is not one image of an accepted type, within the limits,
// in one part named file, is refused with the reason named, and counted.
func TestUploadRefusals(t *testing.T) {
	h := start(t, Config{MaxUploadBytes: 64 << 10})
	agent := h.agentToken(engine.RoleAgent)
	img := filePart("a.png", "image/png", tinyPNG(t))
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>`)
	polyglot := append([]byte("<html><body><script>alert(1)</script>"), tinyPNG(t)...)
	big := append(tinyPNG(t), make([]byte, 64<<10)...)
	for _, tc := range []struct {
		name   string
		parts  []part
		status int
		code   string
		result string
	}{
		{"svg", []part{filePart("a.svg", "image/svg+xml", svg)}, 415, "invalid", uploadUnsupported},
		{"html named .png", []part{filePart("cat.png", "image/png", []byte("<!doctype html><script>alert(1)</script>"))}, 415, "invalid", uploadUnsupported},
		{"script named .png", []part{filePart("cat.png", "image/png", []byte("#!/bin/sh\necho pwned\n"))}, 415, "invalid", uploadUnsupported},
		{"polyglot starting like html", []part{filePart("p.png", "image/png", polyglot)}, 415, "invalid", uploadUnsupported},
		{"empty file", []part{filePart("e.png", "image/png", nil)}, 400, "invalid", uploadMalformed},
		{"truncated header", []part{filePart("t.png", "image/png", tinyPNG(t)[:20])}, 400, "invalid", uploadMalformed},
		{"decompression bomb", []part{filePart("bomb.png", "image/png", pngBomb())}, 413, "too_large", uploadTooManyPx},
		{"over the size limit", []part{filePart("big.png", "image/png", big)}, 413, "too_large", uploadTooLarge},
		{"another field name", []part{{"image", "a.png", "image/png", tinyPNG(t)}}, 400, "invalid", uploadBadForm},
		{"two files", []part{img, img}, 400, "invalid", uploadBadForm},
		{"a field, then the file", []part{{"caption", "", "", []byte("hi")}, img}, 400, "invalid", uploadBadForm},
		{"the file, then a field", []part{img, {"caption", "", "", []byte("hi")}}, 400, "invalid", uploadBadForm},
		{"no part", nil, 400, "invalid", uploadBadForm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testutil.ToFloat64(h.srv.m.uploads.WithLabelValues(tc.result))
			body, ct := form(t, tc.parts...)
			status, out, _ := h.postForm(agent, ct, body)
			if code, field := errCode(out); status != tc.status || code != tc.code || field != "file" {
				t.Fatalf("%d %v; want %d %s naming file", status, out, tc.status, tc.code)
			}
			if n := testutil.ToFloat64(h.srv.m.uploads.WithLabelValues(tc.result)); n != before+1 {
				t.Fatalf("parley_uploads_total{result=%q} went from %v to %v", tc.result, before, n)
			}
		})
	}
	for name, ct := range map[string]string{"json": "application/json", "none": "", "urlencoded": "application/x-www-form-urlencoded"} {
		status, out, _ := h.postForm(agent, ct, []byte(`{"file":"x"}`))
		if code, field := errCode(out); status != 400 || code != "invalid" || field != "file" {
			t.Errorf("a %s body: %d %v; want 400 naming file", name, status, out)
		}
	}
	if n := testutil.ToFloat64(h.srv.m.uploads.WithLabelValues(uploadAccepted)); n != 0 {
		t.Fatalf("%v refused uploads counted as accepted", n)
	}
}

// countingReader counts the bytes the server reads of a request body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// An oversized upload is refused having read no more than the limit and
// the form's slack: at once when it says its length, as it comes when it
// does not.
func TestUploadReadsNoMoreThanTheLimit(t *testing.T) {
	const limit = 32 << 10
	h := start(t, Config{MaxUploadBytes: limit})
	agent := h.agentToken(engine.RoleAgent)
	body, ct := form(t, filePart("big.png", "image/png", append(tinyPNG(t), make([]byte, 4<<20)...)))
	for _, declared := range []bool{true, false} {
		cr := &countingReader{r: bytes.NewReader(body)}
		req := httptest.NewRequest("POST", "/api/v1/uploads", cr)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+agent)
		req.ContentLength = -1
		if declared {
			req.ContentLength = int64(len(body))
		}
		rec := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(rec, req)
		if code, _ := errCode(decodeJSON(t, rec.Body.Bytes())); rec.Code != 413 || code != "too_large" {
			t.Fatalf("declared %v: %d %s", declared, rec.Code, rec.Body)
		}
		if declared && cr.n > 0 || !declared && cr.n > limit+formSlack+1 {
			t.Fatalf("declared %v: read %d bytes of a %d-byte body; the limit is %d", declared, cr.n, len(body), limit)
		}
	}
}

func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	return out
}

// Agents and admins upload with their API token, shoppers with their
// identity token; anyone else is refused before the body is looked at.
func TestUploadAuthentication(t *testing.T) {
	h := start(t, Config{})
	body, ct := form(t, filePart("a.png", "image/png", tinyPNG(t)))
	expired, err := mintAt(t, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, bearer string
		status       int
		code         string
	}{
		{"no token", "", 401, "unauthorized"},
		{"a wrong token", "nope", 401, "unauthorized"},
		{"an expired identity token", expired, 401, "unauthorized"},
		{"an identity token of another secret", forgedToken(t), 401, "unauthorized"},
		{"a store's token", h.agentToken(engine.RoleStore), 403, "forbidden"},
		{"an agent", h.agentToken(engine.RoleAgent), 201, ""},
		{"an admin", adminToken, 201, ""},
		{"a shopper", token(t, "cust_up", "Ada"), 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out, hdr := h.postForm(tc.bearer, ct, body)
			if code, _ := errCode(out); status != tc.status || code != tc.code {
				t.Fatalf("%d %v; want %d %s", status, out, tc.status, tc.code)
			}
			if status == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	// The identity token is accepted here only: the rest of the API refuses it.
	if status, _, _ := h.do("GET", "/api/v1/tickets", token(t, "cust_up", "Ada"), nil); status != 401 {
		t.Fatalf("an identity token listed tickets: %d", status)
	}
}

func forgedToken(t *testing.T) string {
	t.Helper()
	tok, err := identity.Mint([]byte("another store's secret"), engine.Visitor{ProfileID: "cust_up"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The API's limit per token holds for uploads, and a shopper's is per
// profile: a new token for the same customer does not reset it.
func TestUploadRateLimitPerProfile(t *testing.T) {
	h := start(t, Config{APIRate: 0.001, APIBurst: 2})
	body, ct := form(t, filePart("a.png", "image/png", tinyPNG(t)))
	for i, want := range []int{201, 201, 429} {
		tok := token(t, "cust_rate", "Ada "+strings.Repeat("a", i)) // a new token each time
		status, out, hdr := h.postForm(tok, ct, body)
		if status != want || status == 429 && hdr.Get("Retry-After") == "" {
			t.Fatalf("upload %d: %d %v; want %d", i+1, status, out, want)
		}
	}
	if status, _, _ := h.postForm(token(t, "cust_other", "Bo"), ct, body); status != 201 {
		t.Fatalf("another customer was limited too: %d", status)
	}
}
