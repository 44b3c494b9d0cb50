package onnxrestore

import (
	"errors"
	"faceswap/models/optional"
	"image"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"faceswap"
	"faceswap/align"
	"faceswap/analysis"
	"faceswap/internal/testenv"
	"faceswap/resample"
	"faceswap/restore"
	"faceswap/restore/standin"
	"faceswap/swap"
)

// The models are stand-ins (package standin) with the real interfaces.

func load(t testing.TB, name string, spec standin.Spec) *Restorer {
	t.Helper()
	rt := testenv.Runtime(t)
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, spec.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(rt, name, path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type photo struct {
	img   *image.NRGBA
	faces []faceswap.Face
}

var (
	photoMu    sync.Mutex
	photoCache = map[string]photo{}
)

// loadPhoto decodes a test photo and analyses it (cached): a derived one
// (testenv.Group3 …), which every machine has, by its name, any other from
// the shared folder (skipping t when that is missing).
func loadPhoto(t testing.TB, file string) photo {
	t.Helper()
	photoMu.Lock()
	defer photoMu.Unlock()
	if p, ok := photoCache[file]; ok {
		return p
	}
	ph := analysed(t, testenv.Load(t, testenv.PhotoPath(t, file)))
	photoCache[file] = ph
	return ph
}

// analysed is img with the faces the default analyser finds in it.
func analysed(t testing.TB, img *image.NRGBA) photo {
	t.Helper()
	p := testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/facemesh.onnx", "onnx/faceres.onnx")
	a, err := analysis.New(testenv.Runtime(t), analysis.Models{Detector: p.ONNX("blazeface-back"), Mesh: p.ONNX("facemesh"), Attribute: p.ONNX("faceres")}, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	faces, err := a.Analyze(img, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return photo{img: img, faces: faces}
}

func clone(img *image.NRGBA) *image.NRGBA {
	c := image.NewNRGBA(img.Rect)
	copy(c.Pix, img.Pix)
	return c
}

func alphaAt(regions []swap.Region, x, y int) uint8 {
	var a uint8
	for _, r := range regions {
		if (image.Point{x, y}).In(r.Bounds) {
			a = max(a, r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X])
		}
	}
	return a
}

// unchangedOutside fails for a pixel that changed where no region has
// alpha, and returns how many pixels have alpha.
func unchangedOutside(t *testing.T, orig, dst *image.NRGBA, regions []swap.Region) int {
	t.Helper()
	inside := 0
	for y := 0; y < orig.Rect.Dy(); y++ {
		for x := 0; x < orig.Rect.Dx(); x++ {
			o := orig.PixOffset(x, y)
			if alphaAt(regions, x, y) > 0 {
				inside++
				continue
			}
			if string(orig.Pix[o:o+4]) != string(dst.Pix[o:o+4]) {
				t.Fatalf("(%d,%d) changed outside every region: %v → %v", x, y, orig.Pix[o:o+4], dst.Pix[o:o+4])
			}
		}
	}
	return inside
}

// bilinearBlack samples img at pixel-index position (x, y), black outside.
func bilinearBlack(img *image.NRGBA, x, y float64) [3]float32 {
	x0, y0 := math.Floor(x), math.Floor(y)
	ax, ay := x-x0, y-y0
	var out [3]float64
	for _, c := range [4]struct {
		dx, dy int
		w      float64
	}{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
		px, py := int(x0)+c.dx, int(y0)+c.dy
		if px < 0 || py < 0 || px >= img.Rect.Dx() || py >= img.Rect.Dy() {
			continue
		}
		o := py*img.Stride + 4*px
		for k := 0; k < 3; k++ {
			out[k] += c.w * float64(img.Pix[o+k])
		}
	}
	return [3]float32{float32(out[0]), float32(out[1]), float32(out[2])}
}

// stats returns the largest channel difference between a and b, and the
// mean over the n pixels that have alpha.
func stats(a, b *image.NRGBA, n int) (maxDiff int, mean float64) {
	var sum int
	for i := 0; i < len(a.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			d := int(a.Pix[i+c]) - int(b.Pix[i+c])
			if d < 0 {
				d = -d
			}
			maxDiff = max(maxDiff, d)
			sum += d
		}
	}
	return maxDiff, float64(sum) / 3 / float64(max(n, 1))
}

// The identity restorer aligns each face to 512 px and pastes the crop
// back: the result must be that round trip, computed here independently
// (a plain bilinear crop, Bilinear sampling back at the inverse transform,
// the blend under the reported alpha) within one level, and close to the
// original picture (the round trip's resampling blur).
func TestIdentityKeepsPicture(t *testing.T) {
	ph := loadPhoto(t, testenv.Group3)
	for _, c := range []struct {
		name string
		spec standin.Spec
	}{{"GFPGANv1.4.pth", standin.GFPGAN(standin.Identity, 0)}, {"codeformer-v0.1.0.pth", standin.CodeFormer(standin.Identity, 0)}} {
		r := load(t, c.name, c.spec)
		dst := clone(ph.img)
		regions, err := r.Restore(dst, ph.faces, restore.Options{Weight: 1, Interpolation: resample.Bilinear})
		if err != nil {
			t.Fatal(err)
		}
		if len(regions) != len(ph.faces) || len(regions) != 3 {
			t.Fatalf("%d regions for %d faces", len(regions), len(ph.faces))
		}
		inside := unchangedOutside(t, ph.img, dst, regions)
		// independent round trip
		want := clone(ph.img)
		for i, f := range ph.faces {
			m, err := align.Crop(f.Keypoints, align.FFHQ512)
			if err != nil || m.Scale() >= 2 {
				t.Fatalf("face %d: scale %.2f, %v; the plain crop needs < 2", i, m.Scale(), err)
			}
			crop := resample.New(Size, Size)
			for v := 0; v < Size; v++ {
				for u := 0; u < Size; u++ {
					x, y := m.Apply(float64(u), float64(v))
					p := bilinearBlack(want, x, y)
					copy(crop.Pix[3*(v*Size+u):], p[:])
				}
			}
			inv := m.Invert()
			rg := regions[i]
			for y := rg.Bounds.Min.Y; y < rg.Bounds.Max.Y; y++ {
				for x := rg.Bounds.Min.X; x < rg.Bounds.Max.X; x++ {
					a := float32(rg.Alpha[(y-rg.Bounds.Min.Y)*rg.Bounds.Dx()+x-rg.Bounds.Min.X]) / 255
					if a == 0 {
						continue
					}
					u, v := inv.Apply(float64(x), float64(y))
					var p [3]float32
					p[0], p[1], p[2] = crop.At(resample.Bilinear, u, v)
					o := want.Pix[want.PixOffset(x, y):]
					for ch := 0; ch < 3; ch++ {
						o[ch] = resample.Clamp8(float32(o[ch]) + (p[ch]-float32(o[ch]))*a)
					}
				}
			}
			t.Logf("%s face %d: box %.0f px, %.3f image px per crop px, region %v", c.name, i, f.Box.W, m.Scale(), rg.Bounds)
		}
		if d, _ := stats(dst, want, inside); d > 1 {
			t.Errorf("%s: differs from the independent round trip by %d levels", c.name, d)
		}
		d, mean := stats(dst, ph.img, inside)
		t.Logf("%s: identity round trip vs the original over %d pixels with alpha: max |diff| %d levels, mean %.3f", c.name, inside, d, mean)
		// Measured here, on the demo group photo's ~100-px faces (0.31
		// image px per crop px): max 12, mean 0.273 of 255; on the
		// shared Apollo crew photo's ~47-px faces (0.16), which this test
		// used before: max 16, mean 0.385. Bilinear enlarging to 512 and
		// sampling back between the crop's pixels cuts the corners of
		// the piecewise-linear picture at each original pixel centre, by
		// up to (crop pixel / image pixel) × the change of slope, most on
		// the sharpest edges; Bicubic and Lanczos, which reproduce
		// linear ramps, stay within 2 (TestKernels).
		if d > 20 || mean > 0.5 {
			t.Errorf("%s: the identity round trip moves pixels by up to %d levels, %.3f on average; want ≤ 20 and ≤ 0.5", c.name, d, mean)
		}
	}
}

// Every kernel: the identity stays close to the picture, and a constant
// restorer gives the constant under full alpha and nothing outside.
func TestKernels(t *testing.T) {
	ph := loadPhoto(t, testenv.Group3)
	ident := load(t, "GFPGANv1.3.pth", standin.GFPGAN(standin.Identity, 0))
	grey := load(t, "GFPGANv1.3.pth", standin.GFPGAN(standin.Constant, 0.2)) // (0.2+1)·127.5 = 153
	for k := resample.Nearest; k <= resample.Lanczos; k++ {
		dst := clone(ph.img)
		regions, err := ident.Restore(dst, ph.faces, restore.Options{Weight: 1, Interpolation: k})
		if err != nil {
			t.Fatal(err)
		}
		inside := unchangedOutside(t, ph.img, dst, regions)
		d, mean := stats(dst, ph.img, inside)
		t.Logf("%s: identity round trip max |diff| %d, mean %.3f", k, d, mean)
		if lim := map[resample.Kernel]int{resample.Nearest: 2, resample.Bilinear: 20, resample.Bicubic: 4, resample.Lanczos: 4}[k]; d > lim || mean > 0.5 {
			t.Errorf("%s: identity round trip moves pixels by up to %d levels (%.3f on average), want ≤ %d (0.5)", k, d, mean, lim)
		}
		dst = clone(ph.img)
		regions, err = grey.Restore(dst, ph.faces, restore.Options{Weight: 1, Interpolation: k})
		if err != nil {
			t.Fatal(err)
		}
		checkConstant(t, ph.img, dst, regions, 153)
	}
}

// checkConstant: byte-identical where no region has alpha, the constant
// where alpha is full, a blend between otherwise.
func checkConstant(t *testing.T, orig, dst *image.NRGBA, regions []swap.Region, v uint8) {
	t.Helper()
	unchangedOutside(t, orig, dst, regions)
	full := 0
	for y := 0; y < orig.Rect.Dy(); y++ {
		for x := 0; x < orig.Rect.Dx(); x++ {
			a := alphaAt(regions, x, y)
			if a != 255 {
				continue
			}
			full++
			d := dst.Pix[dst.PixOffset(x, y):]
			if d[0] != v || d[1] != v || d[2] != v {
				t.Fatalf("(%d,%d) under full alpha is %v, want %d", x, y, d[:3], v)
			}
		}
	}
	if full == 0 {
		t.Error("no pixel has full alpha")
	}
}

// A constant restorer changes exactly the faces' masked regions, also for
// faces cut by the border, and the regions sit on the faces. The picture is
// the demo group photo with its top 120 rows cut off, through the forehead
// of the woman at the top (her face box starts at row 85).
func TestConstantChangesOnlyRegions(t *testing.T) {
	group := loadPhoto(t, testenv.Group5).img
	cut := image.NewNRGBA(image.Rect(0, 0, group.Rect.Dx(), group.Rect.Dy()-120))
	copy(cut.Pix, group.Pix[group.PixOffset(0, 120):])
	ph := analysed(t, cut)
	cutFace := false
	for _, f := range ph.faces {
		cutFace = cutFace || f.Box.Y < 0
	}
	if !cutFace {
		t.Fatal("no face crosses the top edge; the test needs one")
	}
	r := load(t, "GFPGANv1.4.pth", standin.GFPGAN(standin.Constant, 0.2))
	dst := clone(ph.img)
	regions, err := r.Restore(dst, ph.faces, restore.Options{Weight: 1, Interpolation: resample.Bicubic})
	if err != nil {
		t.Fatal(err)
	}
	checkConstant(t, ph.img, dst, regions, 153)
	for i, rg := range regions {
		b := ph.faces[i].Box
		c := image.Pt(int(b.X+b.W/2), int(b.Y+b.H/2))
		if !c.In(rg.Bounds) || alphaAt(regions[i:i+1], c.X, c.Y) != 255 {
			t.Errorf("face %d: centre %v not under full alpha of region %v", i, c, rg.Bounds)
		}
		t.Logf("face %d: box %.0f×%.0f, region %v", i, b.W, b.H, rg.Bounds)
	}
}

// face_restore_weight: 0 changes nothing (and does not run the model), 1
// is the full effect, and in between the change is proportional: each
// pixel moves that fraction of the way to its full-weight value, within
// rounding (the alpha and the pixel are each rounded to a level).
func TestWeight(t *testing.T) {
	ph := loadPhoto(t, testenv.Group3)
	for _, c := range []struct {
		name string
		spec standin.Spec
	}{{"GFPGANv1.4.pth", standin.GFPGAN(standin.Constant, 0.6)}, {"codeformer-v0.1.0.pth", standin.CodeFormer(standin.Constant, -0.5)}} {
		r := load(t, c.name, c.spec)
		zero := clone(ph.img)
		runs, _ := r.s.Stats()
		regions, err := r.Restore(zero, ph.faces, restore.Options{Weight: 0, Interpolation: resample.Bilinear})
		if err != nil {
			t.Fatal(err)
		}
		if string(zero.Pix) != string(ph.img.Pix) {
			t.Errorf("%s: weight 0 changed the picture", c.name)
		}
		if n, _ := r.s.Stats(); n != runs {
			t.Errorf("%s: weight 0 ran the model", c.name)
		}
		for i, rg := range regions {
			if !rg.Bounds.Empty() {
				t.Errorf("%s: weight 0 reported region %d %v", c.name, i, rg.Bounds)
			}
		}
		full := clone(ph.img)
		if _, err := r.Restore(full, ph.faces, restore.Options{Weight: 1, Interpolation: resample.Bilinear}); err != nil {
			t.Fatal(err)
		}
		for _, w := range []float64{0.25, 0.5, 0.75} {
			part := clone(ph.img)
			if _, err := r.Restore(part, ph.faces, restore.Options{Weight: w, Interpolation: resample.Bilinear}); err != nil {
				t.Fatal(err)
			}
			worst, moved := 0.0, 0
			for i := 0; i < len(part.Pix); i += 4 {
				for ch := 0; ch < 3; ch++ {
					o, f, p := float64(ph.img.Pix[i+ch]), float64(full.Pix[i+ch]), float64(part.Pix[i+ch])
					worst = math.Max(worst, math.Abs(p-(o+w*(f-o))))
					if f != o {
						moved++
					}
				}
			}
			t.Logf("%s weight %.2f: %d channel values moved at weight 1; max |value − (orig + %.2f·(full − orig))| = %.2f levels", c.name, w, moved, w, worst)
			if worst > 1.5 || moved == 0 {
				t.Errorf("%s weight %.2f: off proportional by %.2f levels", c.name, w, worst)
			}
		}
	}
}

// CodeFormer gets face_restore_weight as its fidelity input w too: the
// stand-in returns 2w−1 (a face of value 255·w), so where alpha is full,
// the picture shows orig + α·(255w − orig) with the reported alpha.
func TestCodeFormerFidelity(t *testing.T) {
	ph := loadPhoto(t, testenv.Group3)
	// the weight as [1] and as a rank-0 scalar (as some exports take it)
	scalar := standin.CodeFormer(standin.FromWeight, 0)
	scalar.WeightDims = []int64{}
	for _, spec := range []standin.Spec{standin.CodeFormer(standin.FromWeight, 0), scalar} {
		testFidelity(t, ph, load(t, "codeformer-v0.1.0.pth", spec))
	}
}

// TestManagerStandIn: the model manager's CodeFormer stand-in, whose
// fidelity weight is a float64 scalar like the published export's, loads
// and restores (the onnx package converts the weight).
func TestManagerStandIn(t *testing.T) {
	rt := testenv.Runtime(t)
	data, err := optional.Default().StandIn("codeformer-v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "codeformer-v0.1.0.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(rt, "codeformer-v0.1.0.pth", path)
	if err != nil {
		t.Fatal(err)
	}
	ph := loadPhoto(t, testenv.Group3)
	dst := clone(ph.img)
	regions, err := r.Restore(dst, ph.faces, restore.Options{Weight: 0.5, Interpolation: resample.Bilinear})
	if err != nil || len(regions) != len(ph.faces) {
		t.Fatalf("%d regions, %v", len(regions), err)
	}
	unchangedOutside(t, ph.img, dst, regions)
}

func testFidelity(t *testing.T, ph photo, r *Restorer) {
	t.Helper()
	if !r.Fidelity() {
		t.Fatal("CodeFormer does not take the fidelity weight")
	}
	for _, w := range []float64{1, 0.6, 0.3} {
		dst := clone(ph.img)
		regions, err := r.Restore(dst, ph.faces, restore.Options{Weight: w, Interpolation: resample.Bilinear})
		if err != nil {
			t.Fatal(err)
		}
		unchangedOutside(t, ph.img, dst, regions)
		face := float64(float32((float32(2*w)-1)+1) * 127.5)
		worst, n := 0.0, 0
		for _, rg := range regions {
			for y := rg.Bounds.Min.Y; y < rg.Bounds.Max.Y; y++ {
				for x := rg.Bounds.Min.X; x < rg.Bounds.Max.X; x++ {
					a := float64(rg.Alpha[(y-rg.Bounds.Min.Y)*rg.Bounds.Dx()+x-rg.Bounds.Min.X]) / 255
					if a == 0 {
						continue
					}
					n++
					o, d := ph.img.Pix[ph.img.PixOffset(x, y):], dst.Pix[dst.PixOffset(x, y):]
					for ch := 0; ch < 3; ch++ {
						want := float64(o[ch]) + a*(face-float64(o[ch]))
						worst = math.Max(worst, math.Abs(float64(d[ch])-want))
					}
				}
			}
		}
		t.Logf("weight %.1f: face value %.1f, %d pixels with alpha, max |diff| from the blend %.2f", w, face, n, worst)
		if n == 0 || worst > 0.51 {
			t.Errorf("weight %.1f: the result is not the blend of a %.1f face (off by %.2f)", w, face, worst)
		}
	}
}

// Options.Within limits restoration to the swap's regions: nothing
// changes outside them, and the faces not listed are not touched.
func TestWithin(t *testing.T) {
	ph := loadPhoto(t, testenv.Group3)
	r := load(t, "GFPGANv1.4.pth", standin.GFPGAN(standin.Constant, 0.2))
	// limits: the upper half of face 0's box at full alpha, nothing for face 1
	b := ph.faces[0].Box
	lim := swap.Region{Bounds: image.Rect(int(b.X), int(b.Y), int(b.X+b.W), int(b.Y+b.H/2))}
	lim.Alpha = make([]uint8, lim.Bounds.Dx()*lim.Bounds.Dy())
	for i := range lim.Alpha {
		lim.Alpha[i] = 255
	}
	dst := clone(ph.img)
	regions, err := r.Restore(dst, ph.faces[:2], restore.Options{Weight: 1, Interpolation: resample.Bilinear, Within: []swap.Region{lim, {}}})
	if err != nil {
		t.Fatal(err)
	}
	if !regions[0].Bounds.In(lim.Bounds) || regions[0].Bounds.Empty() || !regions[1].Bounds.Empty() {
		t.Fatalf("regions %v %v, limit %v", regions[0].Bounds, regions[1].Bounds, lim.Bounds)
	}
	checkConstant(t, ph.img, dst, regions, 153)
	if _, err := r.Restore(dst, ph.faces[:2], restore.Options{Weight: 1, Within: []swap.Region{lim}}); err == nil {
		t.Error("one limit for two faces was accepted")
	}
}

// A face whose keypoints cannot be aligned is a 422 and changes nothing;
// bad options are refused.
func TestBadInput(t *testing.T) {
	ph := loadPhoto(t, testenv.Group3)
	r := load(t, "GFPGANv1.4.pth", standin.GFPGAN(standin.Identity, 0))
	dst := clone(ph.img)
	_, err := r.Restore(dst, []faceswap.Face{{}}, restore.Options{Weight: 1})
	var fe *faceswap.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity {
		t.Errorf("flat keypoints: %v, want a 422", err)
	}
	if string(dst.Pix) != string(ph.img.Pix) {
		t.Error("a failed restoration changed the picture")
	}
	for _, o := range []restore.Options{{Weight: 1.5}, {Weight: -0.1}, {Weight: math.NaN()}, {Weight: 1, Interpolation: 7}} {
		if _, err := r.Restore(dst, ph.faces, o); faceswap.StatusOf(err) != 400 {
			t.Errorf("%+v: %v, want a 400", o, err)
		}
	}
}

func TestRejectsWrongModels(t *testing.T) {
	rt := testenv.Runtime(t)
	dir := t.TempDir()
	write := func(name string, s standin.Spec) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, s.Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	renamed := standin.CodeFormer(standin.Identity, 0)
	renamed.Input, renamed.Output, renamed.Weight = "x", "y", "fidelity_scalar"
	if r, err := New(rt, "codeformer-v0.1.0.pth", write("renamed.onnx", renamed)); err != nil {
		t.Errorf("a CodeFormer with other names was rejected: %v", err)
	} else if r.in != "x" || r.out != "y" || r.weightIn != "fidelity_scalar" {
		t.Errorf("names %q %q %q", r.in, r.out, r.weightIn)
	}
	dyn := standin.GFPGAN(standin.Identity, 0)
	dyn.InputDims, dyn.OutputDims = []int64{-1, 3, -1, -1}, []int64{-1, 3, -1, -1}
	if _, err := New(rt, "GFPGANv1.4.pth", write("dyn.onnx", dyn)); err != nil {
		t.Errorf("dynamic dimensions were rejected: %v", err)
	}
	small := standin.GFPGAN(standin.Identity, 0)
	small.InputDims = []int64{1, 3, 256, 256}
	for _, c := range []struct {
		name, file string
		spec       standin.Spec
		want       string
	}{
		{"GFPGANv1.4.pth", "small.onnx", small, `input "input" is float32[1 3 256 256], want float32[1 3 512 512]`},
		{"GFPGANv1.4.pth", "cf.onnx", standin.CodeFormer(standin.Identity, 0), "has 2 inputs, want 1"},
		{"codeformer-v0.1.0.pth", "gfp.onnx", standin.GFPGAN(standin.Identity, 0), "has 1 inputs, want 2: the image [1 3 512 512] and the fidelity weight w [1]"},
		{"GFPGANv1.3.pth", "grey.onnx", standin.GFPGAN(standin.Grey, 0), "no float32 output of shape [1 3 512 512]"},
	} {
		_, err := New(rt, c.name, write(c.file, c.spec))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want an error containing %q", c.name, c.file, err, c.want)
		}
	}
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(rt, "GFPGANv1.4.pth", garbage); err == nil || !strings.Contains(err.Error(), "GFPGANv1.4.pth") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := New(rt, "GFPGANv1.4.pth", filepath.Join(dir, "none.onnx")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// BenchmarkRestore: the restorer around a trivial model (the identity
// stand-in), per face of the office photo (faces of 100-160 px).
func BenchmarkRestore(b *testing.B) {
	ph := loadPhoto(b, "group5_office_meeting.jpg")
	r := load(b, "GFPGANv1.4.pth", standin.GFPGAN(standin.Identity, 0))
	dst := clone(ph.img)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Restore(dst, ph.faces, restore.Options{Weight: 0.75, Interpolation: resample.Bilinear}); err != nil {
			b.Fatal(err)
		}
	}
	_, ort := r.s.Stats()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(ph.faces)), "ms/face")
	b.ReportMetric(float64(ort.Microseconds())/1000/float64(b.N*len(ph.faces)), "ort-ms/face")
}
