package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"faceswap"
)

var _ faceswap.Jobs = (*DB)(nil)

const jobColumns = `id, key_id, status, coalesce(idempotency_key, ''), webhook, input, attempts, content_type,
	coalesce(result, x''), faces_swapped, coalesce(metrics, x''), cost, error_status, error_message,
	created_at, started_at, finished_at, expires_at`

func scanJob(s scanner) (faceswap.Job, error) {
	var j faceswap.Job
	var status string
	var created, started, finished, expires int64
	err := s.Scan(&j.ID, &j.KeyID, &status, &j.IdempotencyKey, &j.Webhook, &j.Input, &j.Attempts, &j.ContentType,
		&j.Result, &j.FacesSwapped, &j.Metrics, &j.Cost, &j.ErrorStatus, &j.ErrorMessage,
		&created, &started, &finished, &expires)
	j.Status = faceswap.JobStatus(status)
	j.CreatedAt = fromMicros(created)
	j.StartedAt, j.FinishedAt, j.ExpiresAt = fromMicros(started), fromMicros(finished), fromMicros(expires)
	if len(j.Result) == 0 {
		j.Result = nil
	}
	if len(j.Metrics) == 0 {
		j.Metrics = nil
	}
	return j, err
}

// fromMicros reads a Unix-microsecond column; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// CreateJob stores a new QUEUED job, or returns the job the same key made
// with the same idempotency key.
func (d *DB) CreateJob(ctx context.Context, j faceswap.Job) (faceswap.Job, bool, error) {
	if j.ID == "" || j.KeyID == "" {
		return faceswap.Job{}, false, errors.New("sqlite: create job: empty id or key")
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = time.Now()
	}
	j.CreatedAt = j.CreatedAt.UTC().Truncate(time.Microsecond)
	j.Status = faceswap.JobQueued
	var idem any
	if j.IdempotencyKey != "" {
		idem = j.IdempotencyKey
	}
	res, err := d.w.ExecContext(ctx, `INSERT INTO jobs (id, key_id, status, idempotency_key, webhook, input, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key_id, idempotency_key) DO NOTHING`,
		j.ID, j.KeyID, string(j.Status), idem, j.Webhook, j.Input, j.CreatedAt.UnixMicro())
	if err != nil {
		return faceswap.Job{}, false, fmt.Errorf("sqlite: create job: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return faceswap.Job{}, false, fmt.Errorf("sqlite: create job: %w", err)
	} else if n == 1 {
		return j, true, nil
	}
	row := d.w.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE key_id = ? AND idempotency_key = ?`, j.KeyID, j.IdempotencyKey)
	first, err := scanJob(row)
	if err != nil {
		return faceswap.Job{}, false, fmt.Errorf("sqlite: create job: the job of idempotency key: %w", err)
	}
	return first, false, nil
}

// Job returns a job that has not expired.
func (d *DB) Job(ctx context.Context, id string) (faceswap.Job, error) {
	j, err := scanJob(d.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	return checkJob(j, err, id)
}

func checkJob(j faceswap.Job, err error, id string) (faceswap.Job, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return faceswap.Job{}, faceswap.ErrJobNotFound
	}
	if err != nil {
		return faceswap.Job{}, fmt.Errorf("sqlite: job %s: %w", id, err)
	}
	if !j.ExpiresAt.IsZero() && !time.Now().Before(j.ExpiresAt) {
		return faceswap.Job{}, faceswap.ErrJobNotFound
	}
	return j, nil
}

// StartJob marks an unfinished job PROCESSING and counts the attempt.
func (d *DB) StartJob(ctx context.Context, id string) (faceswap.Job, error) {
	row := d.w.QueryRowContext(ctx, `UPDATE jobs SET status = 'PROCESSING', attempts = attempts + 1, started_at = ?
		WHERE id = ? AND status IN ('QUEUED', 'PROCESSING') RETURNING `+jobColumns, time.Now().UnixMicro(), id)
	j, err := scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		j, err = scanJob(d.w.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	}
	return checkJob(j, err, id)
}

// FinishJob records the outcome, charging on completion, in one immediate
// transaction; a finished job is returned unchanged.
func (d *DB) FinishJob(ctx context.Context, id string, o faceswap.JobOutcome) (faceswap.Job, error) {
	var j faceswap.Job
	err := d.inTx(ctx, "finish job "+id, func(tx *sql.Tx) (err error) {
		j, err = finishTx(ctx, tx, id, o)
		return err
	})
	if err != nil {
		return faceswap.Job{}, err
	}
	return j, nil
}

// finishTx is FinishJob inside tx.
func finishTx(ctx context.Context, tx *sql.Tx, id string, o faceswap.JobOutcome) (faceswap.Job, error) {
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return faceswap.Job{}, faceswap.ErrJobNotFound
	}
	if err != nil {
		return faceswap.Job{}, fmt.Errorf("sqlite: finish job %s: %w", id, err)
	}
	if j.Status.Finished() {
		return j, nil
	}
	if o.Completed && o.Cost > 0 {
		if _, cerr := chargeTx(ctx, tx, j.KeyID, o.Cost, id); cerr != nil {
			var fe *faceswap.Error
			if !errors.As(cerr, &fe) {
				return faceswap.Job{}, cerr
			}
			o = faceswap.JobOutcome{ErrorStatus: fe.Status, ErrorMessage: fe.Message, Keep: o.Keep}
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if o.Completed {
		j.Status, j.ContentType, j.Result, j.FacesSwapped, j.Metrics, j.Cost = faceswap.JobCompleted, o.ContentType, o.Result, o.FacesSwapped, o.Metrics, o.Cost
	} else {
		j.Status, j.ErrorStatus, j.ErrorMessage = faceswap.JobFailed, o.ErrorStatus, o.ErrorMessage
	}
	j.FinishedAt, j.ExpiresAt = now, now.Add(o.Keep)
	if _, err = tx.ExecContext(ctx, `UPDATE jobs SET status = ?, content_type = ?, result = ?, faces_swapped = ?, metrics = ?,
		cost = ?, error_status = ?, error_message = ?, finished_at = ?, expires_at = ?, input = x'' WHERE id = ?`,
		string(j.Status), j.ContentType, j.Result, j.FacesSwapped, j.Metrics, j.Cost, j.ErrorStatus, j.ErrorMessage,
		micros(j.FinishedAt), micros(j.ExpiresAt), id); err != nil {
		return faceswap.Job{}, fmt.Errorf("sqlite: finish job %s: %w", id, err)
	}
	j.Input = nil
	return j, nil
}

// DeleteExpiredJobs deletes finished jobs whose time has passed.
func (d *DB) DeleteExpiredJobs(ctx context.Context, now time.Time) (int, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM jobs WHERE expires_at > 0 AND expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired jobs: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
