package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testCA issues the certificates of the TLS tests: a client that trusts
// roots trusts every one of them.
type testCA struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	roots *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1000), Subject: pkix.Name{CommonName: "Parley test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &testCA{cert: cert, key: key, roots: roots}
}

// issue returns a PEM certificate for 127.0.0.1, ::1 and localhost with the
// given serial number, and its PEM key.
func (ca *testCA) issue(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writeFileAtomically replaces path with b the way a careful tool does:
// a new file renamed over the old one.
func writeFileAtomically(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// writePair writes a certificate and its key into dir as cert.pem and
// key.pem and returns their paths.
func writePair(t *testing.T, dir string, certPEM, keyPEM []byte) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFileAtomically(t, certPath, certPEM)
	writeFileAtomically(t, keyPath, keyPEM)
	return certPath, keyPath
}

// servedSerial makes a new TLS handshake with addr and returns the serial
// number of the certificate the server presents.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	d := &tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: "localhost"}, NetDialer: &net.Dialer{Timeout: 5 * time.Second}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// httpsClient trusts roots and nothing else; the test's cleanup closes its
// connections.
func httpsClient(t *testing.T, roots *x509.CertPool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestTLSFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string // in the error; "" for none
	}{
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil, ""},
		{nil, map[string]string{"PARLEY_TLS_CERT": "c.pem", "PARLEY_TLS_KEY": "k.pem"}, ""},
		{[]string{"--tls-cert", "c.pem"}, nil, "--tls-cert and --tls-key go together"},
		{nil, map[string]string{"PARLEY_TLS_KEY": "k.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--acme-domain", "chat.example.com, Help.Example.com", "--acme-email", "ops@example.com"}, nil, ""},
		{[]string{"--acme-domain", "chat.example.com", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil, "exclude each other"},
		{[]string{"--acme-email", "ops@example.com"}, nil, "--acme-email goes with --acme-domain"},
		{[]string{"--acme-domain", "https://chat.example.com"}, nil, "--acme-domain"},
		{[]string{"--acme-domain", "*.example.com"}, nil, "--acme-domain"},
		{[]string{"--acme-domain", "192.0.2.1"}, nil, "--acme-domain"},
		{[]string{"--acme-domain", "localhost"}, nil, "--acme-domain"},
	} {
		c, err := parseServe(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v %v: %v", tc.args, tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v %v: error %v, want one saying %q", tc.args, tc.env, err, tc.want)
		case tc.want == "" && !c.TLS.on():
			t.Errorf("%v %v: TLS off", tc.args, tc.env)
		}
	}
	c, _ := parseServe([]string{"--acme-domain", "chat.example.com, Help.Example.com"}, func(string) string { return "" }, io.Discard)
	if !slices.Equal(c.TLS.ACMEDomains, []string{"chat.example.com", "help.example.com"}) {
		t.Errorf("--acme-domain read as %q", c.TLS.ACMEDomains)
	}
	if c, _ := parseServe(nil, func(string) string { return "" }, io.Discard); c.TLS.on() {
		t.Error("TLS on without a flag")
	}
}

// A certificate and a key that are not a pair stop serve before it touches
// anything, with an error naming the flags and the files.
func TestServeRefusesAMismatchedPair(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	cert1, _ := ca.issue(t, 1)
	_, key2 := ca.issue(t, 2)
	certPath, keyPath := writePair(t, dir, cert1, key2)
	data := filepath.Join(dir, "data")
	var errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--tls-cert", certPath, "--tls-key", keyPath}, io.Discard, &errb)
	out := errb.String()
	if code != 1 || !strings.Contains(out, "--tls-cert "+certPath) || !strings.Contains(out, "--tls-key "+keyPath) ||
		!strings.Contains(out, "private key does not match public key") {
		t.Fatalf("serve with a mismatched pair: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("the data directory exists after the refused start: %v", err)
	}
	errb.Reset()
	code = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--tls-cert", filepath.Join(dir, "missing.pem"), "--tls-key", keyPath}, io.Discard, &errb)
	if code != 1 || !strings.Contains(errb.String(), "missing.pem") {
		t.Fatalf("serve with a missing certificate file: exit %d:\n%s", code, errb.String())
	}
}

// The certificate files are read again when either changes, without a
// signal; a pair that does not load leaves the one before in place.
func TestCertFilesReloadWhenChanged(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	cert1, key1 := ca.issue(t, 1)
	certPath, keyPath := writePair(t, dir, cert1, key1)
	var logs syncBuffer
	f, err := loadCertFiles(certPath, keyPath, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		c, _ := f.get(nil)
		return c.Leaf.SerialNumber.Int64()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.watch(ctx, nil, 10*time.Millisecond) }()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5s; log:\n%s", what, logs.String())
			}
		}
	}

	cert2, key2 := ca.issue(t, 2)
	writePair(t, dir, cert2, key2)
	waitFor("the new pair served", func() bool { return serial() == 2 })

	_, key3 := ca.issue(t, 3)
	writeFileAtomically(t, keyPath, key3) // a key of another certificate
	waitFor("the failed reload logged", func() bool { return strings.Contains(logs.String(), "TLS certificate not reloaded") })
	if got := serial(); got != 2 {
		t.Fatalf("after a bad pair, serving serial %d, want the previous one, 2", got)
	}
	if !strings.Contains(logs.String(), keyPath) {
		t.Fatalf("the failed reload does not name the file:\n%s", logs.String())
	}
}

// Over TLS, every response carries HSTS, the log's URL says https, and the
// API and the health checks answer over HTTP/2 too; without TLS there is no
// HSTS header.
func TestServeTLSInProcess(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	cert, key := ca.issue(t, 7)
	certPath, keyPath := writePair(t, dir, cert, key)
	addr, logs, stop := startServe(t, "--data", filepath.Join(dir, "data"), "--admin-token", "tls-admin",
		"--tls-cert", certPath, "--tls-key", keyPath)
	defer stop()
	if !strings.Contains(logs.String(), `url=https://`+addr+"/") {
		t.Errorf("the log does not give the https URL:\n%s", logs.String())
	}
	c := httpsClient(t, ca.roots)
	for _, tc := range []struct{ path, bearer string }{{"/healthz", ""}, {"/api/v1/settings", "tls-admin"}, {"/nowhere", ""}} {
		req, _ := http.NewRequest("GET", "https://"+addr+tc.path, nil)
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s over TLS: %v", tc.path, err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("GET %s: %d, Strict-Transport-Security %q, want max-age=31536000", tc.path, resp.StatusCode, got)
		}
		if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("GET %s: %s over %v, want HTTP/2 over TLS 1.2 or later", tc.path, resp.Proto, resp.TLS)
		}
	}
	d := &tls.Dialer{Config: &tls.Config{RootCAs: ca.roots, MaxVersion: tls.VersionTLS11}}
	if conn, err := d.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	plain, _, stopPlain := startServe(t, "--data", filepath.Join(dir, "plain"))
	defer stopPlain()
	resp, err := http.Get("http://" + plain + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, ok := resp.Header["Strict-Transport-Security"]; ok {
		t.Errorf("without TLS: Strict-Transport-Security %q, want none", got)
	}
}

// With --acme-domain the main listener asks for certificates for the listed
// domains only (a handshake for another name fails at once, without asking
// the CA), answers the TLS-ALPN-01 challenge, and keeps its cache in
// <data>/acme, readable by its owner alone. Getting a certificate needs the
// CA and the internet: not tested here.
func TestACMERefusesUnlistedHosts(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	o := tlsOptions{ACMEDomains: []string{"chat.example.com"}, ACMEEmail: "ops@example.com"}
	st, err := newServerTLS(o, data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if st.config.MinVersion != tls.VersionTLS12 || !slices.Contains(st.config.NextProtos, "acme-tls/1") || st.hsts() != hsts {
		t.Errorf("ACME TLS config: min version %x, protocols %q, HSTS %q", st.config.MinVersion, st.config.NextProtos, st.hsts())
	}
	if _, err := st.config.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example.net"}); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("certificate for a host not listed: %v, want refused", err)
	}

	addr, logs, stop := startServe(t, "--data", data, "--acme-domain", "chat.example.com")
	defer stop()
	d := &tls.Dialer{Config: &tls.Config{ServerName: "evil.example.net", InsecureSkipVerify: true}}
	if conn, err := d.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("a handshake for a host not listed succeeded")
	}
	if fi, err := os.Stat(filepath.Join(data, "acme")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("ACME cache: %v %v, want a directory of mode 0700", fi, err)
	}
	if !strings.Contains(logs.String(), "url=https://") {
		t.Errorf("the log does not give an https URL:\n%s", logs.String())
	}
}
