package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley/actors"
	"github.com/parley-chat/parley/engine"
	"github.com/parley-chat/parley/persist"
	"github.com/parley-chat/parley/transport"
)

// serve is `parley serve`: it runs until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseServe(args, osEnv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.LogLevel}))
	store, err := persist.Open(persist.Options{Dir: c.Data, Logger: log.With(slog.String("component", "persist"))})
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", slog.Any("err", err))
		}
	}()
	if err := bootstrapSecrets(store, &c, log); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	// Every metric name starts with parley_ (PROTOCOL §4), the Go runtime's
	// and the process's standard ones too: parley_go_goroutines,
	// parley_process_resident_memory_bytes, …
	prometheus.WrapRegistererWithPrefix("parley_", reg).MustRegister(
		// parley_go_gc_heap_live_bytes (the heap marked live by the last GC)
		// is the figure that stays flat in a healthy soak; heap_alloc swings
		// with garbage. parley_go_sched_latencies_seconds is how long
		// goroutines waited for a CPU once runnable: on a busy machine, part
		// of every latency.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)},
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(store.Collector())
	sys, err := actors.Start(store, actors.Config{PassivateAfter: c.PassivateAfter}, reg, log.With(slog.String("component", "actors")))
	if err != nil {
		return err
	}
	defer shutdownActors(sys, c.ShutdownWait, log)
	if err := seed(ctx, store, sys, log); err != nil {
		return err
	}
	tr := transport.New(sys, transport.Config{
		AllowedOrigins: c.AllowedOrigins, IdentitySecret: []byte(c.IdentitySecret), AdminToken: c.AdminToken,
		MaxFrameBytes: c.MaxFrameBytes, Demo: c.Demo, RateLimit: c.WSRate, RateBurst: c.WSBurst,
		PreviousIdentitySecret: []byte(c.PrevSecret), PreviousSecretUntil: time.Now().Add(c.PrevGrace),
		MaxConnections: c.MaxConns, ConnRate: c.ConnRate, ConnBurst: c.ConnBurst, APIRate: c.APIRate, APIBurst: c.APIBurst, Gatherer: reg, NoMetricsRoute: c.MetricsAddr != "",
		Logger: log.With(slog.String("component", "transport")),
	}, reg)
	return listenAndServe(ctx, c, tr, reg, log)
}

func listenAndServe(ctx context.Context, c serveConfig, tr *transport.Server, reg *prometheus.Registry, log *slog.Logger) error {
	servers := []*http.Server{newHTTPServer(tr.Handler(), c.HeaderTimeout)}
	addrs := []string{c.Addr}
	if c.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		servers, addrs = append(servers, newHTTPServer(mux, c.HeaderTimeout)), append(addrs, c.MetricsAddr)
	}
	if c.PprofAddr != "" {
		servers, addrs = append(servers, newHTTPServer(pprofMux(), c.HeaderTimeout)), append(addrs, c.PprofAddr)
	}
	errs := make(chan error, len(servers))
	for i, srv := range servers {
		ln, err := net.Listen("tcp", addrs[i])
		if err != nil {
			for _, s := range servers[:i] {
				_ = s.Close()
			}
			return err
		}
		name := "listening"
		switch {
		case i > 0 && addrs[i] == c.PprofAddr:
			name = "pprof listening"
		case i > 0:
			name = "metrics listening"
		}
		log.Info(name, slog.String("addr", ln.Addr().String()))
		if i == 0 {
			log.Info("parley is up", slog.String("url", "http://"+ln.Addr().String()+"/"), slog.Bool("demo", c.Demo))
		}
		go func() { errs <- srv.Serve(ln) }()
	}
	var err error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errs:
		log.Error("server failed", slog.Any("err", err))
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownWait)
	defer cancel()
	if e := tr.Shutdown(sctx); e != nil {
		log.Warn("transport shutdown", slog.Any("err", e))
	}
	for _, srv := range servers {
		if e := srv.Shutdown(sctx); e != nil {
			log.Warn("http shutdown", slog.Any("err", e))
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func newHTTPServer(h http.Handler, headerTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		MaxHeaderBytes:    16 << 10,
		IdleTimeout:       2 * time.Minute,
	}
}

func shutdownActors(sys *actors.System, wait time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := sys.Shutdown(ctx); err != nil {
		log.Error("actor shutdown", slog.Any("err", err))
	}
}

// bootstrapSecrets fills in a missing identity secret and admin token from
// the store, generating and saving them on first start, so that a restart
// keeps shopper tokens and the admin token valid.
func bootstrapSecrets(store *persist.Store, c *serveConfig, log *slog.Logger) error {
	var generated []any
	for _, s := range []struct {
		meta string
		v    *string
	}{{"identity_secret", &c.IdentitySecret}, {"admin_token", &c.AdminToken}} {
		if *s.v != "" {
			continue
		}
		v, ok, err := store.Meta(s.meta)
		if err != nil {
			return fmt.Errorf("read %s: %w", s.meta, err)
		}
		if !ok || v == "" {
			v = randomHex(32)
			if err := store.PutMeta(s.meta, v); err != nil {
				return fmt.Errorf("save %s: %w", s.meta, err)
			}
		}
		*s.v = v
		generated = append(generated, slog.String(s.meta, v))
	}
	if len(generated) > 0 {
		// The one place a secret is logged: the operator has no other way to
		// learn what was generated. Pass --identity-secret/--admin-token to
		// keep them out of the log.
		log.Warn("using generated credentials kept in the data directory", generated...)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// seed saves the default settings and sample FAQs on a store that has never
// had settings saved.
func seed(ctx context.Context, store *persist.Store, sys *actors.System, log *slog.Logger) error {
	_, saved, err := store.Settings()
	if err != nil || saved {
		return err
	}
	if err := sys.PutSettings(ctx, engine.DefaultSettings()); err != nil {
		return err
	}
	if len(sys.FAQs()) == 0 {
		for _, f := range engine.SampleFAQs() {
			if _, err := sys.PutFAQ(ctx, f); err != nil {
				return err
			}
		}
	}
	log.Info("new store: saved default settings and sample FAQs")
	return nil
}
