package redis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"faceswap"
	"faceswap/limit/limittest"
)

// testURL is the Redis the tests use: $FACESWAP_TEST_REDIS_URL, or the
// one on the loopback at the default port.
func testURL() string {
	if u := os.Getenv("FACESWAP_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// connect returns a new client to the test Redis, closed when t ends. It
// skips t when Redis is not reachable, except under CI (CI=true), where
// Redis runs and its absence fails the test.
func connect(t *testing.T) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(testURL())
	if err != nil {
		t.Fatalf("FACESWAP_TEST_REDIS_URL: %v", err)
	}
	c := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		msg := fmt.Sprintf("no Redis at %s (%v): start one, or set FACESWAP_TEST_REDIS_URL", opt.Addr, err)
		if os.Getenv("CI") == "true" {
			t.Fatal("CI: " + msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// prefix returns a key prefix for this test alone and deletes its keys
// when the test ends (they would expire within a minute anyway).
func prefix(t *testing.T, c *goredis.Client) string {
	t.Helper()
	p := limittest.Prefix(strings.ReplaceAll(t.Name(), "/", "."))
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		it := c.Scan(ctx, 0, "rate:"+p+"*", 1000).Iterator()
		for it.Next(ctx) {
			keys = append(keys, it.Val())
		}
		if err := it.Err(); err != nil {
			t.Errorf("cleaning up: %v", err)
			return
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("cleaning up: %v", err)
			}
		}
	})
	return p
}

// The suite, with every limiter it asks for on its own connection, as
// separate server nodes would be, all under one prefix: one shared limit.
func TestConformance(t *testing.T) {
	p := prefix(t, connect(t))
	limittest.Run(t, limittest.Backend{
		New:    func(t *testing.T) faceswap.Limiter { return New(connect(t), p) },
		Shared: true,
	})
}

// A key's state is one value at "rate:"+prefix+key that expires once the
// allowance is whole again, so Redis holds only recently active keys; a
// different prefix is a different limit.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	c := connect(t)
	p := prefix(t, c)
	l := New(c, p)
	d, err := l.Allow(ctx, "k", 60)
	if err != nil || !d.Allowed {
		t.Fatalf("%+v, %v", d, err)
	}
	ttl, err := c.TTL(ctx, "rate:"+p+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > time.Second {
		t.Errorf("one request at 60/min: TTL %v, want 1 s (the time until the allowance is whole)", ttl)
	}
	if n, err := c.Exists(ctx, "rate:"+p+"k").Result(); err != nil || n != 1 {
		t.Errorf("rate:%sk exists: %d, %v", p, n, err)
	}
	// Unlimited requests write nothing.
	l.Allow(ctx, "free", 0)
	if n, _ := c.Exists(ctx, "rate:"+p+"free").Result(); n != 0 {
		t.Error("an unlimited request wrote a key")
	}
	other := New(c, p+"other:")
	if d, err := other.Allow(ctx, "k", 60); err != nil || d.Remaining != 59 {
		t.Errorf("same key under another prefix: %+v, %v; want a fresh allowance", d, err)
	}
}

// The script computes in float seconds; for limits whose interval is not a
// whole number of microseconds the counts must still be whole numbers
// (60/7 s: the first of 7 leaves 6, not 5.9999 truncated).
func TestRemainingRounding(t *testing.T) {
	ctx := context.Background()
	c := connect(t)
	l := New(c, prefix(t, c))
	for _, n := range []int{1, 3, 7, 9, 11, 13, 17, 49, 97, 1000, 7919} {
		k := fmt.Sprint("n", n)
		d, err := l.Allow(ctx, k, n)
		if err != nil || !d.Allowed || d.Remaining != n-1 || d.Limit != n {
			t.Errorf("first request at %d/min: %+v, %v; want allowed with %d remaining", n, d, err, n-1)
		}
		if n > 20 {
			continue
		}
		start := time.Now()
		for range n - 1 {
			l.Allow(ctx, k, n)
		}
		d, err = l.Allow(ctx, k, n)
		if time.Since(start) > time.Minute/time.Duration(n) {
			continue // a stalled machine: the first interval is back
		}
		if err != nil || d.Allowed || d.Remaining != 0 || d.RetryAfter%time.Second != 0 || d.RetryAfter > time.Minute/time.Duration(n)+time.Second {
			t.Errorf("request %d at %d/min: %+v, %v; want denied for at most one interval, in whole seconds", n+1, n, d, err)
		}
	}
}

// An unreachable Redis is an error, never an allowed request.
func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Port 1 on the loopback: nothing listens there.
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	d, err := New(c, "x:").Allow(ctx, "k", 10)
	if err == nil || d.Allowed {
		t.Fatalf("Allow on an unreachable Redis: %+v, %v; want an error", d, err)
	}
	if !strings.Contains(err.Error(), "redis rate limiter") {
		t.Errorf("error %q does not say which part failed", err)
	}
	if _, err := Open(ctx, "redis://127.0.0.1:1/0", "x:"); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("Open on an unreachable Redis: %v, want an error naming the address", err)
	}
	// Unlimited requests do not need Redis.
	if d, err := New(c, "x:").Allow(ctx, "k", 0); err != nil || !d.Allowed {
		t.Errorf("unlimited on an unreachable Redis: %+v, %v", d, err)
	}
}

func TestOpen(t *testing.T) {
	c := connect(t) // skips without Redis
	ctx := context.Background()
	p := prefix(t, c)
	l, err := Open(ctx, testURL(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(ctx); err != nil {
		t.Error(err)
	}
	if d, err := l.Allow(ctx, "k", 2); err != nil || !d.Allowed || d.Remaining != 1 {
		t.Errorf("%+v, %v", d, err)
	}
	if err := l.Close(); err != nil {
		t.Error(err)
	}
	if _, err := l.Allow(ctx, "k", 2); err == nil {
		t.Error("Allow after Close succeeded")
	}
	// New's client belongs to the caller: Close leaves it open.
	if err := New(c, p).Close(); err != nil || c.Ping(ctx).Err() != nil {
		t.Errorf("Close of a limiter on the caller's client: %v, ping %v", err, c.Ping(ctx).Err())
	}
	// A cancelled request is an error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := New(c, p).Allow(cctx, "k", 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := Open(context.Background(), "http://user:s3cret@host", "x:")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad URL: %v; want an error that does not show the password", err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/0", "rediss://user:pw@cache:6380/2", "unix:///run/redis.sock", "redis://cache"} {
		if err := CheckURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://u:s3cret@host", "redis://u:s3cret@host:port", "cache:6379", "redis://u:s3cret@host/db9x"} {
		if err := CheckURL(u); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v; want an error that does not show the password", u, err)
		}
	}
}
