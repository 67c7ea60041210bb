package transport

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley/engine"
)

// Server serves Parley's sockets and HTTP API on top of a Backend.
type Server struct {
	chat  Chat
	desk  Helpdesk
	admin Admin
	hooks Webhooks
	sms   SMS
	// mediaClient fetches the pictures of inbound texts.
	mediaClient *http.Client
	auth        Auth
	profiles    Profiles
	files       Uploads
	cfg         Config
	log         *slog.Logger
	m           *metrics
	mux         *routeMux
	handler     http.Handler
	proxies     trustedProxies // peers whose forwarding headers are believed
	upgrades    *keyedLimiter  // socket upgrades per client address
	calls       *keyedLimiter  // API requests per bearer token
	tokens      tokenCache     // identity tokens that verified
	replay      *byteBudget    // bytes of replayed frames all sockets hold

	mu        sync.Mutex
	closing   bool
	conns     map[*wsConn]struct{}
	upgrading int                             // places reserved by upgrades in flight (reserveConn)
	byProfile map[string]map[*wsConn]struct{} // logged-in sockets, for fan-out of new chats
	wg        sync.WaitGroup                  // every request, socket goroutine and helper
	quit      chan struct{}                   // closed by Shutdown: ends streams
	once      sync.Once
	idle      chan struct{} // closed when wg is done after Shutdown
}

// New returns a server for b (an *actors.System). Its metrics register on
// reg (nil: none).
func New(b Backend, cfg Config, reg prometheus.Registerer) *Server {
	cfg.ensureDefaults()
	s := &Server{
		chat: b, desk: b, admin: b, hooks: b, sms: b, mediaClient: &http.Client{Timeout: 15 * time.Second}, auth: b, files: b, cfg: cfg, log: cfg.Logger, m: newMetrics(reg), mux: newRouteMux(),
		conns: map[*wsConn]struct{}{}, byProfile: map[string]map[*wsConn]struct{}{},
		quit: make(chan struct{}), idle: make(chan struct{}),
		proxies:  newTrustedProxies(cfg.TrustedProxies),
		upgrades: newKeyedLimiter(cfg.ConnRate, cfg.ConnBurst),
		calls:    newKeyedLimiter(cfg.APIRate, cfg.APIBurst),
	}
	s.replay = newByteBudget(cfg.ReplayBudget, s.m.replayBytes)
	if s.cfg.Gatherer == nil {
		if g, ok := reg.(prometheus.Gatherer); ok {
			s.cfg.Gatherer = g
		}
	}
	s.profiles = b
	if reg != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_ready", Help: "1 while the server is ready (as /readyz answers 200), 0 before and while shutting down.",
		}, func() float64 {
			if s.shuttingDown() || !s.admin.Ready() {
				return 0
			}
			return 1
		}))
	}
	s.routes()
	s.handler = http.HandlerFunc(s.serve)
	return s
}

// Handler returns the server's HTTP handler: one mux for every route.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.Gatherer != nil && !s.cfg.NoMetricsRoute {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.HandleFunc("GET /ws", s.serveWS)
	s.mux.HandleFunc("GET "+uploadsPath+"{name}", s.getUpload)
	s.apiRoutes()
	s.pageRoutes()
	if s.cfg.Demo {
		s.mux.HandleFunc("POST /demo/token", s.demoToken)
		s.mux.HandleFunc("GET /demo/admin-token", s.demoAdminToken)
	}
	s.mux.HandleFunc("/", s.notFound)
}

// serve wraps the mux: it sets the headers every response carries, refuses
// requests while shutting down, tracks every request so that Shutdown can
// wait for it, and counts it by route pattern.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if v := s.cfg.StrictTransportSecurity; v != "" {
		w.Header().Set("Strict-Transport-Security", v)
	}
	rec := &statusRecorder{ResponseWriter: w}
	if !s.enter() {
		if r.URL.Path == "/healthz" {
			s.healthz(rec, r)
		} else {
			s.writeError(rec, r, errUnavailable)
		}
		s.m.httpRequests.WithLabelValues("unavailable", strconv.Itoa(rec.code())).Inc()
		return
	}
	defer s.wg.Done()
	if uncleanUploadPath(r) {
		s.writeError(rec, r, engine.ErrNotFound) // not the mux's redirect to the cleaned path
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	route := r.Pattern
	if route == "" {
		route = "none"
	}
	s.m.httpRequests.WithLabelValues(route, strconv.Itoa(rec.code())).Inc()
}

// enter registers one more goroutine of the server, unless it is shutting down.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown stops the server: new sockets and requests get 503 unavailable,
// /readyz answers 503, every socket is closed with 1001 (going away: clients
// reconnect and resume), inbox streams end, and Shutdown waits for all of the
// server's goroutines until ctx ends; then it drops the remaining sockets
// without a close handshake and returns ctx's error. It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		conns := make([]*wsConn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		close(s.quit)
		for _, c := range conns {
			c.close(closeGoingAway, "server shutting down", true)
		}
		go func() {
			s.wg.Wait()
			close(s.idle)
		}()
	})
	select {
	case <-s.idle:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.conns {
		_ = c.ws.CloseNow()
	}
	s.mu.Unlock()
	return ctx.Err()
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.shuttingDown() || !s.admin.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{errorDetail{
			Code: engine.CodeUnavailable, Message: "not ready: storage or actors are not serving"}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// notFound answers every path no route matches: 405 when another method of
// the path exists, else 404, both as JSON errors.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.mux.Handler(r2); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		for _, m := range allow {
			w.Header().Add("Allow", m)
		}
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{errorDetail{
			Code: engine.CodeInvalid, Message: "method not allowed"}})
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: engine.CodeNotFound, Message: "no such endpoint"}})
}

// statusRecorder remembers the status code for metrics. Unwrap lets
// http.ResponseController and the WebSocket upgrade reach the real writer.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
