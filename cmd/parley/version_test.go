package main

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		if code := run(context.Background(), args, &out, io.Discard); code != 0 {
			t.Fatalf("parley %v: exit %d", args, code)
		}
		s := out.String()
		if !strings.HasPrefix(s, "parley ") || !strings.Contains(s, "go        "+runtime.Version()+"\n") ||
			!strings.Contains(s, "platform  "+runtime.GOOS+"/"+runtime.GOARCH+"\n") {
			t.Errorf("parley %v printed:\n%s", args, s)
		}
	}
	if code := run(context.Background(), []string{"version", "extra"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("parley version extra: exit %d, want 2", code)
	}
}

func TestVersionText(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/parley-chat/parley", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs.revision", Value: "0901704c"},
			{Key: "vcs.time", Value: "2026-11-25T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		link string // main.version
		want string
	}{
		{"release with VCS", stamped, true, "",
			"parley v1.4.0\nrevision  0901704c\ntime      2026-11-25T10:00:00Z\nmodified  true\ngo        go1.26.8\nplatform  linux/arm64\n"},
		{"devel without VCS", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "",
			"parley devel\ngo        go1.26.8\nplatform  linux/arm64\n"},
		{"set at link time", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "v2.0.0",
			"parley v2.0.0\ngo        go1.26.8\nplatform  linux/arm64\n"},
		{"no build information", nil, false, "",
			"parley devel\ngo        " + runtime.Version() + "\nplatform  linux/arm64\n"},
	} {
		version = tc.link
		if got := versionText(tc.bi, tc.ok, "linux/arm64"); got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, got, tc.want)
		}
	}
	version = ""
}
