package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"faceswap/store/migrations"
	"fmt"
	"io/fs"
	"time"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrationsFS is the folder of numbered migrations, NNNN_what.sql.
var migrationsFS, _ = fs.Sub(embedded, "migrations")

// migrate applies the migrations of fsys that the database has not seen,
// each in its own immediate transaction together with its schema_version
// row, so a migration is applied completely or not at all, and two
// processes opening the same new file apply it once. It refuses a database
// that a newer faceswap has migrated further than this one knows.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := migrations.Load(fsys)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("schema_version: %w", err)
	}
	var newest *int
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&newest); err != nil {
		return fmt.Errorf("schema_version: %w", err)
	}
	return migrations.Apply(ms, newest, func(m migrations.Migration) error { return apply(ctx, db, m) })
}

func apply(ctx context.Context, db *sql.DB, m migrations.Migration) (err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the writer DSN sets _txlock
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_version WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
