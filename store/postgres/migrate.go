package postgres

import (
	"context"
	"embed"
	"errors"
	"faceswap/store/migrations"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrationsFS is the folder of numbered migrations, NNNN_what.sql.
var migrationsFS, _ = fs.Sub(embedded, "migrations")

// migrate brings the schema the connections' search_path names up to date:
// it creates that schema when missing, then applies the migrations of fsys
// that the schema_version table does not list, each in its own transaction
// together with its schema_version row (PostgreSQL's DDL is
// transactional), so a migration is applied completely or not at all.
//
// Every step holds a transaction-level advisory lock named after the
// search_path, so servers starting at once against a new database apply
// each migration once, one after the other, instead of racing to create
// the same tables. It refuses a schema that a newer faceswap has migrated
// further than this one knows.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) error {
	ms, err := migrations.Load(fsys)
	if err != nil {
		return err
	}
	var searchPath string
	if err := pool.QueryRow(ctx, `SHOW search_path`).Scan(&searchPath); err != nil {
		return err
	}
	h := fnv.New64a()
	h.Write([]byte("faceswap store/postgres migrations\x00" + searchPath))
	lock := int64(h.Sum64())

	var newest *int
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lock); err != nil {
			return err
		}
		if schema, ok := firstSchema(searchPath); ok {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
				return err
			}
			// Checked first: CREATE SCHEMA IF NOT EXISTS would want the
			// right to create schemas even when this one exists.
			if !exists {
				if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
					return fmt.Errorf("creating schema %s: %w", schema, err)
				}
			}
		}
		var current *string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
			return err
		}
		if current == nil {
			return fmt.Errorf("no schema of search_path %q exists to create the tables in", searchPath)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("schema_version: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT max(version) FROM schema_version`).Scan(&newest); err != nil {
			return fmt.Errorf("schema_version: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Every migration is checked, not only those above the newest applied:
	// one numbered into a gap is applied too.
	return migrations.Apply(ms, newest, func(m migrations.Migration) error { return apply(ctx, pool, lock, m) })
}

var errApplied = errors.New("already applied")

func apply(ctx context.Context, pool *pgxpool.Pool, lock int64, m migrations.Migration) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lock); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_version WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			return err
		}
		if done {
			return errApplied // rolls back: nothing was written
		}
		// No arguments: pgx sends it as a simple query, which may hold
		// several statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		return err
	})
	if errors.Is(err, errApplied) {
		return nil
	}
	return err
}

// firstSchema returns the first schema that search_path (as SHOW prints
// it) names, unless that is "$user": the schema the tables go in, which
// migrate creates when missing.
func firstSchema(searchPath string) (string, bool) {
	p := strings.TrimSpace(searchPath)
	var name string
	if strings.HasPrefix(p, `"`) {
		var b strings.Builder
		closed := false
		for i := 1; i < len(p); i++ {
			if p[i] == '"' {
				if i+1 < len(p) && p[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				closed = true
				break
			}
			b.WriteByte(p[i])
		}
		if !closed {
			return "", false
		}
		name = b.String()
	} else {
		first, _, _ := strings.Cut(p, ",")
		// Unquoted identifiers are folded to lower case.
		name = strings.ToLower(strings.TrimSpace(first))
	}
	if name == "" || name == "$user" {
		return "", false
	}
	return name, true
}
