// Package sqlite is the embedded accounts store: API keys and their credits
// in one SQLite file (pure Go driver, no cgo), the default for a single
// server node.
//
// Writes go through one connection and run in BEGIN IMMEDIATE transactions,
// so in one process they queue in Go instead of failing with SQLITE_BUSY,
// and against other processes (a "faceswap keys" command next to a running
// server) SQLite's busy timeout makes them wait their turn. Reads use a
// small pool of read-only connections, which WAL mode lets run alongside
// the writer.
package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"faceswap"
	"faceswap/store/keysecret"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// MaxCredits bounds a key's paid and free credits, each, so that sums of
// them can never overflow (the same bound in every store).
const MaxCredits = keysecret.MaxCredits

// busyTimeout is how long a write waits for another process's write.
const busyTimeout = 10 * time.Second

// DB is the SQLite accounts store. It implements faceswap.Accounts and is
// safe for concurrent use.
type DB struct {
	w    *sql.DB // the one writer connection
	r    *sql.DB // read-only connections
	path string
}

var _ faceswap.Accounts = (*DB)(nil)

// Open opens (creating when missing) the database file at path and brings
// its schema up to date. The folder must exist.
func Open(path string) (*DB, error) {
	return open(context.Background(), path, migrationsFS)
}

func open(ctx context.Context, path string, migrations fs.FS) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q: want the path of a database file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")
	w := url.Values{}
	for k, v := range common {
		w[k] = append([]string(nil), v...)
	}
	// WAL: readers never block the writer nor it them. synchronous FULL:
	// a committed charge survives a power cut (NORMAL could lose the last
	// ones, which would hand out free work).
	w.Add("_pragma", "journal_mode(WAL)")
	w.Add("_pragma", "synchronous(FULL)")
	w.Set("_txlock", "immediate")
	r := common
	r.Set("_query_only", "1")

	// The file holds no secrets, but who has which credits is nobody
	// else's business: create it private (SQLite gives its -wal and -shm
	// files the same mode).
	if f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	}
	d := &DB{path: abs}
	if d.w, err = sql.Open("sqlite", dsn(abs, w)); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	d.w.SetConnMaxLifetime(0)
	d.w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, d.w, migrations); err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}
	if d.r, err = sql.Open("sqlite", dsn(abs, r)); err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	d.r.SetMaxOpenConns(4)
	d.r.SetMaxIdleConns(4)
	if err := d.r.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}
	return d, nil
}

// dsn makes a SQLite URI of an absolute path (escaped, so names with '?'
// or '#' work) and the driver's parameters.
func dsn(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Path returns the database file's absolute path.
func (d *DB) Path() string { return d.path }

// Close closes the database.
func (d *DB) Close() error {
	var errR error
	if d.r != nil {
		errR = d.r.Close()
	}
	return errors.Join(errR, d.w.Close())
}

// Ping checks that the database answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.r.QueryRowContext(ctx, `SELECT 1 FROM schema_version LIMIT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

const keyColumns = `id, name, credits, free_credits, rate_per_minute, disabled, admin, created_at`

type scanner interface{ Scan(...any) error }

func scanKey(s scanner) (faceswap.Key, error) {
	var k faceswap.Key
	var created int64
	err := s.Scan(&k.ID, &k.Name, &k.Credits, &k.FreeCredits, &k.RatePerMinute, &k.Disabled, &k.Admin, &created)
	k.CreatedAt = time.UnixMicro(created).UTC()
	return k, err
}

// CreateKey makes a key and returns its secret: "fs_" and 32 random base-62
// characters (see keysecret). Only the secret's SHA-256 is stored.
func (d *DB) CreateKey(ctx context.Context, opt faceswap.KeyOptions) (string, faceswap.Key, error) {
	return keysecret.Create("sqlite", opt, func(id string, hash []byte, created time.Time) (bool, error) {
		res, err := d.w.ExecContext(ctx, `INSERT INTO keys
			(id, name, secret_hash, credits, free_credits, rate_per_minute, disabled, admin, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING`,
			id, opt.Name, hash, opt.Credits, opt.FreeCredits, opt.RatePerMinute, opt.Admin, created.UnixMicro())
		if err != nil {
			return false, fmt.Errorf("sqlite: create key: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("sqlite: create key: %w", err)
		}
		return n == 1, nil
	})
}

// Authenticate returns the key whose secret this is. The returned Key is
// filled in with ErrKeyDisabled too, for the log.
func (d *DB) Authenticate(ctx context.Context, secret string) (faceswap.Key, error) {
	if secret == "" {
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	h := keysecret.Hash(secret)
	var stored []byte
	row := d.r.QueryRowContext(ctx, `SELECT secret_hash, `+keyColumns+` FROM keys WHERE secret_hash = ?`, h)
	var k faceswap.Key
	var created int64
	err := row.Scan(&stored, &k.ID, &k.Name, &k.Credits, &k.FreeCredits, &k.RatePerMinute, &k.Disabled, &k.Admin, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	if err != nil {
		return faceswap.Key{}, fmt.Errorf("sqlite: authenticate: %w", err)
	}
	// The index lookup already matched the hash; comparing again in
	// constant time keeps the decision itself free of timing detail.
	if subtle.ConstantTimeCompare(stored, h) != 1 {
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	k.CreatedAt = time.UnixMicro(created).UTC()
	if k.Disabled {
		return k, faceswap.ErrKeyDisabled
	}
	return k, nil
}

// Key returns a key by ID.
func (d *DB) Key(ctx context.Context, id string) (faceswap.Key, error) {
	k, err := scanKey(d.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	if err != nil {
		return faceswap.Key{}, fmt.Errorf("sqlite: key %s: %w", id, err)
	}
	return k, nil
}

// Keys lists every key, oldest first.
func (d *DB) Keys(ctx context.Context) ([]faceswap.Key, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var ks []faceswap.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	return ks, nil
}

// DisableKey disables a key for good (disabling it again is no error).
func (d *DB) DisableKey(ctx context.Context, id string) error {
	res, err := d.w.ExecContext(ctx, `UPDATE keys SET disabled = 1 WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: disable %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: disable %s: %w", id, err)
	}
	if n == 0 {
		return faceswap.ErrUnknownKey
	}
	return nil
}

// AddCredits adds n paid credits; a negative n takes them away, down to
// zero at most. Free credits are left alone.
func (d *DB) AddCredits(ctx context.Context, id string, n int64) (faceswap.Key, error) {
	if err := keysecret.CheckCreditChange(n); err != nil {
		return faceswap.Key{}, err
	}
	var k faceswap.Key
	err := d.inTx(ctx, "credit "+id, func(tx *sql.Tx) error {
		var credits int64
		err := tx.QueryRowContext(ctx, `SELECT credits FROM keys WHERE id = ?`, id).Scan(&credits)
		if errors.Is(err, sql.ErrNoRows) {
			return faceswap.ErrUnknownKey
		}
		if err != nil {
			return fmt.Errorf("sqlite: credit %s: %w", id, err)
		}
		credits = max(0, credits+n) // both within ±MaxCredits: no overflow
		if credits > MaxCredits {
			return keysecret.ErrTooManyCredits
		}
		k, err = scanKey(tx.QueryRowContext(ctx, `UPDATE keys SET credits = ? WHERE id = ? RETURNING `+keyColumns, credits, id))
		if err != nil {
			return fmt.Errorf("sqlite: credit %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return faceswap.Key{}, err
	}
	return k, nil
}

// Charge takes cost credits from key id, free credits first, only when the
// key has them all, and records the use under requestID, in one immediate
// transaction. Charging a requestID that is already recorded for this key
// takes nothing and returns the current balance, so a retried charge never
// counts twice. Charge does not look at Disabled: Authenticate is the gate,
// and work done before a key was disabled is still paid for.
func (d *DB) Charge(ctx context.Context, id string, cost int64, requestID string) (int64, error) {
	if requestID == "" {
		return 0, errors.New("sqlite: charge: empty request id")
	}
	if cost < 0 || cost > MaxCredits {
		return 0, fmt.Errorf("sqlite: charge: cost %d out of range", cost)
	}
	var remaining int64
	err := d.inTx(ctx, "charge "+id, func(tx *sql.Tx) (err error) {
		remaining, err = chargeTx(ctx, tx, id, cost, requestID)
		return err
	})
	if err != nil {
		return 0, err
	}
	return remaining, nil
}

// inTx runs fn in one immediate transaction of the writer, committed when fn
// succeeds and rolled back when it fails. Failing to begin or commit is an
// error about what ("charge k_…").
func (d *DB) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return nil
}

// chargeTx is Charge inside tx (which the caller commits or rolls back).
func chargeTx(ctx context.Context, tx *sql.Tx, id string, cost int64, requestID string) (remaining int64, err error) {
	var owner string
	err = tx.QueryRowContext(ctx, `SELECT key_id FROM usage WHERE request_id = ?`, requestID).Scan(&owner)
	switch {
	case err == nil && owner != id:
		return 0, fmt.Errorf("sqlite: charge %s: request id %q was already charged to another key", id, requestID)
	case err == nil:
		err = tx.QueryRowContext(ctx, `SELECT free_credits + credits FROM keys WHERE id = ?`, id).Scan(&remaining)
		if err != nil {
			return 0, fmt.Errorf("sqlite: charge %s: %w", id, err)
		}
		return remaining, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("sqlite: charge %s: %w", id, err)
	}
	// SET expressions all see the row as it was: free credits pay first,
	// paid credits the rest.
	err = tx.QueryRowContext(ctx, `UPDATE keys SET
			free_credits = free_credits - min(free_credits, ?1),
			credits = credits - (?1 - min(free_credits, ?1))
		WHERE id = ?2 AND free_credits + credits >= ?1
		RETURNING free_credits + credits`, cost, id).Scan(&remaining)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err = tx.QueryRowContext(ctx, `SELECT count(*) FROM keys WHERE id = ?`, id).Scan(&n); err != nil {
			return 0, fmt.Errorf("sqlite: charge %s: %w", id, err)
		}
		if n == 0 {
			return 0, faceswap.ErrUnknownKey
		}
		return 0, faceswap.ErrInsufficientCredits
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: charge %s: %w", id, err)
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO usage (request_id, key_id, cost, at) VALUES (?, ?, ?, ?)`,
		requestID, id, cost, time.Now().UnixMicro()); err != nil {
		return 0, fmt.Errorf("sqlite: charge %s: %w", id, err)
	}
	return remaining, nil
}

// SecretPrefix starts every key secret.
const SecretPrefix = keysecret.Prefix
