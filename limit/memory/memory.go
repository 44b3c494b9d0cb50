// Package memory is the in-process rate limiter, the default for a single
// server node.
//
// It uses GCRA (the generic cell rate algorithm): for a limit of N requests
// per minute, requests are spaced T = 1min/N apart on average, and a burst
// of up to N at once is allowed. Each key keeps one time, its "theoretical
// arrival time" (TAT): the moment its allowance would be whole again if no
// more requests came. A request at now is allowed when
//
//	max(TAT, now) + T - 1min <= now
//
// and then moves TAT to max(TAT, now) + T. So 5/min allows 5 requests at
// once, then one more every 12 s; an idle key regains one request every T.
// Unlike a fixed window it never allows 2N around a window boundary, and
// it needs one number per key instead of a log of request times.
package memory

import (
	"context"
	"sync"
	"time"

	"faceswap"
)

const period = time.Minute

// Limiter limits requests per key in memory. It implements
// faceswap.Limiter and is safe for concurrent use. Keys whose allowance is
// whole again are forgotten, so memory holds only keys seen in the last
// minute.
type Limiter struct {
	now func() time.Time

	mu        sync.Mutex
	tat       map[string]time.Time
	ops       int       // Allow calls since the last sweep
	kept      int       // keys the last sweep kept
	lastSweep time.Time // when the last sweep ran
}

var _ faceswap.Limiter = (*Limiter)(nil)

// New returns a limiter on the wall clock.
func New() *Limiter { return NewWithClock(time.Now) }

// NewWithClock returns a limiter that reads the time from now (for tests).
func NewWithClock(now func() time.Time) *Limiter {
	return &Limiter{now: now, tat: map[string]time.Time{}, lastSweep: now()}
}

// Allow counts one request for key against perMinute requests a minute;
// perMinute ≤ 0 means no limit (the decision then has Limit 0). A denied
// request is not counted.
//
// In the decision, Remaining is how many more requests would be allowed
// right now, Reset is when the key's whole allowance is back (no request
// has to wait after it), and RetryAfter, for a denial only, is how long
// until one request is allowed again, rounded up to whole seconds and at
// least 1 s, as the Retry-After header wants.
func (l *Limiter) Allow(_ context.Context, key string, perMinute int) (faceswap.RateDecision, error) {
	if perMinute <= 0 {
		return faceswap.RateDecision{Allowed: true}, nil
	}
	now := l.now()
	interval := period / time.Duration(perMinute)
	if interval <= 0 {
		interval = 1
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)

	tat, ok := l.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	// The request fits when, after it, the allowance in use (next - now)
	// is at most the whole period.
	allowAt := next.Add(-period)
	d := faceswap.RateDecision{Limit: perMinute}
	if allowAt.After(now) {
		d.RetryAfter = ceilSecond(allowAt.Sub(now))
		d.Reset = tat
		return d, nil
	}
	l.tat[key] = next
	d.Allowed = true
	d.Remaining = int((period - next.Sub(now)) / interval)
	d.Reset = next
	return d, nil
}

// sweep drops keys whose allowance is whole again (TAT not after now: they
// behave exactly as unseen keys). It runs once the calls since the last
// sweep reach the number of keys that sweep kept (at least 64), so its cost
// is O(1) per call amortised and the map holds at most about twice the keys
// active in the last minute; and at least once a period, so idle keys go.
func (l *Limiter) sweep(now time.Time) {
	l.ops++
	if l.ops < max(l.kept, 64) && now.Sub(l.lastSweep) < period {
		return
	}
	for k, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, k)
		}
	}
	l.ops = 0
	l.kept = len(l.tat)
	l.lastSweep = now
}

// Len returns the number of keys held (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}

func ceilSecond(d time.Duration) time.Duration {
	s := (d + time.Second - 1) / time.Second * time.Second
	return max(s, time.Second)
}
