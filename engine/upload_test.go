package engine_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/engine"
)

func TestUploadNames(t *testing.T) {
	seen := map[string]bool{}
	for _, ct := range []string{"image/png", "image/jpeg", "image/gif", "image/webp"} {
		n := engine.NewUploadName(ct)
		if !engine.ValidUploadName(n) || seen[n] || !strings.HasSuffix(n, "."+engine.UploadExt(ct)) {
			t.Fatalf("NewUploadName(%s) = %q", ct, n)
		}
		seen[n] = true
	}
	good := engine.NewUploadName("image/png")
	stem := strings.TrimSuffix(good, ".png")
	for _, bad := range []string{
		"", ".png", stem, stem + ".svg", stem + ".PNG", stem + ".png.html", stem + "x.png", stem[1:] + ".png",
		strings.ToUpper(stem) + ".png", "../" + good, stem[:25] + "/.png", stem[:25] + "\x00.png", stem[:25] + "u.png",
		stem + ".png/", strings.Repeat("a", 4000) + ".png",
	} {
		if engine.ValidUploadName(bad) {
			t.Errorf("ValidUploadName(%q) = true", bad)
		}
	}
	if engine.UploadExt("image/svg+xml") != "" {
		t.Error("an SVG has an upload extension")
	}
}
