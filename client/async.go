package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Job statuses of the asynchronous API.
const (
	Queued     = "QUEUED"
	Processing = "PROCESSING"
	Completed  = "COMPLETED"
	Failed     = "FAILED"
)

// Job is an asynchronous request as the server last described it.
type Job struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"` // Queued, Processing, Completed or Failed
	// Failed: the sentence and status the synchronous call would have
	// answered.
	Error       string      `json:"error,omitempty"`
	ErrorStatus int         `json:"error_status,omitempty"`
	Metrics     *JobMetrics `json:"metrics,omitempty"` // Completed
	StatusURL   string      `json:"status_url,omitempty"`
	ResponseURL string      `json:"response_url,omitempty"`
	Meta        `json:"-"`
}

// Finished reports whether the job completed or failed.
func (j *Job) Finished() bool { return j.Status == Completed || j.Status == Failed }

// JobMetrics are a completed job's figures.
type JobMetrics struct {
	FacesSwapped int                `json:"faces_swapped"`
	Attempts     int                `json:"attempts"`
	TimingsMS    map[string]float64 `json:"timings_ms"`
}

// SubmitOptions are the v2 extras of a request.
type SubmitOptions struct {
	// Webhook, when set, gets one POST of the final status, signed with the
	// server's webhook secret.
	Webhook string
	// IdempotencyKey, when set, makes a repeat return the first job.
	IdempotencyKey string
}

// Submit queues a swap (POST /v2/faceswap-v3-multifaceswap) and returns
// the queued job. The request is checked at once: bad input is an *Error
// here, and nothing is charged until the job completes.
func (c *Client) Submit(ctx context.Context, r SwapRequest, opt SubmitOptions) (*Job, error) {
	body, err := r.body()
	if err != nil {
		return nil, err
	}
	body.Webhook = opt.Webhook
	var h http.Header
	if opt.IdempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {opt.IdempotencyKey}}
	}
	return c.job(c.doHeader(ctx, http.MethodPost, "/v2/faceswap-v3-multifaceswap", body, h))
}

// Status reads a job's status (GET /v2/requests/{id}/status).
func (c *Client) Status(ctx context.Context, id string) (*Job, error) {
	return c.job(c.do(ctx, http.MethodGet, "/v2/requests/"+url.PathEscape(id)+"/status", nil))
}

// job reads a job's status answer.
func (c *Client) job(resp *http.Response, err error) (*Job, error) {
	var j Job
	if j.Meta, err = c.answer(resp, err, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Wait polls a job's status every interval (1 s when 0) until it is
// finished or ctx ends.
func (c *Client) Wait(ctx context.Context, id string, interval time.Duration) (*Job, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		j, err := c.Status(ctx, id)
		if err != nil || j.Finished() {
			return j, err
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("client: waiting for %s: %w", id, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// Result fetches a completed job's image (GET /v2/requests/{id}). A job not
// finished yet, or expired, is a 404 *Error; a failed one a 422 *Error with
// the job's error.
func (c *Client) Result(ctx context.Context, id string) (*SwapResult, error) {
	return c.swapResult(c.do(ctx, http.MethodGet, "/v2/requests/"+url.PathEscape(id), nil))
}
