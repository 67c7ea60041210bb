package media

import (
	"encoding/binary"
	"fmt"
)

// gifConfig walks a GIF's blocks without decompressing any: the logical
// screen, then every extension and every frame's descriptor, skipping their
// data sub-blocks. Its size is the extent of the screen and of every frame
// together, since browsers grow the screen to fit a frame that overflows
// it: a GIF declaring a 1×1 screen and a 60,000×60,000 frame is as big as
// its frame.
func gifConfig(b []byte) (Image, error) {
	const typ = "image/gif"
	bad := func(why string) (Image, error) {
		return Image{}, fmt.Errorf("%w: %s: %s", ErrMalformed, typ, why)
	}
	if len(b) < 13 {
		return bad("shorter than its logical screen descriptor")
	}
	w, h := int(binary.LittleEndian.Uint16(b[6:8])), int(binary.LittleEndian.Uint16(b[8:10]))
	i := 13 + colorTable(b[10])
	frames := 0
	for i < len(b) {
		switch b[i] {
		case 0x3b: // trailer
			i = len(b)
			continue
		case 0x21: // extension: a label, then sub-blocks
			if i+2 > len(b) {
				return bad("an extension is cut short")
			}
			i += 2
		case 0x2c: // image descriptor
			if i+10 > len(b) {
				return bad("a frame's descriptor is cut short")
			}
			d := b[i+1 : i+10]
			left, top := int(binary.LittleEndian.Uint16(d[0:2])), int(binary.LittleEndian.Uint16(d[2:4]))
			fw, fh := int(binary.LittleEndian.Uint16(d[4:6])), int(binary.LittleEndian.Uint16(d[6:8]))
			w, h = max(w, left+fw), max(h, top+fh)
			i += 10 + colorTable(d[8]) + 1 // the local color table, the LZW minimum code size
			frames++
		default:
			return bad(fmt.Sprintf("unknown block 0x%02x", b[i]))
		}
		var ok bool
		if i, ok = skipSubBlocks(b, i); !ok {
			return bad("its data is cut short")
		}
	}
	if frames == 0 {
		return bad("it has no frame")
	}
	return Image{Type: typ, Width: w, Height: h}, nil
}

// colorTable is the size in bytes of the color table a packed field
// announces (its top bit says whether there is one, its low 3 bits how big).
func colorTable(packed byte) int {
	if packed&0x80 == 0 {
		return 0
	}
	return 3 << (packed&7 + 1)
}

// skipSubBlocks skips data sub-blocks (a length byte, then that many bytes)
// up to and past their zero-length terminator.
func skipSubBlocks(b []byte, i int) (int, bool) {
	for {
		if i >= len(b) {
			return i, false
		}
		n := int(b[i])
		i += 1 + n
		if n == 0 {
			return i, true
		}
	}
}
