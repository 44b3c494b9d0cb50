package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"faceswap"
	"faceswap/cpu"
	"faceswap/internal/testenv"
	"faceswap/swap"
	"faceswap/swap/mesh"
)

func scheduler(t *testing.T, cores int) *cpu.Scheduler {
	t.Helper()
	s, err := cpu.New(cpu.Config{Cores: cores})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// acquire takes a core of s for a test that runs RunOn.
func acquire(t *testing.T, s *cpu.Scheduler) *cpu.Core {
	t.Helper()
	c, err := s.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Release)
	return c
}

// TestRunBeside: with a second core idle, the source is decoded and
// analysed beside the target and the answer is byte for byte the serial
// one; the core is borrowed once and given back; with none idle the work
// is serial; errors keep their serial order (the source's first); Run
// takes a core of Pipeline.CPU and gives it back.
func TestRunBeside(t *testing.T) {
	p := pipe(t)
	r := &Request{Source: demo(t, testenv.Group3), Target: demo(t, testenv.Group5),
		InputFacesIndex: "0,1,2", SourceFacesIndex: "0,1,2", DetectGenderSource: "female"}
	serial, err := p.Run(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	two := scheduler(t, 2)
	res, err := p.RunOn(context.Background(), acquire(t, two), r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Image, serial.Image) || res.FacesSwapped != serial.FacesSwapped {
		t.Error("the answer with a second core differs from the serial one")
	}
	if st := two.Stats(); st.Borrows != 1 || st.Busy != 1 {
		t.Errorf("a second core lent %d times, %d cores held after the run (want 1 and 1, the run's own)", st.Borrows, st.Busy)
	}
	one := scheduler(t, 1)
	if res, err := p.RunOn(context.Background(), acquire(t, one), r); err != nil || !bytes.Equal(res.Image, serial.Image) {
		t.Errorf("no core idle: %v", err)
	}
	if st := one.Stats(); st.Borrows != 0 {
		t.Errorf("a core lent by a scheduler with none idle: %+v", st)
	}

	// Run takes a core of Pipeline.CPU for its stages and gives it back.
	q := *p
	q.CPU = scheduler(t, 2)
	if res, err := q.Run(context.Background(), r); err != nil || !bytes.Equal(res.Image, serial.Image) {
		t.Errorf("Run on a scheduler: %v", err)
	}
	if st := q.CPU.Stats(); st.Runs != 1 || st.Borrows != 1 || st.Busy != 0 {
		t.Errorf("Run on a scheduler: %+v; want one run, one core lent, none held after", st)
	}

	e := &Pipeline{Engines: map[string]swap.Engine{"mesh": mesh.New()}, Preferred: []string{"mesh"}}
	for _, c := range []struct {
		src, dst []byte
		prefix   string
	}{
		{[]byte("garbage"), []byte("garbage"), "source_img: "},
		{demo(t, testenv.Group3), nil, "target_img: "},
	} {
		s := scheduler(t, 2)
		_, err := e.RunOn(context.Background(), acquire(t, s), &Request{Source: c.src, Target: c.dst})
		if faceswap.StatusOf(err) != 400 || !strings.HasPrefix(faceswap.PublicMessage(err), c.prefix) {
			t.Errorf("error %v, want a 400 starting %q", err, c.prefix)
		}
		if st := s.Stats(); st.Borrows != 1 || st.Busy != 1 {
			t.Errorf("after an error the lent core was not given back: %+v", st)
		}
	}
	// No face in the source is reported as serially.
	_, err = p.RunOn(context.Background(), acquire(t, scheduler(t, 2)), &Request{Source: demo(t, testenv.NoFace), Target: demo(t, testenv.Group5)})
	if faceswap.StatusOf(err) != 422 || faceswap.PublicMessage(err) != "No face was found in source_img." {
		t.Errorf("no face: %v", err)
	}
}

// TestRunWaitsForACore: Run waits for a core while every one is held, is
// refused at once when its fields are bad, and gives up when its context
// ends first.
func TestRunWaitsForACore(t *testing.T) {
	p := *pipe(t)
	p.CPU = scheduler(t, 1)
	held := acquire(t, p.CPU)
	r := &Request{Source: demo(t, testenv.Group3), Target: demo(t, testenv.Group5)}
	if _, err := p.Run(context.Background(), &Request{InputFacesIndex: "x"}); faceswap.StatusOf(err) != 400 {
		t.Errorf("bad fields while every core is held: %v, want a 400 at once", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Run(ctx, r); err != context.Canceled {
		t.Errorf("context ended while waiting: %v", err)
	}
	done := make(chan *Result)
	go func() {
		res, err := p.Run(context.Background(), r)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	for p.CPU.Stats().Waiting == 0 { // until the run waits for the held core
		time.Sleep(time.Millisecond)
	}
	held.Release()
	if res := <-done; res != nil && res.Queued <= 0 {
		t.Errorf("queued %v after waiting for a core", res.Queued)
	}
	if st := p.CPU.Stats(); st.Busy != 0 || st.Runs != 2 {
		t.Errorf("%+v", st)
	}
}
