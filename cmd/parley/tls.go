package main

// HTTPS and wss:// on the main listener: from certificate files that are
// reloaded without dropping a socket, or from an ACME CA (Let's Encrypt).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// hsts is the Strict-Transport-Security header of a server that serves TLS:
// a year, for this host only. includeSubDomains is left out on purpose: the
// store's other hosts are not Parley's to decide for.
const hsts = "max-age=31536000"

// certPollEvery is how often the certificate files are checked for a change.
const certPollEvery = 5 * time.Second

// tlsOptions is the TLS part of serve's command line. Either both files, or
// ACME domains, or nothing (plain HTTP).
type tlsOptions struct {
	CertFile, KeyFile string
	ACMEDomains       []string
	ACMEEmail         string
}

// on reports whether the main listener serves TLS.
func (o tlsOptions) on() bool { return o.CertFile != "" || len(o.ACMEDomains) > 0 }

// addTLSFlags defines serve's TLS flags on fs. The function it returns
// checks them once fs is parsed.
func addTLSFlags(fs *flag.FlagSet, o *tlsOptions) (check func() error) {
	var domains string
	fs.StringVar(&o.CertFile, "tls-cert", "", "serve HTTPS and wss:// with this PEM certificate (chain) file, with --tls-key; reloaded on SIGHUP and when it changes")
	fs.StringVar(&o.KeyFile, "tls-key", "", "the PEM private key of --tls-cert")
	fs.StringVar(&domains, "acme-domain", "", "comma-separated domains to get certificates for from Let's Encrypt (TLS-ALPN-01: --addr must be reachable on port 443); not with --tls-cert")
	fs.StringVar(&o.ACMEEmail, "acme-email", "", "contact address for the ACME account (with --acme-domain)")
	return func() error {
		for _, d := range strings.Split(domains, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				o.ACMEDomains = append(o.ACMEDomains, d)
			}
		}
		return o.check()
	}
}

func (o tlsOptions) check() error {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if len(o.ACMEDomains) > 0 && o.CertFile != "" {
		return errors.New("--acme-domain and --tls-cert/--tls-key exclude each other: certificates come from files or from ACME")
	}
	if o.ACMEEmail != "" && len(o.ACMEDomains) == 0 {
		return errors.New("--acme-email goes with --acme-domain")
	}
	for _, d := range o.ACMEDomains {
		if _, err := netip.ParseAddr(d); err == nil || !strings.Contains(strings.Trim(d, "."), ".") ||
			strings.ContainsAny(d, ":/*@ ") {
			return fmt.Errorf("--acme-domain %q: want DNS names such as chat.example.com (no scheme, port, wildcard or IP address)", d)
		}
	}
	return nil
}

// serverTLS is the main listener's TLS: its config, and the certificate
// files it reloads (nil with ACME, whose manager renews on its own).
type serverTLS struct {
	config *tls.Config
	files  *certFiles
	acme   *autocert.Manager
}

// newServerTLS loads the certificate files, or sets up ACME with its cache
// in <data>/acme (created by prepare). It returns nil when TLS is off.
func newServerTLS(o tlsOptions, data string, log *slog.Logger) (*serverTLS, error) {
	switch {
	case o.CertFile != "":
		f, err := loadCertFiles(o.CertFile, o.KeyFile, log)
		if err != nil {
			return nil, err
		}
		return &serverTLS{config: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: f.get}, files: f}, nil
	case len(o.ACMEDomains) > 0:
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS, // asking for certificates is accepting the CA's terms
			HostPolicy: autocert.HostWhitelist(o.ACMEDomains...),
			Cache:      autocert.DirCache(filepath.Join(data, "acme")),
			Email:      o.ACMEEmail,
		}
		// m.TLSConfig answers the TLS-ALPN-01 challenge (NextProtos
		// acme-tls/1) on this listener: no port 80 is needed, but the CA
		// must reach it on 443.
		cfg := m.TLSConfig()
		cfg.MinVersion = tls.VersionTLS12
		return &serverTLS{config: cfg, acme: m}, nil
	}
	return nil, nil
}

// prepare creates ACME's cache directory, readable by its owner alone (it
// holds the account's and the certificates' private keys), once the data
// directory exists.
func (s *serverTLS) prepare(data string) error {
	if s == nil || s.acme == nil {
		return nil
	}
	dir := filepath.Join(data, "acme")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ACME certificate cache: %w", err)
	}
	return os.Chmod(dir, 0o700)
}

// hsts is the transport's Strict-Transport-Security header: on with TLS.
func (s *serverTLS) hsts() string {
	if s == nil {
		return ""
	}
	return hsts
}

// certFiles is a certificate and key pair read from files, swapped whole for
// new handshakes when they are read again; connections made before keep the
// certificate they were made with.
type certFiles struct {
	cert, key string
	log       *slog.Logger
	cur       atomic.Pointer[tls.Certificate]
	seen      [2]fileStamp // the files as they were last read (or tried)
}

// fileStamp is what tells that a file changed: its modification time and size.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) fileStamp {
	st, err := os.Stat(path) // through symbolic links, as certbot's live/ has them
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{st.ModTime(), st.Size()}
}

// loadCertFiles reads the pair; an error names both flags and files.
func loadCertFiles(cert, key string, log *slog.Logger) (*certFiles, error) {
	f := &certFiles{cert: cert, key: key, log: log}
	if err := f.load("start"); err != nil {
		return nil, err
	}
	return f, nil
}

// load reads the pair and serves it from the next handshake on; why says
// what made it read them, for the log.
func (f *certFiles) load(why string) error {
	f.seen = f.stamps() // before reading: a change after it is seen next time
	c, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return fmt.Errorf("--tls-cert %s and --tls-key %s: %w", f.cert, f.key, err)
	}
	f.cur.Store(&c)
	attrs := []any{slog.String("why", why), slog.String("file", f.cert)}
	if l := c.Leaf; l != nil {
		attrs = append(attrs, slog.Any("names", certNames(l)),
			slog.String("serial", l.SerialNumber.Text(16)), slog.Time("not_after", l.NotAfter))
		if time.Now().After(l.NotAfter) {
			f.log.Warn("TLS certificate loaded, and it has expired: browsers refuse it", attrs...)
			return nil
		}
	}
	f.log.Info("TLS certificate loaded", attrs...)
	return nil
}

// certNames lists the names a certificate is valid for: DNS names and IP
// addresses.
func certNames(l *x509.Certificate) []string {
	names := slices.Clone(l.DNSNames)
	for _, ip := range l.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// get is tls.Config.GetCertificate: the pair loaded last.
func (f *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return f.cur.Load(), nil }

// reload reads the pair again; a pair that does not load leaves the current
// one in place.
func (f *certFiles) reload(why string) {
	if err := f.load(why); err != nil {
		f.log.Error("TLS certificate not reloaded: still serving the previous one", slog.String("why", why), slog.Any("err", err))
	}
}

// stamps returns the files' stamps now.
func (f *certFiles) stamps() [2]fileStamp { return [2]fileStamp{stampOf(f.cert), stampOf(f.key)} }

// watch reloads the pair on SIGHUP, and when either file has changed since
// it was read and then stayed the same for one more check (so that a pair
// caught half-way through being replaced is not read), until ctx ends.
func (f *certFiles) watch(ctx context.Context, hup <-chan os.Signal, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := f.seen
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			f.reload("SIGHUP")
		case <-tick.C:
			now := f.stamps()
			if now != f.seen && now == last {
				f.reload("file changed")
			}
			last = now
		}
	}
}

// watchSignals handles SIGHUP while serve runs: it reloads the certificate
// files, and otherwise says there is nothing to reload (rather than letting
// the signal end the process, as it would by default). stop ends it and
// waits for it.
func watchSignals(ctx context.Context, s *serverTLS, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var wg sync.WaitGroup
	wg.Go(func() {
		if s != nil && s.files != nil {
			s.files.watch(ctx, hup, certPollEvery)
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: no certificate files to reload")
			}
		}
	})
	return func() {
		signal.Stop(hup)
		cancel()
		wg.Wait()
	}
}
