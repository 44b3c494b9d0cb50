package cpu

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newScheduler(t *testing.T, cores int) *Scheduler {
	t.Helper()
	s, err := New(Config{Cores: cores})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfig(t *testing.T) {
	if s, err := New(Config{}); err != nil || s.Cores() != runtime.NumCPU() {
		t.Errorf("default: %v cores, %v; want %d", s.Cores(), err, runtime.NumCPU())
	}
	if _, err := New(Config{Cores: -1}); err == nil {
		t.Error("-1 cores accepted")
	}
}

// waitFor polls until cond holds (a goroutine reached a point the test
// cannot see otherwise).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNeverMoreThanCores: many runs acquiring, borrowing and giving up
// (some contexts end while they wait) never hold more cores at once than
// the scheduler has, counted by the runs themselves; every core comes
// back.
func TestNeverMoreThanCores(t *testing.T) {
	const cores, goroutines = 3, 8
	s := newScheduler(t, cores)
	var holding, most atomic.Int32
	hold := func() func() {
		n := holding.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return func() { holding.Add(-1) }
	}
	var wg sync.WaitGroup
	var cancelled atomic.Int32
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(2000))*time.Microsecond)
				c, err := s.Acquire(ctx)
				cancel()
				if err != nil {
					cancelled.Add(1)
					continue
				}
				done := hold()
				if rng.IntN(2) == 0 {
					if release, ok := c.Borrow(); ok {
						lent := hold()
						time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
						lent()
						release()
						release() // a second call does nothing
					}
				}
				time.Sleep(time.Duration(rng.IntN(100)) * time.Microsecond)
				done()
				c.Release()
				c.Release()
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	t.Logf("most held at once %d (scheduler's peak %d), %d runs, %d borrows, %d gave up waiting", most.Load(), st.Peak, st.Runs, st.Borrows, cancelled.Load())
	if most.Load() > cores || st.Peak > cores {
		t.Errorf("%d cores held at once (peak %d); the scheduler has %d", most.Load(), st.Peak, cores)
	}
	if most.Load() != cores {
		t.Errorf("at most %d cores held at once: the load never filled the %d cores", most.Load(), cores)
	}
	if st.Busy != 0 || st.Waiting != 0 {
		t.Errorf("after the load: %d busy, %d waiting; want none", st.Busy, st.Waiting)
	}
	if st.Runs+uint64(cancelled.Load()) != goroutines*200 {
		t.Errorf("%d runs and %d gave up, of %d", st.Runs, cancelled.Load(), goroutines*200)
	}
}

// TestFirstComeFirstServed: runs waiting for a core get it in the order
// they asked; one whose context ends leaves the line without a core, and
// the line goes on.
func TestFirstComeFirstServed(t *testing.T) {
	s := newScheduler(t, 1)
	ctx := context.Background()
	first, err := s.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 4)
	gaveUp := make(chan error, 1)
	cctx, cancel := context.WithCancel(ctx)
	for i := range 4 {
		go func() {
			if i == 2 {
				_, err := s.Acquire(cctx)
				gaveUp <- err
				return
			}
			c, _ := s.Acquire(ctx)
			order <- i
			c.Release()
		}()
		waitFor(t, "the run waits", func() bool { return s.Stats().Waiting == i+1 })
	}
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("a run whose context ended: %v", err)
	}
	waitFor(t, "it left the line", func() bool { return s.Stats().Waiting == 3 })
	first.Release()
	for _, want := range []int{0, 1, 3} {
		if got := <-order; got != want {
			t.Errorf("run %d got the core, want %d", got, want)
		}
	}
	waitFor(t, "every core is back", func() bool { return s.Stats().Busy == 0 })
}

// TestBorrow: a run borrows a core only while one is idle; the borrowed
// core counts as held, and a run waiting for a core gets it when it comes
// back.
func TestBorrow(t *testing.T) {
	s := newScheduler(t, 2)
	ctx := context.Background()
	a, _ := s.Acquire(ctx)
	release, ok := a.Borrow()
	if !ok {
		t.Fatal("no core lent with one idle")
	}
	if st := s.Stats(); st.Busy != 2 || st.Borrows != 1 {
		t.Errorf("after the loan: %+v", st)
	}
	if _, ok := a.Borrow(); ok {
		t.Error("a core lent with none idle")
	}
	got := make(chan *Core)
	go func() { c, _ := s.Acquire(ctx); got <- c }()
	waitFor(t, "a run waits", func() bool { return s.Stats().Waiting == 1 })
	release()
	b := <-got
	if st := s.Stats(); st.Busy != 2 || st.Waiting != 0 {
		t.Errorf("the borrowed core went back to the line: %+v", st)
	}
	release() // once only: the waiting run keeps its core
	if st := s.Stats(); st.Busy != 2 {
		t.Errorf("a second release gave back a core: %+v", st)
	}
	if _, ok := b.Borrow(); ok {
		t.Error("a core lent with both held")
	}
	a.Release()
	b.Release()
	if st := s.Stats(); st.Busy != 0 || st.Peak != 2 || st.Runs != 2 {
		t.Errorf("at the end: %+v", st)
	}
}

// TestAcquireEnded: a context already ended gets no core.
func TestAcquireEnded(t *testing.T) {
	s := newScheduler(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if c, err := s.Acquire(ctx); c != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("%v, %v", c, err)
	}
	if st := s.Stats(); st.Busy != 0 {
		t.Errorf("%+v", st)
	}
}
