package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"faceswap"
)

var _ faceswap.Jobs = (*DB)(nil)

const jobColumns = `id, key_id, status, coalesce(idempotency_key, ''), webhook, input, attempts, content_type,
	result, faces_swapped, metrics, cost, error_status, error_message,
	created_at, started_at, finished_at, expires_at`

func scanJob(row pgx.Row) (faceswap.Job, error) {
	var j faceswap.Job
	var status string
	var started, finished, expires *time.Time
	err := row.Scan(&j.ID, &j.KeyID, &status, &j.IdempotencyKey, &j.Webhook, &j.Input, &j.Attempts, &j.ContentType,
		&j.Result, &j.FacesSwapped, &j.Metrics, &j.Cost, &j.ErrorStatus, &j.ErrorMessage,
		&j.CreatedAt, &started, &finished, &expires)
	j.Status = faceswap.JobStatus(status)
	j.CreatedAt = j.CreatedAt.UTC()
	for _, p := range []struct {
		from *time.Time
		to   *time.Time
	}{{started, &j.StartedAt}, {finished, &j.FinishedAt}, {expires, &j.ExpiresAt}} {
		if p.from != nil {
			*p.to = p.from.UTC()
		}
	}
	if len(j.Input) == 0 {
		j.Input = nil
	}
	return j, err
}

func checkJob(j faceswap.Job, err error, id string) (faceswap.Job, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return faceswap.Job{}, faceswap.ErrJobNotFound
	}
	if err != nil {
		return faceswap.Job{}, fmt.Errorf("postgres: job %s: %w", id, err)
	}
	if !j.ExpiresAt.IsZero() && !time.Now().Before(j.ExpiresAt) {
		return faceswap.Job{}, faceswap.ErrJobNotFound
	}
	return j, nil
}

// CreateJob stores a new QUEUED job, or returns the job the same key made
// with the same idempotency key.
func (d *DB) CreateJob(ctx context.Context, j faceswap.Job) (faceswap.Job, bool, error) {
	if j.ID == "" || j.KeyID == "" {
		return faceswap.Job{}, false, errors.New("postgres: create job: empty id or key")
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = time.Now()
	}
	j.CreatedAt = j.CreatedAt.UTC().Truncate(time.Microsecond)
	j.Status = faceswap.JobQueued
	var idem *string
	if j.IdempotencyKey != "" {
		idem = &j.IdempotencyKey
	}
	tag, err := d.pool.Exec(ctx, `INSERT INTO jobs (id, key_id, status, idempotency_key, webhook, input, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_id, idempotency_key) DO NOTHING`,
		j.ID, j.KeyID, string(j.Status), idem, j.Webhook, j.Input, j.CreatedAt)
	if err != nil {
		return faceswap.Job{}, false, fmt.Errorf("postgres: create job: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return j, true, nil
	}
	first, err := scanJob(d.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE key_id = $1 AND idempotency_key = $2`,
		j.KeyID, j.IdempotencyKey))
	if err != nil {
		return faceswap.Job{}, false, fmt.Errorf("postgres: create job: the job of idempotency key: %w", err)
	}
	return first, false, nil
}

// Job returns a job that has not expired.
func (d *DB) Job(ctx context.Context, id string) (faceswap.Job, error) {
	j, err := scanJob(d.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	return checkJob(j, err, id)
}

// StartJob marks an unfinished job PROCESSING and counts the attempt.
func (d *DB) StartJob(ctx context.Context, id string) (faceswap.Job, error) {
	j, err := scanJob(d.pool.QueryRow(ctx, `UPDATE jobs SET status = 'PROCESSING', attempts = attempts + 1, started_at = now()
		WHERE id = $1 AND status IN ('QUEUED', 'PROCESSING') RETURNING `+jobColumns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		j, err = scanJob(d.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	}
	return checkJob(j, err, id)
}

// FinishJob records the outcome, charging on completion, in one
// transaction that holds the job's row lock, so two workers finishing the
// same job (one of them rescued after the other looked dead) record it
// once.
func (d *DB) FinishJob(ctx context.Context, id string, o faceswap.JobOutcome) (faceswap.Job, error) {
	var j faceswap.Job
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return faceswap.ErrJobNotFound
		}
		if err != nil || j.Status.Finished() {
			return err
		}
		if o.Completed && o.Cost > 0 {
			var remaining int64
			err := tx.QueryRow(ctx, chargeSQL, j.KeyID, o.Cost, id).Scan(&remaining)
			if errors.Is(err, pgx.ErrNoRows) {
				var charged bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM usage WHERE request_id = $1)`, id).Scan(&charged); err != nil {
					return err
				}
				if !charged {
					e := faceswap.ErrInsufficientCredits
					o = faceswap.JobOutcome{ErrorStatus: e.Status, ErrorMessage: e.Message, Keep: o.Keep}
				}
			} else if err != nil {
				return err
			}
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		if o.Completed {
			j.Status, j.ContentType, j.Result, j.FacesSwapped, j.Metrics, j.Cost = faceswap.JobCompleted, o.ContentType, o.Result, o.FacesSwapped, o.Metrics, o.Cost
		} else {
			j.Status, j.ErrorStatus, j.ErrorMessage = faceswap.JobFailed, o.ErrorStatus, o.ErrorMessage
		}
		j.FinishedAt, j.ExpiresAt, j.Input = now, now.Add(o.Keep), nil
		_, err = tx.Exec(ctx, `UPDATE jobs SET status = $2, content_type = $3, result = $4, faces_swapped = $5, metrics = $6,
			cost = $7, error_status = $8, error_message = $9, finished_at = $10, expires_at = $11, input = ''::bytea WHERE id = $1`,
			id, string(j.Status), j.ContentType, j.Result, j.FacesSwapped, j.Metrics, j.Cost, j.ErrorStatus, j.ErrorMessage,
			j.FinishedAt, j.ExpiresAt)
		return err
	})
	if err != nil {
		var fe *faceswap.Error
		if errors.As(err, &fe) {
			return faceswap.Job{}, err
		}
		return faceswap.Job{}, fmt.Errorf("postgres: finish job %s: %w", id, err)
	}
	return j, nil
}

// DeleteExpiredJobs deletes finished jobs whose time has passed.
func (d *DB) DeleteExpiredJobs(ctx context.Context, now time.Time) (int, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM jobs WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired jobs: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Pool is the connection pool, for the job queue (package jobs/river),
// which keeps its tables in the same database.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }
