package detect

import (
	"strings"
	"testing"

	"faceswap/onnx"
)

// TestSCRFDDecode: one anchor above the threshold, decoded by hand.
func TestSCRFDDecode(t *testing.T) {
	d := &SCRFD{g: grid{size: 64}, anchors: 2}
	out := map[string]onnx.Tensor{}
	for i, st := range []int{8, 16, 32} {
		l := scrfdLevel{stride: st, score: "s" + string(rune('0'+i)), box: "b" + string(rune('0'+i)), kpss: "k" + string(rune('0'+i))}
		d.levels = append(d.levels, l)
		n := (64 / st) * (64 / st) * 2
		sc := make([]float32, n)
		for j := range sc {
			sc[j] = 0.1
		}
		out[l.score] = onnx.Tensor{Data: sc}
		out[l.box] = onnx.Tensor{Data: make([]float32, 4*n)}
		out[l.kpss] = onnx.Tensor{Data: make([]float32, 10*n)}
	}
	// stride 16, row 1, column 2, second anchor: centre (32, 16), the
	// cell's corner
	const i = (1*4+2)*2 + 1
	out["s1"].Data[i] = 0.9
	copy(out["b1"].Data[4*i:], []float32{1, 0.5, 2, 1.5})
	for k := 0; k < 10; k++ {
		out["k1"].Data[10*i+k] = float32(k) / 4
	}
	var got []raw
	if err := d.decode(out, 0.4, func(r raw) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d proposals, want 1", len(got))
	}
	r := got[0]
	if r.x1 != 16 || r.y1 != 8 || r.x2 != 64 || r.y2 != 40 || r.score != float64(float32(0.9)) {
		t.Errorf("proposal %+v, want box 16,8–64,40 score 0.9", r)
	}
	for k, p := range r.kps {
		if p.X != 32+4*float64(2*k) || p.Y != 16+4*float64(2*k+1) {
			t.Errorf("keypoint %d = %v", k, p)
		}
	}
	out["k2"] = onnx.Tensor{Data: nil}
	if err := d.decode(out, 0.4, func(raw) {}); err == nil || !strings.Contains(err.Error(), "k2") {
		t.Errorf("short output: %v", err)
	}
}
