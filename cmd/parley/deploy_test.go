package main

// The packaging in deploy/ cannot be built or run here (no Docker daemon, no
// systemd as PID 1): these tests read the files and check what this program
// relies on, so that an edit that breaks it is caught. `systemd-analyze
// verify deploy/parley.service` checks the unit's syntax where systemd is.

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/persist"
)

// readUnit reads a systemd unit file: section → key → values, in order.
// Comments, blank lines and continuation lines are handled as systemd does
// for what the unit uses.
func readUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]map[string][]string{}
	var section string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			unit[section][strings.TrimSpace(k)] = append(unit[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return unit
}

func TestSystemdUnit(t *testing.T) {
	unit := readUnit(t, "../../deploy/parley.service")
	svc := unit["Service"]
	one := func(key string) string {
		if len(svc[key]) != 1 {
			t.Errorf("[Service] %s: %q, want one value", key, svc[key])
			return ""
		}
		return svc[key][0]
	}
	for key, want := range map[string]string{
		"StateDirectory":          "parley",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"LimitNOFILE":             "65536",
		"ExecReload":              "/bin/kill -HUP $MAINPID", // the certificate reload
		"Restart":                 "on-failure",
	} {
		if got := one(key); got != want {
			t.Errorf("[Service] %s=%q, want %q", key, got, want)
		}
	}
	if svc["DynamicUser"] == nil && svc["User"] == nil {
		t.Error("[Service] has neither DynamicUser nor User: it would run as root")
	}
	if v := svc["User"]; len(v) > 0 && (v[0] == "root" || v[0] == "0") {
		t.Errorf("[Service] User=%s", v[0])
	}
	for _, c := range svc["AmbientCapabilities"] {
		t.Errorf("[Service] AmbientCapabilities=%s: the unit grants none unless port 443 is wanted (a commented line)", c)
	}
	if !strings.HasSuffix(one("ExecStart"), "/parley serve") {
		t.Errorf("ExecStart=%q, want parley serve", svc["ExecStart"])
	}

	// The environment it sets is a valid command line, with the data in
	// the state directory.
	env := map[string]string{}
	for _, e := range svc["Environment"] {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	c, err := parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("the unit's environment %v: %v", env, err)
	}
	if c.Data != "/var/lib/parley" || c.Demo {
		t.Errorf("the unit's environment: data %q, demo %v; want /var/lib/parley (StateDirectory), no demo", c.Data, c.Demo)
	}

	// systemd waits for a graceful shutdown before it sends SIGKILL.
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	if need := c.ShutdownWait + persist.DefaultCloseTimeout; stop <= need {
		t.Errorf("TimeoutStopSec=%v, want more than --shutdown-timeout and the store's close (%v)", stop, need)
	}
}

// dockerStage is one stage of a Dockerfile: its FROM line and instructions.
type dockerStage struct {
	from  string
	lines []string // "INSTRUCTION args", continuation lines joined
}

// readDockerfile reads a Dockerfile's stages.
func readDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cur strings.Builder
	flush := func() {
		line := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if line == "" {
			return
		}
		if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			stages = append(stages, dockerStage{from: line[len("FROM "):]})
			return
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %q before the first FROM", path, line)
		}
		s := &stages[len(stages)-1]
		s.lines = append(s.lines, line)
	}
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return stages
}

// instr returns the arguments of every instruction named in a stage.
func (s dockerStage) instr(name string) []string {
	var args []string
	for _, l := range s.lines {
		if k, v, _ := strings.Cut(l, " "); strings.EqualFold(k, name) {
			args = append(args, v)
		}
	}
	return args
}

func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t, "../../deploy/Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a builder and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The builder's Go is the module's, and it builds a static, trimmed binary.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVersion == nil || !strings.HasPrefix(build.from, "golang:"+string(goVersion[1])+" ") {
		t.Errorf("builder FROM %q, want golang:%s (go.mod)", build.from, goVersion[1])
	}
	run := strings.Join(build.instr("RUN"), "\n")
	if !strings.Contains(run, "CGO_ENABLED=0") || !strings.Contains(run, "-trimpath") || !strings.Contains(run, "./cmd/parley") {
		t.Errorf("builder RUN %q: want CGO_ENABLED=0 go build -trimpath ./cmd/parley", run)
	}

	// The final stage runs as a user without privileges.
	if final.from != "gcr.io/distroless/static-debian12:nonroot" && final.from != "scratch" {
		t.Errorf("final FROM %q", final.from)
	}
	users := final.instr("USER")
	if len(users) == 0 && !strings.HasSuffix(final.from, ":nonroot") {
		t.Error("the final stage sets no USER: it runs as root")
	}
	for _, u := range users {
		if name, _, _ := strings.Cut(u, ":"); name == "root" || name == "0" {
			t.Errorf("the final stage runs as USER %s", u)
		}
	}
	if v := final.instr("VOLUME"); len(v) != 1 || v[0] != "/data" {
		t.Errorf("VOLUME %q, want /data", v)
	}
	if v := final.instr("EXPOSE"); len(v) != 1 || v[0] != "8080" {
		t.Errorf("EXPOSE %q, want 8080", v)
	}
	var entry []string
	if e := final.instr("ENTRYPOINT"); len(e) != 1 || json.Unmarshal([]byte(e[0]), &entry) != nil ||
		len(entry) != 2 || entry[0] != "/parley" || entry[1] != "serve" {
		t.Errorf("ENTRYPOINT %q, want [\"/parley\", \"serve\"]", e)
	}

	// Its environment is a valid command line: every interface, the volume.
	env := map[string]string{}
	for _, e := range final.instr("ENV") {
		for _, kv := range strings.Fields(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	c, err := parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("the image's environment %v: %v", env, err)
	}
	if c.Addr != "0.0.0.0:8080" || c.Data != "/data" || c.Demo {
		t.Errorf("the image's environment: addr %q, data %q, demo %v; want 0.0.0.0:8080, /data, no demo", c.Addr, c.Data, c.Demo)
	}
}
