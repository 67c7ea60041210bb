package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// Image is what a file's bytes say it is.
type Image struct {
	Type   string // "image/png", "image/jpeg", "image/gif" or "image/webp"
	Width  int
	Height int
}

// The bounds of an accepted image's dimensions: at most MaxSide pixels a
// side and MaxPixels in all (a 40-megapixel image takes 160 MB once decoded
// to RGBA; a phone's photo is 12 to 50 megapixels, most under 40).
const (
	MaxSide   = 16384
	MaxPixels = 40_000_000
)

// Why a file is refused.
var (
	ErrEmpty         = errors.New("media: the file is empty")
	ErrUnsupported   = errors.New("media: the file is not a PNG, JPEG, GIF or WebP image")
	ErrMalformed     = errors.New("media: the image's header is truncated or malformed")
	ErrTooManyPixels = errors.New("media: the image has too many pixels")
)

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// Sniff tells which accepted image type b is, from its leading bytes only,
// and reads its dimensions from its header. A file that is none of the
// accepted types — an SVG, an HTML page or a script whatever its name, a
// file that starts like HTML and holds an image further on — is
// ErrUnsupported; a header cut short or inconsistent is ErrMalformed;
// dimensions beyond MaxSide or MaxPixels are ErrTooManyPixels. Errors wrap
// these with details a person can read.
func Sniff(b []byte) (Image, error) {
	var (
		img Image
		err error
	)
	switch {
	case len(b) == 0:
		return Image{}, ErrEmpty
	case bytes.HasPrefix(b, pngMagic):
		img, err = stdConfig(b, "image/png", png.DecodeConfig)
	case bytes.HasPrefix(b, jpegMagic):
		img, err = stdConfig(b, "image/jpeg", jpeg.DecodeConfig)
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		img, err = gifConfig(b)
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		img, err = webpConfig(b)
	default:
		return Image{}, ErrUnsupported
	}
	if err != nil {
		return Image{}, err
	}
	if img.Width < 1 || img.Height < 1 {
		return Image{}, fmt.Errorf("%w: %s of %d×%d pixels", ErrMalformed, img.Type, img.Width, img.Height)
	}
	if img.Width > MaxSide || img.Height > MaxSide || int64(img.Width)*int64(img.Height) > MaxPixels {
		return Image{}, fmt.Errorf("%w: %d×%d (at most %d a side and %d megapixels in all)",
			ErrTooManyPixels, img.Width, img.Height, MaxSide, MaxPixels/1_000_000)
	}
	return img, nil
}

// stdConfig reads a header with a standard library decoder's DecodeConfig,
// which reads the header and no pixel: PNG's IHDR chunk (its CRC checked),
// JPEG's markers up to the first start of frame.
func stdConfig(b []byte, typ string, decodeConfig func(io.Reader) (image.Config, error)) (Image, error) {
	c, err := decodeConfig(bytes.NewReader(b))
	if err != nil {
		return Image{}, fmt.Errorf("%w: %s: %v", ErrMalformed, typ, err)
	}
	return Image{Type: typ, Width: c.Width, Height: c.Height}, nil
}
