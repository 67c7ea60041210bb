package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// backupCmd is `parley backup`: it asks a running server for an online
// checkpoint of its data directory (POST /api/v1/backup, O6) and prints the
// directory it was written to. The checkpoint is written by the server, on
// the server's machine; a relative --to is made absolute against this
// process's working directory, which is only meaningful when both run on
// the same machine.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "the server's address (or PARLEY_ADDR)")
	token := fs.String("admin-token", "", "an admin bearer token (or PARLEY_ADMIN_TOKEN)")
	to := fs.String("to", "", "directory to write the checkpoint into; it must not exist yet")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the server to finish")
	// Only the connection flags fall back on the environment, under the
	// names serve reads them from; --to is always given on purpose.
	env := func(k string) string {
		if k == "PARLEY_ADDR" || k == "PARLEY_ADMIN_TOKEN" {
			return osEnv(k)
		}
		return ""
	}
	if err := parseWithEnv(fs, args, env); err != nil {
		return err
	}
	if *token == "" || *to == "" {
		fmt.Fprintln(stderr, "parley backup: --admin-token and --to are required")
		return errUsage
	}
	dir, err := filepath.Abs(*to)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s already exists; a backup needs a new directory", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	out, err := requestBackup(ctx, backupURL(*addr), *token, dir, *timeout)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, out)
	return err
}

// backupURL accepts a bare host:port, as serve's --addr takes, or a URL.
func backupURL(addr string) string {
	addr = strings.TrimRight(addr, "/")
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return addr + "/api/v1/backup"
}

// requestBackup makes the call and returns the directory the server wrote;
// a refusal comes back as the server's own message.
func requestBackup(ctx context.Context, url, token, dir string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(map[string]string{"dir": dir})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	var ans struct {
		Dir   string `json:"dir"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	jsonErr := json.Unmarshal(raw, &ans)
	switch {
	case resp.StatusCode != http.StatusOK && jsonErr == nil && ans.Error.Message != "":
		return "", fmt.Errorf("the server refused (%s): %s", resp.Status, ans.Error.Message)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("the server answered %s: %s", resp.Status, bytes.TrimSpace(raw))
	case jsonErr != nil || ans.Dir == "":
		return "", fmt.Errorf("the server answered %s with %q, not a backup", resp.Status, raw)
	}
	return ans.Dir, nil
}
