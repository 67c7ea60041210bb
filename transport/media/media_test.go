package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

func encoded(t testing.TB, enc func(*bytes.Buffer, image.Image) error, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black})
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngOf(t testing.TB, w, h int) []byte {
	return encoded(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }, w, h)
}

func jpegOf(t testing.TB, w, h int) []byte {
	return encoded(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }, w, h)
}

func gifOf(t testing.TB, w, h int) []byte {
	return encoded(t, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) }, w, h)
}

// webp1x1 is a whole, valid 1×1 lossless WebP (a VP8L bitstream).
var webp1x1 = []byte{'R', 'I', 'F', 'F', 0x1a, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L', 0x0d, 0, 0, 0,
	0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0}

// riff wraps one chunk in a WebP file.
func riff(fourcc string, payload []byte) []byte {
	b := append([]byte("RIFF\x00\x00\x00\x00WEBP"+fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))...)
	b = append(b, payload...)
	binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)-8))
	return b
}

// vp8Header is the start of a lossy key frame of w×h.
func vp8Header(w, h int) []byte {
	p := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a}
	p = binary.LittleEndian.AppendUint16(p, uint16(w))
	return binary.LittleEndian.AppendUint16(p, uint16(h))
}

func vp8xHeader(w, h int) []byte {
	p := []byte{0x10, 0, 0, 0}
	p = append(p, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	return append(p, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
}

// pngHeader is a PNG signature and an IHDR chunk, with its CRC, declaring a
// w×h RGBA image, and then an IEND: no pixel at all.
func pngHeader(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(append(c, typ...), data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8 bits, RGBA, deflate, no filter, not interlaced
	return append(append(append([]byte(nil), pngMagic...), chunk("IHDR", ihdr)...), chunk("IEND", nil)...)
}

// jpegDeclaring is a real JPEG whose start-of-frame header is patched to
// declare w×h.
func jpegDeclaring(t testing.TB, w, h int) []byte {
	b := jpegOf(t, 8, 8)
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 in an encoded JPEG")
	}
	binary.BigEndian.PutUint16(b[i+5:], uint16(h))
	binary.BigEndian.PutUint16(b[i+7:], uint16(w))
	return b
}

// gifWithFrame is a GIF whose logical screen is 1×1 and whose one frame is
// w×h, with no pixel data to speak of.
func gifWithFrame(w, h int) []byte {
	b := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00")
	b = append(b, 0x2c, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(b, uint16(w)), uint16(h))
	return append(b, 0x00, 0x02, 0x02, 0x4c, 0x01, 0x00, 0x3b)
}

func TestSniff(t *testing.T) {
	polyglot := append([]byte("<html><script>alert(1)</script>"), pngOf(t, 2, 2)...)
	for _, tc := range []struct {
		name string
		b    []byte
		typ  string
		w, h int
		err  error
	}{
		{"png", pngOf(t, 3, 2), "image/png", 3, 2, nil},
		{"jpeg", jpegOf(t, 5, 4), "image/jpeg", 5, 4, nil},
		{"gif", gifOf(t, 7, 6), "image/gif", 7, 6, nil},
		{"webp lossless", webp1x1, "image/webp", 1, 1, nil},
		{"webp lossy", riff("VP8 ", vp8Header(640, 480)), "image/webp", 640, 480, nil},
		{"webp extended", riff("VP8X", vp8xHeader(1000, 20000)), "", 0, 0, ErrTooManyPixels},
		{"webp extended small", riff("VP8X", vp8xHeader(300, 200)), "image/webp", 300, 200, nil},
		{"png at the bounds", pngHeader(MaxSide, MaxPixels/MaxSide), "image/png", MaxSide, MaxPixels / MaxSide, nil},

		{"png bomb", pngHeader(100_000, 100_000), "", 0, 0, ErrTooManyPixels},
		{"png too wide", pngHeader(MaxSide+1, 1), "", 0, 0, ErrTooManyPixels},
		{"png too many pixels", pngHeader(7000, 7000), "", 0, 0, ErrTooManyPixels},
		{"jpeg bomb", jpegDeclaring(t, 65535, 65535), "", 0, 0, ErrTooManyPixels},
		{"gif frame bomb", gifWithFrame(60000, 60000), "", 0, 0, ErrTooManyPixels},
		{"gif frame within", gifWithFrame(40, 30), "image/gif", 40, 30, nil},
		{"webp lossy bomb", riff("VP8 ", vp8Header(16383, 16383)), "", 0, 0, ErrTooManyPixels},

		{"empty", nil, "", 0, 0, ErrEmpty},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", 0, 0, ErrUnsupported},
		{"html", []byte("<!doctype html><title>x</title>"), "", 0, 0, ErrUnsupported},
		{"polyglot starting like html", polyglot, "", 0, 0, ErrUnsupported},
		{"script", []byte("#!/bin/sh\nrm -rf /\n"), "", 0, 0, ErrUnsupported},
		{"pdf", []byte("%PDF-1.7\n"), "", 0, 0, ErrUnsupported},
		{"bmp", []byte("BM\x3a\x00\x00\x00"), "", 0, 0, ErrUnsupported},
		{"riff but not webp", []byte("RIFF\x04\x00\x00\x00WAVEfmt "), "", 0, 0, ErrUnsupported},

		{"png signature only", pngMagic, "", 0, 0, ErrMalformed},
		{"png header cut", pngHeader(10, 10)[:20], "", 0, 0, ErrMalformed},
		{"png of 0 pixels", pngHeader(0, 10), "", 0, 0, ErrMalformed},
		{"jpeg magic only", jpegMagic, "", 0, 0, ErrMalformed},
		{"gif magic only", []byte("GIF89a"), "", 0, 0, ErrMalformed},
		{"gif without a frame", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00\x3b"), "", 0, 0, ErrMalformed},
		{"gif cut in a frame", gifOf(t, 4, 4)[:30], "", 0, 0, ErrMalformed},
		{"webp header cut", webp1x1[:16], "", 0, 0, ErrMalformed},
		{"webp riff size past the end", append(riff("VP8L", webp1x1[20:33])[:30], 0), "", 0, 0, ErrMalformed},
		{"webp unknown chunk", riff("ALPH", make([]byte, 10)), "", 0, 0, ErrMalformed},
		{"webp lossy not a key frame", riff("VP8 ", append([]byte{0x11}, vp8Header(2, 2)[1:]...)), "", 0, 0, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Sniff(tc.b)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Sniff: %+v, %v; want %v", img, err, tc.err)
				}
				return
			}
			if err != nil || img != (Image{tc.typ, tc.w, tc.h}) {
				t.Fatalf("Sniff: %+v, %v; want %s %d×%d", img, err, tc.typ, tc.w, tc.h)
			}
		})
	}
}

// FuzzSniff: no input panics Sniff; what it accepts starts with the magic
// number of the type it names and stays within the bounds; a PNG or JPEG it
// accepts has the size the standard decoder reads.
func FuzzSniff(f *testing.F) {
	for _, b := range [][]byte{pngOf(f, 3, 2), jpegOf(f, 5, 4), gifOf(f, 7, 6), webp1x1,
		riff("VP8 ", vp8Header(640, 480)), riff("VP8X", vp8xHeader(300, 200)), pngHeader(100_000, 100_000),
		gifWithFrame(60000, 60000), []byte("<svg/>")} {
		f.Add(b)
	}
	magic := map[string][]byte{"image/png": pngMagic, "image/jpeg": jpegMagic, "image/gif": []byte("GIF8"), "image/webp": []byte("RIFF")}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Sniff(b)
		if err != nil {
			return
		}
		if m, ok := magic[img.Type]; !ok || !bytes.HasPrefix(b, m) {
			t.Fatalf("accepted %q as %s", b[:min(len(b), 16)], img.Type)
		}
		if img.Width < 1 || img.Height < 1 || img.Width > MaxSide || img.Height > MaxSide || img.Width*img.Height > MaxPixels {
			t.Fatalf("accepted %d×%d", img.Width, img.Height)
		}
		var c image.Config
		switch img.Type {
		case "image/png":
			c, err = png.DecodeConfig(bytes.NewReader(b))
		case "image/jpeg":
			c, err = jpeg.DecodeConfig(bytes.NewReader(b))
		default:
			return
		}
		if err != nil || c.Width != img.Width || c.Height != img.Height {
			t.Fatalf("Sniff says %d×%d, the decoder %d×%d (%v)", img.Width, img.Height, c.Width, c.Height, err)
		}
	})
}
