// Package postgres is the accounts store for several server nodes: API
// keys and their credits in PostgreSQL, behaving exactly like the embedded
// store/sqlite (same secrets, same hash, same rules; both pass
// store/storetest).
//
// Every write is a single statement, so PostgreSQL's row locks make
// concurrent writes from any number of processes queue on the key they
// touch: Charge takes the credits and records the request in one
// statement, and can neither overspend nor charge a request ID twice.
package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"faceswap"
	"faceswap/store/keysecret"
)

// MaxCredits bounds a key's paid and free credits, each (the same bound in
// every store).
const MaxCredits = keysecret.MaxCredits

// DB is the PostgreSQL accounts store. It implements faceswap.Accounts and
// is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
}

var _ faceswap.Accounts = (*DB)(nil)

// Open connects to the database at url and brings its schema up to date,
// creating the tables (and the schema) when missing. url is a PostgreSQL
// URL or key=value string, e.g.
//
//	postgres://faceswap@db.internal:5432/faceswap?sslmode=verify-full&search_path=faceswap
//
// The tables go in the first schema of search_path (set in the URL, or the
// server's default, usually public); a schema named there that does not
// exist yet is created. Several servers may Open the same database at
// once: migrations are applied once, under an advisory lock. The URL's
// pgxpool settings (pool_max_conns, ...) apply.
func Open(ctx context.Context, url string) (*DB, error) {
	return open(ctx, url, migrationsFS)
}

func open(ctx context.Context, url string, migrations fs.FS) (*DB, error) {
	if url == "" {
		return nil, errors.New("postgres: empty database URL")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("postgres: the database URL does not parse")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &DB{pool: pool}, nil
}

// Close closes the connections. Closing twice is harmless.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// Ping checks that the database answers a query on the store's tables.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.pool.QueryRow(ctx, `SELECT 1 FROM schema_version LIMIT 1`).Scan(&one); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

const keyColumns = `id, name, credits, free_credits, rate_per_minute, disabled, admin, created_at`

func scanKey(row pgx.Row, extra ...any) (faceswap.Key, error) {
	var k faceswap.Key
	dest := append(extra, &k.ID, &k.Name, &k.Credits, &k.FreeCredits, &k.RatePerMinute, &k.Disabled, &k.Admin, &k.CreatedAt)
	err := row.Scan(dest...)
	k.CreatedAt = k.CreatedAt.UTC()
	return k, err
}

// CreateKey makes a key and returns its secret: "fs_" and 32 random base-62
// characters (see keysecret). Only the secret's SHA-256 is stored.
func (d *DB) CreateKey(ctx context.Context, opt faceswap.KeyOptions) (string, faceswap.Key, error) {
	return keysecret.Create("postgres", opt, func(id string, hash []byte, created time.Time) (bool, error) {
		tag, err := d.pool.Exec(ctx, `INSERT INTO keys
			(id, name, secret_hash, credits, free_credits, rate_per_minute, admin, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			id, opt.Name, hash, opt.Credits, opt.FreeCredits, opt.RatePerMinute, opt.Admin, created)
		if err != nil {
			return false, fmt.Errorf("postgres: create key: %w", err)
		}
		return tag.RowsAffected() == 1, nil
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
	k, err := scanKey(d.pool.QueryRow(ctx, `SELECT secret_hash, `+keyColumns+` FROM keys WHERE secret_hash = $1`, h), &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	if err != nil {
		return faceswap.Key{}, fmt.Errorf("postgres: authenticate: %w", err)
	}
	// The index lookup already matched the hash; comparing again in
	// constant time keeps the decision itself free of timing detail.
	if subtle.ConstantTimeCompare(stored, h) != 1 {
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	if k.Disabled {
		return k, faceswap.ErrKeyDisabled
	}
	return k, nil
}

// Key returns a key by ID.
func (d *DB) Key(ctx context.Context, id string) (faceswap.Key, error) {
	k, err := scanKey(d.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	if err != nil {
		return faceswap.Key{}, fmt.Errorf("postgres: key %s: %w", id, err)
	}
	return k, nil
}

// Keys lists every key, oldest first.
func (d *DB) Keys(ctx context.Context) ([]faceswap.Key, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY created_at, seq`)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (faceswap.Key, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	return ks, nil
}

// DisableKey disables a key for good (disabling it again is no error).
func (d *DB) DisableKey(ctx context.Context, id string) error {
	tag, err := d.pool.Exec(ctx, `UPDATE keys SET disabled = true WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: disable %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
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
	// Both within ±MaxCredits: no overflow.
	k, err := scanKey(d.pool.QueryRow(ctx, `UPDATE keys SET credits = greatest(0, credits + $2)
		WHERE id = $1 AND credits + $2 <= $3
		RETURNING `+keyColumns, id, n, int64(MaxCredits)))
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM keys WHERE id = $1)`, id).Scan(&exists); err != nil {
			return faceswap.Key{}, fmt.Errorf("postgres: credit %s: %w", id, err)
		}
		if exists {
			return faceswap.Key{}, keysecret.ErrTooManyCredits
		}
		return faceswap.Key{}, faceswap.ErrUnknownKey
	}
	if err != nil {
		return faceswap.Key{}, fmt.Errorf("postgres: credit %s: %w", id, err)
	}
	return k, nil
}

// chargeSQL takes the credits, free ones first, only when the key has them
// all and the request is not recorded yet, and records the request, in one
// statement: it happens completely or not at all. Concurrent charges of a
// key queue on its row lock, and each re-checks the balance it finds once
// it has the lock (READ COMMITTED re-evaluates the WHERE clause on the
// newest row), so together they never overspend. Two charges of one
// request ID racing each other: the second's insert waits for the first's
// and then fails on request_id's unique index, undoing its update.
//
// SET expressions all see the row as it was: free credits pay first, paid
// credits the rest. RETURNING sees the row as updated.
const chargeSQL = `WITH charged AS (
	UPDATE keys SET
		free_credits = free_credits - least(free_credits, $2::bigint),
		credits = credits - ($2::bigint - least(free_credits, $2::bigint))
	WHERE id = $1::text AND free_credits + credits >= $2::bigint
		AND NOT EXISTS (SELECT 1 FROM usage WHERE request_id = $3::text)
	RETURNING free_credits + credits AS remaining
), recorded AS (
	INSERT INTO usage (request_id, key_id, cost)
	SELECT $3::text, $1::text, $2::bigint FROM charged
)
SELECT remaining FROM charged`

// Charge takes cost credits from key id, free credits first, only when the
// key has them all, and records the use under requestID. Charging a
// requestID that is already recorded for this key takes nothing and
// returns the current balance, so a retried charge never counts twice.
// Charge does not look at Disabled: Authenticate is the gate, and work
// done before a key was disabled is still paid for.
func (d *DB) Charge(ctx context.Context, id string, cost int64, requestID string) (int64, error) {
	if requestID == "" {
		return 0, errors.New("postgres: charge: empty request id")
	}
	if cost < 0 || cost > MaxCredits {
		return 0, fmt.Errorf("postgres: charge: cost %d out of range", cost)
	}
	var remaining int64
	err := d.pool.QueryRow(ctx, chargeSQL, id, cost, requestID).Scan(&remaining)
	if err == nil {
		return remaining, nil
	}
	var pgErr *pgconn.PgError
	if !errors.Is(err, pgx.ErrNoRows) && !(errors.As(err, &pgErr) && pgErr.Code == "23505") {
		return 0, fmt.Errorf("postgres: charge %s: %w", id, err)
	}
	// Nothing was charged: say why. A usage row, once there, stays.
	var owner *string
	var left *int64
	err = d.pool.QueryRow(ctx, `SELECT
		(SELECT key_id FROM usage WHERE request_id = $2),
		(SELECT free_credits + credits FROM keys WHERE id = $1)`, id, requestID).Scan(&owner, &left)
	switch {
	case err != nil:
		return 0, fmt.Errorf("postgres: charge %s: %w", id, err)
	case owner != nil && *owner != id:
		return 0, fmt.Errorf("postgres: charge %s: request id %q was already charged to another key", id, requestID)
	case left == nil:
		return 0, faceswap.ErrUnknownKey
	case owner != nil:
		return *left, nil
	default:
		return 0, faceswap.ErrInsufficientCredits
	}
}
