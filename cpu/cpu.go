// Package cpu schedules the process's compute on a fixed number of cores:
// every swap the process runs, synchronous or asynchronous, holds one core
// of one Scheduler while it computes, and may borrow a second, idle one
// for work beside its own. With every core taken, runs wait their turn,
// first come first served, so the process never computes on more cores
// than it was given, however its work arrives.
package cpu

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Config is what a Scheduler is told. Zero fields take the defaults noted.
type Config struct {
	// Cores is how many cores the scheduler hands out at once, borrowed
	// ones included (default: the number of CPUs the process sees).
	Cores int
}

func (c Config) withDefaults() Config {
	if c.Cores == 0 {
		c.Cores = runtime.NumCPU()
	}
	return c
}

// Validate reports a bad setting.
func (c Config) Validate() error {
	if c.Cores < 0 {
		return fmt.Errorf("cpu: cores must be 1 or more (0: the number of CPUs), got %d", c.Cores)
	}
	return nil
}

// Scheduler hands out cores. It is safe for concurrent use.
type Scheduler struct {
	cores int

	mu      sync.Mutex
	busy    int       // cores held, borrowed ones included
	waiting []*waiter // runs waiting for a core, oldest first
	peak    int
	borrows uint64

	runs atomic.Uint64 // cores handed to runs that took them
}

// waiter is a run waiting for a core: ready is closed when one is handed
// to it (granted, under the scheduler's lock).
type waiter struct {
	ready   chan struct{}
	granted bool
}

// New returns a scheduler of cfg.Cores cores.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{cores: cfg.withDefaults().Cores}, nil
}

// Cores is how many cores s hands out at once.
func (s *Scheduler) Cores() int { return s.cores }

// Core is a core a run holds until Release.
type Core struct {
	s    *Scheduler
	once sync.Once
}

// Acquire waits for a core, after the runs already waiting, and returns it
// held; it returns ctx's error when ctx ends first.
func (s *Scheduler) Acquire(ctx context.Context) (*Core, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.busy < s.cores && len(s.waiting) == 0 {
		s.take()
		s.mu.Unlock()
		s.runs.Add(1)
		return &Core{s: s}, nil
	}
	w := &waiter{ready: make(chan struct{})}
	s.waiting = append(s.waiting, w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		s.runs.Add(1)
		return &Core{s: s}, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	if w.granted {
		// handed a core as ctx ended: pass it on
		s.mu.Unlock()
		s.give()
		return nil, ctx.Err()
	}
	s.waiting = slices.DeleteFunc(s.waiting, func(o *waiter) bool { return o == w })
	s.mu.Unlock()
	return nil, ctx.Err()
}

// take counts one more core held; s.mu is held.
func (s *Scheduler) take() {
	s.busy++
	s.peak = max(s.peak, s.busy)
}

// give gives a core back: to the oldest waiting run, or to the idle ones.
func (s *Scheduler) give() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiting) > 0 {
		w := s.waiting[0]
		s.waiting = slices.Delete(s.waiting, 0, 1)
		w.granted = true
		close(w.ready)
		return
	}
	s.busy--
}

// Release gives the core back. Later calls do nothing.
func (c *Core) Release() { c.once.Do(c.s.give) }

// Borrow lends the holder of c a second core for work beside its own,
// when one is idle and no run waits for it; release gives it back (once;
// later calls do nothing). A busy scheduler lends none, so under load each
// run computes on its one core.
func (c *Core) Borrow() (release func(), ok bool) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy >= s.cores || len(s.waiting) > 0 {
		return nil, false
	}
	s.take()
	s.borrows++
	return sync.OnceFunc(s.give), true
}

// Stats is what a scheduler has done, for tests and benchmarks.
type Stats struct {
	Cores   int    // the cores it hands out
	Busy    int    // held now, borrowed ones included
	Waiting int    // runs waiting for a core now
	Peak    int    // the most cores held at once so far
	Runs    uint64 // cores handed to runs (Acquire)
	Borrows uint64 // cores lent beside a run (Borrow)
}

// Stats reports what s has done so far.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Cores: s.cores, Busy: s.busy, Waiting: len(s.waiting), Peak: s.peak, Runs: s.runs.Load(), Borrows: s.borrows}
}
