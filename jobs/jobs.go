// Package jobs runs the asynchronous API (POST /v2/faceswap-v3-multifaceswap):
// Submit stores a request as a QUEUED job and hands its id to a Queue; a
// worker, on any machine that reaches the queue, calls Process, which runs
// the same pipeline as the synchronous call, records the answer and charges
// for it in one transaction (faceswap.Jobs.FinishJob), and then queues the
// webhook, which Deliver sends, signed, with retries.
//
// Every step may run twice: a worker killed mid-job leaves its job to be
// rescued by the queue and run again, and a job finished twice is recorded
// and charged once (FinishJob keeps the first outcome; the charge is keyed
// by the job id). So a job completes exactly once and is charged exactly
// once, whatever dies when.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"faceswap"
	"faceswap/pipeline"
)

// Queue hands job ids to workers. Both methods must be idempotent: queueing
// an id that is already queued (or was done) does nothing.
type Queue interface {
	// Enqueue queues a job for Process.
	Enqueue(ctx context.Context, id string) error
	// EnqueueWebhook queues a finished job's webhook for Deliver.
	EnqueueWebhook(ctx context.Context, id string) error
}

// Runner runs a swap (a *pipeline.Pipeline, which takes a core of the
// process's CPU scheduler for it, as the synchronous requests do).
type Runner interface {
	Run(ctx context.Context, r *pipeline.Request) (*pipeline.Result, error)
}

// Poster sends a webhook (a *fetch.Fetcher, with its address rules).
type Poster interface {
	Post(ctx context.Context, url string, body []byte, header http.Header) (int, error)
}

// Config is what the service is told. Zero fields take the defaults noted.
type Config struct {
	Keep          time.Duration  // how long finished jobs stay readable (default 1 h)
	Price         faceswap.Price // what a completed job costs
	WebhookSecret string         // HMAC-SHA256 key of webhook signatures; "" refuses webhooks
	Log           *slog.Logger   // default: discard
}

// Service is the asynchronous API's logic between the HTTP handlers, the
// store and the queue. It is safe for concurrent use.
type Service struct {
	cfg      Config
	jobs     faceswap.Jobs
	queue    Queue
	pipeline Runner
	poster   Poster
	log      *slog.Logger
}

// New returns a Service that keeps its jobs in jobs, queues them on queue
// and runs them with pipeline. A nil poster sends no webhooks (they are
// then refused, as without a secret). The queue's workers call Process and
// Deliver once the queue is started with the Service.
func New(cfg Config, jobs faceswap.Jobs, queue Queue, pipeline Runner, poster Poster) *Service {
	if cfg.Keep <= 0 {
		cfg.Keep = time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if poster == nil {
		cfg.WebhookSecret = ""
	}
	return &Service{cfg: cfg, jobs: jobs, queue: queue, pipeline: pipeline, poster: poster, log: cfg.Log}
}

// Keep is how long finished jobs stay readable.
func (s *Service) Keep() time.Duration { return s.cfg.Keep }

// WebhooksEnabled reports whether webhooks can be signed.
func (s *Service) WebhooksEnabled() bool { return s.cfg.WebhookSecret != "" }

// Submission is one POST /v2 request.
type Submission struct {
	KeyID          string
	IdempotencyKey string // "" when none
	Webhook        string // "" when none; already checked by the caller
	Input          Input
}

// ErrNoWebhooks refuses a webhook on a server without a secret to sign
// webhooks with; the setting to give it is for the log only.
var ErrNoWebhooks = faceswap.Wrap(http.StatusBadRequest, errors.New("no webhook secret is configured (FACESWAP_WEBHOOK_SECRET, --webhook-secret)"),
	"webhook is not available on this server; send the request without it and poll its status_url.")

// Submit stores the request as a QUEUED job and queues it. A repeated
// idempotency key of the same key returns the first job, queued once.
func (s *Service) Submit(ctx context.Context, sub Submission) (faceswap.Job, error) {
	if sub.Webhook != "" && !s.WebhooksEnabled() {
		return faceswap.Job{}, ErrNoWebhooks
	}
	in, err := json.Marshal(sub.Input)
	if err != nil {
		return faceswap.Job{}, err
	}
	id, err := NewID()
	if err != nil {
		return faceswap.Job{}, err
	}
	j, created, err := s.jobs.CreateJob(ctx, faceswap.Job{ID: id, KeyID: sub.KeyID, IdempotencyKey: sub.IdempotencyKey,
		Webhook: sub.Webhook, Input: in})
	if err != nil {
		return faceswap.Job{}, err
	}
	if !created && j.Status != faceswap.JobQueued {
		return j, nil
	}
	// A repeat of a job still QUEUED queues it again, which the queue
	// ignores when it has it: that heals a first submission that stored the
	// job but died before queueing it.
	if err := s.queue.Enqueue(ctx, j.ID); err != nil {
		if created {
			// Not queued: fail it, so that a poll does not wait forever.
			s.jobs.FinishJob(context.WithoutCancel(ctx), j.ID, faceswap.JobOutcome{ErrorStatus: http.StatusServiceUnavailable,
				ErrorMessage: errQueue.Message, Keep: s.cfg.Keep})
		}
		return faceswap.Job{}, faceswap.Wrap(errQueue.Status, err, "%s", errQueue.Message)
	}
	return j, nil
}

var errQueue = faceswap.Errorf(http.StatusServiceUnavailable, "The job queue is not reachable; retry shortly.")

// Job returns the caller's job (ErrJobNotFound for another key's).
func (s *Service) Job(ctx context.Context, keyID, id string) (faceswap.Job, error) {
	if !validID(id) {
		return faceswap.Job{}, faceswap.ErrJobNotFound
	}
	j, err := s.jobs.Job(ctx, id)
	if err != nil {
		return faceswap.Job{}, err
	}
	if j.KeyID != keyID {
		return faceswap.Job{}, faceswap.ErrJobNotFound
	}
	return j, nil
}

// Process runs job id: the worker's side. It returns nil once the job is
// finished (completed or failed for good), and an error when it should be
// tried again later (the store is unreachable, the worker is stopping).
func (s *Service) Process(ctx context.Context, id string) error {
	j, err := s.jobs.StartJob(ctx, id)
	if errors.Is(err, faceswap.ErrJobNotFound) {
		s.log.Warn("job gone before it ran", slog.String("job", id))
		return nil
	}
	if err != nil {
		return err
	}
	if !j.Status.Finished() {
		if j, err = s.run(ctx, j); err != nil {
			return err
		}
	}
	if j.Webhook != "" {
		if err := s.queue.EnqueueWebhook(ctx, j.ID); err != nil {
			return fmt.Errorf("jobs: queueing the webhook of %s: %w", j.ID, err)
		}
	}
	return nil
}

// run runs a started job and records its outcome.
func (s *Service) run(ctx context.Context, j faceswap.Job) (faceswap.Job, error) {
	log := s.log.With(slog.String("job", j.ID), slog.String("key", j.KeyID), slog.Int("attempt", j.Attempts))
	in, err := DecodeInput(j.Input)
	if errors.Is(err, ErrNewerInput) {
		// stored by a newer release during a rolling deploy: left for
		// another try, which a newer server takes
		return j, fmt.Errorf("jobs: %s: %w", j.ID, err)
	}
	if err != nil {
		log.Error("job input does not parse", slog.Any("err", err))
		return s.finish(ctx, j, outcomeOf(nil, err, s.cfg.Keep, j.ID))
	}
	start := time.Now()
	req := in.Request.Pipeline()
	res, err := s.pipeline.Run(ctx, &req)
	if err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The worker is stopping: leave the job to be run again.
		return j, fmt.Errorf("jobs: %s interrupted: %w", j.ID, ctx.Err())
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = faceswap.Wrap(http.StatusGatewayTimeout, err, "The job did not finish within the server's job timeout.")
	}
	o := outcomeOf(res, err, s.cfg.Keep, j.ID)
	if err == nil {
		o.Cost = s.cfg.Price.Of(res.FacesSwapped)
		// queue: waiting for a worker, then for a core to run on
		timings := map[string]float64{"fetch": in.FetchMS, "queue": ms(j.StartedAt.Sub(j.CreatedAt) + res.Queued)}
		for _, st := range res.Stages {
			timings[st.Name] = ms(st.Duration)
		}
		faces := FacesQuality(res.Faces)
		o.Metrics, _ = json.Marshal(Metrics{FacesSwapped: res.FacesSwapped, TimingsMS: timings, Attempts: j.Attempts, FacesQuality: faces})
		if in.Base64 {
			o.ContentType = "application/json"
			o.Result, _ = json.Marshal(ImageJSON{Image: base64.StdEncoding.EncodeToString(res.Image), FacesSwapped: res.FacesSwapped, TimingsMS: timings, FacesQuality: faces})
			o.Result = append(o.Result, '\n')
		}
	} else {
		log.Info("job failed", slog.Int("status", o.ErrorStatus), slog.Any("err", err))
	}
	log.Info("job ran", slog.Bool("completed", o.Completed), slog.Duration("took", time.Since(start)))
	return s.finish(ctx, j, o)
}

func (s *Service) finish(ctx context.Context, j faceswap.Job, o faceswap.JobOutcome) (faceswap.Job, error) {
	// The work is done: record it even if the worker is being stopped.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	done, err := s.jobs.FinishJob(ctx, j.ID, o)
	if err != nil {
		return j, err
	}
	return done, nil
}

// outcomeOf turns a pipeline result or error into the outcome to record:
// errors keep the status and public message the synchronous call would have
// answered (internal detail stays in the log).
func outcomeOf(res *pipeline.Result, err error, keep time.Duration, id string) faceswap.JobOutcome {
	if err != nil {
		status, msg := faceswap.Classify(err, "job id "+id)
		return faceswap.JobOutcome{ErrorStatus: status, ErrorMessage: msg, Keep: keep}
	}
	return faceswap.JobOutcome{Completed: true, ContentType: res.ContentType, Result: res.Image, FacesSwapped: res.FacesSwapped, Keep: keep}
}

// Metrics is a completed job's "metrics" in its status.
type Metrics struct {
	FacesSwapped int                `json:"faces_swapped"`
	TimingsMS    map[string]float64 `json:"timings_ms"`
	Attempts     int                `json:"attempts"`
	// FacesQuality is absent from jobs finished by a server that did not
	// estimate quality yet.
	FacesQuality []FaceQuality `json:"faces_quality,omitempty"`
}

// ImageJSON is the base64:true answer: the hosted API's {"image"} plus ours.
// The synchronous handler writes the same.
type ImageJSON struct {
	Image        string             `json:"image"`
	FacesSwapped int                `json:"faces_swapped"`
	TimingsMS    map[string]float64 `json:"timings_ms"`
	FacesQuality []FaceQuality      `json:"faces_quality,omitempty"`
}

// FaceQuality is one swapped face's quality estimate as the API answers
// it (swap/assess): the X-Faces-Quality and X-Faces-Poor headers carry
// the same, without the sentences.
type FaceQuality struct {
	Index   int           `json:"index"`   // the target face, as in input_faces_index
	Quality float64       `json:"quality"` // 0..1, two decimals; under 0.5 when poor
	Poor    []PoorQuality `json:"poor,omitempty"`
}

// PoorQuality is one reason a face is poor, with its sentence.
type PoorQuality struct {
	Reason string `json:"reason"` // pose-gap, source-resolution, occlusion, expression-gap
	Detail string `json:"detail"`
}

// FacesQuality is the API's form of a result's estimates, in request
// order; nil for none.
func FacesQuality(faces []pipeline.FaceOutcome) []FaceQuality {
	if len(faces) == 0 {
		return nil
	}
	out := make([]FaceQuality, len(faces))
	for i, f := range faces {
		q := FaceQuality{Index: f.TargetIndex, Quality: math.Round(f.Estimate.Score*100) / 100}
		if f.Estimate.Poor() {
			// a poor face scores under 0.5, which rounding must not hide
			q.Quality = min(q.Quality, 0.49)
		}
		for _, c := range f.Estimate.Concerns {
			q.Poor = append(q.Poor, PoorQuality{Reason: string(c.Reason), Detail: c.Detail})
		}
		out[i] = q
	}
	return out
}

// ms rounds d to milliseconds with one decimal.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e5) / 10 }

// Status is the body of GET /v2/requests/{id}/status and of a webhook.
type Status struct {
	RequestID string          `json:"request_id"`
	Status    string          `json:"status"`
	Error     string          `json:"error,omitempty"`
	Code      int             `json:"error_status,omitempty"` // FAILED: the status the sync call would have answered
	Metrics   json.RawMessage `json:"metrics,omitempty"`
}

// StatusOf is a job's status body.
func StatusOf(j faceswap.Job) Status {
	st := Status{RequestID: j.ID, Status: string(j.Status)}
	switch j.Status {
	case faceswap.JobFailed:
		st.Error, st.Code = j.ErrorMessage, j.ErrorStatus
	case faceswap.JobCompleted:
		st.Metrics = j.Metrics
	}
	return st
}

// Sweep deletes expired jobs every interval until ctx ends.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.jobs.DeleteExpiredJobs(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("deleting expired jobs", slog.Any("err", err))
		} else if n > 0 {
			s.log.Info("expired jobs deleted", slog.Int("jobs", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// NewID draws a request id: "req_" and 24 random hex digits.
func NewID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "req_" + hex.EncodeToString(b[:]), nil
}

// validID reports whether id has NewID's form (anything else is not looked
// up).
func validID(id string) bool {
	if len(id) != 4+24 || id[:4] != "req_" {
		return false
	}
	_, err := hex.DecodeString(id[4:])
	return err == nil
}
