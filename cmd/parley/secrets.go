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
// restart keeps shopper tokens and the admin token valid. It prints the
// ones it did not get from a flag as export lines ready to paste.
func bootstrapSecrets(store *persist.Store, c *serveConfig, log *slog.Logger, out io.Writer) error {
	var kept []credential
	for _, cr := range []credential{
		{&c.IdentitySecret, secretFile, "PARLEY_IDENTITY_SECRET"},
		{&c.AdminToken, adminFile, "PARLEY_ADMIN_TOKEN"},
	} {
		if *cr.v != "" {
			continue
		}
		v, err := keptSecret(store, c.Data, cr.name)
		if err != nil {
			return err
		}
		*cr.v = v
		kept = append(kept, cr)
	}
	if len(kept) == 0 {
		return nil
	}
	// The one place a secret is logged: the operator has no other way to
	// learn what was generated. Pass --identity-secret/--admin-token to
	// keep them out of the log.
	attrs := []any{slog.String("dir", c.Data)}
	for _, cr := range kept {
		attrs = append(attrs, slog.String(cr.name, *cr.v))
	}
	log.Warn("using generated credentials kept in the data directory", attrs...)
	fmt.Fprintf(out, "# Parley's credentials, kept in %s (files %s and %s); to use them in a shell:\n",
		c.Data, secretFile, adminFile)
	for _, cr := range kept {
		fmt.Fprintf(out, "export %s=%s\n", cr.env, *cr.v)
	}
	return nil
}

// keptSecret returns the secret kept under name in dir, or in the store
// (a data directory restored from a backup has only that), or a new one;
// whichever it is, it is then kept in both.
func keptSecret(store *persist.Store, dir, name string) (string, error) {
	v, err := readSecretFile(dir, name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if v == "" {
		var ok bool
		if v, ok, err = store.Meta(name); err != nil {
			return "", fmt.Errorf("read %s: %w", name, err)
		} else if !ok || v == "" {
			v = randomHex(32)
		}
	}
	if stored, ok, err := store.Meta(name); err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	} else if !ok || stored != v {
		if err := store.PutMeta(name, v); err != nil {
			return "", fmt.Errorf("save %s: %w", name, err)
		}
	}
	return v, writeSecretFile(dir, name, v)
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
// whole or not at all.
func writeSecretFile(dir, name, v string) error {
	path := filepath.Join(dir, name)
	if cur, err := readSecretFile(dir, name); err == nil && cur == v {
		return os.Chmod(path, 0o600)
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
