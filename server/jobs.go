package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"faceswap/jobs"
	"faceswap/jobs/river"
)

// openJobs opens the asynchronous API's queue in the store's database and
// the service that uses it.
func (m *Main) openJobs() error {
	cfg := m.Config
	qc := river.Config{
		Workers:         cfg.AsyncWorkers,
		JobTimeout:      cfg.JobTimeout,
		RescueAfter:     cfg.JobRescueAfter,
		WebhookAttempts: cfg.WebhookAttempts,
		WebhookBackoff:  cfg.WebhookBackoff,
		Log:             m.Log.With(slog.String("part", "queue")),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q, err := m.Store.OpenQueue(ctx, qc)
	if err != nil {
		return fmt.Errorf("the job queue: %w", err)
	}
	m.Queue = q
	// Closed before the store and the models (closers run newest first):
	// running jobs finish, up to the shutdown timeout; the rest are
	// cancelled and run again later, by this node or another.
	m.closers = append(m.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			return fmt.Errorf("shutdown: job queue: %w", err)
		}
		return nil
	})
	m.Jobs = jobs.New(jobs.Config{Keep: cfg.JobTTL, Price: cfg.price(), WebhookSecret: cfg.WebhookSecret, Log: m.Log},
		m.Store.Jobs(), q, m.Pipeline, m.Fetcher)
	return nil
}

// startWork starts this process's job workers and the sweeper of expired
// jobs.
func (m *Main) startWork(ctx context.Context) error {
	if m.working {
		return nil
	}
	if err := m.Queue.Start(ctx, m.Jobs); err != nil {
		return err
	}
	m.working = true
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.stopSweep = cancel
	go m.Jobs.Sweep(sctx, min(time.Minute, m.Config.JobTTL/2))
	m.Log.Info("job workers started", slog.Int("async_workers", m.Config.AsyncWorkers), slog.String("job_ttl", m.Config.JobTTL.String()))
	return nil
}

// Work starts only the job workers (the worker command: no HTTP front).
// Close stops them.
func (m *Main) Work(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("server: Work after Close")
	}
	if m.Config.MetricsAddr != "" {
		// A worker has no API, but an orchestrator wants probes and
		// Prometheus wants its metrics: GET /healthz, /readyz (the store
		// answers) and /metrics on the metrics address.
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", m.Config.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", m.Config.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Metrics.Handler())
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{\"status\":\"ok\"}\n") })
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := m.Store.Accounts().Ping(ctx); err != nil {
				http.Error(w, "{\"error\":\"The store is not reachable.\"}", http.StatusServiceUnavailable)
				return
			}
			io.WriteString(w, "{\"status\":\"ready\"}\n")
		})
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		m.servers = append(m.servers, srv)
		m.addrs = append(m.addrs, ln.Addr())
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.errc <- err
			}
		}()
	}
	return m.startWork(ctx)
}

// stopWork stops the sweeper; the queue's workers stop with the closers.
func (m *Main) stopWork() error {
	if m.stopSweep != nil {
		m.stopSweep()
	}
	return nil
}
