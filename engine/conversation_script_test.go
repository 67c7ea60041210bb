package engine_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// The conversation scripts in testdata/conversation are data-driven tests in
// the style of Pebble's datadriven package: each block is a command, a line
// "----" and the output the engine must produce. Regenerate the outputs with
//
//	go test ./engine -run Script -args -rewrite
//
// and then read every changed expectation against SPEC.md and PROTOCOL.md: the
// outputs are only worth what the reading is.
var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata scripts")

// scriptBase is time zero of every script: a Monday, 10:00 UTC. Commands say
// at=+5m to move the clock; the clock never moves on its own.
var scriptBase = time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)

func TestConversationScript(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "conversation", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata/conversation")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScriptFile(t, file)
		})
	}
}

// scriptBlock is one command of a script with its expected output. Lines
// before the command (comments, blank lines) are kept as they are on rewrite.
type scriptBlock struct {
	pre      []string
	line     int
	cmd      string
	expected string
}

func parseScript(t *testing.T, file string) (blocks []scriptBlock, tail []string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		b := scriptBlock{pre: pre, line: i + 1, cmd: l}
		pre = nil
		i++
		if i >= len(lines) || lines[i] != "----" {
			t.Fatalf("%s:%d: command %q not followed by ----", file, b.line, l)
		}
		var out []string
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			i++
			out = append(out, lines[i])
		}
		b.expected = strings.Join(out, "\n")
		blocks = append(blocks, b)
	}
	return blocks, pre
}

func runScriptFile(t *testing.T, file string) {
	blocks, tail := parseScript(t, file)
	s := newScript()
	var out strings.Builder
	for _, b := range blocks {
		got := s.run(t, file, b)
		if *rewrite {
			for _, p := range b.pre {
				out.WriteString(p + "\n")
			}
			out.WriteString(b.cmd + "\n----\n" + got + "\n")
			continue
		}
		if got != b.expected {
			t.Errorf("%s:%d: %s\n got:\n%s\nwant:\n%s", file, b.line, b.cmd, indent(got), indent(b.expected))
		}
	}
	s.checkReplay(t, file)
	if *rewrite {
		for _, p := range tail {
			out.WriteString(p + "\n")
		}
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// script is the state a script drives: one conversation, its ticket and both
// logs, as an actor would hold them.
type script struct {
	conv  *engine.Conversation
	tick  *engine.Ticket
	log   []engine.Event
	tlog  []engine.TicketEvent
	clock time.Time
}

func newScript() *script {
	return &script{
		conv:  engine.NewConversation("conv1"),
		tick:  &engine.Ticket{ID: "conv1"},
		clock: scriptBase,
	}
}

// checkReplay rebuilds the state from the logs, twice over, and compares it
// with the state the script built step by step.
func (s *script) checkReplay(t *testing.T, file string) {
	t.Helper()
	c := engine.NewConversation(s.conv.ID)
	for range 2 {
		for _, e := range s.log {
			c.Apply(e)
		}
	}
	if !reflect.DeepEqual(c, s.conv) {
		t.Errorf("%s: replaying the log gives\n%+v\nwant\n%+v", file, c, s.conv)
	}
	tk := &engine.Ticket{ID: s.tick.ID}
	for range 2 {
		for _, e := range s.tlog {
			tk.Apply(e)
		}
	}
	if !reflect.DeepEqual(tk, s.tick) {
		t.Errorf("%s: replaying the ticket log gives %+v, want %+v", file, tk, s.tick)
	}
}

func (s *script) run(t *testing.T, file string, b scriptBlock) string {
	t.Helper()
	name, args, err := parseCommand(b.cmd)
	if err != nil {
		t.Fatalf("%s:%d: %v", file, b.line, err)
	}
	at := func() time.Time {
		if v, ok := args["at"]; ok {
			s.clock = scriptTime(t, v)
		}
		return s.clock
	}
	switch name {
	case "start":
		return s.decide(engine.StartConversation{
			ProfileID: args["profile"], ProfileName: args["name"], Welcome: args["welcome"],
			Channel: engine.Channel(args["channel"]), At: at(),
		})
	case "post":
		cmd := engine.PostMessage{
			From: engine.Party(args["from"]), AuthorID: args["author_id"], Author: args["author"],
			Text: args["text"], ClientID: args["client"], At: at(),
		}
		if n, ok := args["attachments"]; ok {
			k, _ := strconv.Atoi(n)
			for i := range k {
				cmd.Attachments = append(cmd.Attachments, engine.Attachment{
					URL: fmt.Sprintf("https://files.example.com/%d.png", i), ContentType: "image/png"})
			}
		}
		return s.decide(cmd)
	case "seen":
		upTo, _ := strconv.ParseUint(args["upto"], 10, 64)
		return s.decide(engine.MarkSeen{By: engine.Party(args["by"]), UpTo: upTo, At: at()})
	case "assign":
		cmd := engine.AssignTicket{At: at()}
		if id := args["agent"]; id != "" && id != "none" {
			cmd.Agent = &engine.AgentRef{ID: id, Name: args["name"]}
		}
		return s.decide(cmd)
	case "end":
		return s.decide(engine.EndConversation{By: engine.Party(args["by"]), At: at()})
	case "snooze":
		now := at()
		cmd := engine.SnoozeTicket{Until: scriptTime(t, args["until"]), AgentID: args["agent"], At: now}
		events, err := s.tick.DecideSnooze(s.conv, cmd)
		if err != nil {
			return formatErr(err)
		}
		var lines []string
		for _, e := range events {
			s.tick.Apply(e)
			s.tlog = append(s.tlog, e)
			lines = append(lines, fmt.Sprintf("ticket %d %s until=%s at_seq=%d agent=%s",
				e.Seq, e.Kind, rel(e.Until), e.AtSeq, orNone(e.AgentID)))
		}
		return strings.Join(lines, "\n")
	case "row":
		now := at()
		r := engine.Row(s.conv, s.tick, now)
		out := formatRow(r)
		if later, ok := args["later"]; ok {
			// The row as a projection holds it, re-evaluated at a later time.
			out += "\nat " + later + ": " + formatRow(r.At(scriptTime(t, later)))
		}
		return out
	case "state":
		return formatState(s.conv)
	}
	t.Fatalf("%s:%d: unknown command %q", file, b.line, name)
	return ""
}

func (s *script) decide(cmd engine.Command) string {
	before := *s.conv
	events, err := s.conv.Decide(cmd)
	if !reflect.DeepEqual(before, *s.conv) {
		return "BUG: Decide changed the state"
	}
	var dup *engine.Duplicate
	if errors.As(err, &dup) {
		return fmt.Sprintf("duplicate seq=%d", dup.Seq)
	}
	if err != nil {
		return formatErr(err)
	}
	if len(events) == 0 {
		return "no events"
	}
	var lines []string
	for _, e := range events {
		s.conv.Apply(e)
		s.log = append(s.log, e)
		lines = append(lines, formatEvent(e))
	}
	return strings.Join(lines, "\n")
}

func formatErr(err error) string {
	var e *engine.Error
	if errors.As(err, &e) && e.Field != "" {
		return fmt.Sprintf("error %s field=%s", e.Code, e.Field)
	}
	return fmt.Sprintf("error %s", engine.ErrorCode(err))
}

func formatEvent(e engine.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Seq, e.Kind)
	switch e.Kind {
	case engine.KindStarted:
		fmt.Fprintf(&b, " welcome=%q profile=%s name=%q channel=%s", e.Welcome, e.ProfileID, e.ProfileName, e.Channel)
	case engine.KindMessage:
		fmt.Fprintf(&b, " from=%s", e.From)
		if e.AuthorID != "" || e.Author != "" {
			fmt.Fprintf(&b, " author_id=%s author=%q", orNone(e.AuthorID), e.Author)
		}
		fmt.Fprintf(&b, " client_id=%s text=%q", e.ClientID, e.Text)
		if len(e.Attachments) > 0 {
			fmt.Fprintf(&b, " attachments=%d", len(e.Attachments))
		}
	case engine.KindSeen:
		fmt.Fprintf(&b, " by=%s up_to=%d", e.By, e.UpTo)
	case engine.KindAssigned:
		b.WriteString(" agent=" + formatAgent(e.Agent))
	case engine.KindEnded:
		fmt.Fprintf(&b, " by=%s", e.By)
	}
	if !e.At.Equal(scriptBase) {
		b.WriteString(" at=" + rel(e.At))
	}
	return b.String()
}

func formatAgent(a *engine.AgentRef) string {
	if a == nil {
		return "null"
	}
	return fmt.Sprintf("%s(%s)", a.ID, a.Name)
}

func formatRow(r engine.TicketRow) string {
	ws := "null"
	if r.WaitingSince != nil {
		ws = rel(*r.WaitingSince)
	}
	su := ""
	if r.SnoozedUntil != nil {
		su = " snoozed_until=" + rel(*r.SnoozedUntil)
	}
	return fmt.Sprintf("status=%s%s unread=%t preview=%q assignee=%s waiting_since=%s updated_at=%s badge=%t",
		r.Status, su, r.Unread, r.Preview, formatAgent(r.Assignee), ws, rel(r.UpdatedAt), r.CountsForBadge())
}

func formatState(c *engine.Conversation) string {
	ids := make([]string, 0, len(c.ClientIDs))
	for k, v := range c.ClientIDs {
		ids = append(ids, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(ids)
	ws := "null"
	if !c.WaitingSince.IsZero() {
		ws = rel(c.WaitingSince)
	}
	return fmt.Sprintf("last_seq=%d open=%t ended=%t ticket=%t shopper_seen=%d agent_seen=%d last_shopper_msg=%d last_agent_msg=%d\n"+
		"assignee=%s preview=%q activity_at=%s waiting_since=%s\nclient_ids=[%s]",
		c.LastSeq, c.Open(), c.Ended, c.IsTicket(), c.ShopperSeen, c.AgentSeen, c.LastShopperMsg, c.LastAgentMsg,
		formatAgent(c.Assignee), c.Preview, rel(c.ActivityAt), ws, strings.Join(ids, " "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// rel writes t relative to the script's base time.
func rel(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	d := t.Sub(scriptBase)
	if d < 0 {
		return d.String()
	}
	return "+" + d.String()
}

// scriptTime reads "+5m" or "-1m" relative to the base time.
func scriptTime(t *testing.T, v string) time.Time {
	t.Helper()
	d, err := time.ParseDuration(strings.TrimPrefix(v, "+"))
	if err != nil {
		t.Fatalf("bad time %q: %v", v, err)
	}
	return scriptBase.Add(d)
}

// parseCommand splits `name k=v k="quoted v"` into its name and arguments.
func parseCommand(line string) (string, map[string]string, error) {
	args := map[string]string{}
	line = strings.TrimSpace(line)
	name, rest, _ := strings.Cut(line, " ")
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || strings.ContainsAny(key, " \"") {
			return "", nil, fmt.Errorf("argument %q is not key=value", rest)
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				return "", nil, fmt.Errorf("argument %s: %v", key, err)
			}
			val, _ = strconv.Unquote(q)
			rest = after[len(q):]
		} else {
			val, rest, _ = strings.Cut(after, " ")
		}
		args[key] = val
	}
	return name, args, nil
}
