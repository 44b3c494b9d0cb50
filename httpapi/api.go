// Package httpapi is the HTTP face of the service: the hosted
// "Faceswap V3 Multifaceswap" contract (SPEC §1–§4) with keys, credits,
// rate limits, a bounded worker pool, metrics, an OpenAPI description and
// the playground page at GET / (package playground).
//
// Every handler reports failures through writeError, the one place that
// turns an error into a status and a public one-sentence message; the
// internal detail goes only to the log, under the request id.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"faceswap"
	"faceswap/httpapi/playground"
	"faceswap/jobs"
	"faceswap/pipeline"
)

// Options are what an API needs. Pipeline, Accounts, Limiter and Fetcher
// are required; zero numbers take the defaults noted.
type Options struct {
	Pipeline *pipeline.Pipeline
	Accounts faceswap.Accounts
	Limiter  faceswap.Limiter
	Fetcher  faceswap.Fetcher
	// Jobs runs the asynchronous /v2 endpoints (nil: they answer 503).
	Jobs    *jobs.Service
	Log     *slog.Logger // default: discard
	Metrics *Metrics     // default: a fresh, unregistered set

	Workers  int           // pipeline runs at once (default 1)
	Queue    int           // requests admitted beyond the workers before 503 (0: none)
	Deadline time.Duration // per request (default 60 s)

	MaxBody       int64 // request body bytes (default 50 MB)
	MaxImageBytes int64 // bytes of one input image (default 20 MB)

	Cost          int64 // credits per successful swap (0: free)
	CostPerFace   bool  // Cost is per swapped face
	RatePerMinute int   // for keys without their own limit (default 60)

	// RetryAfterSeconds is the Retry-After of a 503 (default 1).
	RetryAfterSeconds int
	// ServeMetrics serves GET /metrics on this handler too (otherwise the
	// server exposes Metrics.Handler on a listener of its own).
	ServeMetrics bool

	// A request body must arrive at BodyRate bytes a second or faster
	// after the first BodyGrace (defaults 64 KB/s and 10 s), and within
	// the Deadline; a slower one is a 408 (it holds a place in the pool
	// while it arrives).
	BodyGrace time.Duration
	BodyRate  int64
}

// page is the playground served at GET /.
var page = playground.MustNew()

// API is the http.Handler of the service. It is safe for concurrent use.
type API struct {
	opt      Options
	log      *slog.Logger
	metrics  *Metrics
	pool     *pool
	routes   map[string]map[string]routeHandler // path → method → handler
	draining atomic.Bool
}

type routeHandler func(w http.ResponseWriter, r *http.Request)

// New checks o and returns the API.
func New(o Options) (*API, error) {
	var missing []string
	if o.Pipeline == nil || o.Pipeline.Analyzer == nil {
		missing = append(missing, "a pipeline with its analyzer")
	}
	if o.Accounts == nil {
		missing = append(missing, "an account store")
	}
	if o.Limiter == nil {
		missing = append(missing, "a rate limiter")
	}
	if o.Fetcher == nil {
		missing = append(missing, "a fetcher")
	}
	if len(missing) > 0 {
		return nil, errors.New("httpapi: missing " + strings.Join(missing, ", "))
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Queue < 0 {
		o.Queue = 0
	}
	if o.Deadline <= 0 {
		o.Deadline = 60 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 50 << 20
	}
	if o.MaxImageBytes <= 0 {
		o.MaxImageBytes = 20 << 20
	}
	if o.Cost < 0 {
		o.Cost = 0
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = 60
	}
	if o.BodyGrace <= 0 {
		o.BodyGrace = defaultBodyGrace
	}
	if o.BodyRate <= 0 {
		o.BodyRate = defaultBodyRate
	}
	if o.RetryAfterSeconds <= 0 {
		o.RetryAfterSeconds = 1
	}
	a := &API{opt: o, log: o.Log, metrics: o.Metrics}
	a.pool = newPool(o.Workers, o.Queue, o.Metrics)
	a.routes = map[string]map[string]routeHandler{
		"/v1/faceswap-v3-multifaceswap": {http.MethodPost: a.handleSwap},
		"/v1/faces":                     {http.MethodPost: a.handleFaces},
		"/v1/get-user-credits":          {http.MethodGet: a.handleCredits},
		"/v2/faceswap-v3-multifaceswap": {http.MethodPost: a.handleSubmit},
		"/v2/requests/{id}":             {http.MethodGet: a.handleResult},
		"/v2/requests/{id}/status":      {http.MethodGet: a.handleStatus},
		"/healthz":                      {http.MethodGet: a.handleHealth},
		"/readyz":                       {http.MethodGet: a.handleReady},
		"/openapi.json":                 {http.MethodGet: a.handleOpenAPI},
		"/":                             {http.MethodGet: page.ServeHTTP},
	}
	if o.ServeMetrics {
		h := o.Metrics.Handler()
		a.routes["/metrics"] = map[string]routeHandler{http.MethodGet: h.ServeHTTP}
	}
	return a, nil
}

// Drain marks the API as shutting down: /readyz answers 503 from now on so
// load balancers stop sending, while requests already admitted finish.
func (a *API) Drain() { a.draining.Store(true) }

// Wait waits until no work runs on the workers (or ctx ends). After an
// http.Server's Shutdown every handler has returned, but work whose client
// was already answered 504 may still be finishing; call Wait before
// closing what the pipeline uses.
func (a *API) Wait(ctx context.Context) error { return a.pool.wait(ctx) }

// ServeHTTP routes r: an unknown path is a 404, a known path with another
// method a 405 with Allow, both with the JSON error body.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := r.URL.Path
	if _, status, ok := requestRoute(route); ok {
		route = "/v2/requests/{id}"
		if status {
			route += "/status"
		}
	}
	methods, known := a.routes[route]
	if !known {
		route = "unmatched"
	}
	a.serve(w, r, route, func(w http.ResponseWriter, r *http.Request) {
		if !known {
			a.writeError(w, r, errNoRoute)
			return
		}
		h, ok := methods[r.Method]
		if !ok && r.Method == http.MethodHead {
			h, ok = methods[http.MethodGet]
		}
		if !ok {
			allow := make([]string, 0, len(methods))
			for m := range methods {
				allow = append(allow, m)
			}
			sort.Strings(allow)
			w.Header().Set("Allow", strings.Join(allow, ", "))
			a.writeError(w, r, faceswap.Errorf(http.StatusMethodNotAllowed,
				"%s is not allowed on %s; use %s.", sanitize(r.Method, 16), r.URL.Path, strings.Join(allow, " or ")))
			return
		}
		h(w, r)
	})
}

func (a *API) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady answers 200 when the models are loaded and the account store
// answers, 503 otherwise (and while draining).
func (a *API) handleReady(w http.ResponseWriter, r *http.Request) {
	if a.draining.Load() {
		a.writeError(w, r, errDraining)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := a.opt.Accounts.Ping(ctx); err != nil {
		a.writeError(w, r, faceswap.Wrap(http.StatusServiceUnavailable, err, "The account store is not reachable."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// sanitize keeps what may be echoed in a header or message: printable
// ASCII without quotes or backslashes, at most n bytes.
func sanitize(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
	if len(s) > n {
		b.WriteString("...")
	}
	return b.String()
}
