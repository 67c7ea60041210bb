package config

import (
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

func (m *memStorage) Macros() ([]engine.Macro, error) {
	var out []engine.Macro
	for _, x := range m.macros {
		out = append(out, x)
	}
	return out, nil
}

func (m *memStorage) PutMacro(x engine.Macro) error {
	if err := m.wait(); err != nil {
		return err
	}
	m.macros[x.ID] = x
	return nil
}

func (m *memStorage) DeleteMacro(id string) error {
	if err := m.wait(); err != nil {
		return err
	}
	delete(m.macros, id)
	return nil
}

// Macros are created, replaced and deleted through the cache, listed by
// name, and loaded back from storage (C5).
func TestMacros(t *testing.T) {
	store := newMem()
	c, err := Load(store)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	ship, err := c.PutMacro(engine.Macro{Name: "Shipping", Body: "Hi {{first_name}}"}, now)
	if err != nil || ship.ID == "" || !ship.UpdatedAt.Equal(now) || ship.UpdatedAt.Location() != time.UTC {
		t.Fatalf("create = %+v, %v", ship, err)
	}
	ret, err := c.PutMacro(engine.Macro{Name: "returns", Body: "Free returns."}, now)
	if err != nil {
		t.Fatal(err)
	}
	apology, err := c.PutMacro(engine.Macro{Name: "Apology", Body: "Sorry!"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutMacro(engine.Macro{Name: "Bad", Body: "Order {{order_id}}"}, now); engine.ErrorCode(err) != engine.CodeInvalid {
		t.Fatalf("an unknown placeholder: %v", err)
	}
	if _, err := c.PutMacro(engine.Macro{ID: "nope", Name: "X", Body: "Y"}, now); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("replacing a macro that is not there: %v", err)
	}
	later := now.Add(time.Hour)
	ship.Name, ship.Body = "Zebra shipping", "Hi {{ name }}"
	if got, err := c.PutMacro(ship, later); err != nil || got.ID != ship.ID || !got.UpdatedAt.Equal(later) {
		t.Fatalf("replace = %+v, %v", got, err)
	}
	if err := c.DeleteMacro(apology.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMacro(apology.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	for _, cache := range []*Cache{c, mustLoad(t, store)} {
		list := cache.Macros()
		if len(list) != 2 || list[0].ID != ret.ID || list[1].ID != ship.ID || list[1].Body != "Hi {{ name }}" {
			t.Fatalf("macros = %+v", list)
		}
		if m, ok := cache.Macro(ship.ID); !ok || m.Name != "Zebra shipping" {
			t.Fatalf("Macro(%s) = %+v, %v", ship.ID, m, ok)
		}
		if _, ok := cache.Macro(apology.ID); ok {
			t.Fatal("a deleted macro is still there")
		}
	}
}

// A macro write waiting for its fsync holds up no reader, and one storage
// refuses changes nothing.
func TestMacroWrites(t *testing.T) {
	store := newMem()
	c := mustLoad(t, store)
	m, err := c.PutMacro(engine.Macro{Name: "Shipping", Body: "Hi"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store.hold, store.entered = make(chan struct{}), make(chan struct{}, 1)
	wrote := make(chan error, 1)
	go func() {
		_, err := c.PutMacro(engine.Macro{ID: m.ID, Name: "Shipping", Body: "Hello"}, time.Now())
		wrote <- err
	}()
	<-store.entered
	read := make(chan engine.Macro, 1)
	go func() { got, _ := c.Macro(m.ID); read <- got }()
	select {
	case got := <-read:
		if got.Body != "Hi" {
			t.Errorf("the new body is visible before storage has it: %q", got.Body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a reader waited for a macro write's fsync")
	}
	close(store.hold)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	store.hold, store.entered = nil, nil
	store.fail = errors.New("disk full")
	if _, err := c.PutMacro(engine.Macro{ID: m.ID, Name: "Shipping", Body: "Changed"}, time.Now()); err == nil {
		t.Fatal("a refused write reported success")
	}
	if _, err := c.PutMacro(engine.Macro{Name: "New", Body: "New"}, time.Now()); err == nil {
		t.Fatal("a refused create reported success")
	}
	if err := c.DeleteMacro(m.ID); err == nil {
		t.Fatal("a refused delete reported success")
	}
	if list := c.Macros(); len(list) != 1 || list[0].Body != "Hello" {
		t.Fatalf("after refused writes: %+v", list)
	}
}

func mustLoad(t *testing.T, store Storage) *Cache {
	t.Helper()
	c, err := Load(store)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
