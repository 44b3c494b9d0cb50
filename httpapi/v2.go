package httpapi

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"faceswap"
	"faceswap/fetch"
	"faceswap/jobs"
)

// v2Fields are the sync fields plus our webhook.
var v2Fields = append(append([]fieldSpec(nil), swapFields...), fieldSpec{name: "webhook", kind: textField})

// IdempotencyHeader names the header whose repeat returns the first job.
const IdempotencyHeader = "Idempotency-Key"

var (
	errNoJobs      = faceswap.Errorf(http.StatusServiceUnavailable, "Asynchronous requests are not enabled on this server.")
	errNotFinished = faceswap.Errorf(http.StatusNotFound, "The request has not completed yet; poll its status_url until it is COMPLETED.")
	errIdemKey     = faceswap.Errorf(http.StatusBadRequest, "The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
)

// queuedBody answers POST /v2/faceswap-v3-multifaceswap.
type queuedBody struct {
	RequestID   string `json:"request_id"`
	Status      string `json:"status"`
	PollURL     string `json:"poll_url"`
	StatusURL   string `json:"status_url"`
	ResponseURL string `json:"response_url"`
}

// failedBody answers GET /v2/requests/{id} for a FAILED job.
type failedBody struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	Code      int    `json:"error_status"`
}

// handleSubmit serves POST /v2/faceswap-v3-multifaceswap: the sync call's
// checks (key, rate limit, balance, fields, both images fetched or decoded
// now, so a bad input is refused at once and nothing is queued), then the
// job is stored and queued, and its URLs answered. Nothing is charged here:
// the job is charged when it completes.
func (a *API) handleSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.opt.Deadline)
	defer cancel()
	fail := func(err error) { a.fail(w, r, ctx, err) }
	if a.opt.Jobs == nil {
		fail(errNoJobs)
		return
	}
	key, balance, err := a.beginSwap(ctx, w, r)
	if err != nil {
		fail(err)
		return
	}
	idem := r.Header.Get(IdempotencyHeader)
	if len(idem) > 255 || idem != sanitize(idem, 255) {
		fail(errIdemKey)
		return
	}
	sr, f, err := a.readSwap(ctx, w, r, v2Fields, balance)
	if err != nil {
		fail(err)
		return
	}
	webhook := f.values["webhook"].text
	if webhook != "" {
		if err := fetch.CheckURL("webhook", webhook); err != nil {
			fail(err)
			return
		}
		if !a.opt.Jobs.WebhooksEnabled() {
			fail(jobs.ErrNoWebhooks)
			return
		}
	}
	start := time.Now()
	if sr.req.Source, sr.req.Target, err = a.images(ctx, "source_img", sr.source, "target_img", sr.target); err != nil {
		fail(err)
		return
	}
	if err := a.opt.Pipeline.CheckImages(&sr.req); err != nil {
		fail(err)
		return
	}
	j, err := a.opt.Jobs.Submit(ctx, jobs.Submission{
		KeyID:          key.ID,
		IdempotencyKey: idem,
		Webhook:        webhook,
		Input:          jobs.NewInput(sr.req, sr.base64, ms(time.Since(start))),
	})
	if err != nil {
		fail(err)
		return
	}
	base := baseURL(r) + "/v2/requests/" + j.ID
	writeJSON(w, http.StatusOK, queuedBody{
		RequestID:   j.ID,
		Status:      string(j.Status),
		PollURL:     base + "/status",
		StatusURL:   base + "/status",
		ResponseURL: base,
	})
}

// baseURL is the scheme and host the client reached us at.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + sanitize(r.Host, 255)
}

// withJob answers a request about one job: it authenticates the caller and
// hands answer the caller's job named in the path, or answers the error.
func (a *API) withJob(w http.ResponseWriter, r *http.Request, answer func(faceswap.Job)) {
	ctx, cancel := context.WithTimeout(r.Context(), a.opt.Deadline)
	defer cancel()
	j, err := a.job(ctx, w, r)
	if err != nil {
		a.fail(w, r, ctx, err)
		return
	}
	answer(j)
}

func (a *API) job(ctx context.Context, w http.ResponseWriter, r *http.Request) (faceswap.Job, error) {
	if a.opt.Jobs == nil {
		return faceswap.Job{}, errNoJobs
	}
	key, err := a.begin(ctx, w, r, false)
	if err != nil {
		return faceswap.Job{}, err
	}
	return a.opt.Jobs.Job(ctx, key.ID, r.PathValue("id"))
}

// handleStatus serves GET /v2/requests/{id}/status.
func (a *API) handleStatus(w http.ResponseWriter, r *http.Request) {
	a.withJob(w, r, func(j faceswap.Job) { writeJSON(w, http.StatusOK, jobs.StatusOf(j)) })
}

// handleResult serves GET /v2/requests/{id}: the answer exactly as the sync
// call would have written it; 404 before completion and after expiry; 422
// with the error for a FAILED job.
func (a *API) handleResult(w http.ResponseWriter, r *http.Request) {
	a.withJob(w, r, func(j faceswap.Job) { a.writeResult(w, r, j) })
}

// writeResult writes a finished job's answer.
func (a *API) writeResult(w http.ResponseWriter, r *http.Request, j faceswap.Job) {
	switch j.Status {
	case faceswap.JobFailed:
		st := stateOf(r)
		st.status = http.StatusUnprocessableEntity
		writeJSON(w, http.StatusUnprocessableEntity, failedBody{RequestID: j.ID, Status: string(j.Status), Error: j.ErrorMessage, Code: j.ErrorStatus})
		return
	case faceswap.JobCompleted:
	default:
		a.writeError(w, r, errNotFinished)
		return
	}
	h := w.Header()
	h.Set("X-Faces-Swapped", strconv.Itoa(j.FacesSwapped))
	var m jobs.Metrics
	if json.Unmarshal(j.Metrics, &m) == nil && len(m.TimingsMS) > 0 {
		h.Set("Server-Timing", timingsOf(m.TimingsMS).header())
	}
	setQuality(h, m.FacesQuality)
	h.Set("Content-Type", j.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(j.Result)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(max(int(time.Until(j.ExpiresAt).Seconds()), 0)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(j.Result)
	}
}

// timingsOf orders a job's stored timings (milliseconds by stage) as a
// swap runs its stages, then any others by name, for the Server-Timing
// header the sync call would have sent.
func timingsOf(m map[string]float64) timings {
	order := []string{"fetch", "queue", "decode", "detect", "select", "swap", "restore", "encode"}
	var rest []string
	for name := range m {
		if !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	var t timings
	for _, name := range append(order, rest...) {
		if v, ok := m[name]; ok {
			t.add(name, time.Duration(math.Round(v*1e6)))
		}
	}
	return t
}
