package faceswap

import (
	"context"
	"net/http"
	"time"
)

// JobStatus is where an asynchronous request (POST /v2/...) stands.
type JobStatus string

// The statuses of SPEC §1, in the order a job goes through them.
const (
	JobQueued     JobStatus = "QUEUED"
	JobProcessing JobStatus = "PROCESSING"
	JobCompleted  JobStatus = "COMPLETED"
	JobFailed     JobStatus = "FAILED"
)

// Finished reports whether s is a final status.
func (s JobStatus) Finished() bool { return s == JobCompleted || s == JobFailed }

// Job is one asynchronous request: what it asked, where it stands and, once
// finished, its answer. Input is the request as the worker needs it (its
// format belongs to package jobs); Result the answer's body as the
// synchronous call would have written it.
type Job struct {
	ID             string
	KeyID          string
	Status         JobStatus
	IdempotencyKey string // "" when the client sent none
	Webhook        string // "" when none
	Input          []byte
	Attempts       int // times a worker started it

	// Once finished:
	ContentType  string // of Result
	Result       []byte // COMPLETED: the answer's body
	FacesSwapped int
	Metrics      []byte // COMPLETED: JSON of timings, as the status endpoint shows them
	Cost         int64  // credits charged (COMPLETED only)
	ErrorStatus  int    // FAILED: the HTTP status the sync call would have answered
	ErrorMessage string // FAILED: its public message

	CreatedAt  time.Time
	StartedAt  time.Time // zero until a worker starts it
	FinishedAt time.Time // zero until finished
	ExpiresAt  time.Time // finished jobs are deleted after this
}

// JobOutcome is what a worker reports when a job is done.
type JobOutcome struct {
	// Completed, or else failed with ErrorStatus and ErrorMessage.
	Completed    bool
	ContentType  string
	Result       []byte
	FacesSwapped int
	Metrics      []byte
	Cost         int64 // credits to charge on completion
	ErrorStatus  int
	ErrorMessage string
	// Keep is how long the finished job stays readable.
	Keep time.Duration
}

// Jobs stores asynchronous requests (store/sqlite, store/postgres). The
// queue that hands them to workers (package jobs/river) lives in the same
// database, opened with it (package store); this is the record of truth:
// status, answer, and the charge.
type Jobs interface {
	// CreateJob stores a new QUEUED job. When j.IdempotencyKey is set and
	// the same key already made a job with it, that job is returned
	// instead, with created false, and nothing is stored.
	CreateJob(ctx context.Context, j Job) (stored Job, created bool, err error)
	// Job returns a job by ID (ErrJobNotFound when there is none, or it
	// has expired).
	Job(ctx context.Context, id string) (Job, error)
	// StartJob marks a job PROCESSING and counts the attempt. A finished
	// job is returned as it is, unchanged.
	StartJob(ctx context.Context, id string) (Job, error)
	// FinishJob records the outcome once: a job already finished is
	// returned unchanged. Completing charges o.Cost credits to the job's
	// key in the same transaction (recorded under the job's ID, so never
	// twice); when the key no longer has them, the job fails with
	// ErrInsufficientCredits' status and message instead.
	FinishJob(ctx context.Context, id string, o JobOutcome) (Job, error)
	// DeleteExpiredJobs deletes finished jobs whose time has passed, and
	// returns how many.
	DeleteExpiredJobs(ctx context.Context, now time.Time) (int, error)
}

// ErrJobNotFound answers a request ID that is unknown, not the caller's, or
// expired.
var ErrJobNotFound = &Error{Status: http.StatusNotFound, Message: "There is no such request: the id is unknown, belongs to another key, or its result has expired."}
