package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/transport/identity"
)

// Demo mode (shopper tokens minted for anyone) is on by itself only for a
// server of one's own machine: no identity secret and a loopback address.
func TestDemoModeNeedsLoopbackOrTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		demo bool
	}{
		{[]string{"--addr", "127.0.0.1:8080"}, true},
		{[]string{"--addr", "localhost:8080"}, true},
		{[]string{"--addr", "[::1]:8080"}, true},
		{[]string{"--addr", ":8080"}, false},
		{[]string{"--addr", "0.0.0.0:8080"}, false},
		{[]string{"--addr", "192.0.2.10:8080"}, false},
		{[]string{"--addr", "0.0.0.0:8080", "--demo"}, true},
		{[]string{"--addr", "127.0.0.1:8080", "--identity-secret", "s"}, false},
		{[]string{"--addr", "127.0.0.1:8080", "--demo=false"}, false},
	} {
		c, err := parseServe(tc.args, func(string) string { return "" }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.Demo != tc.demo {
			t.Errorf("%v: demo %v, want %v", tc.args, c.Demo, tc.demo)
		}
	}
}

// A server that cannot bind its address creates no data directory.
func TestServeThatCannotListenCreatesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--addr", busy.Addr().String(), "--data", data}, io.Discard, &errb); code == 0 {
		t.Fatal("serve on a busy address exited 0")
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("the data directory exists after a failed start: %v", err)
	}
}

// A second server on a data directory in use says so, and a token can be
// minted from the running server's kept secret meanwhile; the kept
// credentials are readable by their owner alone and printed as lines to
// paste into a shell.
func TestDataDirectoryInUseAndTokenFromIt(t *testing.T) {
	dir := t.TempDir()
	_, logs, stop := startServe(t, "--data", dir)
	defer stop()
	for _, line := range []string{"export PARLEY_IDENTITY_SECRET=", "export PARLEY_ADMIN_TOKEN="} {
		if !strings.Contains(logs.String(), line) {
			t.Fatalf("no %q line in the output:\n%s", line, logs.String())
		}
	}
	for _, f := range []string{secretFile, adminFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want a file of mode 0600", f, st, err)
		}
	}

	var errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, io.Discard, &errb)
	if code == 0 || !strings.Contains(errb.String(), "in use by another Parley") {
		t.Fatalf("second server on the same data: exit %d, %s", code, errb.String())
	}

	var out bytes.Buffer
	errb.Reset()
	if code := run(context.Background(), []string{"token", "--data", dir, "--sub", "cust_1"}, &out, &errb); code != 0 {
		t.Fatalf("token --data: exit %d: %s", code, errb.String())
	}
	secret, _ := readSecretFile(dir, secretFile)
	if v, err := identity.Verify([]byte(secret), strings.TrimSpace(out.String()), time.Now()); err != nil || v.ProfileID != "cust_1" {
		t.Fatalf("token from the kept secret: %+v %v", v, err)
	}

	errb.Reset()
	if code := run(context.Background(), []string{"token", "--sub", "cust_1"}, io.Discard, &errb); code != 2 ||
		!strings.Contains(errb.String(), "--secret") || strings.Contains(errb.String(), "--sub is required") {
		t.Fatalf("token without a secret: exit %d: %s; want only the secret named as missing", code, errb.String())
	}
}

// Generated credentials are printed once, by the start that generated them;
// later starts name the files and print no value. The data directory is
// made 0700 and the files 0600; a credential file that others may read is
// tightened with a warning, and a data directory others may read is
// warned about and left as it is.
func TestGeneratedCredentialsPrintedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, logs, stop := startServe(t, "--data", dir)
	if code := stop(); code != 0 {
		t.Fatalf("first start: exit %d: %s", code, logs.String())
	}
	secret, _ := readSecretFile(dir, secretFile)
	admin, _ := readSecretFile(dir, adminFile)
	for _, line := range []string{"export PARLEY_IDENTITY_SECRET=" + secret + "\n", "export PARLEY_ADMIN_TOKEN=" + admin + "\n"} {
		if strings.Count(logs.String(), line) != 1 {
			t.Fatalf("first start: want %q once in the output:\n%s", line, logs.String())
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("new data directory: %v %v, want mode 0700", st, err)
	}

	// Others may read the secret file and the directory; the admin token's
	// file is gone (a directory restored from a backup has only the store).
	if err := os.Chmod(filepath.Join(dir, secretFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, adminFile)); err != nil {
		t.Fatal(err)
	}
	_, logs, stop = startServe(t, "--data", dir)
	if code := stop(); code != 0 {
		t.Fatalf("second start: exit %d: %s", code, logs.String())
	}
	out := logs.String()
	if strings.Contains(out, secret) || strings.Contains(out, admin) || strings.Contains(out, "export ") {
		t.Fatalf("second start printed a credential:\n%s", out)
	}
	for _, want := range []string{
		"identity_secret_file=" + filepath.Join(dir, secretFile),
		"admin_token_file=" + filepath.Join(dir, adminFile),
		`msg="a credential file was readable by others`,
		`msg="the data directory may be read by others`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("second start: no %q in the output:\n%s", want, out)
		}
	}
	for f, v := range map[string]string{secretFile: secret, adminFile: admin} {
		st, err := os.Stat(filepath.Join(dir, f))
		if got, _ := readSecretFile(dir, f); err != nil || st.Mode().Perm() != 0o600 || got != v {
			t.Errorf("%s after the second start: %v %v, holding the same value %v; want mode 0600", f, st, err, got == v)
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("an existing data directory's mode was changed: %v %v", st, err)
	}
}
