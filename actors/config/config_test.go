package config

import (
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// memStorage is Storage in memory; a write blocks while hold is open, as a
// write waiting for its fsync does.
type memStorage struct {
	hold     chan struct{}
	entered  chan struct{}
	settings *engine.Settings
	faqs     map[string]engine.FAQ
	macros   map[string]engine.Macro
	agents   map[string]engine.Agent
	fail     error
}

func newMem() *memStorage {
	return &memStorage{faqs: map[string]engine.FAQ{}, macros: map[string]engine.Macro{}, agents: map[string]engine.Agent{}}
}

func (m *memStorage) wait() error {
	if m.entered != nil {
		m.entered <- struct{}{}
	}
	if m.hold != nil {
		<-m.hold
	}
	return m.fail
}

func (m *memStorage) Settings() (engine.Settings, bool, error) {
	if m.settings == nil {
		return engine.Settings{}, false, nil
	}
	return *m.settings, true, nil
}

func (m *memStorage) PutSettings(s engine.Settings) error {
	if err := m.wait(); err != nil {
		return err
	}
	m.settings = &s
	return nil
}

func (m *memStorage) FAQs() ([]engine.FAQ, error) {
	var out []engine.FAQ
	for _, f := range m.faqs {
		out = append(out, f)
	}
	return out, nil
}

func (m *memStorage) PutFAQ(f engine.FAQ) error {
	if err := m.wait(); err != nil {
		return err
	}
	m.faqs[f.ID] = f
	return nil
}

func (m *memStorage) DeleteFAQ(id string) error {
	if err := m.wait(); err != nil {
		return err
	}
	delete(m.faqs, id)
	return nil
}

func (m *memStorage) Agents() ([]engine.Agent, error) {
	var out []engine.Agent
	for _, a := range m.agents {
		out = append(out, a)
	}
	return out, nil
}

func (m *memStorage) PutAgent(a engine.Agent) error {
	if err := m.wait(); err != nil {
		return err
	}
	m.agents[a.ID] = a
	return nil
}

func (m *memStorage) Webhooks() ([]engine.Webhook, error) { return nil, nil }
func (m *memStorage) PutWebhook(engine.Webhook) error     { return m.wait() }
func (m *memStorage) DeleteWebhook(string) error          { return m.wait() }

// A settings write waiting for storage holds up no reader: every shopper
// hello reads the settings and every API call authenticates (C1, C8).
func TestWriteWaitingForStorageBlocksNoReader(t *testing.T) {
	store := newMem()
	c, err := Load(store)
	if err != nil {
		t.Fatal(err)
	}
	agent, token, err := c.CreateAgent(engine.Agent{Name: "Ana", Role: engine.RoleAgent}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store.hold, store.entered = make(chan struct{}), make(chan struct{}, 1)
	next := engine.DefaultSettings()
	next.Webchat.WelcomeMessage = "Hej!"
	wrote := make(chan error, 1)
	go func() { wrote <- c.PutSettings(next) }()
	<-store.entered // the write is in storage now, waiting for its fsync

	read := make(chan struct{})
	go func() {
		defer close(read)
		if got := c.Settings().Webchat.WelcomeMessage; got == "Hej!" {
			t.Errorf("the new welcome is visible before storage has it")
		}
		if a, ok := c.Authenticate(token); !ok || a.ID != agent.ID {
			t.Errorf("authenticate during a settings write: %v %v", a, ok)
		}
		_ = c.FAQs()
		_ = c.Macros()
		_ = c.Agents()
	}()
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("readers waited for a settings write's fsync")
	}
	close(store.hold)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if got := c.Settings().Webchat.WelcomeMessage; got != "Hej!" {
		t.Fatalf("welcome after the write = %q", got)
	}
}

// A write storage refuses changes nothing in memory.
func TestRefusedWriteChangesNothing(t *testing.T) {
	store := newMem()
	c, err := Load(store)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.PutFAQ(engine.FAQ{Question: "Q?", Answer: "A.", Published: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store.fail = errors.New("disk full")
	next := engine.DefaultSettings()
	next.Webchat.Enabled = false
	if err := c.PutSettings(next); err == nil {
		t.Fatal("a refused settings write reported success")
	}
	if !c.Settings().Webchat.Enabled {
		t.Fatal("a refused settings write changed the settings")
	}
	if err := c.DeleteFAQ(f.ID); err == nil {
		t.Fatal("a refused delete reported success")
	}
	if _, ok := c.FAQ(f.ID); !ok {
		t.Fatal("a refused delete removed the FAQ")
	}
	if _, _, err := c.CreateAgent(engine.Agent{Name: "Bo", Role: engine.RoleAgent}, time.Now()); err == nil {
		t.Fatal("a refused agent write reported success")
	}
	if n := len(c.Agents()); n != 0 {
		t.Fatalf("%d agents after a refused create", n)
	}
}
