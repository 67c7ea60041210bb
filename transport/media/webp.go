package media

import (
	"encoding/binary"
	"fmt"
)

// webpConfig reads a WebP's size from its first chunk: the canvas of an
// extended file (VP8X), or the frame header of a simple lossy (VP8) or
// lossless (VP8L) one. It parses these few bytes itself rather than take
// golang.org/x/image for them.
func webpConfig(b []byte) (Image, error) {
	const typ = "image/webp"
	bad := func(why string) (Image, error) {
		return Image{}, fmt.Errorf("%w: %s: %s", ErrMalformed, typ, why)
	}
	if len(b) < 20 {
		return bad("shorter than its headers")
	}
	le32 := binary.LittleEndian.Uint32
	if riff := uint64(le32(b[4:8])); riff < 12 || riff+8 > uint64(len(b)) {
		return bad("its RIFF size does not match the file")
	}
	fourcc, payload, size := string(b[12:16]), b[20:], uint64(le32(b[16:20]))
	if size > uint64(len(payload)) {
		return bad(fmt.Sprintf("its %q chunk runs past the end", fourcc))
	}
	payload = payload[:size]
	var w, h int
	switch fourcc {
	case "VP8 ":
		if len(payload) < 10 || payload[3] != 0x9d || payload[4] != 0x01 || payload[5] != 0x2a {
			return bad("its VP8 frame header is missing")
		}
		if payload[0]&1 != 0 {
			return bad("its first VP8 frame is not a key frame")
		}
		w = int(binary.LittleEndian.Uint16(payload[6:8]) & 0x3fff)
		h = int(binary.LittleEndian.Uint16(payload[8:10]) & 0x3fff)
	case "VP8L":
		if len(payload) < 5 || payload[0] != 0x2f {
			return bad("its VP8L signature is missing")
		}
		bits := le32(payload[1:5])
		if bits>>29 != 0 {
			return bad("its VP8L version is unknown")
		}
		w, h = int(bits&0x3fff)+1, int(bits>>14&0x3fff)+1
	case "VP8X":
		if len(payload) < 10 {
			return bad("its VP8X header is cut short")
		}
		w, h = int(le24(payload[4:7]))+1, int(le24(payload[7:10]))+1
	default:
		return bad(fmt.Sprintf("its first chunk %q is none of VP8, VP8L, VP8X", fourcc))
	}
	return Image{Type: typ, Width: w, Height: h}, nil
}

func le24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }
