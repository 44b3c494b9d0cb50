package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"faceswap"
	"faceswap/limit/redis"
	"faceswap/pipeline"
	"faceswap/server"
	"faceswap/store"
	"faceswap/store/postgres"
	"faceswap/store/sqlite"
)

// testRedisURL returns the Redis the tests share ($FACESWAP_TEST_REDIS_URL
// or the loopback's), skipping t when none answers, except under CI
// (CI=true), where one runs.
func testRedisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("FACESWAP_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	l, err := redis.Open(ctx, u, "")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: no Redis: %v", err)
		}
		t.Skipf("no Redis (%v): start one, or set FACESWAP_TEST_REDIS_URL", err)
	}
	l.Close()
	return u
}

// testDatabaseURL returns the test PostgreSQL database's URL
// ($FACESWAP_TEST_POSTGRES, or database "test" on the loopback) with
// search_path set to a new schema, which Open creates and the test drops
// when it ends. It skips t when the database does not answer, except under
// CI (CI=true).
func testDatabaseURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("FACESWAP_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: no PostgreSQL: %v", err)
		}
		t.Skipf("no PostgreSQL (%v): start one, or set FACESWAP_TEST_POSTGRES", err)
	}
	conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "faceswap_test_server_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	if !strings.Contains(base, "://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestSharedBackends: two servers given FACESWAP_DATABASE_URL and
// FACESWAP_REDIS_URL, and nothing else in common, are one service: a key
// one node's store made works on the other, a credit spent on one is gone
// on the other, and a limit of 2 a minute means two requests in all,
// whichever node they reach.
func TestSharedBackends(t *testing.T) {
	dbURL, redisURL := testDatabaseURL(t), testRedisURL(t)
	pl := sharedPipeline(t)
	var nodes []*srv
	for range 2 {
		cfg := testConfig(t) // each its own (unused) SQLite path
		cfg.DatabaseURL, cfg.RedisURL = dbURL, redisURL
		m, err := server.NewWith(cfg, server.Deps{Pipeline: pl, Log: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Store.Accounts().(*postgres.DB); !ok {
			t.Fatalf("FACESWAP_DATABASE_URL set: accounts %T, want *postgres.DB", m.Store.Accounts())
		}
		if _, ok := m.Limiter.(*redis.Limiter); !ok {
			t.Fatalf("FACESWAP_REDIS_URL set: limiter %T, want *redis.Limiter", m.Limiter)
		}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		nodes = append(nodes, &srv{t: t, m: m, url: m.URL(), api: loadOpenAPI(t)})
		if _, err := os.Stat(cfg.DB); err == nil {
			t.Error("the SQLite file was created though the accounts are in PostgreSQL")
		}
	}
	ctx := context.Background()
	accounts := nodes[0].m.Store.Accounts()

	// Rate limits: fresh key IDs, so fresh Redis state.
	limited, _, err := accounts.CreateKey(ctx, faceswap.KeyOptions{Credits: 10, RatePerMinute: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{400, 400, 429, 429} {
		s := nodes[i%2]
		r := s.do("POST", "/v1/faces", limited, "application/json", []byte(`{}`))
		if r.StatusCode != want || r.Header.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("request %d on node %d: %d, limit %q; want %d", i+1, i%2+1, r.StatusCode, r.Header.Get("X-RateLimit-Limit"), want)
		}
		if want == 429 && r.Header.Get("Retry-After") == "" {
			t.Errorf("request %d: 429 without Retry-After", i+1)
		}
	}

	// Credits: one credit, spent on node 1, is not there on node 2.
	secret, k, err := accounts.CreateKey(ctx, faceswap.KeyOptions{Credits: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r := nodes[0].swap(secret, small(t)); r.StatusCode != 200 || r.Header.Get("X-Remaining-Credits") != "0" {
		t.Fatalf("swap on node 1: %d, remaining %q: %.200s", r.StatusCode, r.Header.Get("X-Remaining-Credits"), r.body)
	}
	if r := nodes[1].swap(secret, small(t)); r.StatusCode != 406 {
		t.Errorf("swap on node 2 after node 1 spent the only credit: %d, want 406: %.200s", r.StatusCode, r.body)
	}
	if got, err := nodes[1].m.Store.Accounts().Key(ctx, k.ID); err != nil || got.Credits+got.FreeCredits != 0 {
		t.Errorf("balance seen by node 2: %+v, %v; want 0", got, err)
	}
}

// A Redis that does not answer stops start-up with the setting's name,
// rather than running with limits that hold on this node only.
func TestRedisUnreachable(t *testing.T) {
	cfg := testConfig(t)
	cfg.RedisURL = "redis://127.0.0.1:1/0"
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = server.NewWith(cfg, server.Deps{Pipeline: &pipeline.Pipeline{}, Store: store.SQLite(db), Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "FACESWAP_REDIS_URL (--redis-url)") {
		t.Errorf("unreachable Redis: %v, want an error naming FACESWAP_REDIS_URL", err)
	}
}

// A database that does not answer stops start-up with the setting's name,
// never falling back to the SQLite file.
func TestDatabaseUnreachable(t *testing.T) {
	cfg := testConfig(t)
	cfg.DatabaseURL = "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"
	_, err := server.NewWith(cfg, server.Deps{Pipeline: &pipeline.Pipeline{}, Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "FACESWAP_DATABASE_URL (--database-url)") {
		t.Errorf("unreachable database: %v, want an error naming FACESWAP_DATABASE_URL", err)
	}
	if _, err := os.Stat(cfg.DB); err == nil {
		t.Error("the SQLite file was created anyway")
	}
}
