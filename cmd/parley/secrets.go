package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/parley-chat/parley/persist"
)

// The credentials a server generates are kept in its data directory: in the
// store (so that a backup carries them) and in a file of their own, readable
// by the operator alone, so that `parley token --data DIR` can mint a token
// while the server holds the store open.
const (
	secretFile = "identity_secret"
	adminFile  = "admin_token"
)

// credential is one of the two secrets serve needs: its flag's value, the
// name it is kept under (a file in the data directory and a meta key), and
// the variable that carries it.
type credential struct {
	v    *string
	name string
	env  string
}

// bootstrapSecrets fills in a missing identity secret and admin token from
// the data directory, generating and keeping them on first start, so that a
// restart keeps shopper tokens and the admin token valid. The start that
// generates one prints it, as an export line ready to paste; later starts
// say where it is kept and never print it again.
func bootstrapSecrets(store *persist.Store, c *serveConfig, log *slog.Logger, out io.Writer) error {
	var generated, kept []credential
	for _, cr := range []credential{
		{&c.IdentitySecret, secretFile, "PARLEY_IDENTITY_SECRET"},
		{&c.AdminToken, adminFile, "PARLEY_ADMIN_TOKEN"},
	} {
		if *cr.v != "" {
			continue
		}
		v, isNew, err := keptSecret(store, c.Data, cr.name, log)
		if err != nil {
			return err
		}
		*cr.v = v
		if isNew {
			generated = append(generated, cr)
		} else {
			kept = append(kept, cr)
		}
	}
	if len(kept) > 0 {
		attrs := make([]any, 0, len(kept))
		for _, cr := range kept {
			attrs = append(attrs, slog.String(cr.name+"_file", filepath.Join(c.Data, cr.name)))
		}
		log.Info("using credentials kept in the data directory (printed only at the start that generated them)", attrs...)
	}
	if len(generated) == 0 {
		return nil
	}
	// The one time a secret is printed: the operator has no other way to
	// learn what was generated but to read the files. Pass
	// --identity-secret/--admin-token to keep them out of the output.
	attrs := []any{slog.String("dir", c.Data)}
	for _, cr := range generated {
		attrs = append(attrs, slog.String(cr.name+"_file", filepath.Join(c.Data, cr.name)))
	}
	log.Warn("generated credentials, printed below this once and kept in the data directory", attrs...)
	fmt.Fprintf(out, "# Parley generated these credentials; they are shown only now and kept in %s (files %s and %s). To use them in a shell:\n",
		c.Data, secretFile, adminFile)
	for _, cr := range generated {
		fmt.Fprintf(out, "export %s=%s\n", cr.env, *cr.v)
	}
	return nil
}

// keptSecret returns the secret kept under name in dir, or in the store
// (a data directory restored from a backup has only that), or a new one
// (isNew); whichever it is, it is then kept in both.
func keptSecret(store *persist.Store, dir, name string, log *slog.Logger) (v string, isNew bool, err error) {
	v, err = readSecretFile(dir, name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	if v == "" {
		var ok bool
		if v, ok, err = store.Meta(name); err != nil {
			return "", false, fmt.Errorf("read %s: %w", name, err)
		} else if !ok || v == "" {
			v, isNew = randomHex(32), true
		}
	}
	if stored, ok, err := store.Meta(name); err != nil {
		return "", false, fmt.Errorf("read %s: %w", name, err)
	} else if !ok || stored != v {
		if err := store.PutMeta(name, v); err != nil {
			return "", false, fmt.Errorf("save %s: %w", name, err)
		}
	}
	return v, isNew, writeSecretFile(dir, name, v, log)
}

// readSecretFile reads a kept secret; fs.ErrNotExist when there is none.
func readSecretFile(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// writeSecretFile keeps a secret in a file only its owner can read, written
// whole or not at all. A file that holds it already but that others may read
// is tightened to 0600, with a warning: its secret may have been read.
func writeSecretFile(dir, name, v string, log *slog.Logger) error {
	path := filepath.Join(dir, name)
	if cur, err := readSecretFile(dir, name); err == nil && cur == v {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			return err
		}
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("keep %s: %w", name, err)
		}
		log.Warn("a credential file was readable by others: made it readable by its owner alone (0600); consider replacing the credential",
			slog.String("file", path), slog.String("was", fmt.Sprintf("%04o", st.Mode().Perm())))
		return nil
	}
	tmp, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(v + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("keep %s: %w", name, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// makeDataDir creates the data directory, readable by its owner alone: it
// holds every conversation and the kept credentials. A directory that exists
// already keeps its mode (it may be a mount point or shared on purpose), with
// a warning when others may read it.
func makeDataDir(dir string, log *slog.Logger) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
			return fmt.Errorf("create the data directory: %w", err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create the data directory: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("the data directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("the data directory %s is not a directory", dir)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		log.Warn("the data directory may be read by others; it holds every conversation and the kept credentials: chmod 700 it",
			slog.String("dir", dir), slog.String("mode", fmt.Sprintf("%04o", perm)))
	}
	return nil
}
