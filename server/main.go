package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"faceswap"
	"faceswap/cpu"
	"faceswap/fetch"
	"faceswap/httpapi"
	"faceswap/jobs"
	"faceswap/jobs/river"
	"faceswap/limit/memory"
	"faceswap/limit/redis"
	"faceswap/models"
	"faceswap/pipeline"
	"faceswap/store"
)

// Deps are parts a caller may supply instead of letting New open them from
// the configuration (tests share one loaded pipeline between servers). Nil
// fields are opened by New, and closed by Close; supplied ones are not
// closed.
type Deps struct {
	Pipeline *pipeline.Pipeline // shallow-copied; its Limits and CPU are set from the Config
	Store    *store.Store
	Limiter  faceswap.Limiter
	Fetcher  *fetch.Fetcher
	Log      io.Writer // JSON log lines; default os.Stderr
}

// Main is one running server: what New opened, and the listeners Run
// starts. Close shuts it down gracefully.
type Main struct {
	Config Config
	Log    *slog.Logger
	// CPU is the one scheduler of the process's compute: the synchronous
	// requests and the asynchronous jobs run on its Config.Workers cores.
	CPU      *cpu.Scheduler
	Pipeline *pipeline.Pipeline
	// Store keeps the keys, credits and jobs, and the job queue.
	Store   *store.Store
	Limiter faceswap.Limiter
	Fetcher *fetch.Fetcher
	Metrics *httpapi.Metrics
	API     *httpapi.API
	// Jobs and Queue run the asynchronous API.
	Jobs  *jobs.Service
	Queue *river.Queue

	closers []func() error // what New opened, closed in reverse order

	mu        sync.Mutex
	servers   []*http.Server
	addrs     []net.Addr // API listener first, then the metrics one if any
	errc      chan error
	closed    bool
	working   bool
	stopSweep context.CancelFunc
}

// RedisPrefix begins the Redis keys of the rate limits (after the
// "rate:" of the limiter library): every node of one deployment must use
// the same, and it keeps other users of the Redis apart.
const RedisPrefix = "faceswap:"

// New validates cfg and opens everything the server needs.
func New(cfg Config) (*Main, error) { return NewWith(cfg, Deps{}) }

// NewWith is New with some parts supplied by the caller.
func NewWith(cfg Config, d Deps) (_ *Main, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := d.Log
	if out == nil {
		out = os.Stderr
	}
	m := &Main{Config: cfg, errc: make(chan error, 2)}
	m.Log = slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel}))
	defer func() {
		if err != nil {
			m.closeOwned()
		}
	}()

	m.Metrics = httpapi.NewMetrics(nil)
	if d.Pipeline == nil {
		start := time.Now()
		pl, rt, err := pipeline.Open(models.Paths{Home: cfg.Home}, cfg.ORTConfig())
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, rt.Close)
		if cfg.SwapDetector != "" {
			if err := pl.UseDetector(rt, models.Paths{Home: cfg.Home}, cfg.SwapDetector); err != nil {
				return nil, fmt.Errorf("FACESWAP_SWAP_DETECTOR (--swap-detector): %w", err)
			}
		}
		loaded := time.Since(start)
		m.Metrics.SetModelLoadSeconds(loaded.Seconds())
		m.Log.Info("models loaded", slog.Float64("seconds", loaded.Seconds()), slog.Any("engines", pl.Preferred), slog.String("ort", rt.Version()))
		d.Pipeline = pl
	}
	// One scheduler for every swap of the process, sync and async.
	if m.CPU, err = cpu.New(cpu.Config{Cores: cfg.Workers}); err != nil {
		return nil, err
	}
	pl := *d.Pipeline
	pl.Limits.MaxBytes, pl.Limits.MaxPixels = cfg.MaxImageBytes, cfg.MaxImagePixels
	pl.CPU = m.CPU
	m.Pipeline = &pl

	if d.Store == nil {
		if d.Store, err = openStore(cfg, m.Log); err != nil {
			return nil, err
		}
		m.closers = append(m.closers, d.Store.Close)
	}
	m.Store = d.Store
	if d.Limiter == nil && cfg.RedisURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		l, err := redis.Open(ctx, cfg.RedisURL, RedisPrefix)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("FACESWAP_REDIS_URL (--redis-url): %w", err)
		}
		m.closers = append(m.closers, l.Close)
		d.Limiter = l
		m.Log.Info("rate limits kept in Redis", slog.String("prefix", RedisPrefix))
	}
	if d.Limiter == nil {
		d.Limiter = memory.New()
	}
	m.Limiter = d.Limiter
	if d.Fetcher == nil {
		f, err := fetch.New(fetch.Config{MaxBytes: cfg.MaxImageBytes, Allow: cfg.FetchAllow, Timeout: min(fetch.DefaultTimeout, cfg.Deadline)})
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, func() error { f.CloseIdleConnections(); return nil })
		d.Fetcher = f
	}
	m.Fetcher = d.Fetcher
	if err := m.openJobs(); err != nil {
		return nil, err
	}

	m.API, err = httpapi.New(httpapi.Options{
		Pipeline:      m.Pipeline,
		CPU:           m.CPU,
		Accounts:      m.Store.Accounts(),
		Limiter:       m.Limiter,
		Fetcher:       m.Fetcher,
		Jobs:          m.Jobs,
		Log:           m.Log,
		Metrics:       m.Metrics,
		Workers:       cfg.Workers,
		Queue:         cfg.QueueSize(),
		Deadline:      cfg.Deadline,
		MaxBody:       cfg.MaxBody,
		MaxImageBytes: cfg.MaxImageBytes,
		Price:         cfg.price(),
		RatePerMinute: cfg.RatePerMinute,
		ServeMetrics:  cfg.MetricsAddr == "",
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// openStore opens the database the configuration names: PostgreSQL at
// DatabaseURL (Open brings its schema up to date, once across nodes), else
// the SQLite file DB, making its folder when missing.
func openStore(cfg Config, log *slog.Logger) (*store.Store, error) {
	if cfg.DatabaseURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL})
		if err != nil {
			return nil, fmt.Errorf("FACESWAP_DATABASE_URL (--database-url): %w", err)
		}
		log.Info("keys, credits and jobs kept in PostgreSQL")
		return st, nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o755); err != nil {
		return nil, fmt.Errorf("the database folder: %w", err)
	}
	return store.Open(context.Background(), store.Config{Path: cfg.DB})
}

// Run listens on the configured address (and the metrics address, when
// set) and serves in the background; it returns once the listeners are
// open, so Addr is known. A listener that fails later is reported on Err.
func (m *Main) Run(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("server: Run after Close")
	}
	if len(m.servers) > 0 {
		return errors.New("server: Run called twice")
	}
	type listener struct {
		addr string
		h    http.Handler
	}
	ls := []listener{{m.Config.Addr, m.API}}
	if m.Config.MetricsAddr != "" {
		ls = append(ls, listener{m.Config.MetricsAddr, m.metricsMux()})
	}
	var opened []net.Listener
	for _, l := range ls {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", l.addr)
		if err != nil {
			for _, o := range opened {
				o.Close()
			}
			return fmt.Errorf("listen on %s: %w", l.addr, err)
		}
		opened = append(opened, ln)
	}
	for i, l := range ls {
		srv := &http.Server{
			Handler:           l.h,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		}
		m.servers = append(m.servers, srv)
		m.addrs = append(m.addrs, opened[i].Addr())
		go func(ln net.Listener) {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.errc <- err
			}
		}(opened[i])
	}
	if err := m.startWork(ctx); err != nil {
		return err
	}
	maddr := m.addrs[len(m.addrs)-1].String()
	m.Log.Info("listening", slog.String("addr", m.addrs[0].String()), slog.String("metrics", maddr),
		slog.Int("workers", m.Config.Workers), slog.Int("queue", m.Config.QueueSize()), slog.String("deadline", m.Config.Deadline.String()))
	return nil
}

func (m *Main) metricsMux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Metrics.Handler())
	return mux
}

// Addr is the address the API listens on (with the real port when the
// configuration said ":0"), or "" before Run.
func (m *Main) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.addrs) == 0 {
		return ""
	}
	return m.addrs[0].String()
}

// URL is the API's base URL on the loopback interface, for clients on the
// same machine (tests): "http://127.0.0.1:PORT".
func (m *Main) URL() string {
	_, port, err := net.SplitHostPort(m.Addr())
	if err != nil {
		return ""
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port)
}

// MetricsAddr is the address of the separate metrics listener, or the API's
// when there is none.
func (m *Main) MetricsAddr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.addrs) > 1 {
		return m.addrs[1].String()
	}
	if len(m.addrs) == 1 {
		return m.addrs[0].String()
	}
	return ""
}

// Err reports a listener that stopped serving on its own.
func (m *Main) Err() <-chan error { return m.errc }

// Close shuts the server down gracefully: readiness turns to 503, the
// listeners close so new connections are refused, requests in flight
// finish (up to Config.ShutdownTimeout), then the store, the models and
// the fetcher are closed.
func (m *Main) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	servers := m.servers
	m.mu.Unlock()

	m.API.Drain()
	var errs []error
	if len(servers) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		var wg sync.WaitGroup
		errc := make(chan error, len(servers))
		for _, s := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Shutdown(ctx); err != nil {
					errc <- err
					s.Close()
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
		// Work whose client was already answered (a 504) may still run on
		// a worker; the models must outlive it.
		if err := m.API.Wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: waiting for workers: %w", err))
		}
	}
	if err := m.stopWork(); err != nil {
		errs = append(errs, err)
	}
	if len(servers) > 0 {
		m.Log.Info("stopped")
	}
	if err := m.closeOwned(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// closeOwned closes what New opened, newest first.
func (m *Main) closeOwned() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	m.closers = nil
	return errors.Join(errs...)
}
