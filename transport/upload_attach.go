package transport

import (
	"context"
	"net/url"
	"strings"

	"github.com/parley-chat/parley/engine"
)

// uploadName is the name of the upload raw is the URL of, if it is one of
// this server's: it starts with PublicURL when that is set, else it is
// http(s) on host (the request's own), and its path is /uploads/ and a name
// the server could have given, without query or fragment.
func (s *Server) uploadName(raw, host string) (string, bool) {
	if base := s.cfg.PublicURL; base != "" {
		name, ok := strings.CutPrefix(raw, base+uploadsPath)
		return name, ok && engine.ValidUploadName(name)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, host) ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawPath != "" {
		return "", false
	}
	name, ok := strings.CutPrefix(u.Path, uploadsPath)
	return name, ok && engine.ValidUploadName(name)
}

// checkShopperAttachments holds a shopper's attachments to uploads of this
// server (POST /api/v1/uploads), each with the type it was stored with: a
// shopper cannot make agents' browsers load an image from elsewhere (a
// tracking pixel, a page posing as an image). host is the Host of the
// shopper's socket. Agents' attachments may point anywhere http(s).
func (s *Server) checkShopperAttachments(ctx context.Context, host string, atts []engine.Attachment) error {
	for _, a := range atts {
		name, ok := s.uploadName(a.URL, host)
		if !ok {
			return engine.Invalid("attachments.url", "must be the url of an upload to this server (POST /api/v1/uploads)")
		}
		u, _, err := s.files.Upload(ctx, name)
		if engine.ErrorCode(err) == engine.CodeNotFound {
			return engine.Invalid("attachments.url", "names no upload of this server")
		}
		if err != nil {
			return err
		}
		if a.ContentType != u.ContentType {
			return engine.Invalid("attachments.content_type", "must be %s, the upload's type", u.ContentType)
		}
	}
	return nil
}
