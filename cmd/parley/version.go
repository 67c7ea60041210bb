package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version, when set at link time (-ldflags "-X main.version=v1.2.3", as
// deploy/Dockerfile does), is the build's version; when empty, it is read
// from the binary's build information.
var version string

// versionCmd is `parley version` (and `parley --version`).
func versionCmd(out io.Writer) {
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprint(out, versionText(bi, ok, runtime.GOOS+"/"+runtime.GOARCH))
}

// binaryVersion is this binary's version, as buildVersion tells it.
func binaryVersion() string { return buildVersion(debug.ReadBuildInfo()) }

// versionText describes a build: the module's version or "devel", the VCS
// revision, its time and whether the tree was modified when the build
// recorded them, the Go version and the platform.
func versionText(bi *debug.BuildInfo, ok bool, platform string) string {
	goVersion := runtime.Version()
	var b strings.Builder
	fmt.Fprintf(&b, "parley %s\n", buildVersion(bi, ok))
	if ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				fmt.Fprintf(&b, "revision  %s\n", s.Value)
			case "vcs.time":
				fmt.Fprintf(&b, "time      %s\n", s.Value)
			case "vcs.modified":
				fmt.Fprintf(&b, "modified  %s\n", s.Value)
			}
		}
	}
	fmt.Fprintf(&b, "go        %s\nplatform  %s\n", goVersion, platform)
	return b.String()
}

// buildVersion is the binary's version: the one set at link time, else the
// module's (go install …@v1.2.3, or the pseudo-version go build stamps from a
// VCS checkout), else "devel".
func buildVersion(bi *debug.BuildInfo, ok bool) string {
	if version != "" {
		return version
	}
	if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
