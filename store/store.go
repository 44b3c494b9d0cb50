// Package store opens the service's database as one thing: the API keys
// and their credits (faceswap.Accounts), the asynchronous jobs
// (faceswap.Jobs), and the job queue kept beside them (jobs/river) — in
// PostgreSQL when several machines share the work, else in the embedded
// SQLite file (store/postgres, store/sqlite).
package store

import (
	"context"

	"faceswap"
	"faceswap/jobs/river"
	"faceswap/store/postgres"
	"faceswap/store/sqlite"
)

// Config says which database to open.
type Config struct {
	// URL is a PostgreSQL database (see postgres.Open); "" opens Path.
	URL string
	// Path is the SQLite file (its folder must exist).
	Path string
}

// Store is one opened database. It is safe for concurrent use.
type Store struct {
	accounts faceswap.Accounts
	jobs     faceswap.Jobs
	queue    func(ctx context.Context, cfg river.Config) (*river.Queue, error)
	close    func() error
}

// Open opens the database cfg names and brings its schema up to date
// (the queue's tables wait for OpenQueue).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL != "" {
		db, err := postgres.Open(ctx, cfg.URL)
		if err != nil {
			return nil, err
		}
		return Postgres(db), nil
	}
	db, err := sqlite.Open(cfg.Path)
	if err != nil {
		return nil, err
	}
	return SQLite(db), nil
}

// SQLite is the store of an opened SQLite database; its queue is in the
// same file.
func SQLite(db *sqlite.DB) *Store {
	return &Store{accounts: db, jobs: db, close: db.Close,
		queue: func(ctx context.Context, cfg river.Config) (*river.Queue, error) {
			return river.OpenSQLite(ctx, db.Path(), cfg)
		}}
}

// Postgres is the store of an opened PostgreSQL database; its queue is in
// the same database, on the same connections.
func Postgres(db *postgres.DB) *Store {
	return &Store{accounts: db, jobs: db, close: db.Close,
		queue: func(ctx context.Context, cfg river.Config) (*river.Queue, error) {
			return river.OpenPostgres(ctx, db.Pool(), cfg)
		}}
}

// Accounts are the API keys, their credits and usage.
func (s *Store) Accounts() faceswap.Accounts { return s.accounts }

// Jobs are the asynchronous requests and their answers.
func (s *Store) Jobs() faceswap.Jobs { return s.jobs }

// OpenQueue opens the job queue in the database, creating or upgrading
// its tables. Stopping the queue closes what it opened; the store stays
// open.
func (s *Store) OpenQueue(ctx context.Context, cfg river.Config) (*river.Queue, error) {
	return s.queue(ctx, cfg)
}

// Close closes the database. Closing twice is harmless.
func (s *Store) Close() error { return s.close() }
