// Package limittest is the conformance suite of faceswap.Limiter: every
// limiter (limit/memory in process, limit/redis shared by nodes) runs it
// from its own tests, so they answer alike.
//
// It runs on the real clock, because a shared limiter keeps time on its
// server (Redis's clock), which a test cannot move. It picks windows where
// that costs little: a limit of N a minute spaces requests 60/N s apart,
// so 5/min leaves 12 s between a burst's requests (the burst checks hold
// however slow the machine is, unless one burst takes longer than that),
// and 60/min regains one request a second (the recovery check waits 1 s).
// No check depends on how fast the machine is: bounds are computed from
// the time each request actually took, and a burst that outlasts the
// interval it relies on skips its check with a message instead of failing.
// The exact arithmetic of the algorithm (Reset, RetryAfter to the second,
// steady rates) is tested on a manual clock in limit/memory.
package limittest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"faceswap"
)

// Backend is a limiter under test.
type Backend struct {
	// New returns a limiter. A limiter whose state lives elsewhere
	// (Redis) must start with no key of the suite counted: the suite's
	// keys begin with the test's name, so one namespace per test run is
	// enough.
	New func(t *testing.T) faceswap.Limiter
	// Shared says that limiters New returns share their counts, as
	// server nodes on one Redis do; the multi-node case runs only then.
	Shared bool
}

// Run runs the suite as subtests of t.
func Run(t *testing.T, b Backend) {
	t.Run("Burst", func(t *testing.T) { testBurst(t, b.New(t)) })
	t.Run("Recovery", func(t *testing.T) { testRecovery(t, b.New(t)) })
	t.Run("WholeAtReset", func(t *testing.T) { testWholeAtReset(t, b.New(t)) })
	t.Run("KeysIndependent", func(t *testing.T) { testKeysIndependent(t, b.New(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, []faceswap.Limiter{b.New(t)}) })
	t.Run("Unlimited", func(t *testing.T) { testUnlimited(t, b.New(t)) })
	t.Run("SharedAcrossNodes", func(t *testing.T) {
		if !b.Shared {
			t.Skip("this limiter keeps its counts in process: there is no second node to share them with")
		}
		testShared(t, b.New(t), b.New(t))
	})
}

// interval is the spacing of requests at perMinute.
func interval(perMinute int) time.Duration { return time.Minute / time.Duration(perMinute) }

func key(t *testing.T, name string) string { return t.Name() + "/" + name }

func allow(t *testing.T, l faceswap.Limiter, key string, perMinute int) faceswap.RateDecision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, perMinute)
	if err != nil {
		t.Fatalf("Allow(%q, %d): %v", key, perMinute, err)
	}
	return d
}

// within skips t when a burst that must fit in one interval did not (a
// stalled machine), since its exact checks assume it did.
func within(t *testing.T, elapsed, iv time.Duration) {
	t.Helper()
	if elapsed >= iv {
		t.Skipf("the burst took %v, not under the %v interval the checks assume", elapsed, iv)
	}
}

// A fresh key takes N requests at once, counting Remaining down, with Reset
// one interval further each time; the next is denied for about 60/N s and
// is not counted.
func testBurst(t *testing.T, l faceswap.Limiter) {
	const n = 5
	iv := interval(n) // 12 s
	k := key(t, "k")
	before := time.Now()
	for i := 1; i <= n; i++ {
		d := allow(t, l, k, n)
		after := time.Now()
		within(t, after.Sub(before), iv)
		if !d.Allowed || d.Limit != n || d.Remaining != n-i || d.RetryAfter != 0 {
			t.Errorf("request %d: %+v, want allowed, Limit %d, Remaining %d, no RetryAfter", i, d, n, n-i)
		}
		// Reset: i intervals after the first request was counted.
		if lo, hi := before.Add(time.Duration(i)*iv), after.Add(time.Duration(i)*iv); d.Reset.Before(lo) || d.Reset.After(hi) {
			t.Errorf("request %d: Reset %v, want %v after the first request (between %v and %v)",
				i, d.Reset.Format(time.StampMicro), time.Duration(i)*iv, lo.Format(time.StampMicro), hi.Format(time.StampMicro))
		}
	}
	for range 3 { // denials are not counted: each looks the same
		d := allow(t, l, k, n)
		after := time.Now()
		elapsed := after.Sub(before)
		within(t, elapsed, iv)
		if d.Allowed || d.Limit != n || d.Remaining != 0 {
			t.Fatalf("request %d: %+v, want denied with Limit %d, Remaining 0", n+1, d, n)
		}
		// One request is back one interval after the first was counted:
		// RetryAfter is that, less the time since, rounded up to seconds.
		lo := max(ceilSecond(iv-elapsed), time.Second)
		if d.RetryAfter%time.Second != 0 || d.RetryAfter < lo || d.RetryAfter > iv {
			t.Errorf("denied: RetryAfter %v, want whole seconds in [%v, %v]", d.RetryAfter, lo, iv)
		}
		// The whole allowance is back N intervals after the first request.
		if lo, hi := before.Add(n*iv), after.Add(n*iv); d.Reset.Before(lo) || d.Reset.After(hi) {
			t.Errorf("denied: Reset %v, want a minute after the first request (between %v and %v)",
				d.Reset.Format(time.StampMicro), lo.Format(time.StampMicro), hi.Format(time.StampMicro))
		}
	}
}

func ceilSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1) / time.Second * time.Second
}

// At 60/min a used-up key is denied for 1 s; waiting the RetryAfter it
// gave is enough for the next request, and no more than one is back.
func testRecovery(t *testing.T, l faceswap.Limiter) {
	const n = 60
	iv := interval(n) // 1 s
	k := key(t, "k")
	start := time.Now()
	allowed := 0
	var d faceswap.RateDecision
	var asked time.Time // when the last request was sent
	for range 10 * n {
		asked = time.Now()
		if d = allow(t, l, k, n); !d.Allowed {
			break
		}
		allowed++
	}
	// N at once, plus one for each interval the loop took.
	if most := n + int(time.Since(start)/iv); d.Allowed || allowed < n || allowed > most {
		t.Fatalf("%d allowed before a denial (last %+v), want %d to %d", allowed, d, n, most)
	}
	if d.RetryAfter != time.Second {
		t.Errorf("denied at %d/min: RetryAfter %v, want 1s", n, d.RetryAfter)
	}
	time.Sleep(d.RetryAfter)
	d = allow(t, l, k, n)
	if !d.Allowed {
		t.Fatalf("after waiting the RetryAfter: %+v, want allowed", d)
	}
	// The denial left less than one interval of allowance; since then s
	// has passed, so fewer than s/interval requests are back, one of
	// which this request took.
	if most := int((time.Since(asked)+iv-1)/iv) - 1; d.Remaining > most {
		t.Errorf("after waiting one RetryAfter: Remaining %d, want at most %d", d.Remaining, most)
	}
}

// Reset is when the whole allowance is back: a request then sees a fresh
// key. At 6000/min (10 ms apart) 20 requests take 200 ms to win back.
func testWholeAtReset(t *testing.T, l faceswap.Limiter) {
	const n = 6000
	k := key(t, "k")
	var d faceswap.RateDecision
	start := time.Now()
	for range 20 {
		d = allow(t, l, k, n)
	}
	// n-20 left, plus one for each interval the requests took.
	if most := min(n-20+int(time.Since(start)/interval(n)), n-1); !d.Allowed || d.Remaining < n-20 || d.Remaining > most {
		t.Fatalf("20 requests at %d/min: %+v, want allowed with %d to %d remaining", n, d, n-20, most)
	}
	if wait := time.Until(d.Reset); wait > 20*interval(n) {
		t.Fatalf("Reset is %v away after 20 requests at %d/min, want at most %v", wait, n, 20*interval(n))
	}
	time.Sleep(time.Until(d.Reset))
	if d = allow(t, l, k, n); !d.Allowed || d.Remaining != n-1 {
		t.Errorf("at Reset: %+v, want the whole allowance back (Remaining %d)", d, n-1)
	}
}

// One key using up its allowance leaves another's whole.
func testKeysIndependent(t *testing.T, l faceswap.Limiter) {
	const n = 3
	a, b := key(t, "a"), key(t, "b")
	denied := false
	for range 10 * n {
		if d := allow(t, l, a, n); !d.Allowed {
			denied = true
			break
		}
	}
	if !denied {
		t.Fatalf("%d requests at %d/min all allowed", 10*n, n)
	}
	if d := allow(t, l, b, n); !d.Allowed || d.Remaining != n-1 || d.Limit != n {
		t.Errorf("b after a used its allowance: %+v, want allowed with %d remaining", d, n-1)
	}
}

// 100 goroutines, 5 requests each, on one key limited to 10 a minute,
// spread over the limiters given: exactly 10 get through (plus one per 6 s
// the test took).
func testConcurrent(t *testing.T, ls []faceswap.Limiter) {
	const n = 10
	k := key(t, "shared")
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	ready := make(chan struct{})
	start := time.Now()
	for g := range 100 {
		l := ls[g%len(ls)]
		wg.Go(func() {
			<-ready
			for range 5 {
				d, err := l.Allow(context.Background(), k, n)
				if err != nil {
					failed.Add(1)
					continue
				}
				if d.Allowed {
					ok.Add(1)
				}
			}
		})
	}
	close(ready)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of 500 requests failed", failed.Load())
	}
	most := n + int64(time.Since(start)/interval(n))
	if got := ok.Load(); got < n || got > most {
		t.Errorf("%d of 500 concurrent requests on %d limiter(s) allowed at %d/min, want %d (at most %d)", got, len(ls), n, n, most)
	}
}

// perMinute ≤ 0 allows everything, reports no limit, and counts nothing.
func testUnlimited(t *testing.T, l faceswap.Limiter) {
	k := key(t, "u")
	for _, n := range []int{0, -1} {
		for range 1000 {
			if d := allow(t, l, k, n); d != (faceswap.RateDecision{Allowed: true}) {
				t.Fatalf("perMinute %d: %+v, want allowed without a limit", n, d)
			}
		}
	}
	if d := allow(t, l, k, 5); !d.Allowed || d.Remaining != 4 {
		t.Errorf("limited after 2000 unlimited requests: %+v, want a fresh allowance (4 remaining)", d)
	}
}

// Two limiters on one store are one limit: what one node counts, the other
// sees, and concurrent requests spread over both never exceed it.
func testShared(t *testing.T, a, b faceswap.Limiter) {
	const n = 2
	iv := interval(n) // 30 s
	k := key(t, "k")
	start := time.Now()
	if d := allow(t, a, k, n); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("first request on node A: %+v, want allowed with 1 remaining", d)
	}
	d := allow(t, b, k, n)
	within(t, time.Since(start), iv)
	if !d.Allowed || d.Remaining != 0 {
		t.Fatalf("second request on node B: %+v, want allowed with 0 remaining (A's request counted)", d)
	}
	for i, l := range []faceswap.Limiter{a, b} {
		d := allow(t, l, k, n)
		elapsed := time.Since(start)
		within(t, elapsed, iv)
		if d.Allowed || d.RetryAfter < ceilSecond(iv-elapsed) || d.RetryAfter > iv {
			t.Errorf("third request on node %c: %+v, want denied for about %v", 'A'+i, d, iv)
		}
	}
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, []faceswap.Limiter{a, b}) })
}

// Prefix returns a key prefix unique to this test run, for limiters whose
// state outlives the process.
func Prefix(name string) string {
	return fmt.Sprintf("faceswap-test:%s:%d:", name, time.Now().UnixNano())
}
