package detect

import (
	"fmt"
	"strings"
	"testing"

	"faceswap/onnx"
)

// TestYOLODecode: one anchor above the threshold, decoded by hand.
func TestYOLODecode(t *testing.T) {
	d := &YOLOv5Face{g: grid{size: 64}}
	out := map[string]onnx.Tensor{}
	for _, st := range []int{8, 16, 32} {
		name := fmt.Sprintf("stride_%d", st)
		d.levels = append(d.levels, yoloLevel{name: name, stride: st, anchors: yoloAnchors[st]})
		c := 64 / st
		v := make([]float32, 3*c*c*16)
		for i := 0; i < 3*c*c; i++ {
			v[16*i+4] = -10 // no object
		}
		out[name] = onnx.Tensor{Data: v}
	}
	// stride 16, anchor 2 (73×105), row 1, column 3
	v := out["stride_16"].Data
	c := v[((2*4+1)*4+3)*16:][:16]
	copy(c, []float32{0, 0, 0, 0, 10, 0.1, -0.2, 0, 0, 0, 0, 0, 0, 0, 0, 2})
	var got []raw
	if err := d.decode(out, 0.5, func(r raw) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d proposals, want 1", len(got))
	}
	r := got[0]
	// centre (σ(0)·2 − 0.5 + cell)·16 = (3.5·16, 1.5·16); size (σ(0)·2)²·anchor
	if !near(r.x1, 56-36.5, 1e-9) || !near(r.y1, 24-52.5, 1e-9) || !near(r.x2, 56+36.5, 1e-9) || !near(r.y2, 24+52.5, 1e-9) {
		t.Errorf("box %+v, want centre (56,24) size 73×105", r)
	}
	if want := sigmoid(10) * sigmoid(2); !near(r.score, want, 1e-12) {
		t.Errorf("score %g, want objectness × class %g", r.score, want)
	}
	// landmarks: raw·anchor + cell corner·stride, not through a sigmoid
	if !near(r.kps[0].X, 0.1*73+48, 1e-6) || !near(r.kps[0].Y, -0.2*105+16, 1e-6) || r.kps[1].X != 48 || r.kps[1].Y != 16 {
		t.Errorf("keypoints %v", r.kps)
	}
	// the class score counts: a confident object of a weak class is out
	c[15] = -2
	got = got[:0]
	d.decode(out, 0.5, func(r raw) { got = append(got, r) })
	if len(got) != 0 {
		t.Errorf("score σ(10)·σ(−2) passed a 0.5 threshold")
	}
	out["stride_8"] = onnx.Tensor{Shape: []int64{1}, Data: []float32{0}}
	if err := d.decode(out, 0.5, func(raw) {}); err == nil || !strings.Contains(err.Error(), "stride_8") {
		t.Errorf("short output: %v", err)
	}
}
