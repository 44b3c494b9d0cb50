package landmark

import (
	"image"
	"math"
	"strings"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/raster"
)

func irisModel(t *testing.T) *Iris {
	t.Helper()
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/iris.onnx")
	s, err := rt.Load(p.ONNX("iris"))
	if err != nil {
		t.Fatal(err)
	}
	ir, err := NewIris(s)
	if err != nil {
		t.Fatal(err)
	}
	return ir
}

func TestNewIrisRejectsOtherModels(t *testing.T) {
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/facemesh.onnx")
	s, err := rt.Load(p.ONNX("facemesh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewIris(s); err == nil || !strings.Contains(err.Error(), "facemesh.onnx") {
		t.Errorf("NewIris(facemesh): %v, want an error naming the model", err)
	}
}

// mirror returns img flipped left to right.
func mirror(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.SetNRGBA(b.Max.X-1-(x-b.Min.X), y, img.NRGBAAt(x, y))
		}
	}
	return out
}

// TestIrisPortrait checks the irises of a frontal portrait: each centre lies
// inside its eye, between the corners and the lids, with a radius an iris
// has against the eye's width; and the same face mirrored gives the same
// irises mirrored, each found by the other eye's crop (the left eye's is
// mirrored for the model, so a slip there shows as a disagreement).
func TestIrisPortrait(t *testing.T) {
	fm, ir := faceMesh(t), irisModel(t)
	img, prop := portrait(t)
	run := func(img *image.NRGBA, prop Proposal) ([]faceswap.Point3, [2]faceswap.Circle) {
		p := raster.NewPyramid(img)
		res, err := fm.Detect(p, []Proposal{prop})
		if err != nil {
			t.Fatal(err)
		}
		irs, err := ir.Run(p, [][]faceswap.Point3{res[0].Mesh})
		if err != nil {
			t.Fatal(err)
		}
		if len(irs) != 1 {
			t.Fatalf("%d results for one mesh", len(irs))
		}
		return res[0].Mesh, irs[0]
	}
	m, irs := run(img, prop)
	lids := [2][2]int{{159, 145}, {386, 374}}
	for e, c := range eyeCorners {
		o, in, c0 := m[c[0]], m[c[1]], irs[e]
		w := math.Hypot(in.X-o.X, in.Y-o.Y)
		along := ((c0.X-o.X)*(in.X-o.X) + (c0.Y-o.Y)*(in.Y-o.Y)) / (w * w)
		top, bottom := m[lids[e][0]], m[lids[e][1]]
		if along < 0.3 || along > 0.7 || c0.Y < top.Y-1 || c0.Y > bottom.Y+1 {
			t.Errorf("eye %d: iris centre (%.1f, %.1f) at %.2f of the way between the corners, lids at y %.1f and %.1f; want it inside the eye", e, c0.X, c0.Y, along, top.Y, bottom.Y)
		}
		if d := 2 * c0.R / w; d < 0.3 || d > 0.6 {
			t.Errorf("eye %d: iris diameter %.2f of the eye's width, want 0.3–0.6", e, d)
		}
	}
	// the mirrored photo, with the proposal mirrored (its eyes swap sides)
	w := float64(img.Bounds().Dx())
	flip := func(p faceswap.Point) faceswap.Point { return faceswap.Point{X: w - p.X, Y: p.Y} }
	mp := Proposal{
		Box:      faceswap.Rect{X: w - prop.Box.X - prop.Box.W, Y: prop.Box.Y, W: prop.Box.W, H: prop.Box.H},
		LeftEye:  flip(prop.RightEye),
		RightEye: flip(prop.LeftEye),
		Mouth:    flip(prop.Mouth),
	}
	_, mirs := run(mirror(img), mp)
	for e := range 2 {
		a, b := irs[e], mirs[1-e]
		if d := math.Hypot(a.X-(w-b.X), a.Y-b.Y); d > 1.5 || math.Abs(a.R-b.R) > 1 {
			t.Errorf("eye %d: iris (%.1f, %.1f) r %.1f, mirrored (%.1f, %.1f) r %.1f: %.1f px apart, want ≤ 1.5", e, a.X, a.Y, a.R, w-b.X, b.Y, b.R, d)
		}
	}
	if res, err := ir.Run(raster.NewPyramid(img), nil); err != nil || res != nil {
		t.Errorf("Run with no meshes: %v, %v", res, err)
	}
}
