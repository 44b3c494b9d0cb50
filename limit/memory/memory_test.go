package memory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"faceswap"
	"faceswap/limit/limittest"
)

// clock is a manual clock for the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestFivePerMinute(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l := NewWithClock(c.Now)
	start := c.Now()
	for i := range 5 {
		d, err := l.Allow(ctx, "a", 5)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Limit != 5 || d.Remaining != 4-i {
			t.Errorf("request %d: %+v, want allowed with %d remaining", i+1, d, 4-i)
		}
		if want := start.Add(time.Duration(i+1) * 12 * time.Second); !d.Reset.Equal(want) {
			t.Errorf("request %d: Reset %v, want %v", i+1, d.Reset, want)
		}
		if d.RetryAfter != 0 {
			t.Errorf("request %d: RetryAfter %v on an allowed request", i+1, d.RetryAfter)
		}
	}
	d, _ := l.Allow(ctx, "a", 5)
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 12*time.Second || d.Limit != 5 {
		t.Errorf("6th request: %+v, want denied with RetryAfter 12s", d)
	}
	if !d.Reset.Equal(start.Add(time.Minute)) {
		t.Errorf("6th request: Reset %v, want %v", d.Reset, start.Add(time.Minute))
	}

	// A denial is not counted: 11.5 s later it is still 0.5 s, rounded up to 1.
	c.Advance(11500 * time.Millisecond)
	d, _ = l.Allow(ctx, "a", 5)
	if d.Allowed || d.RetryAfter != time.Second {
		t.Errorf("at 11.5 s: %+v, want denied with RetryAfter 1s", d)
	}
	c.Advance(500 * time.Millisecond)
	d, _ = l.Allow(ctx, "a", 5)
	if !d.Allowed || d.Remaining != 0 {
		t.Errorf("at 12 s: %+v, want allowed with 0 remaining", d)
	}
	d, _ = l.Allow(ctx, "a", 5)
	if d.Allowed || d.RetryAfter != 12*time.Second {
		t.Errorf("right after: %+v, want denied for 12 s", d)
	}

	// After a quiet minute the whole allowance is back.
	c.Advance(2 * time.Minute)
	for i := range 5 {
		if d, _ := l.Allow(ctx, "a", 5); !d.Allowed {
			t.Errorf("after a quiet minute, request %d denied: %+v", i+1, d)
		}
	}
	if d, _ := l.Allow(ctx, "a", 5); d.Allowed {
		t.Errorf("after a quiet minute, 6th request allowed: %+v", d)
	}
}

// A steady rate at the limit is always allowed; just above it is not.
func TestSteadyRate(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l := NewWithClock(c.Now)
	allowed := 0
	for range 500 { // 10 minutes, one request every 1.2 s
		if d, _ := l.Allow(ctx, "k", 50); d.Allowed {
			allowed++
		}
		c.Advance(1200 * time.Millisecond)
	}
	if allowed != 500 {
		t.Errorf("50/min offered to a 50/min limit: %d of 500 allowed, want all", allowed)
	}
	// 120/min offered to 50/min over 10 minutes: 50 at once, then 50 a minute.
	allowed = 0
	for range 1200 {
		if d, _ := l.Allow(ctx, "j", 50); d.Allowed {
			allowed++
		}
		c.Advance(500 * time.Millisecond)
	}
	if allowed < 540 || allowed > 551 {
		t.Errorf("120/min offered to 50/min for 10 min: %d allowed, want 50 + 10·50", allowed)
	}
}

func TestKeysIndependent(t *testing.T) {
	ctx := context.Background()
	l := NewWithClock(newClock().Now)
	for range 3 {
		l.Allow(ctx, "a", 3)
	}
	if d, _ := l.Allow(ctx, "a", 3); d.Allowed {
		t.Error("a's 4th request allowed")
	}
	d, _ := l.Allow(ctx, "b", 3)
	if !d.Allowed || d.Remaining != 2 {
		t.Errorf("b after a used its allowance: %+v, want allowed with 2 remaining", d)
	}
}

func TestUnlimited(t *testing.T) {
	l := NewWithClock(newClock().Now)
	for _, n := range []int{0, -1} {
		for range 1000 {
			d, err := l.Allow(context.Background(), "u", n)
			if err != nil || !d.Allowed || d.Limit != 0 || d.RetryAfter != 0 {
				t.Fatalf("perMinute %d: %+v, %v; want allowed without limit", n, d, err)
			}
		}
	}
	if l.Len() != 0 {
		t.Errorf("unlimited requests are held: %d keys", l.Len())
	}
}

// Keys are forgotten once their allowance is whole again, so memory stays
// bounded by the keys active in the last minute.
func TestMemoryBounded(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l := NewWithClock(c.Now)
	for i := range 10000 {
		l.Allow(ctx, fmt.Sprint("key", i), 60) // 1 s of allowance each
		c.Advance(10 * time.Millisecond)       // 100 new keys a second
		if n := l.Len(); n > 2*100+64+1 {
			t.Fatalf("after %d keys, %d are held; want about the last second's 100", i+1, n)
		}
	}
	c.Advance(time.Minute)
	l.Allow(ctx, "last", 60)
	if n := l.Len(); n != 1 {
		t.Errorf("a minute later %d keys are held, want 1", n)
	}
	// A forgotten key starts over with its whole allowance.
	if d, _ := l.Allow(ctx, "key0", 60); !d.Allowed || d.Remaining != 59 {
		t.Errorf("forgotten key: %+v, want a fresh allowance", d)
	}
}

func TestRetryAfterRounding(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{time.Nanosecond, time.Second},
		{time.Second, time.Second},
		{time.Second + time.Nanosecond, 2 * time.Second},
		{12 * time.Second, 12 * time.Second},
		{0, time.Second},
	} {
		if got := ceilSecond(c.in); got != c.want {
			t.Errorf("ceilSecond(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// 100 goroutines at once against a limit of 10 on a frozen clock: exactly
// 10 get through.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l := NewWithClock(c.Now)
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 100 {
		wg.Go(func() {
			<-start
			for range 5 {
				if d, _ := l.Allow(ctx, "shared", 10); d.Allowed {
					ok.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 10 {
		t.Errorf("%d of 500 concurrent requests allowed, want exactly 10", ok.Load())
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New()
	ctx := context.Background()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("key", i)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(ctx, keys[i%len(keys)], 1000)
			i++
		}
	})
}

// The suite every limiter passes, on the real clock.
func TestConformance(t *testing.T) {
	limittest.Run(t, limittest.Backend{New: func(*testing.T) faceswap.Limiter { return New() }})
}
