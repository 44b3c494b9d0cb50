package httpapi

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"faceswap/cpu"
)

// pool bounds the synchronous work in progress: at most workers+queue
// requests are admitted (running, waiting for a core, or fetching their
// images before they wait), and each runs on a core of the process's CPU
// scheduler, which the asynchronous jobs share. A request that finds every
// place taken is refused at once (503) rather than piling up.
type pool struct {
	admit chan struct{} // one token per admitted request
	cpu   *cpu.Scheduler
	m     *Metrics
	busy  sync.WaitGroup // running work
}

func newPool(workers, queue int, sched *cpu.Scheduler, m *Metrics) *pool {
	return &pool{admit: make(chan struct{}, workers+queue), cpu: sched, m: m}
}

// ticket is one admitted request.
type ticket struct {
	p       *pool
	once    sync.Once // releases the admission token
	started bool      // got a worker; the work releases the ticket
}

// enter admits a request, or reports false when the pool is full.
func (p *pool) enter() (*ticket, bool) {
	select {
	case p.admit <- struct{}{}:
		p.m.queueDepth.Inc()
		return &ticket{p: p}, true
	default:
		p.m.rejected.Inc()
		return nil, false
	}
}

func (t *ticket) release() { t.once.Do(func() { <-t.p.admit }) }

// leave gives the place back unless the work is still running (then the
// work gives it back when it ends). Call it once the handler is done.
func (t *ticket) leave() {
	if !t.started {
		t.p.m.queueDepth.Dec()
		t.release()
	}
}

// run waits for a core and runs fn on it (a panic in fn is returned as an
// error). It returns ctx's error when ctx ends first — while waiting, or
// while fn still runs: fn is not interrupted (the pipeline checks its
// context between stages), its core stays taken until it ends, and its
// result is then dropped.
func (t *ticket) run(ctx context.Context, fn func(core *cpu.Core)) error {
	core, err := t.p.cpu.Acquire(ctx)
	if err != nil {
		return err
	}
	t.started = true
	t.p.m.queueDepth.Dec()
	t.p.m.inFlight.Inc()
	done := make(chan struct{})
	var perr error
	t.p.busy.Add(1)
	go func() {
		defer t.p.busy.Done()
		defer func() {
			if p := recover(); p != nil {
				perr = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
			t.p.m.inFlight.Dec()
			core.Release()
			t.release()
			close(done)
		}()
		fn(core)
	}()
	select {
	case <-done:
		return perr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do is run for work that can fail: it returns run's error, else fn's,
// else ctx's (fn may have finished after the deadline).
func (t *ticket) do(ctx context.Context, fn func(core *cpu.Core) error) error {
	var ferr error
	err := t.run(ctx, func(core *cpu.Core) { ferr = fn(core) })
	if err == nil {
		err = ferr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// wait waits until no work runs, or ctx ends.
func (p *pool) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { p.busy.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
