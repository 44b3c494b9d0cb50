package detect

import (
	"math"
	"strings"
	"testing"

	"faceswap/onnx"
)

func TestRetinaPriors(t *testing.T) {
	ps := retinaPriors(640)
	if len(ps) != 16800 {
		t.Fatalf("%d priors for 640 px, want 16800", len(ps))
	}
	for _, c := range []struct {
		i    int
		want prior
	}{
		{0, prior{4, 4, 16, 16}},
		{1, prior{4, 4, 32, 32}},
		{2, prior{12, 4, 16, 16}},
		{2 * 80, prior{4, 12, 16, 16}},
		{12799, prior{636, 636, 32, 32}},
		{12800, prior{8, 8, 64, 64}},
		{16000, prior{16, 16, 256, 256}},
		{16799, prior{624, 624, 512, 512}},
	} {
		if ps[c.i] != c.want {
			t.Errorf("prior %d = %+v, want %+v", c.i, ps[c.i], c.want)
		}
	}
}

// TestRetinaDecode: one prior above the threshold, decoded by hand.
func TestRetinaDecode(t *testing.T) {
	d := &RetinaFace{loc: "loc", conf: "conf", landmks: "lm", priors: retinaPriors(64)}
	n := len(d.priors) // 8·8·2 + 4·4·2 + 2·2·2 = 168
	loc, conf, lm := make([]float32, 4*n), make([]float32, 2*n), make([]float32, 10*n)
	for i := 0; i < n; i++ {
		conf[2*i], conf[2*i+1] = 0.7, 0.3
	}
	// stride 16, row 1, column 2, the 128-px prior: centre (40, 24)
	const i = 128 + (1*4+2)*2 + 1
	conf[2*i], conf[2*i+1] = 0.1, 0.9
	copy(loc[4*i:], []float32{1, -1, 5, 0})
	for k := 0; k < 10; k++ {
		lm[10*i+k] = float32(k)
	}
	out := map[string]onnx.Tensor{"loc": {Data: loc}, "conf": {Data: conf}, "lm": {Data: lm}}
	var got []raw
	if err := d.decode(out, 0.5, func(r raw) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d proposals, want 1", len(got))
	}
	r := got[0]
	cx, cy, w, h := 40+12.8, 24-12.8, 128*math.E, 128.0
	if !near(r.x1, cx-w/2, 1e-9) || !near(r.y1, cy-h/2, 1e-9) || !near(r.x2, cx+w/2, 1e-9) || !near(r.y2, cy+h/2, 1e-9) || r.score != float64(float32(0.9)) {
		t.Errorf("proposal %+v, want centre (%g,%g) size %g×%g score 0.9", r, cx, cy, w, h)
	}
	for k, p := range r.kps {
		if !near(p.X, 40+12.8*float64(2*k), 1e-9) || !near(p.Y, 24+12.8*float64(2*k+1), 1e-9) {
			t.Errorf("keypoint %d = %v", k, p)
		}
	}
	// a short output is an error, not a panic
	out["lm"] = onnx.Tensor{Shape: []int64{1, 3, 10}, Data: lm[:30]}
	if err := d.decode(out, 0.5, func(raw) {}); err == nil || !strings.Contains(err.Error(), "lm") {
		t.Errorf("short output: %v", err)
	}
}
