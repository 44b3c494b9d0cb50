package server

import (
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestDefaults: the documented defaults, valid as they are.
func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"FACESWAP_HOME": "/srv/fs"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: ":8080", DB: filepath.Join("/srv/fs", "faceswap.db"), Home: "/srv/fs",
		Workers: runtime.NumCPU(), Queue: QueueAuto, Deadline: time.Minute,
		MaxBody: 50 << 20, MaxImageBytes: 20 << 20, MaxImagePixels: 40_000_000,
		Cost: 1, RatePerMinute: 60, LogLevel: slog.LevelInfo, ShutdownTimeout: 90 * time.Second,
	}
	if c.Addr != want.Addr || c.DB != want.DB || c.Home != want.Home || c.Workers != want.Workers || c.Queue != want.Queue ||
		c.Deadline != want.Deadline || c.MaxBody != want.MaxBody || c.MaxImageBytes != want.MaxImageBytes ||
		c.MaxImagePixels != want.MaxImagePixels || c.Cost != want.Cost || c.CostPerFace || c.RatePerMinute != want.RatePerMinute ||
		c.LogLevel != want.LogLevel || c.ShutdownTimeout != want.ShutdownTimeout || c.MetricsAddr != "" || len(c.FetchAllow) != 0 {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if c.QueueSize() != 2*runtime.NumCPU() {
		t.Errorf("queue %d", c.QueueSize())
	}
}

// TestFromEnv: every variable is read, in the units it documents.
func TestFromEnv(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"FACESWAP_ADDR": "127.0.0.1:9000", "FACESWAP_METRICS_ADDR": ":9100", "FACESWAP_DB": "/data/keys.db",
		"FACESWAP_HOME": "/models", "FACESWAP_WORKERS": "3", "FACESWAP_DEADLINE": "90", "FACESWAP_MAX_BODY": "10MB",
		"FACESWAP_MAX_IMAGE_BYTES": "512 KB", "FACESWAP_MAX_IMAGE_PIXELS": "12MP", "FACESWAP_FETCH_ALLOW": "localhost, 127.0.0.1/32 ,",
		"FACESWAP_COST": "2", "FACESWAP_COST_PER_FACE": "true", "FACESWAP_RATE_PER_MINUTE": "5", "FACESWAP_LOG_LEVEL": "debug",
		"FACESWAP_SHUTDOWN_TIMEOUT": "5s", "FACESWAP_ORT_THREADS": "2", "FACESWAP_ORT_PROVIDER": "cpu", "FACESWAP_ORT_LIB": "/lib/ort.so",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.MetricsAddr != ":9100" || c.DB != "/data/keys.db" || c.Home != "/models" ||
		c.Workers != 3 || c.QueueSize() != 6 || c.Deadline != 90*time.Second || c.MaxBody != 10<<20 ||
		c.MaxImageBytes != 512<<10 || c.MaxImagePixels != 12_000_000 || strings.Join(c.FetchAllow, " ") != "localhost 127.0.0.1/32" ||
		c.Cost != 2 || !c.CostPerFace || c.RatePerMinute != 5 || c.LogLevel != slog.LevelDebug || c.ShutdownTimeout != 5*time.Second ||
		c.ORTThreads != 2 || c.ORTProvider != "cpu" || c.ORTConfig().LibraryPath != "/lib/ort.so" {
		t.Errorf("%+v", c)
	}
	c, err = FromEnv(env(map[string]string{"FACESWAP_WORKERS": "2", "FACESWAP_QUEUE": "0", "FACESWAP_HOME": "/m"}))
	if err != nil || c.QueueSize() != 0 || c.ORTConfig().LibraryPath == "" {
		t.Errorf("queue 0: %v %d", err, c.QueueSize())
	}
}

// TestValidateReportsEverything: every bad setting is named at once, by
// its variable and its flag; a value that does not parse is reported once.
func TestValidateReportsEverything(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"FACESWAP_WORKERS": "0", "FACESWAP_QUEUE": "-3", "FACESWAP_DEADLINE": "soon", "FACESWAP_MAX_BODY": "lots",
		"FACESWAP_MAX_IMAGE_BYTES": "0", "FACESWAP_MAX_IMAGE_PIXELS": "-1MP", "FACESWAP_FETCH_ALLOW": "not a host",
		"FACESWAP_COST": "-1", "FACESWAP_COST_PER_FACE": "maybe", "FACESWAP_RATE_PER_MINUTE": "0", "FACESWAP_LOG_LEVEL": "loud",
		"FACESWAP_ORT_THREADS": "-2",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, name := range []string{"FACESWAP_WORKERS (--workers)", "FACESWAP_QUEUE (--queue)", "FACESWAP_DEADLINE (--deadline)",
		"FACESWAP_MAX_BODY (--max-body)", "FACESWAP_MAX_IMAGE_BYTES (--max-image-bytes)", "FACESWAP_MAX_IMAGE_PIXELS (--max-image-pixels)",
		"FACESWAP_FETCH_ALLOW (--fetch-allow)", "FACESWAP_COST (--cost)", "FACESWAP_COST_PER_FACE (--cost-per-face)",
		"FACESWAP_RATE_PER_MINUTE (--rate-per-minute)", "FACESWAP_LOG_LEVEL (--log-level)", "FACESWAP_ORT_THREADS (--ort-threads)"} {
		if n := strings.Count(msg, name); n != 1 {
			t.Errorf("%s named %d times in:\n%s", name, n, msg)
		}
	}
	if lines := strings.Count(msg, "\n") + 1; lines != 12 {
		t.Errorf("%d lines, want 12:\n%s", lines, msg)
	}
	// The metrics listener cannot share the API's fixed address.
	c := Defaults()
	c.MetricsAddr = c.Addr
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "FACESWAP_METRICS_ADDR") {
		t.Errorf("same address: %v", err)
	}
	c.Addr, c.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0"
	if err := c.Validate(); err != nil {
		t.Errorf("two :0 listeners: %v", err)
	}
}

// TestSettingsRoundTrip: every setting has its own variable and flag, and
// setting what Get shows changes nothing.
func TestSettingsRoundTrip(t *testing.T) {
	envs, flags := map[string]bool{}, map[string]bool{}
	for _, s := range Settings {
		if envs[s.Env] || flags[s.Flag] || !strings.HasPrefix(s.Env, "FACESWAP_") || s.Usage == "" {
			t.Errorf("setting %+v", s)
		}
		envs[s.Env], flags[s.Flag] = true, true
		c := Defaults()
		c.FetchAllow = []string{"localhost", "10.0.0.0/8"}
		c.MaxBody = 3 << 20
		before := c
		if v := s.Get(&c); v != "" || s.Env != "FACESWAP_METRICS_ADDR" && s.Env != "FACESWAP_ORT_LIB" && s.Env != "FACESWAP_ORT_PROVIDER" {
			if err := s.Set(&c, v); err != nil {
				t.Errorf("%s: Set(Get()=%q): %v", s.Env, v, err)
			}
		}
		if s.Get(&c) != s.Get(&before) || c.Validate() != nil {
			t.Errorf("%s: %q became %q", s.Env, s.Get(&before), s.Get(&c))
		}
	}
	if len(Settings) != 29 {
		t.Errorf("%d settings", len(Settings))
	}
}

// TestSharedBackendSettings: the PostgreSQL and Redis URLs are read, empty
// by default, and a bad one is named without echoing its password.
func TestSharedBackendSettings(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"FACESWAP_HOME": "/m"}))
	if err != nil || c.DatabaseURL != "" || c.RedisURL != "" {
		t.Fatalf("defaults: %q %q %v", c.DatabaseURL, c.RedisURL, err)
	}
	for _, db := range []string{"postgres://fs:pw@db:5432/faceswap?sslmode=require", "postgresql://db/faceswap", "host=db dbname=faceswap"} {
		c, err := FromEnv(env(map[string]string{"FACESWAP_HOME": "/m", "FACESWAP_DATABASE_URL": db, "FACESWAP_REDIS_URL": "rediss://:pw@cache:6380/1"}))
		if err != nil || c.DatabaseURL != db || c.RedisURL != "rediss://:pw@cache:6380/1" {
			t.Errorf("%q: %q %q %v", db, c.DatabaseURL, c.RedisURL, err)
		}
	}
	_, err = FromEnv(env(map[string]string{"FACESWAP_HOME": "/m",
		"FACESWAP_DATABASE_URL": "mysql://u:s3cret@db/x", "FACESWAP_REDIS_URL": "redis://u:s3cret@cache:port"}))
	if err == nil {
		t.Fatal("bad URLs accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "FACESWAP_DATABASE_URL (--database-url)") || !strings.Contains(msg, "FACESWAP_REDIS_URL (--redis-url)") || strings.Contains(msg, "s3cret") {
		t.Errorf("bad URLs: %s", msg)
	}
	if err := checkDatabaseURL("db.example:5432"); err == nil {
		t.Error("a bare host:port accepted as a database")
	}
}
