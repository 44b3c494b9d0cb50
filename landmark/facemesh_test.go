package landmark

import (
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"faceswap"
	"faceswap/detect"
	"faceswap/internal/testenv"
	"faceswap/raster"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func dist(a, b faceswap.Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

func faceMesh(t *testing.T) *FaceMesh {
	t.Helper()
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/facemesh.onnx")
	s, err := rt.Load(p.ONNX("facemesh"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewFaceMesh(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// guess builds a detector-like proposal from a face box alone: eyes at 40%
// of the height, a third in from each side, the mouth at 80%.
func guess(box faceswap.Rect) Proposal {
	return Proposal{
		Box:      box,
		LeftEye:  faceswap.Point{X: box.X + box.W/3, Y: box.Y + 0.4*box.H},
		RightEye: faceswap.Point{X: box.X + 2*box.W/3, Y: box.Y + 0.4*box.H},
		Mouth:    faceswap.Point{X: box.X + box.W/2, Y: box.Y + 0.8*box.H},
	}
}

// portrait loads a picture of one woman (testenv.Portrait2: 400×400, her
// face about 175 px, the head a little tilted) and BlazeFace's proposal for
// her face, as analysis makes it: the tests check the mesh against the
// detector's box and eyes.
func portrait(t *testing.T) (*image.NRGBA, Proposal) {
	t.Helper()
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/blazeface-back.onnx")
	s, err := rt.Load(p.ONNX("blazeface-back"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := detect.NewBlazeFace(s, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	img := testenv.Load(t, testenv.Photo(t, testenv.Portrait2))
	dets, err := d.Detect(raster.NewPyramid(img))
	if err != nil {
		t.Fatal(err)
	}
	// The face first: whole faces come before cut ones, each by score.
	if len(dets) == 0 || dets[0].Cut() || dets[0].Score < 0.7 {
		t.Fatalf("BlazeFace found no confident face in %s: %+v", testenv.Portrait2, dets)
	}
	c := dets[0]
	return img, Proposal{Box: c.Box, LeftEye: c.Keypoints[0], RightEye: c.Keypoints[1], Mouth: c.MouthCenter()}
}

func TestNewFaceMeshRejectsOtherModels(t *testing.T) {
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/blazeface-back.onnx")
	s, err := rt.Load(p.ONNX("blazeface-back"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewFaceMesh(s); err == nil || !strings.Contains(err.Error(), "blazeface-back.onnx") {
		t.Errorf("NewFaceMesh(blazeface): %v, want an error naming the model", err)
	}
}

func TestDetectPortrait(t *testing.T) {
	fm := faceMesh(t)
	img, prop := portrait(t)
	box := prop.Box
	res, err := fm.Detect(raster.NewPyramid(img), []Proposal{prop})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Mesh) != faceswap.MeshPoints {
		t.Fatalf("%d results, want 1 with %d points", len(res), faceswap.MeshPoints)
	}
	r := res[0]
	if r.Score < 0.9 {
		t.Errorf("presence %g on a frontal portrait, want ≥ 0.9", r.Score)
	}
	// BlazeFace boxes eyes to mouth, the mesh forehead to chin: the
	// detector's box lies in the mesh's, which is not much larger.
	b := Bounds(r.Mesh)
	x0, y0 := math.Max(b.X, box.X), math.Max(b.Y, box.Y)
	x1, y1 := math.Min(b.X+b.W, box.X+box.W), math.Min(b.Y+b.H, box.Y+box.H)
	if in := math.Max(0, x1-x0) * math.Max(0, y1-y0) / box.Area(); in < 0.9 || b.Area() > 2.5*box.Area() {
		t.Errorf("mesh bounds %+v hold %.0f%% of the detector's box %+v and are %.1f times its area, want ≥ 90%% and ≤ 2.5", b, 100*in, box, b.Area()/box.Area())
	}
	// The face is upright: forehead above nose above chin. The head is
	// tilted: the eyes are where the detector put them, on its eye line.
	if !(r.Mesh[Forehead].Y < r.Mesh[NoseTip].Y && r.Mesh[NoseTip].Y < r.Mesh[Chin].Y) {
		t.Errorf("forehead %v, nose %v, chin %v are not top to bottom", r.Mesh[Forehead], r.Mesh[NoseTip], r.Mesh[Chin])
	}
	l, rt := EyeCenters(r.Mesh)
	for _, e := range [][2]faceswap.Point{{l, prop.LeftEye}, {rt, prop.RightEye}} {
		if d := dist(e[0], e[1]); d > 0.15*box.W {
			t.Errorf("mesh eye %v is %.1f px from the detector's %v (box width %.0f)", e[0], d, e[1], box.W)
		}
	}
	a := math.Atan2(rt.Y-l.Y, rt.X-l.X)
	if da := math.Atan2(prop.RightEye.Y-prop.LeftEye.Y, prop.RightEye.X-prop.LeftEye.X); math.Abs(a-da) > 0.1 {
		t.Errorf("eye line at %.3g rad, the detector's at %.3g", a, da)
	}

	// Keypoints: each eye centre lies between its corners, the left eye
	// (image left) left of the right one, the nose between and below the
	// eyes, the mouth corners below the nose in image order.
	kp := Keypoints(r.Mesh)
	for _, e := range []struct {
		name         string
		c            faceswap.Point
		outer, inner int
	}{
		{"image-left eye", kp[faceswap.LeftEye], RightEyeOuter, RightEyeInner},
		{"image-right eye", kp[faceswap.RightEye], LeftEyeOuter, LeftEyeInner},
	} {
		o, i := r.Mesh[e.outer], r.Mesh[e.inner]
		if e.c.X <= math.Min(o.X, i.X) || e.c.X >= math.Max(o.X, i.X) || e.c.Y < math.Min(o.Y, i.Y)-1 || e.c.Y > math.Max(o.Y, i.Y)+1 {
			t.Errorf("%s centre %v is not between its corners %v and %v", e.name, e.c, o, i)
		}
		if !near(e.c.X, (o.X+i.X)/2, 1e-9) || !near(e.c.Y, (o.Y+i.Y)/2, 1e-9) {
			t.Errorf("%s centre %v is not the corners' midpoint", e.name, e.c)
		}
		if !(image.Pt(int(e.c.X), int(e.c.Y)).In(image.Rect(int(box.X), int(box.Y), int(box.X+box.W), int(box.Y+box.H)))) {
			t.Errorf("%s %v outside the face box %+v", e.name, e.c, box)
		}
	}
	le, re, nose, ml, mr := kp[faceswap.LeftEye], kp[faceswap.RightEye], kp[faceswap.Nose], kp[faceswap.MouthLeft], kp[faceswap.MouthRight]
	if !(le.X < nose.X && nose.X < re.X && nose.Y > math.Max(le.Y, re.Y)) {
		t.Errorf("nose %v is not between and below the eyes %v %v", nose, le, re)
	}
	if !(ml.X < mr.X && ml.Y > nose.Y && mr.Y > nose.Y) {
		t.Errorf("mouth corners %v %v are not below the nose %v, left to right", ml, mr, nose)
	}
	iod := dist(le, re)
	if iod < 0.25*box.W || iod > 0.7*box.W {
		t.Errorf("interocular distance %g for a %g-px face", iod, box.W)
	}
}

func TestDetectRejectsNonFaces(t *testing.T) {
	fm := faceMesh(t)
	const n = 256
	box := faceswap.Rect{X: 70, Y: 60, W: 110, H: 130}
	noise := image.NewNRGBA(image.Rect(0, 0, n, n))
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			noise.Pix[i] = 255
		}
	}
	grey := image.NewNRGBA(image.Rect(0, 0, n, n))
	for i := range grey.Pix {
		grey.Pix[i] = 128
		if i%4 == 3 {
			grey.Pix[i] = 255
		}
	}
	for name, img := range map[string]*image.NRGBA{"noise": noise, "flat grey": grey} {
		res, err := fm.Detect(raster.NewPyramid(img), []Proposal{guess(box)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 {
			t.Fatalf("%s: %d results", name, len(res))
		}
		if res[0].Score >= 0.5 {
			t.Errorf("%s: presence %g, want < 0.5", name, res[0].Score)
		}
	}
}

// rot90 turns img a quarter clockwise: (x, y) → (H−1−y, x).
func rot90(img *image.NRGBA) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			copy(out.Pix[out.PixOffset(h-1-y, x):][:4], img.Pix[img.PixOffset(x, y):][:4])
		}
	}
	return out
}

// TestDetectRotated: the mesh of a photo turned a quarter is the turned
// mesh of the photo, which holds only if the rotated crops and the mapping
// back to the image are right.
func TestDetectRotated(t *testing.T) {
	fm := faceMesh(t)
	img, prop := portrait(t)
	box := prop.Box
	h := float64(img.Rect.Dy())
	// continuous coordinates turn as (X, Y) → (H − Y, X)
	turn := func(p faceswap.Point) faceswap.Point { return faceswap.Point{X: h - p.Y, Y: p.X} }

	tl := turn(faceswap.Point{X: box.X, Y: box.Y + box.H}) // the box's bottom-left becomes its top-left
	rprop := Proposal{
		Box:      faceswap.Rect{X: tl.X, Y: tl.Y, W: box.H, H: box.W},
		LeftEye:  turn(prop.LeftEye),
		RightEye: turn(prop.RightEye),
		Mouth:    turn(prop.Mouth),
	}
	want, err := fm.Detect(raster.NewPyramid(img), []Proposal{prop})
	if err != nil {
		t.Fatal(err)
	}
	got, err := fm.Detect(raster.NewPyramid(rot90(img)), []Proposal{rprop})
	if err != nil {
		t.Fatal(err)
	}
	// Both crops sample the same pixels, so the meshes agree all but
	// exactly; the tolerance is 3% of the eye distance, and at most a
	// quarter pixel, which a half-pixel slip in the mapping would exceed.
	l, r := EyeCenters(want[0].Mesh)
	tol := math.Min(0.03*dist(l, r), 0.25)
	worst := 0.0
	for k := range want[0].Mesh {
		w := turn(faceswap.Point{X: want[0].Mesh[k].X, Y: want[0].Mesh[k].Y})
		worst = math.Max(worst, dist(w, faceswap.Point{X: got[0].Mesh[k].X, Y: got[0].Mesh[k].Y}))
	}
	if worst > tol {
		t.Errorf("turned mesh differs from the mesh of the turned photo by up to %.3g px, want ≤ %.3g", worst, tol)
	}
	if !near(got[0].Score, want[0].Score, 0.01) {
		t.Errorf("presence %g on the turned photo, %g upright", got[0].Score, want[0].Score)
	}
	// The turned face's eye line is vertical: the crop really rotated.
	gl, gr := EyeCenters(got[0].Mesh)
	if a := math.Atan2(gr.Y-gl.Y, gr.X-gl.X); math.Abs(a-math.Pi/2) > 0.25 {
		t.Errorf("eye line of the turned face at %g rad, want about π/2", a)
	}
	t.Logf("worst vertex difference %.3g px (tolerance %.3g)", worst, tol)
}

func TestRunBatchesLikeSingleRuns(t *testing.T) {
	fm := faceMesh(t)
	img, prop := portrait(t)
	p := raster.NewPyramid(img)
	crops := []Crop{
		CropFromEyes(prop.Box, prop.LeftEye, prop.RightEye, 1.5),
		{Center: faceswap.Point{X: 60, Y: 400}, Side: 120, Angle: 0.4}, // no face there
	}
	batch, err := fm.Run(p, crops)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range crops {
		one, err := fm.Run(p, []Crop{c})
		if err != nil {
			t.Fatal(err)
		}
		if !near(one[0].Score, batch[i].Score, 1e-4) {
			t.Errorf("crop %d: presence %g alone, %g in a batch", i, one[0].Score, batch[i].Score)
		}
		for k := range one[0].Mesh {
			if a, b := one[0].Mesh[k], batch[i].Mesh[k]; !near(a.X, b.X, 1e-2) || !near(a.Y, b.Y, 1e-2) || !near(a.Z, b.Z, 1e-2) {
				t.Fatalf("crop %d vertex %d: %v alone, %v in a batch", i, k, a, b)
			}
		}
	}
	if batch[0].Score < 0.5 || batch[1].Score > 0.5 {
		t.Errorf("presence %g on the face, %g beside it", batch[0].Score, batch[1].Score)
	}
	if res, err := fm.Run(p, nil); err != nil || res != nil {
		t.Errorf("Run with no crops: %v, %v", res, err)
	}
}

// synthMesh is a mesh with every vertex at the origin but those named.
func synthMesh(pts map[int]faceswap.Point3) []faceswap.Point3 {
	m := make([]faceswap.Point3, faceswap.MeshPoints)
	for i, p := range pts {
		m[i] = p
	}
	return m
}

func TestKeypointsOfSyntheticMesh(t *testing.T) {
	m := synthMesh(map[int]faceswap.Point3{
		RightEyeOuter: {X: 10, Y: 20}, RightEyeInner: {X: 30, Y: 22},
		LeftEyeInner: {X: 50, Y: 22}, LeftEyeOuter: {X: 70, Y: 18},
		NoseTip: {X: 40, Y: 40, Z: -5}, MouthRight: {X: 28, Y: 60}, MouthLeft: {X: 52, Y: 61},
	})
	kp := Keypoints(m)
	want := [5]faceswap.Point{{X: 20, Y: 21}, {X: 60, Y: 20}, {X: 40, Y: 40}, {X: 28, Y: 60}, {X: 52, Y: 61}}
	if kp != want {
		t.Errorf("Keypoints = %v, want %v", kp, want)
	}
	b := Bounds(m)
	if b != (faceswap.Rect{X: 0, Y: 0, W: 70, H: 61}) {
		t.Errorf("Bounds = %+v", b)
	}
}

func TestCrops(t *testing.T) {
	box := faceswap.Rect{X: 100, Y: 50, W: 80, H: 100}
	// eye line rising 45° to the image right
	c := CropFromEyes(box, faceswap.Point{X: 120, Y: 90}, faceswap.Point{X: 160, Y: 50}, 1.5)
	if c.Center != (faceswap.Point{X: 140, Y: 100}) || c.Side != 150 || !near(c.Angle, -math.Pi/4, 1e-12) {
		t.Errorf("CropFromEyes = %+v", c)
	}
	// eyes on one spot (a profile): the angle comes from eyes → mouth
	// (straight down is upright)
	eye := faceswap.Point{X: 130, Y: 80}
	c = CropFromKeypoints(box, eye, faceswap.Point{X: 131, Y: 80}, faceswap.Point{X: 130.5, Y: 130}, 1.5)
	if !near(c.Angle, 0, 1e-12) {
		t.Errorf("profile crop angle %g, want 0", c.Angle)
	}
	c = CropFromKeypoints(box, eye, faceswap.Point{X: 131, Y: 80}, faceswap.Point{X: 80, Y: 80}, 1.5)
	if !near(c.Angle, math.Pi/2, 1e-12) {
		t.Errorf("profile lying left: angle %g, want π/2", c.Angle)
	}
	// eyes far enough apart: the eye line wins
	c = CropFromKeypoints(box, faceswap.Point{X: 110, Y: 80}, faceswap.Point{X: 170, Y: 80}, faceswap.Point{X: 80, Y: 80}, 1.5)
	if !near(c.Angle, 0, 1e-12) {
		t.Errorf("frontal crop angle %g, want 0 from the eyes", c.Angle)
	}

	// CropFromMesh: square around the bounds ×1.5, eye-line angle
	m := synthMesh(map[int]faceswap.Point3{
		RightEyeOuter: {X: 10, Y: 30}, RightEyeInner: {X: 30, Y: 30},
		LeftEyeInner: {X: 50, Y: 30}, LeftEyeOuter: {X: 70, Y: 30},
		Forehead: {X: 40, Y: 0}, Chin: {X: 40, Y: 90},
	})
	c = CropFromMesh(m)
	if c.Center != (faceswap.Point{X: 35, Y: 45}) || c.Side != 135 || c.Angle != 0 {
		t.Errorf("CropFromMesh = %+v", c)
	}
	// a profile mesh (eyes 6 px apart on a 70-px-wide face) tilted: the
	// forehead→chin axis gives the angle
	m = synthMesh(map[int]faceswap.Point3{
		RightEyeOuter: {X: 60, Y: 30}, RightEyeInner: {X: 62, Y: 30},
		LeftEyeInner: {X: 64, Y: 30}, LeftEyeOuter: {X: 66, Y: 30},
		Forehead: {X: 70, Y: 0}, Chin: {X: 10, Y: 60},
	})
	if c = CropFromMesh(m); !near(c.Angle, math.Pi/4, 1e-12) {
		t.Errorf("profile mesh angle %g, want π/4", c.Angle)
	}
}

// TestRunIsScaleInvariant: the same face cropped tighter or looser gives
// the same mesh in image pixels, depth included (Z is scaled like X and Y).
func TestRunIsScaleInvariant(t *testing.T) {
	fm := faceMesh(t)
	img, prop := portrait(t)
	p := raster.NewPyramid(img)
	first, err := fm.Detect(p, []Proposal{prop})
	if err != nil {
		t.Fatal(err)
	}
	c := CropFromMesh(first[0].Mesh)
	loose := c
	loose.Side *= 1.2
	res, err := fm.Run(p, []Crop{c, loose})
	if err != nil {
		t.Fatal(err)
	}
	spread := func(m []faceswap.Point3) (w, h, d float64) {
		b := Bounds(m)
		z0, z1 := math.Inf(1), math.Inf(-1)
		for _, q := range m {
			z0, z1 = math.Min(z0, q.Z), math.Max(z1, q.Z)
		}
		return b.W, b.H, z1 - z0
	}
	w0, h0, d0 := spread(res[0].Mesh)
	w1, h1, d1 := spread(res[1].Mesh)
	t.Logf("tight crop: %.1f×%.1f depth %.1f; loose: %.1f×%.1f depth %.1f", w0, h0, d0, w1, h1, d1)
	// The model itself draws a face seen smaller a little larger (6% in
	// height here), so the bound is 15%; depth left in crop pixels would
	// shrink by the 20% the crop grew.
	for _, q := range [][2]float64{{w0, w1}, {h0, h1}, {d0, d1}} {
		if r := q[1] / q[0]; r < 0.87 || r > 1.15 {
			t.Errorf("size ratio loose/tight %g, want about 1 (widths %g %g, heights %g %g, depths %g %g)", r, w0, w1, h0, h1, d0, d1)
			break
		}
	}
	if r := d1 / d0; r < 0.9 || r > 1.1 {
		t.Errorf("depth changed by a factor %g with the crop: Z is not in image pixels", r)
	}
	if d0 < 0.3*w0 || d0 > 1.5*w0 {
		t.Errorf("face depth %g for a face %g wide", d0, w0)
	}
	l0, r0 := EyeCenters(res[0].Mesh)
	l1, r1 := EyeCenters(res[1].Mesh)
	if e := math.Max(dist(l0, l1), dist(r0, r1)); e > 0.05*dist(l0, r0) {
		t.Errorf("eye centres move by %g px between the crops", e)
	}
}
