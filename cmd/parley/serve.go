package main

import (
	"context"
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
	"github.com/parley-chat/parley/transport/gorgias"
	"github.com/parley-chat/parley/transport/llm"
	"github.com/parley-chat/parley/transport/smtp"
	"github.com/parley-chat/parley/transport/twilio"
	"github.com/parley-chat/parley/transport/webhook"
	"github.com/parley-chat/parley/transport/zendesk"
)

// serve is `parley serve`: it runs until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseServe(args, osEnv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.LogLevel}))
	srvTLS, err := newServerTLS(c.TLS, c.Data, log)
	if err != nil {
		return err
	}
	// The addresses first: a server that cannot listen creates no data
	// directory and touches no store.
	lns, err := listen(c)
	if err != nil {
		return err
	}
	defer lns.close()
	if err := makeDataDir(c.Data, log); err != nil {
		return err
	}
	store, err := persist.Open(persist.Options{Dir: c.Data, WALSyncInterval: c.WALSync, Logger: log.With(slog.String("component", "persist"))})
	if errors.Is(err, persist.ErrInUse) {
		return fmt.Errorf("%w: stop the server using it, or start this one with another --data", err)
	}
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", slog.Any("err", err))
		}
	}()
	if err := bootstrapSecrets(store, &c, log, stderr); err != nil {
		return err
	}
	if err := srvTLS.prepare(c.Data); err != nil {
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
	smsCallbacks := transport.NewSMSCallbacks(c.PublicURL)
	sys, err := actors.Start(store, actors.Config{
		PassivateAfter: c.PassivateAfter,
		SMS:            &twilio.Client{},
		SMSCallback:    smsCallbacks.URL,
		Webhooks:       transport.WebhookNotifier(&webhook.Sender{AllowPrivate: c.WebhookPrivate}),
		Notifier:       &smtp.Mailer{PublicURL: c.PublicURL},
		Model:          &llm.Client{},
		Handoffs: map[string]engine.HandoffTarget{
			engine.HandoffZendesk: &zendesk.Client{},
			engine.HandoffGorgias: &gorgias.Client{},
		},
	}, reg, log.With(slog.String("component", "actors")))
	if err != nil {
		return err
	}
	defer shutdownActors(sys, c.ShutdownWait, log)
	if err := seed(ctx, store, sys, log); err != nil {
		return err
	}
	tr := transport.New(sys, transport.Config{
		AllowedOrigins: c.AllowedOrigins, IdentitySecret: []byte(c.IdentitySecret), AdminToken: c.AdminToken,
		MaxFrameBytes: c.MaxFrameBytes, Demo: c.Demo, ShareAdminToken: c.Demo && loopbackOnly(c.Addr), RateLimit: c.WSRate, RateBurst: c.WSBurst,
		PreviousIdentitySecret: []byte(c.PrevSecret), PreviousSecretUntil: time.Now().Add(c.PrevGrace),
		MaxConnections: c.MaxConns, ConnRate: c.ConnRate, ConnBurst: c.ConnBurst, APIRate: c.APIRate, APIBurst: c.APIBurst, Gatherer: reg, NoMetricsRoute: c.MetricsAddr != "",
		ReplayBudget: c.ReplayBudget, Logger: log.With(slog.String("component", "transport")),
		TrustedProxies: c.TrustedProxies,
		MaxUploadBytes: int64(c.MaxUpload), PublicURL: c.PublicURL, WebhookAllowPrivate: c.WebhookPrivate, SMSCallbacks: smsCallbacks,
		StrictTransportSecurity: srvTLS.hsts(),
	}, reg)
	return serveOn(ctx, c, lns, tr, srvTLS, reg, log)
}

// listeners are serve's bound addresses: the main one, and the metrics and
// profiler ones when asked for.
type listeners struct {
	main, metrics, pprof net.Listener
}

// listen binds every address serve needs, or none.
func listen(c serveConfig) (*listeners, error) {
	l := &listeners{}
	var err error
	if l.main, err = net.Listen("tcp", c.Addr); err != nil {
		return nil, err
	}
	if c.MetricsAddr != "" {
		if l.metrics, err = net.Listen("tcp", c.MetricsAddr); err != nil {
			l.close()
			return nil, err
		}
	}
	if c.PprofAddr != "" {
		if l.pprof, err = net.Listen("tcp", c.PprofAddr); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

// close closes the listeners; one that a server has closed already is
// harmless to close again.
func (l *listeners) close() {
	for _, ln := range []net.Listener{l.main, l.metrics, l.pprof} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// serveOn serves on the bound listeners until ctx ends or one fails, then
// shuts down gracefully. With srvTLS the main listener serves TLS.
func serveOn(ctx context.Context, c serveConfig, lns *listeners, tr *transport.Server, srvTLS *serverTLS, reg *prometheus.Registry, log *slog.Logger) error {
	type served struct {
		srv  *http.Server
		ln   net.Listener
		name string
	}
	mainSrv, scheme := newHTTPServer(tr.Handler(), c.HeaderTimeout), "http"
	if srvTLS != nil {
		mainSrv.TLSConfig, scheme = srvTLS.config, "https"
	}
	defer watchSignals(ctx, srvTLS, log)()
	all := []served{{mainSrv, lns.main, "listening"}}
	if lns.metrics != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		all = append(all, served{newHTTPServer(mux, c.HeaderTimeout), lns.metrics, "metrics listening"})
	}
	if lns.pprof != nil {
		all = append(all, served{newHTTPServer(pprofMux(), c.HeaderTimeout), lns.pprof, "pprof listening"})
	}
	errs := make(chan error, len(all))
	servers := make([]*http.Server, 0, len(all))
	for i, sv := range all {
		log.Info(sv.name, slog.String("addr", sv.ln.Addr().String()))
		if i == 0 {
			log.Info("parley is up", slog.String("url", scheme+"://"+sv.ln.Addr().String()+"/"), slog.Bool("demo", c.Demo),
				slog.String("version", binaryVersion()))
		}
		servers = append(servers, sv.srv)
		go func() {
			if sv.srv.TLSConfig != nil {
				errs <- sv.srv.ServeTLS(sv.ln, "", "") // the certificate comes from TLSConfig
				return
			}
			errs <- sv.srv.Serve(sv.ln)
		}()
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
