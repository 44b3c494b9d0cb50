// Package redis is the rate limiter shared by several server nodes: every
// node counts a key's requests in one Redis, so a key's limit holds across
// the fleet instead of per node.
//
// It runs the same GCRA as limit/memory (see there), as the Lua script of
// github.com/go-redis/redis_rate: one value per key, the key's theoretical
// arrival time, read and moved atomically inside Redis on Redis's own
// clock, so nodes whose clocks disagree still share one schedule. The value
// expires once the key's allowance is whole again, so Redis holds only keys
// seen in the last minute.
//
// A key's state lives at "rate:" + prefix + key (redis_rate adds "rate:").
//
// When Redis cannot be reached, Allow returns the error and the API answers
// 503 with Retry-After: the limiter fails closed. Failing open would let a
// Redis outage lift every limit across the fleet at once, which is what a
// limiter shared between nodes is there to prevent, while a 503 is an
// answer clients already retry.
package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"faceswap"
)

const period = time.Minute

// Limiter limits requests per key in Redis. It implements faceswap.Limiter
// and is safe for concurrent use.
type Limiter struct {
	rdb    goredis.UniversalClient
	rate   *redis_rate.Limiter
	prefix string
	owned  bool // Close closes rdb (Open made it)
}

var _ faceswap.Limiter = (*Limiter)(nil)

// New returns a limiter on a client the caller owns (Close leaves it
// open). Limiters with the same prefix on the same Redis share their
// counts; prefix keeps several deployments on one Redis apart.
func New(client goredis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rdb: client, rate: redis_rate.NewLimiter(client), prefix: prefix}
}

// CheckURL reports whether Open can read url, without connecting. Its
// error does not quote url, which may hold a password.
func CheckURL(url string) error {
	if _, err := goredis.ParseURL(url); err != nil {
		return errBadURL
	}
	return nil
}

// ParseURL's errors can quote the URL, password included.
var errBadURL = errors.New("not a Redis URL; want redis://[user:password@]host:6379/0, rediss://… for TLS, or unix:///path/to/redis.sock")

// Open connects to the Redis at url (redis://[user:password@]host:port/db,
// rediss:// for TLS, or unix:///path.sock) and checks that it answers
// within ctx. Close closes the connection.
func Open(ctx context.Context, url, prefix string) (*Limiter, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", errBadURL)
	}
	client := goredis.NewClient(opt)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	l := New(client, prefix)
	l.owned = true
	return l, nil
}

// Ping checks that Redis answers.
func (l *Limiter) Ping(ctx context.Context) error {
	if err := l.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis rate limiter: %w", err)
	}
	return nil
}

// Close closes the connection when Open made it.
func (l *Limiter) Close() error {
	if l.owned {
		return l.rdb.Close()
	}
	return nil
}

// Allow counts one request for key against perMinute requests a minute;
// perMinute ≤ 0 means no limit (the decision then has Limit 0, and Redis is
// not asked). A denied request is not counted.
//
// The decision means what limit/memory's does: Remaining is how many more
// requests would be allowed right now, Reset is when the key's whole
// allowance is back, and RetryAfter, for a denial only, is how long until
// one request is allowed again, rounded up to whole seconds and at least
// 1 s. Redis measures the durations on its clock; Reset is the local time
// when the answer arrived plus Redis's duration, so clock skew between
// hosts does not move it.
//
// An unreachable Redis is an error (the API answers 503), never a silent
// allow.
func (l *Limiter) Allow(ctx context.Context, key string, perMinute int) (faceswap.RateDecision, error) {
	if perMinute <= 0 {
		return faceswap.RateDecision{Allowed: true}, nil
	}
	lim := redis_rate.Limit{Rate: perMinute, Burst: perMinute, Period: period}
	res, err := l.rate.Allow(ctx, l.prefix+key, lim)
	if err != nil {
		return faceswap.RateDecision{}, fmt.Errorf("redis rate limiter: %w", err)
	}
	now := time.Now()
	// The script computes in float seconds on a clock with microsecond
	// resolution: anything finer is rounding noise (12 s can come back as
	// 12.000000000001 s and must not round up to 13).
	resetAfter := max(res.ResetAfter.Round(time.Microsecond), 0)
	d := faceswap.RateDecision{Limit: perMinute, Reset: now.Add(resetAfter)}
	if res.Allowed < 1 {
		d.RetryAfter = ceilSecond(res.RetryAfter.Round(time.Microsecond))
		return d, nil
	}
	d.Allowed = true
	// Remaining as limit/memory counts it: whole intervals of allowance
	// left, (period - resetAfter) / (period / perMinute). The script's own
	// count truncates a float that can fall just short of a whole number
	// (5.9999999 for 6 when the interval is 60/7 s); a microsecond of slack,
	// Redis's resolution and more than the rounding above can move the
	// time, makes the division land on the whole number it means.
	free := float64(period-resetAfter+time.Microsecond) / float64(period) * float64(perMinute)
	d.Remaining = min(max(int(math.Floor(free)), 0), perMinute-1)
	return d, nil
}

func ceilSecond(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second * time.Second
	return max(s, time.Second)
}
