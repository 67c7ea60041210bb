package engine

import (
	"crypto/rand"
	"strings"
	"time"
)

// Upload is an image a shopper or an agent uploaded to attach to messages
// (S7, H5). Its bytes are kept beside it; its name is chosen by the server
// (128 random bits and an extension), never by the client, and it never
// changes once stored, so its URL can be cached for good.
type Upload struct {
	Name        string    `json:"name"`         // e.g. "7zq4m1v0kd9e3xw8a5tbh2ncyr.png"
	ContentType string    `json:"content_type"` // detected from the bytes: image/png, image/jpeg, image/gif, image/webp
	Size        int64     `json:"size"`         // bytes
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	By          Party     `json:"by"`    // PartyShopper or PartyAgent
	ByID        string    `json:"by_id"` // the shopper's profile id or the agent's id
	At          time.Time `json:"at"`
}

// uploadNameLen is the length of the random part of an upload's name: 128
// bits in lower-case Crockford base 32, the alphabet of ids.
const uploadNameLen = 26

// uploadExts are the extensions an upload's name may end with, one per type
// Parley accepts.
var uploadExts = map[string]string{
	"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
}

// UploadExt is the extension of an upload's name for its content type, or
// "" for a type Parley does not accept.
func UploadExt(contentType string) string {
	for ext, ct := range uploadExts {
		if ct == contentType {
			return ext
		}
	}
	return ""
}

// NewUploadName returns a new upload's name for its content type: 128
// random bits (nothing in it says when or by whom it was uploaded, and no
// one can guess another's) and the type's extension.
func NewUploadName(contentType string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return encode(b) + "." + UploadExt(contentType)
}

// ValidUploadName reports whether name has the shape of a name the server
// gives uploads: 26 characters of lower-case Crockford base 32, a dot and the
// extension of an accepted type. Anything else (a path, an encoded slash, a NUL, a name
// of another length) can never name an upload.
func ValidUploadName(name string) bool {
	stem, ext, ok := strings.Cut(name, ".")
	if !ok || len(stem) != uploadNameLen || uploadExts[ext] == "" {
		return false
	}
	for i := 0; i < len(stem); i++ {
		if strings.IndexByte(crockford, stem[i]) < 0 {
			return false
		}
	}
	return true
}
