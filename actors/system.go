package actors

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/actors/config"
	"github.com/parley-chat/parley/actors/node"
	"github.com/parley-chat/parley/actors/outbox"
	"github.com/parley-chat/parley/engine"
)

// System is Parley's actor system: the directories of conversation and
// profile actors, the inbox, and the cached configuration. It is safe for
// concurrent use; every method addresses actors by id.
type System struct {
	cfg     Config
	store   Storage
	log     *slog.Logger
	metrics *metrics
	conf    *config.Cache
	hub     node.Hub[Subscriber]

	actors        *actor.ActorSystem
	workers       *node.Workers // runs every actor's mailbox
	conversations node.Dir
	profiles      node.Dir
	inbox         *actor.PID
	outbox        *outbox.Worker // delivers calls to other systems (notify.go, ai.go)
	know          knowledgeIndex // the AI agent's knowledge (knowledge.go)
	answering     answering      // the questions with the AI agent now (ai.go)

	closed   atomic.Bool
	shutdown sync.Once

	// backupMu lets one checkpoint run at a time. Pebble checks that the
	// directory does not exist before it creates it; two calls naming the
	// same new directory at once would otherwise both pass that check.
	backupMu sync.Mutex
}

// Start starts the actor system on an open store and registers its metrics
// on reg (nil registers nothing). The inbox is rebuilt from the rows of the
// open and snoozed tickets, so start-up reads one row per active ticket,
// never the events nor the closed history.
func Start(store Storage, cfg Config, reg prometheus.Registerer, log *slog.Logger) (*System, error) {
	cfg.ensureDefaults()
	if log == nil {
		log = slog.Default()
	}
	conf, err := config.Load(store)
	if err != nil {
		return nil, err
	}
	var rows []engine.TicketRow
	if err := store.ActiveRows(func(r engine.TicketRow) error { rows = append(rows, r); return nil }); err != nil {
		return nil, err
	}
	s := &System{cfg: cfg, store: store, log: log, metrics: newMetrics(reg), conf: conf, workers: node.NewWorkers()}
	quiet := slog.New(minLevel{Handler: log.Handler(), min: slog.LevelWarn}).With(slog.String("component", "protoactor"))
	s.actors = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	s.inbox, err = s.actors.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return newInboxActor(s, rows) },
		actor.WithDispatcher(s.workers)), "inbox")
	if err != nil {
		return nil, err
	}
	s.conversations, err = s.spawnDirectory("conversations", "conversation",
		func(id string) actor.Actor { return newConversationActor(s, id) })
	if err != nil {
		return nil, err
	}
	s.profiles, err = s.spawnDirectory("profiles", "profile",
		func(id string) actor.Actor { return newProfileActor(s, id) })
	if err != nil {
		return nil, err
	}
	ocfg := cfg.Outbox
	ocfg.Now, ocfg.Logger = cfg.Now, log.With(slog.String("component", "outbox"))
	s.outbox = outbox.Start(store, s.outboxTargets(), ocfg, reg)
	return s, nil
}

// spawnDirectory starts the directory of one kind of actor.
func (s *System) spawnDirectory(name, kind string, produce func(id string) actor.Actor) (node.Dir, error) {
	live := s.metrics.actors.WithLabelValues(kind)
	return node.SpawnDirectory(s.actors.Root, name, produce, s.workers, func(n int) { live.Set(float64(n)) })
}

// Shutdown stops every actor and waits for them, or until ctx ends. Storage
// is left open: its owner closes it afterwards. Idempotent.
func (s *System) Shutdown(ctx context.Context) error {
	var err error
	s.shutdown.Do(func() {
		s.closed.Store(true)
		for _, pid := range []*actor.PID{s.conversations.PID(), s.profiles.PID(), s.inbox} {
			f := s.actors.Root.StopFuture(pid)
			done := make(chan struct{})
			go func() { _, _ = f.Result(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		s.actors.Shutdown()
		if werr := s.workers.Stop(ctx); err == nil {
			err = werr
		}
		// After the actors: no commit adds an entry any more. Attempts in
		// progress are cancelled and stored for a retry.
		if oerr := s.outbox.Stop(ctx); err == nil {
			err = oerr
		}
	})
	return err
}

// Ready reports whether storage is open and the actors are up (O2).
func (s *System) Ready() bool { return !s.closed.Load() }

var errUnavailable = engine.Errorf(engine.CodeUnavailable, "shutting down")

var errTimeout = engine.Errorf(engine.CodeUnavailable, "timed out")

func (s *System) timeout(ctx context.Context) (time.Duration, error) {
	timeout := s.cfg.RequestTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return 0, engine.Errorf(engine.CodeUnavailable, "request expired")
	}
	return timeout, nil
}

// request hands a request to deliver and waits for its answer on reply, a
// channel with room for the one answer (so the actor answering never
// blocks), at most until ctx's deadline or the configured request timeout.
// A request costs no future and no registry entry.
func (s *System) request(ctx context.Context, reply chan any, deliver func()) (any, error) {
	if s.closed.Load() {
		return nil, errUnavailable
	}
	timeout, err := s.timeout(ctx)
	if err != nil {
		return nil, err
	}
	deliver()
	timer := timerPool.Get().(*time.Timer)
	timer.Reset(timeout)
	defer func() {
		timer.Stop() // since Go 1.23 a stopped timer delivers nothing stale: it can be reused
		timerPool.Put(timer)
	}()
	select {
	case res := <-reply:
		return res, nil
	case <-timer.C:
		return nil, errTimeout
	case <-ctx.Done():
		return nil, engine.Errorf(engine.CodeUnavailable, "request cancelled")
	}
}

// timerPool holds the request timers: every shopper message is a request.
var timerPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// send delivers an envelope straight to its running actor, or through the
// directory, and waits for the answer: the hot path of every shopper and
// agent request.
func (s *System) send(ctx context.Context, dir node.Dir, env *node.Envelope) (any, error) {
	env.Reply = make(chan any, 1)
	return s.request(ctx, env.Reply, func() { dir.Deliver(s.actors.Root, env) })
}

// conversation sends msg to conversation id and returns its result.
func (s *System) conversation(ctx context.Context, id string, msg any) (*result, error) {
	if !engine.ValidID(id) {
		return nil, engine.ErrNotFound
	}
	res, err := s.send(ctx, s.conversations, &node.Envelope{ID: id, Msg: msg})
	if err != nil {
		return nil, err
	}
	r, ok := res.(*result)
	if !ok {
		return nil, engine.Errorf(engine.CodeInternal, "unexpected answer")
	}
	return r, r.Err
}

func (s *System) profile(ctx context.Context, id string, msg any) (*profileInfo, error) {
	if !engine.ValidProfileID(id) {
		return nil, engine.Invalid("sub", "is not a valid profile id")
	}
	res, err := s.send(ctx, s.profiles, &node.Envelope{ID: id, Msg: msg})
	if err != nil {
		return nil, err
	}
	r, ok := res.(*profileInfo)
	if !ok {
		return nil, engine.Errorf(engine.CodeInternal, "unexpected answer")
	}
	return r, r.Err
}

// minLevel drops records below min: protoactor logs every actor start at info.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
