// Package river is the job queue of the asynchronous API, on River: a
// durable queue kept in the same database as the keys, credits and jobs —
// PostgreSQL when several machines share the work (workers wake on
// LISTEN/NOTIFY), or the embedded SQLite file of a single machine.
//
// Why River: the queue lives in the database the deployment already runs,
// so there is no second system to operate, back up or secure, and a job's
// queue entry, record and charge share one source of truth. A worker that
// dies mid-job leaves its entry "running"; River's rescuer hands it to
// another worker after RescueAfter, and faceswap's idempotent FinishJob
// makes the rerun harmless. Webhook deliveries are River jobs too, so their
// retries with backoff survive restarts.
package river

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"faceswap/jobs"
)

// Handler does the work of the queue's two kinds of job (a *jobs.Service).
type Handler interface {
	Process(ctx context.Context, id string) error
	Deliver(ctx context.Context, id string) error
}

// Config configures the queue. Zero fields take the defaults noted.
type Config struct {
	// Workers is how many jobs this process runs at once; 0 makes a queue
	// that only accepts jobs (a front end without workers).
	Workers int
	// JobTimeout bounds one run of a job (default 2 min).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is thought
	// abandoned (its worker died) and run again (default JobTimeout + 1 min;
	// must exceed JobTimeout). River's rescuer looks every 30 s.
	RescueAfter time.Duration
	// Attempts of a job before it is given up (default 5).
	Attempts int
	// WebhookAttempts is how many times a webhook is tried (default 8),
	// WebhookBackoff the wait before the first retry, doubling after each
	// (default 10 s, at most 1 h).
	WebhookAttempts int
	WebhookBackoff  time.Duration
	// PollInterval is how often idle workers look for jobs when they are
	// not woken by a notification (default 1 s on PostgreSQL, 250 ms on
	// SQLite, which has no notifications).
	PollInterval time.Duration
	Log          *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.JobTimeout <= 0 {
		c.JobTimeout = 2 * time.Minute
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.Attempts <= 0 {
		c.Attempts = 5
	}
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = 8
	}
	if c.WebhookBackoff <= 0 {
		c.WebhookBackoff = 10 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every bad setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("workers must be 0 or more, got %d", c.Workers))
	}
	if d := c.withDefaults(); d.RescueAfter <= d.JobTimeout {
		errs = append(errs, fmt.Errorf("the rescue time (%v) must be longer than the job timeout (%v)", d.RescueAfter, d.JobTimeout))
	}
	return errors.Join(errs...)
}

// Queue is a River client: it queues jobs and, with Workers > 0, runs them
// with the Handler given to Start. It implements jobs.Queue.
type Queue struct {
	cfg     Config
	handler handlerOf
	insert  func(ctx context.Context, args river.JobArgs) error
	start   func(ctx context.Context) error
	stop    func(ctx context.Context) error
	close   func() error

	started atomic.Bool
}

// handlerOf gives the workers the Handler of a started queue. It is set by
// Start before River starts the workers, and never changed after.
type handlerOf struct{ h Handler }

var _ jobs.Queue = (*Queue)(nil)

// swapArgs is a queued swap: just the job's id (the request is in the
// jobs table).
type swapArgs struct {
	JobID string `json:"job_id"`
}

func (swapArgs) Kind() string { return "faceswap.swap" }

// webhookArgs is a queued webhook delivery.
type webhookArgs struct {
	JobID string `json:"job_id"`
}

func (webhookArgs) Kind() string { return "faceswap.webhook" }

// unique: one queue entry per job id and kind, whatever its state, so
// queueing again (a repeated submission, a rerun after a rescue) does
// nothing.
var unique = river.UniqueOpts{ByArgs: true}

type swapWorker struct {
	river.WorkerDefaults[swapArgs]
	of *handlerOf
}

func (w *swapWorker) Work(ctx context.Context, j *river.Job[swapArgs]) error {
	return w.of.h.Process(ctx, j.Args.JobID)
}

type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	of      *handlerOf
	backoff time.Duration
}

func (w *webhookWorker) Work(ctx context.Context, j *river.Job[webhookArgs]) error {
	err := w.of.h.Deliver(ctx, j.Args.JobID)
	if errors.Is(err, jobs.ErrPermanent) {
		return river.JobCancel(err)
	}
	return err
}

// NextRetry doubles the wait after each failed delivery: backoff, 2×, 4×…,
// at most an hour.
func (w *webhookWorker) NextRetry(j *river.Job[webhookArgs]) time.Time {
	n := max(len(j.Errors), 1) // failures so far, this one included
	d := time.Duration(float64(w.backoff) * math.Pow(2, float64(n-1)))
	if d <= 0 || d > time.Hour {
		d = time.Hour
	}
	return time.Now().Add(d)
}

// OpenPostgres opens the queue on pool's database, creating or upgrading
// River's tables (in the first schema of the pool's search_path).
func OpenPostgres(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	// Several nodes starting at once would race to create River's tables:
	// each holds a session advisory lock named after the schema, on a
	// connection of its own, while it migrates (River's migrations cannot
	// share one transaction), so they go one after the other.
	migrate := func(ctx context.Context, m *rivermigrate.Migrator[pgx.Tx]) error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		h := fnv.New64a()
		h.Write([]byte("faceswap jobs/river migrations\x00" + schema))
		lock := int64(h.Sum64())
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
			return err
		}
		defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock)
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	return open(ctx, riverpgxv5.New(pool), schema, cfg, migrate, func() error { return nil })
}

// OpenSQLite opens the queue in the SQLite file at path (the store's own
// file), with a connection of its own.
func OpenSQLite(ctx context.Context, path string, cfg Config) (*Queue, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String())
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	// One connection: SQLite has one writer at a time anyway, and River's
	// statements then never wait on each other inside this process.
	db.SetMaxOpenConns(1)
	// No LISTEN/NOTIFY in SQLite: idle workers poll, often, as the file is
	// local and the query cheap.
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	// BEGIN IMMEDIATE (the DSN's _txlock) serialises processes migrating
	// the same new file.
	migrate := func(ctx context.Context, m *rivermigrate.Migrator[*sql.Tx]) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	qu, err := open(ctx, riversqlite.New(db), "", cfg, migrate, db.Close)
	if err != nil {
		db.Close()
		return nil, err
	}
	return qu, nil
}

func open[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], schema string, cfg Config,
	migrate func(context.Context, *rivermigrate.Migrator[TTx]) error, closeDB func() error) (*Queue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	cfg = cfg.withDefaults()
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	if err := migrate(ctx, m); err != nil {
		return nil, fmt.Errorf("river: migrating its tables: %w", err)
	}
	q := &Queue{cfg: cfg, close: closeDB}
	workers := river.NewWorkers()
	river.AddWorker(workers, &swapWorker{of: &q.handler})
	river.AddWorker(workers, &webhookWorker{of: &q.handler, backoff: cfg.WebhookBackoff})
	host, _ := os.Hostname()
	rc := &river.Config{
		// Named after the process, so an operator (or a test) can tell
		// which worker holds a job (river_job.attempted_by).
		ID:                   fmt.Sprintf("%s-%d", host, os.Getpid()),
		Schema:               schema,
		Workers:              workers,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		MaxAttempts:          cfg.Attempts,
		Logger:               cfg.Log,
		// Our own jobs table keeps the answers; River's finished entries
		// only need to outlive the window in which a repeat could queue the
		// same id again.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
	if cfg.Workers > 0 {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	q.insert = func(ctx context.Context, args river.JobArgs) error {
		opts := &river.InsertOpts{UniqueOpts: unique}
		if _, ok := args.(webhookArgs); ok {
			opts.MaxAttempts = cfg.WebhookAttempts
		}
		_, err := client.Insert(ctx, args, opts)
		return err
	}
	q.start = func(ctx context.Context) error {
		if cfg.Workers == 0 {
			return nil
		}
		return client.Start(ctx)
	}
	q.stop = func(ctx context.Context) error {
		if cfg.Workers == 0 {
			return nil
		}
		err := client.Stop(ctx)
		if ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = client.StopAndCancel(cctx)
		}
		return err
	}
	return q, nil
}

// Enqueue queues job id's swap.
func (q *Queue) Enqueue(ctx context.Context, id string) error {
	return q.insert(ctx, swapArgs{JobID: id})
}

// EnqueueWebhook queues job id's webhook delivery.
func (q *Queue) EnqueueWebhook(ctx context.Context, id string) error {
	return q.insert(ctx, webhookArgs{JobID: id})
}

// Start starts the workers (none when Workers is 0), which run h's Process
// and Deliver. The queue's background work runs until Stop, whatever
// becomes of ctx. A queue is started once.
func (q *Queue) Start(ctx context.Context, h Handler) error {
	if q.handler.h != nil {
		return errors.New("river: the queue was started already")
	}
	q.handler.h = h
	if err := q.start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	q.started.Store(true)
	return nil
}

// Stop stops fetching new jobs and waits for the running ones until ctx
// ends; jobs still running then are cancelled and run again later by
// another worker. It then closes the queue's own connection.
func (q *Queue) Stop(ctx context.Context) error {
	var err error
	if q.started.Swap(false) {
		err = q.stop(ctx)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = nil
	}
	return errors.Join(err, q.close())
}
