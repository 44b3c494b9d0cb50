// Package server assembles the HTTP API from its parts: it reads the
// configuration (FACESWAP_* environment variables, overridden by flags),
// opens the store (keys, credits, jobs and their queue), the rate limiter,
// the fetcher and the models, makes the one CPU scheduler the synchronous
// and asynchronous swaps share, and runs the listeners and job workers with
// a graceful shutdown. Main is what the serve and worker commands and the
// end-to-end tests run.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"faceswap"
	"faceswap/fetch"
	"faceswap/limit/redis"
	"faceswap/models"
)

// Config is everything the server can be told. The zero value is not
// useful: start from Defaults (or FromEnv) and change fields.
type Config struct {
	Addr        string // listen address (FACESWAP_ADDR); ":0" picks a free port
	MetricsAddr string // separate listener for /metrics (FACESWAP_METRICS_ADDR); "" serves it on Addr
	DB          string // SQLite file of keys and credits (FACESWAP_DB)
	Home        string // model cache folder (FACESWAP_HOME)

	// Several nodes share keys, credits and rate limits through these:
	// DatabaseURL, a PostgreSQL database that keeps keys and credits
	// instead of DB (FACESWAP_DATABASE_URL; "" = DB), and RedisURL, a Redis
	// that keeps the rate limits (FACESWAP_REDIS_URL; "" = in this process).
	DatabaseURL string
	RedisURL    string

	Workers  int           // swaps running at once, sync and async together: the CPU scheduler's cores (FACESWAP_WORKERS)
	Queue    int           // requests waiting for a worker (FACESWAP_QUEUE); QueueAuto: 2 × Workers
	Deadline time.Duration // per request, from arrival to answer (FACESWAP_DEADLINE)

	MaxBody        int64    // request body bytes (FACESWAP_MAX_BODY)
	MaxImageBytes  int64    // bytes of one input image, fetched or inline (FACESWAP_MAX_IMAGE_BYTES)
	MaxImagePixels int64    // width × height of one input image (FACESWAP_MAX_IMAGE_PIXELS)
	FetchAllow     []string // hosts or address ranges input URLs may reach despite the SSRF rules (FACESWAP_FETCH_ALLOW)

	Cost          int64 // credits per successful request (FACESWAP_COST)
	CostPerFace   bool  // charge Cost per swapped face instead (FACESWAP_COST_PER_FACE)
	RatePerMinute int   // requests per minute of keys without their own limit (FACESWAP_RATE_PER_MINUTE)

	// The asynchronous API (/v2): AsyncWorkers jobs run at once in this
	// process (FACESWAP_ASYNC_WORKERS; 0 = this node only queues them),
	// finished jobs stay readable for JobTTL (FACESWAP_JOB_TTL), one run of
	// a job may take JobTimeout (FACESWAP_JOB_TIMEOUT), and a job running
	// longer than JobRescueAfter is taken to be abandoned by a dead worker
	// and run again (FACESWAP_JOB_RESCUE_AFTER; 0 = JobTimeout + 1 min).
	AsyncWorkers   int
	JobTTL         time.Duration
	JobTimeout     time.Duration
	JobRescueAfter time.Duration

	// Webhooks of v2 requests are signed with WebhookSecret
	// (FACESWAP_WEBHOOK_SECRET; "" = webhooks refused), tried up to
	// WebhookAttempts times (FACESWAP_WEBHOOK_ATTEMPTS), waiting
	// WebhookBackoff before the first retry and twice as long each time
	// after (FACESWAP_WEBHOOK_BACKOFF).
	WebhookSecret   string
	WebhookAttempts int
	WebhookBackoff  time.Duration

	// SwapDetector names an installed detector of those facedetection
	// names (models.Values) that proposes faces for the swap instead of
	// BlazeFace (FACESWAP_SWAP_DETECTOR; "" = BlazeFace).
	SwapDetector string

	LogLevel        slog.Level    // FACESWAP_LOG_LEVEL: debug, info, warn or error
	ShutdownTimeout time.Duration // how long Close waits for in-flight requests (FACESWAP_SHUTDOWN_TIMEOUT)

	// ONNX Runtime: library (FACESWAP_ORT_LIB; "" = the one set-up placed in
	// Home), execution provider (FACESWAP_ORT_PROVIDER) and threads per
	// model run (FACESWAP_ORT_THREADS; 0 = 1).
	ORTLibrary  string
	ORTProvider string
	ORTThreads  int
}

// QueueAuto as Config.Queue means twice the number of workers.
const QueueAuto = -1

// Defaults returns the built-in configuration.
func Defaults() Config {
	home := models.Home()
	return Config{
		Addr:            ":8080",
		DB:              filepath.Join(home, "faceswap.db"),
		Home:            home,
		Workers:         runtime.NumCPU(),
		Queue:           QueueAuto,
		Deadline:        60 * time.Second,
		MaxBody:         50 << 20,
		MaxImageBytes:   20 << 20,
		MaxImagePixels:  40_000_000,
		Cost:            1,
		RatePerMinute:   60,
		AsyncWorkers:    1,
		JobTTL:          time.Hour,
		JobTimeout:      2 * time.Minute,
		WebhookAttempts: 8,
		WebhookBackoff:  10 * time.Second,
		LogLevel:        slog.LevelInfo,
		ShutdownTimeout: 90 * time.Second,
	}
}

// QueueSize returns the effective queue length (resolving QueueAuto).
func (c Config) QueueSize() int {
	if c.Queue == QueueAuto {
		return 2 * c.Workers
	}
	return c.Queue
}

// price is what a successful swap costs, sync or async.
func (c Config) price() faceswap.Price {
	return faceswap.Price{Credits: c.Cost, PerFace: c.CostPerFace}
}

// Setting is one configuration item: its environment variable, its flag,
// and how to read and show it. Settings lists them all; FromEnv and the
// serve command's flags both go through it, so the two cannot drift apart.
type Setting struct {
	Env, Flag, Usage string
	set              func(c *Config, v string) error
	get              func(c *Config) string
}

// Set parses v into c.
// A value that does not parse leaves c unchanged.
func (s Setting) Set(c *Config, v string) error {
	tmp := *c
	if err := s.set(&tmp, strings.TrimSpace(v)); err != nil {
		return fmt.Errorf("%s (--%s) %q: %v", s.Env, s.Flag, v, err)
	}
	*c = tmp
	return nil
}

// Get shows the setting's current value in c.
func (s Setting) Get(c *Config) string { return s.get(c) }

// Settings are every configuration item, in the order the help lists them.
var Settings = []Setting{
	{"FACESWAP_ADDR", "addr", "listen address (\":0\" picks a free port)",
		func(c *Config, v string) error { c.Addr = v; return nil },
		func(c *Config) string { return c.Addr }},
	{"FACESWAP_METRICS_ADDR", "metrics-addr", "separate listen address for /metrics (empty: served on --addr)",
		func(c *Config, v string) error { c.MetricsAddr = v; return nil },
		func(c *Config) string { return c.MetricsAddr }},
	{"FACESWAP_DB", "db", "SQLite file of API keys and credits",
		func(c *Config, v string) error { c.DB = v; return nil },
		func(c *Config) string { return c.DB }},
	{"FACESWAP_DATABASE_URL", "database-url", "PostgreSQL URL of the keys and credits several nodes share (postgres://user:password@host:5432/db; empty: the SQLite file --db)",
		func(c *Config, v string) error { c.DatabaseURL = v; return nil }, // checked by Validate, which does not echo a password
		func(c *Config) string { return c.DatabaseURL }},
	{"FACESWAP_REDIS_URL", "redis-url", "Redis URL of the rate limits several nodes share (redis://[user:password@]host:6379/0, rediss:// for TLS; empty: in this process)",
		func(c *Config, v string) error { c.RedisURL = v; return nil },
		func(c *Config) string { return c.RedisURL }},
	{"FACESWAP_HOME", "home", "model cache folder that set-up filled",
		func(c *Config, v string) error {
			if c.DB == filepath.Join(c.Home, "faceswap.db") {
				c.DB = filepath.Join(v, "faceswap.db") // the database follows the cache folder unless set
			}
			c.Home = v
			return nil
		},
		func(c *Config) string { return c.Home }},
	{"FACESWAP_WORKERS", "workers", "swaps running at once, sync and v2 jobs together (default: the number of CPUs)",
		func(c *Config, v string) (err error) { c.Workers, err = parseInt(v); return },
		func(c *Config) string { return strconv.Itoa(c.Workers) }},
	{"FACESWAP_QUEUE", "queue", "requests waiting for a worker before 503 (default: 2 × workers)",
		func(c *Config, v string) (err error) { c.Queue, err = parseInt(v); return },
		func(c *Config) string { return strconv.Itoa(c.QueueSize()) }},
	{"FACESWAP_DEADLINE", "deadline", "per-request deadline before 504 (Go duration, or seconds)",
		func(c *Config, v string) (err error) { c.Deadline, err = parseDuration(v); return },
		func(c *Config) string { return c.Deadline.String() }},
	{"FACESWAP_MAX_BODY", "max-body", "largest request body (bytes, or with KB/MB/GB)",
		func(c *Config, v string) (err error) { c.MaxBody, err = parseBytes(v); return },
		func(c *Config) string { return formatBytes(c.MaxBody) }},
	{"FACESWAP_MAX_IMAGE_BYTES", "max-image-bytes", "largest input image (bytes, or with KB/MB/GB)",
		func(c *Config, v string) (err error) { c.MaxImageBytes, err = parseBytes(v); return },
		func(c *Config) string { return formatBytes(c.MaxImageBytes) }},
	{"FACESWAP_MAX_IMAGE_PIXELS", "max-image-pixels", "largest input image in pixels (a number, or with MP)",
		func(c *Config, v string) (err error) { c.MaxImagePixels, err = parsePixels(v); return },
		func(c *Config) string { return strconv.FormatInt(c.MaxImagePixels, 10) }},
	{"FACESWAP_FETCH_ALLOW", "fetch-allow", "comma-separated hosts or CIDR ranges input URLs may reach despite the SSRF rules",
		func(c *Config, v string) (err error) { c.FetchAllow, err = fetch.ParseAllow(v); return },
		func(c *Config) string { return strings.Join(c.FetchAllow, ",") }},
	{"FACESWAP_COST", "cost", "credits charged per successful request",
		func(c *Config, v string) (err error) { n, err := parseInt(v); c.Cost = int64(n); return err },
		func(c *Config) string { return strconv.FormatInt(c.Cost, 10) }},
	{"FACESWAP_COST_PER_FACE", "cost-per-face", "charge the cost per swapped face instead of per request",
		func(c *Config, v string) (err error) { c.CostPerFace, err = parseBool(v); return },
		func(c *Config) string { return strconv.FormatBool(c.CostPerFace) }},
	{"FACESWAP_RATE_PER_MINUTE", "rate-per-minute", "requests per minute of keys without their own limit",
		func(c *Config, v string) (err error) { c.RatePerMinute, err = parseInt(v); return },
		func(c *Config) string { return strconv.Itoa(c.RatePerMinute) }},
	{"FACESWAP_ASYNC_WORKERS", "async-workers", "v2 jobs this process takes at once, run on the workers' cores beside the sync swaps (0: it only queues them, for other nodes' workers)",
		func(c *Config, v string) (err error) { c.AsyncWorkers, err = parseInt(v); return },
		func(c *Config) string { return strconv.Itoa(c.AsyncWorkers) }},
	{"FACESWAP_JOB_TTL", "job-ttl", "how long a finished v2 job's result stays readable before it is deleted",
		func(c *Config, v string) (err error) { c.JobTTL, err = parseDuration(v); return },
		func(c *Config) string { return c.JobTTL.String() }},
	{"FACESWAP_JOB_TIMEOUT", "job-timeout", "longest run of one v2 job before it fails with 504",
		func(c *Config, v string) (err error) { c.JobTimeout, err = parseDuration(v); return },
		func(c *Config) string { return c.JobTimeout.String() }},
	{"FACESWAP_JOB_RESCUE_AFTER", "job-rescue-after", "a v2 job running this long is taken to be abandoned by a dead worker and run again (0: job timeout + 1m)",
		func(c *Config, v string) (err error) { c.JobRescueAfter, err = parseDuration(v); return },
		func(c *Config) string { return c.JobRescueAfter.String() }},
	{"FACESWAP_WEBHOOK_SECRET", "webhook-secret", "key of the HMAC-SHA256 signature of webhooks (empty: v2 requests with a webhook are refused)",
		func(c *Config, v string) error { c.WebhookSecret = v; return nil },
		func(c *Config) string {
			if c.WebhookSecret != "" {
				return "(set)"
			}
			return ""
		}},
	{"FACESWAP_WEBHOOK_ATTEMPTS", "webhook-attempts", "times a webhook is tried before it is given up",
		func(c *Config, v string) (err error) { c.WebhookAttempts, err = parseInt(v); return },
		func(c *Config) string { return strconv.Itoa(c.WebhookAttempts) }},
	{"FACESWAP_WEBHOOK_BACKOFF", "webhook-backoff", "wait before a webhook's first retry, doubled after each (at most 1h)",
		func(c *Config, v string) (err error) { c.WebhookBackoff, err = parseDuration(v); return },
		func(c *Config) string { return c.WebhookBackoff.String() }},
	{"FACESWAP_SWAP_DETECTOR", "swap-detector", "an installed named detector (" + strings.Join(models.Values(models.FieldFaceDetection), ", ") + ") to find faces for the swap instead of BlazeFace",
		func(c *Config, v string) error { c.SwapDetector = v; return nil },
		func(c *Config) string { return c.SwapDetector }},
	{"FACESWAP_LOG_LEVEL", "log-level", "debug, info, warn or error",
		func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) },
		func(c *Config) string { return strings.ToLower(c.LogLevel.String()) }},
	{"FACESWAP_SHUTDOWN_TIMEOUT", "shutdown-timeout", "how long shutdown waits for in-flight requests",
		func(c *Config, v string) (err error) { c.ShutdownTimeout, err = parseDuration(v); return },
		func(c *Config) string { return c.ShutdownTimeout.String() }},
	{"FACESWAP_ORT_LIB", "ort-lib", "ONNX Runtime shared library (default: the one set-up placed in the cache folder)",
		func(c *Config, v string) error { c.ORTLibrary = v; return nil },
		func(c *Config) string { return c.ORTLibrary }},
	{"FACESWAP_ORT_PROVIDER", "ort-provider", "ONNX Runtime execution provider: cpu, cuda, tensorrt, coreml",
		func(c *Config, v string) error { c.ORTProvider = v; return nil },
		func(c *Config) string { return c.ORTProvider }},
	{"FACESWAP_ORT_THREADS", "ort-threads", "threads per model run (0: 1)",
		func(c *Config, v string) (err error) { c.ORTThreads, err = parseInt(v); return },
		func(c *Config) string { return strconv.Itoa(c.ORTThreads) }},
}

// FromEnv returns Defaults changed by every FACESWAP_* variable getenv
// gives (empty means unset). The error lists every unreadable or invalid
// setting at once.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Defaults()
	// The cache folder first: the default database lives in it.
	home := getenv("FACESWAP_HOME")
	if home == "" {
		home = models.Home()
	}
	c.Home, c.DB = home, filepath.Join(home, "faceswap.db")
	var errs []error
	for _, s := range Settings {
		if s.Env == "FACESWAP_HOME" {
			continue
		}
		if v := getenv(s.Env); v != "" {
			if err := s.Set(&c, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		if verr := c.Validate(); verr != nil {
			return c, errors.Join(err, verr)
		}
		return c, err
	}
	return c, c.Validate()
}

// Validate reports every bad setting at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (--%s): %s", env, flag, fmt.Sprintf(format, args...)))
	}
	if c.Addr == "" {
		bad("FACESWAP_ADDR", "addr", "the listen address is empty")
	}
	if _, port, _ := net.SplitHostPort(c.Addr); c.MetricsAddr != "" && c.MetricsAddr == c.Addr && port != "0" {
		bad("FACESWAP_METRICS_ADDR", "metrics-addr", "%q is the API's own address; leave it empty to serve /metrics there", c.MetricsAddr)
	}
	if c.DB == "" {
		bad("FACESWAP_DB", "db", "the database path is empty")
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		bad("FACESWAP_DATABASE_URL", "database-url", "%v", err)
	}
	if c.RedisURL != "" {
		if err := redis.CheckURL(c.RedisURL); err != nil {
			bad("FACESWAP_REDIS_URL", "redis-url", "%v", err)
		}
	}
	if c.Workers < 1 {
		bad("FACESWAP_WORKERS", "workers", "must be at least 1, got %d", c.Workers)
	}
	if c.Queue < 0 && c.Queue != QueueAuto {
		bad("FACESWAP_QUEUE", "queue", "must be 0 or more, got %d", c.Queue)
	}
	if c.Deadline <= 0 {
		bad("FACESWAP_DEADLINE", "deadline", "must be positive, got %v", c.Deadline)
	}
	if c.MaxBody <= 0 {
		bad("FACESWAP_MAX_BODY", "max-body", "must be positive, got %d", c.MaxBody)
	}
	if c.MaxImageBytes <= 0 {
		bad("FACESWAP_MAX_IMAGE_BYTES", "max-image-bytes", "must be positive, got %d", c.MaxImageBytes)
	}
	if c.MaxImagePixels <= 0 {
		bad("FACESWAP_MAX_IMAGE_PIXELS", "max-image-pixels", "must be positive, got %d", c.MaxImagePixels)
	}
	if err := (fetch.Config{Allow: c.FetchAllow}).Validate(); err != nil {
		bad("FACESWAP_FETCH_ALLOW", "fetch-allow", "%v", err)
	}
	if c.Cost < 0 {
		bad("FACESWAP_COST", "cost", "must be 0 or more, got %d", c.Cost)
	}
	if c.RatePerMinute < 1 {
		bad("FACESWAP_RATE_PER_MINUTE", "rate-per-minute", "must be at least 1, got %d", c.RatePerMinute)
	}
	if c.ShutdownTimeout <= 0 {
		bad("FACESWAP_SHUTDOWN_TIMEOUT", "shutdown-timeout", "must be positive, got %v", c.ShutdownTimeout)
	}
	if c.AsyncWorkers < 0 {
		bad("FACESWAP_ASYNC_WORKERS", "async-workers", "must be 0 or more, got %d", c.AsyncWorkers)
	}
	if c.JobTTL <= 0 {
		bad("FACESWAP_JOB_TTL", "job-ttl", "must be positive, got %v", c.JobTTL)
	}
	if c.JobTimeout <= 0 {
		bad("FACESWAP_JOB_TIMEOUT", "job-timeout", "must be positive, got %v", c.JobTimeout)
	}
	if c.JobRescueAfter < 0 || c.JobRescueAfter > 0 && c.JobRescueAfter <= c.JobTimeout {
		bad("FACESWAP_JOB_RESCUE_AFTER", "job-rescue-after", "must be 0 or longer than the job timeout (%v), got %v", c.JobTimeout, c.JobRescueAfter)
	}
	if c.WebhookAttempts < 1 {
		bad("FACESWAP_WEBHOOK_ATTEMPTS", "webhook-attempts", "must be at least 1, got %d", c.WebhookAttempts)
	}
	if c.WebhookBackoff <= 0 {
		bad("FACESWAP_WEBHOOK_BACKOFF", "webhook-backoff", "must be positive, got %v", c.WebhookBackoff)
	}
	if c.ORTThreads < 0 {
		bad("FACESWAP_ORT_THREADS", "ort-threads", "must not be negative, got %d", c.ORTThreads)
	}
	return errors.Join(errs...)
}

// checkDatabaseURL accepts "" (the SQLite file), a postgres:// or
// postgresql:// URL, or PostgreSQL's key=value form. Its errors never
// quote the value, which may hold a password.
func checkDatabaseURL(v string) error {
	const want = "want postgres://user:password@host:5432/dbname, or key=value pairs such as \"host=db dbname=faceswap\""
	switch {
	case v == "":
		return nil
	case strings.Contains(v, "://"):
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return errors.New("not a PostgreSQL URL; " + want)
		}
	case !strings.Contains(v, "="):
		return errors.New("neither a URL nor key=value pairs; " + want)
	}
	return nil
}

func parseInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errors.New("not a whole number")
	}
	return n, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean (true or false)")
}

// parseDuration reads a Go duration ("90s", "2m") or a number of seconds.
func parseDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New(`not a duration (e.g. "60s", "2m" or a number of seconds)`)
	}
	return d, nil
}

// parseBytes reads a byte count: a number, optionally followed by B, KB,
// MB or GB (powers of 1024, as the error messages print them).
func parseBytes(v string) (int64, error) {
	return parseScaled(v, map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30},
		`not a size (e.g. "52428800", "50MB" or "512KB")`)
}

// parsePixels reads a pixel count: a number, optionally followed by MP.
func parsePixels(v string) (int64, error) {
	return parseScaled(v, map[string]int64{"": 1, "mp": 1_000_000}, `not a pixel count (e.g. "40000000" or "40MP")`)
}

func parseScaled(v string, units map[string]int64, msg string) (int64, error) {
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := v, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(v[:i]), strings.ToLower(strings.TrimSpace(v[i:]))
	}
	mul, ok := units[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 || f*float64(mul) > 1<<62 {
		return 0, errors.New(msg)
	}
	return int64(f * float64(mul)), nil
}

func formatBytes(n int64) string {
	if n > 0 && n%(1<<20) == 0 {
		return fmt.Sprintf("%dMB", n>>20)
	}
	return strconv.FormatInt(n, 10)
}
