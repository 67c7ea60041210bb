package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// The monitoring that ships with Parley (deploy/), checked against the
// server's own /metrics.
const (
	dashboardFile = "../../deploy/grafana/parley.json"
	alertsFile    = "../../deploy/prometheus/alerts.yml"
	alertsTest    = "../../deploy/prometheus/alerts_test.yml"
)

// scrape is one /metrics page: every sample's name with its labels as
// written, and every metric family's name.
type scrape struct {
	samples  map[string][]string // name → label sets, as "{a=\"b\"}"
	families map[string]bool
	text     string
}

func scrapeMetrics(t *testing.T, addr string) scrape {
	t.Helper()
	code, body, _ := cliDo(t, cliClient(t), "GET", "http://"+addr+"/metrics", "", "")
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	s := scrape{samples: map[string][]string{}, families: map[string]bool{}, text: body}
	for _, line := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(line, "# TYPE "):
			s.families[strings.Fields(line)[2]] = true
		case line == "" || strings.HasPrefix(line, "#"):
		default:
			name, rest, _ := strings.Cut(line, "{")
			labels := ""
			if rest != "" {
				labels = "{" + rest[:strings.LastIndexByte(rest, '}')+1]
			} else {
				name = strings.Fields(line)[0]
			}
			s.samples[name] = append(s.samples[name], labels)
		}
	}
	return s
}

func (s scrape) has(name string) bool {
	return s.families[name] || len(s.samples[name]) > 0
}

// O1: on the first scrape of a new server, before any traffic, every
// series SPEC O1 names exists, each labelled one for every known label
// value, at zero; the page passes promtool's lint (promlint here, and
// `promtool check metrics` where promtool is); the Grafana dashboard and
// the alert rules shipped in deploy/ use only metrics the server serves,
// and the rules pass `promtool check rules` and their unit tests
// (`promtool test rules`; .ci/run installs promtool).
func TestMetricsAsSREsExpect(t *testing.T) {
	wd := t.TempDir()
	p := cliServe(t, wd, cliEnv(), false, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(wd, "data"),
		"--identity-secret", "metrics-secret", "--admin-token", "metrics-admin")
	s := scrapeMetrics(t, p.addr)

	problems, err := promlint.New(strings.NewReader(s.text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
	}

	want := map[string][]string{
		"parley_ws_connections":              {""},
		"parley_chat_sessions_started_total": {""},
		"parley_ready":                       {""},
		"parley_tickets_unread":              {""},
		"parley_tickets_waiting":             {""},
		"parley_tickets":                     {`{status="closed"}`, `{status="open"}`, `{status="snoozed"}`},
		"parley_messages_total": {`{channel="sms",direction="in"}`, `{channel="sms",direction="out"}`,
			`{channel="webchat",direction="in"}`, `{channel="webchat",direction="out"}`},
		"parley_ws_connections_refused_total": {`{reason="capacity"}`, `{reason="connect_rate"}`, `{reason="hello_timeout"}`,
			`{reason="invalid_utf8"}`, `{reason="origin"}`, `{reason="ping_timeout"}`, `{reason="rate_limited"}`,
			`{reason="slow_client"}`, `{reason="token"}`, `{reason="too_large"}`, `{reason="unavailable"}`, `{reason="write_failed"}`},
		"parley_handoffs_total": {`{outcome="created",target="gorgias"}`, `{outcome="created",target="zendesk"}`,
			`{outcome="failed",target="gorgias"}`, `{outcome="failed",target="zendesk"}`,
			`{outcome="requested",target="gorgias"}`, `{outcome="requested",target="helpdesk"}`,
			`{outcome="requested",target="message"}`, `{outcome="requested",target="zendesk"}`},
		"parley_ai_resolutions_total":         {""},
		"parley_first_response_seconds_count": {""},
		"parley_customer_wait_seconds_count":  {""},
		"parley_persist_commit_seconds_count": {""},
		"parley_actor_receive_seconds_count":  {""},
	}
	for name, labels := range want {
		got := slices.Clone(s.samples[name])
		slices.Sort(got)
		for _, l := range labels {
			if !slices.Contains(got, l) {
				t.Errorf("first scrape: no %s%s (has %q)", name, l, got)
			}
		}
	}
	for _, line := range strings.Split(s.text, "\n") {
		for _, name := range []string{"parley_messages_total{", "parley_ws_connections_refused_total{", "parley_handoffs_total{"} {
			if strings.HasPrefix(line, name) && !strings.HasSuffix(line, " 0") {
				t.Errorf("first scrape, before any traffic: %s", line)
			}
		}
	}

	used := regexp.MustCompile(`\bparley_[a-z0-9_]+`)
	checkNames := func(file, text string) {
		for _, name := range used.FindAllString(text, -1) {
			if !s.has(name) {
				t.Errorf("%s uses %s, which the server does not serve", file, name)
			}
		}
	}

	// The dashboard: a Grafana dashboard whose every panel queries the
	// chosen Prometheus data source.
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID, Title string
		Templating struct{ List []struct{ Name, Type string } }
		Panels     []struct {
			Type, Title string
			GridPos     struct{ H, W, X, Y int }
			Datasource  struct{ Type, UID string }
			Targets     []struct{ Expr, RefID string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.UID == "" || dash.Title == "" || len(dash.Panels) < 10 || !slices.ContainsFunc(dash.Templating.List, func(v struct{ Name, Type string }) bool {
		return v.Name == "datasource" && v.Type == "datasource"
	}) {
		t.Fatalf("%s: uid %q, title %q, %d panels, variables %v", dashboardFile, dash.UID, dash.Title, len(dash.Panels), dash.Templating.List)
	}
	for _, pn := range dash.Panels {
		if pn.Type == "row" {
			continue
		}
		g := pn.GridPos
		switch {
		case pn.Title == "" || len(pn.Targets) == 0:
			t.Errorf("%s: panel %q has no title or no query", dashboardFile, pn.Title)
		case pn.Datasource.Type != "prometheus" || pn.Datasource.UID != "${datasource}":
			t.Errorf("%s: panel %q queries %+v, not the chosen data source", dashboardFile, pn.Title, pn.Datasource)
		case g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24:
			t.Errorf("%s: panel %q is placed at %+v", dashboardFile, pn.Title, g)
		}
		for _, tg := range pn.Targets {
			if tg.Expr == "" || tg.RefID == "" {
				t.Errorf("%s: panel %q has an empty query", dashboardFile, pn.Title)
			}
		}
	}
	checkNames(dashboardFile, string(raw))

	rules, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, line := range strings.Split(string(rules), "\n") {
		if e, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok {
			exprs = append(exprs, e)
		}
	}
	if len(exprs) < 5 {
		t.Fatalf("%s: %d alert expressions", alertsFile, len(exprs))
	}
	checkNames(alertsFile, strings.Join(exprs, "\n"))

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("PARLEY_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is required (PARLEY_REQUIRE_PROMTOOL) and not on PATH")
		}
		t.Log("SKIPPED: promtool is not installed: the alert rules were checked for the metrics they use, not by promtool (.ci/run installs it)")
		return
	}
	for _, args := range [][]string{{"check", "rules", alertsFile}, {"test", "rules", alertsTest}, {"check", "metrics"}} {
		cmd := exec.Command(promtool, args...)
		if args[1] == "metrics" {
			cmd.Stdin = strings.NewReader(s.text) // the first scrape, as promtool reads a page
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	p.sigterm(t)
}
