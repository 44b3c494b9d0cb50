package pipeline

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/swap"
	"faceswap/swap/mesh"
)

// TestRunWithHelper: with a helper granted, the source is decoded and
// analysed beside the target and the answer is byte for byte the serial
// one; the helper is released once; a refused helper means serial work;
// errors keep their serial order (the source's first).
func TestRunWithHelper(t *testing.T) {
	p := pipe(t)
	r := &Request{Source: demo(t, testenv.Group3), Target: demo(t, testenv.Group5),
		InputFacesIndex: "0,1,2", SourceFacesIndex: "0,1,2", DetectGenderSource: "female"}
	serial, err := p.Run(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var granted, released atomic.Int32
	grant := func() (func(), bool) {
		granted.Add(1)
		return func() { released.Add(1) }, true
	}
	res, err := p.Run(WithHelper(context.Background(), grant), r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Image, serial.Image) || res.FacesSwapped != serial.FacesSwapped {
		t.Error("the answer with a helper differs from the serial one")
	}
	if granted.Load() != 1 || released.Load() != 1 {
		t.Errorf("helper granted %d times, released %d", granted.Load(), released.Load())
	}
	refuse := func() (func(), bool) { return nil, false }
	if res, err := p.Run(WithHelper(context.Background(), refuse), r); err != nil || !bytes.Equal(res.Image, serial.Image) {
		t.Errorf("refused helper: %v", err)
	}

	q := &Pipeline{Engines: map[string]swap.Engine{"mesh": mesh.New()}, Preferred: []string{"mesh"}}
	for _, c := range []struct {
		src, dst []byte
		prefix   string
	}{
		{[]byte("garbage"), []byte("garbage"), "source_img: "},
		{demo(t, testenv.Group3), nil, "target_img: "},
	} {
		released.Store(0)
		_, err := q.Run(WithHelper(context.Background(), grant), &Request{Source: c.src, Target: c.dst})
		if faceswap.StatusOf(err) != 400 || !strings.HasPrefix(faceswap.PublicMessage(err), c.prefix) {
			t.Errorf("error %v, want a 400 starting %q", err, c.prefix)
		}
		if released.Load() != 1 {
			t.Errorf("after an error the helper was released %d times", released.Load())
		}
	}
	// No face in the source is reported as serially.
	_, err = p.Run(WithHelper(context.Background(), grant), &Request{Source: demo(t, testenv.NoFace), Target: demo(t, testenv.Group5)})
	if faceswap.StatusOf(err) != 422 || faceswap.PublicMessage(err) != "No face was found in source_img." {
		t.Errorf("no face: %v", err)
	}
}
