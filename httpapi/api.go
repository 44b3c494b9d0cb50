// Package httpapi is the HTTP face of the service: the hosted
// "Faceswap V3 Multifaceswap" contract (SPEC §1–§4) with keys, credits,
// rate limits, a bounded pool of requests running on the process's CPU
// scheduler (package cpu), metrics, an OpenAPI description and
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
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"faceswap"
	"faceswap/cpu"
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

	// CPU is the scheduler whose cores the swaps run on, shared with the
	// asynchronous jobs' workers (default: one of Workers cores, for this
	// API alone).
	CPU      *cpu.Scheduler
	Workers  int           // swaps admitted to run at once (default 1)
	Queue    int           // requests admitted beyond the workers before 503 (0: none)
	Deadline time.Duration // per request (default 60 s)

	MaxBody       int64 // request body bytes (default 50 MB)
	MaxImageBytes int64 // bytes of one input image (default 20 MB)

	Price         faceswap.Price // what a successful swap costs (zero: free)
	RatePerMinute int            // for keys without their own limit (default 60)

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

// API is the http.Handler of the service. It is safe for concurrent use.
type API struct {
	opt      Options
	log      *slog.Logger
	metrics  *Metrics
	pool     *pool
	mux      *http.ServeMux
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
	if o.Price.Credits < 0 {
		o.Price.Credits = 0
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
	if o.CPU == nil {
		sched, err := cpu.New(cpu.Config{Cores: o.Workers})
		if err != nil {
			return nil, err
		}
		o.CPU = sched
	}
	a := &API{opt: o, log: o.Log, metrics: o.Metrics}
	a.pool = newPool(o.Workers, o.Queue, o.CPU, o.Metrics)
	// the playground served at GET /, built from its embedded files
	page, err := playground.New()
	if err != nil {
		return nil, err
	}
	a.mux = a.routes(page)
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

// route is an endpoint: its method, its path as an http.ServeMux
// pattern, and its handler.
type route struct {
	method, path string
	h            routeHandler
}

// routes returns the mux of every endpoint. Each path also answers other
// methods with a 405 naming the allowed ones (Allow), and any other path
// is a 404; both with the JSON error body, and every answer through
// serve, labelled by the path's pattern (or "unmatched").
func (a *API) routes(page *playground.Page) *http.ServeMux {
	list := []route{
		{http.MethodPost, "/v1/faceswap-v3-multifaceswap", a.handleSwap},
		{http.MethodPost, "/v1/faces", a.handleFaces},
		{http.MethodGet, "/v1/get-user-credits", a.handleCredits},
		{http.MethodPost, "/v2/faceswap-v3-multifaceswap", a.handleSubmit},
		{http.MethodGet, "/v2/requests/{id}", a.handleResult},
		{http.MethodGet, "/v2/requests/{id}/status", a.handleStatus},
		{http.MethodGet, "/healthz", a.handleHealth},
		{http.MethodGet, "/readyz", a.handleReady},
		{http.MethodGet, "/openapi.json", a.handleOpenAPI},
		{http.MethodGet, "/{$}", page.ServeHTTP},
	}
	if a.opt.ServeMetrics {
		list = append(list, route{http.MethodGet, "/metrics", a.opt.Metrics.Handler().ServeHTTP})
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range list {
		mux.Handle(rt.method+" "+rt.path, a.labelled(rt.path, rt.h))
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	for path, methods := range allowed {
		sort.Strings(methods)
		mux.Handle(path, a.labelled(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			a.writeError(w, r, faceswap.Errorf(http.StatusMethodNotAllowed,
				"%s is not allowed on %s; use %s.", sanitize(r.Method, 16), r.URL.Path, strings.Join(methods, " or ")))
		}))
	}
	mux.Handle("/", a.labelled(unmatched, a.noRoute))
	return mux
}

// unmatched labels the answers to paths of no endpoint.
const unmatched = "unmatched"

// labelled is h behind serve, labelled by the path pattern (the root's
// "/{$}" as "/").
func (a *API) labelled(path string, h routeHandler) http.Handler {
	if path == "/{$}" {
		path = "/"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, path, h) })
}

func (a *API) noRoute(w http.ResponseWriter, r *http.Request) { a.writeError(w, r, errNoRoute) }

// ServeHTTP routes r. A path with empty, "." or ".." segments is no
// endpoint's (a 404, where http.ServeMux would redirect to its clean form),
// nor one with an escaped slash (which a request id cannot hold).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == "" || p != cleanPath(p) || strings.Contains(strings.ToLower(r.URL.EscapedPath()), "%2f") {
		a.serve(w, r, unmatched, a.noRoute)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// cleanPath is path.Clean keeping a trailing slash.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
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
