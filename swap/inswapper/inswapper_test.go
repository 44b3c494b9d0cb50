package inswapper

import (
	"errors"
	"fmt"
	"image"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faceswap"
	"faceswap/align"
	"faceswap/internal/testenv"
	"faceswap/raster"
	"faceswap/resample"
	"faceswap/swap"
)

var _ swap.Engine = (*Engine)(nil)

// group3 is the photo of three faces (about 100 px) most tests swap among.
const group3 = testenv.Group3

// rotatedPairs pairs source face (i+1)%n with target face i.
func rotatedPairs(faces []faceswap.Face, n int) []swap.Pair {
	pairs := make([]swap.Pair, n)
	for i := range pairs {
		pairs[i] = swap.Pair{Source: faces[(i+1)%n], Target: faces[i]}
	}
	return pairs
}

// diffStats compares two images: the largest channel difference, how many
// pixels differ, and the mean absolute difference over the pixels in mask
// (or all pixels when mask is nil).
func diffStats(a, b *image.NRGBA) (maxDiff, changed int, hist [256]int) {
	for i := 0; i < len(a.Pix); i += 4 {
		d := 0
		for c := 0; c < 3; c++ {
			d = max(d, abs(int(a.Pix[i+c])-int(b.Pix[i+c])))
		}
		if a.Pix[i+3] != b.Pix[i+3] {
			d = max(d, 256)
		}
		if d > 0 {
			changed++
		}
		hist[min(d, 255)]++
		maxDiff = max(maxDiff, d)
	}
	return
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// alphaAt returns the largest alpha any region gives pixel (x, y).
func alphaAt(regions []swap.Region, x, y int) uint8 {
	var a uint8
	for _, r := range regions {
		if (image.Point{x, y}).In(r.Bounds) {
			a = max(a, r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X])
		}
	}
	return a
}

func checkRegions(t *testing.T, regions []swap.Region, n int, img image.Rectangle) {
	t.Helper()
	if len(regions) != n {
		t.Fatalf("%d regions for %d pairs", len(regions), n)
	}
	for i, r := range regions {
		if r.Bounds.Empty() || !r.Bounds.In(img) || len(r.Alpha) != r.Bounds.Dx()*r.Bounds.Dy() {
			t.Errorf("region %d: bounds %v (image %v), %d alpha values", i, r.Bounds, img, len(r.Alpha))
		}
	}
}

// The identity stand-in returns its target crop, so a swap resamples each
// face to 128 px and back. The result must be exactly that round trip,
// computed here independently (a plain bilinear crop, the kernel's
// sampling back at the inverse transform, the alpha blend), within one
// level of rounding; how far the round trip itself moves the picture is
// logged (it is the blur of bilinear resampling, largest at sharp edges).
func TestIdentityKeepsPicture(t *testing.T) {
	fx := newFixture(t, identitySpec())
	ph := loadPhoto(t, group3)
	if len(ph.faces) != 3 {
		t.Fatalf("%d faces in %s, want 3", len(ph.faces), group3)
	}
	pairs := rotatedPairs(ph.faces, 3)
	dst := clone(ph.img)
	regions, err := fx.e.Swap(dst, ph.img, pairs, swap.Options{Interpolation: resample.Bilinear})
	if err != nil {
		t.Fatal(err)
	}
	checkRegions(t, regions, 3, dst.Rect)
	checkRoundTrip(t, ph.img, dst, pairs, regions, resample.Bilinear)
	for i, f := range ph.faces {
		m, _ := align.Crop(f.Keypoints, align.Inswapper128)
		t.Logf("face %d: box %.0f×%.0f, %.2f image px per crop px", i, f.Box.W, f.Box.H, m.Scale())
	}
}

// checkRoundTrip checks dst against the identity swap computed
// independently, and logs how far it is from the original.
func checkRoundTrip(t *testing.T, orig, dst *image.NRGBA, pairs []swap.Pair, regions []swap.Region, k resample.Kernel) {
	t.Helper()
	want := clone(orig)
	for i, p := range pairs {
		m, err := align.Crop(p.Target.Keypoints, align.Inswapper128)
		if err != nil {
			t.Fatal(err)
		}
		if m.Scale() >= 2 {
			t.Fatalf("face %d is aligned at %.2f px per crop px; this check's plain crop needs < 2", i, m.Scale())
		}
		crop := resample.New(faceSize, faceSize)
		for v := 0; v < faceSize; v++ {
			for u := 0; u < faceSize; u++ {
				x, y := m.Apply(float64(u), float64(v))
				c := bilinearBlack(want, x, y)
				copy(crop.Pix[3*(v*faceSize+u):], c[:])
			}
		}
		inv := m.Invert()
		r := regions[i]
		for y := r.Bounds.Min.Y; y < r.Bounds.Max.Y; y++ {
			for x := r.Bounds.Min.X; x < r.Bounds.Max.X; x++ {
				a := float32(r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X]) / 255
				if a == 0 {
					continue
				}
				u, v := inv.Apply(float64(x), float64(y))
				var c [3]float32
				c[0], c[1], c[2] = crop.At(k, u, v)
				o := want.Pix[y*want.Stride+4*x:]
				for ch := 0; ch < 3; ch++ {
					o[ch] = resample.Clamp8(float32(o[ch]) + (c[ch]-float32(o[ch]))*a)
				}
			}
		}
	}
	if d, n, _ := diffStats(dst, want); d > 1 {
		t.Errorf("the swap differs from the independent round trip by up to %d levels (%d pixels)", d, n)
	}
	maxDiff, changed, hist := diffStats(dst, orig)
	inside := 0
	for _, r := range regions {
		for _, a := range r.Alpha {
			if a > 0 {
				inside++
			}
		}
	}
	within2 := inside - (changed - hist[1] - hist[2])
	var sum int
	for d, n := range hist {
		sum += d * n
	}
	t.Logf("%s round trip vs the original: max |diff| %d levels; of %d pixels with alpha, %d changed, %.1f%% within 2 levels, mean |diff| %.2f; diffs 0..8: %v",
		k, maxDiff, inside, changed, 100*float64(within2)/float64(inside), float64(sum)/float64(inside), hist[:9])
	// A misplaced paste (a wrong inverse, a half-pixel shift) would move
	// edges by a pixel and more than double this.
	if mean := float64(sum) / float64(inside); mean > 2.5 {
		t.Errorf("%s: the round trip moves pixels with alpha by %.2f levels on average, want ≤ 2.5", k, mean)
	}
}

func TestConstantChangesOnlyRegions(t *testing.T) {
	const grey = 0.6 // 153 of 255, exactly representable after rounding
	fx := newFixture(t, constantSpec(grey))
	ph := loadPhoto(t, group3)
	dst := clone(ph.img)
	pairs := rotatedPairs(ph.faces, 3)
	regions, err := fx.e.Swap(dst, ph.img, pairs, swap.Options{Interpolation: resample.Bilinear})
	if err != nil {
		t.Fatal(err)
	}
	checkRegions(t, regions, 3, dst.Rect)
	checkConstant(t, ph.img, dst, regions, 153)
	for i, r := range regions {
		box := pairs[i].Target.Box
		covered, inBox, full, outside := 0, 0, 0, 0
		for y := r.Bounds.Min.Y; y < r.Bounds.Max.Y; y++ {
			for x := r.Bounds.Min.X; x < r.Bounds.Max.X; x++ {
				a := r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X]
				in := float64(x)+0.5 >= box.X && float64(x)+0.5 < box.X+box.W && float64(y)+0.5 >= box.Y && float64(y)+0.5 < box.Y+box.H
				if a == 255 {
					full++
				}
				if a > 0 && !in {
					outside++
				}
				if in {
					inBox++
					if a >= 128 {
						covered++
					}
				}
			}
		}
		cover := float64(covered) / (box.W * box.H)
		t.Logf("pair %d: face box %.0f×%.0f at (%.0f,%.0f); region %v; %.0f%% of the box has alpha ≥ 128; %d pixels at 255; %d changed pixels outside the box (%.0f%% of the box area)",
			i, box.W, box.H, box.X, box.Y, r.Bounds, 100*cover, full, outside, 100*float64(outside)/(box.W*box.H))
		if cover < 0.6 {
			t.Errorf("pair %d: only %.0f%% of the face box is swapped", i, 100*cover)
		}
		// not far outside the face box: within half a box of it
		grown := image.Rect(int(box.X-box.W/2), int(box.Y-box.H/2), int(box.X+1.5*box.W)+1, int(box.Y+1.5*box.H)+1)
		if !r.Bounds.In(grown) {
			t.Errorf("pair %d: region %v reaches beyond %v", i, r.Bounds, grown)
		}
	}
}

// checkConstant checks a swap with a constant face: pixels where no
// region has alpha are byte-identical, pixels of full alpha are the
// constant, and every changed pixel has alpha.
func checkConstant(t *testing.T, orig, dst *image.NRGBA, regions []swap.Region, v uint8) {
	t.Helper()
	bad := 0
	w := orig.Rect.Dx()
	for y := 0; y < orig.Rect.Dy(); y++ {
		for x := 0; x < w; x++ {
			a := alphaAt(regions, x, y)
			o := orig.Pix[y*orig.Stride+4*x : y*orig.Stride+4*x+4]
			d := dst.Pix[y*dst.Stride+4*x : y*dst.Stride+4*x+4]
			same := o[0] == d[0] && o[1] == d[1] && o[2] == d[2] && o[3] == d[3]
			switch {
			case a == 0 && !same:
				if bad++; bad <= 5 {
					t.Errorf("pixel (%d,%d) changed outside every region: %v → %v", x, y, o, d)
				}
			case a == 255 && (d[0] != v || d[1] != v || d[2] != v || d[3] != o[3]):
				if bad++; bad <= 5 {
					t.Errorf("pixel (%d,%d) of full alpha is %v, want %d", x, y, d, v)
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d bad pixels", bad)
	}
}

// The latent given to the swapper is normalize(normalize(ArcFace(aligned
// source)) · emap), computed here from the stand-in's definition and a
// plain bilinear crop, and differs between source faces.
func TestLatent(t *testing.T) {
	fx := newFixture(t, identitySpec())
	ph := loadPhoto(t, group3)
	got := map[int][]float32{}
	fx.e.onLatent = func(i int, l []float32) { got[i] = append([]float32(nil), l...) }
	pairs := rotatedPairs(ph.faces, 3)
	if _, err := fx.e.Swap(clone(ph.img), ph.img, pairs, swap.Options{Interpolation: resample.Bilinear}); err != nil {
		t.Fatal(err)
	}
	for i, p := range pairs {
		m, err := align.Crop(p.Source.Keypoints, align.ArcFace112)
		if err != nil {
			t.Fatal(err)
		}
		if m.Scale() >= 2 {
			t.Fatalf("face %d is aligned at %.2f px per crop px; this test's plain crop needs < 2", i, m.Scale())
		}
		crop := make([]float32, 3*arcSize*arcSize)
		for v := 0; v < arcSize; v++ {
			for u := 0; u < arcSize; u++ {
				x, y := m.Apply(float64(u), float64(v))
				rgb := bilinearBlack(ph.img, x, y)
				for c := 0; c < 3; c++ {
					crop[c*arcSize*arcSize+v*arcSize+u] = (rgb[c] - 127.5) / 127.5
				}
			}
		}
		want := refLatent(fx.arc.embed(crop), fx.emap)
		l := got[i]
		if len(l) != latentSize {
			t.Fatalf("pair %d: latent of %d values", i, len(l))
		}
		var worst float64
		for j := range want {
			worst = math.Max(worst, math.Abs(float64(l[j])-want[j]))
		}
		t.Logf("pair %d: max |latent − reference| = %.2g, |latent| = %.6f", i, worst, norm(l))
		if worst > 1e-4 || math.Abs(norm(l)-1) > 1e-5 {
			t.Errorf("pair %d: latent differs from the reference by %.3g", i, worst)
		}
	}
	for i := 0; i < 3; i++ {
		for j := i + 1; j < 3; j++ {
			var dot float64
			for k := range got[i] {
				dot += float64(got[i][k]) * float64(got[j][k])
			}
			t.Logf("latents %d·%d = %.4f", i, j, dot)
			if dot > 0.999 {
				t.Errorf("latents of source faces %d and %d are the same (cosine %.5f)", i, j, dot)
			}
		}
	}
}

// refLatent is normalize(normalize(emb)·emap) in float64.
func refLatent(emb, emap []float32) []float64 {
	var n float64
	for _, v := range emb {
		n += float64(v) * float64(v)
	}
	n = math.Sqrt(n)
	out := make([]float64, latentSize)
	for i, v := range emb {
		for j := range out {
			out[j] += float64(v) / n * float64(emap[i*latentSize+j])
		}
	}
	var s float64
	for _, v := range out {
		s += v * v
	}
	s = math.Sqrt(s)
	for j := range out {
		out[j] /= s
	}
	return out
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

// Pairs apply in order: one call with several pairs equals one call per
// pair, and a source taken from the picture being changed (src == dst)
// sees the earlier swaps.
func TestSequence(t *testing.T) {
	fx := newFixture(t, constantSpec(0.25))
	ph := loadPhoto(t, testenv.Group5)
	if len(ph.faces) < 4 {
		t.Fatalf("%d faces, want at least 4", len(ph.faces))
	}
	pairs := []swap.Pair{
		{Source: ph.faces[0], Target: ph.faces[1]},
		{Source: ph.faces[1], Target: ph.faces[2]},
		{Source: ph.faces[0], Target: ph.faces[3]},
		{Source: ph.faces[2], Target: ph.faces[1]}, // the same target again
	}
	opt := swap.Options{Interpolation: resample.Bicubic}
	all := clone(ph.img)
	regions, err := fx.e.Swap(all, ph.img, pairs, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkRegions(t, regions, len(pairs), all.Rect)
	one := clone(ph.img)
	for i, p := range pairs {
		r, err := fx.e.Swap(one, ph.img, []swap.Pair{p}, opt)
		if err != nil {
			t.Fatal(err)
		}
		if r[0].Bounds != regions[i].Bounds || string(r[0].Alpha) != string(regions[i].Alpha) {
			t.Errorf("pair %d: region %v alone, %v in sequence", i, r[0].Bounds, regions[i].Bounds)
		}
	}
	if maxDiff, _, _ := diffStats(all, one); maxDiff != 0 {
		t.Errorf("one call per pair differs from one call for all by %d levels", maxDiff)
	}
	// src == dst: the latents of later pairs are taken from the changed
	// picture.
	var latents [][]float32
	fx.e.onLatent = func(_ int, l []float32) { latents = append(latents, l) }
	defer func() { fx.e.onLatent = nil }()
	self := clone(ph.img)
	twice := []swap.Pair{{Source: ph.faces[1], Target: ph.faces[1]}, {Source: ph.faces[1], Target: ph.faces[2]}}
	if _, err := fx.e.Swap(self, self, twice, opt); err != nil {
		t.Fatal(err)
	}
	if string(f32bytes(latents[0])) == string(f32bytes(latents[1])) {
		t.Error("with src == dst, the second pair reused the latent of the face the first pair changed")
	}
}

func f32bytes(v []float32) []byte { return []byte(fmt.Sprint(v)) }

// Every interpolation kernel pastes: a constant face gives the constant
// where alpha is full, and the identity stand-in keeps the picture.
func TestKernels(t *testing.T) {
	grey := newFixture(t, constantSpec(0.6))
	ident := newFixture(t, identitySpec())
	ph := loadPhoto(t, group3)
	pairs := rotatedPairs(ph.faces, 3)
	for k := resample.Nearest; k <= resample.Lanczos; k++ {
		t.Run(k.String(), func(t *testing.T) {
			dst := clone(ph.img)
			regions, err := grey.e.Swap(dst, ph.img, pairs, swap.Options{Interpolation: k})
			if err != nil {
				t.Fatal(err)
			}
			checkConstant(t, ph.img, dst, regions, 153)
			dst = clone(ph.img)
			regions, err = ident.e.Swap(dst, ph.img, pairs, swap.Options{Interpolation: k})
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, ph.img, dst, pairs, regions, k)
		})
	}
	if _, err := grey.e.Swap(clone(ph.img), ph.img, pairs, swap.Options{Interpolation: 9}); err == nil {
		t.Error("an unknown kernel was accepted")
	}
}

func TestRejectsWrongModels(t *testing.T) {
	rt := testenv.Runtime(t)
	dir := t.TempDir()
	arc := newArcSpec(arcSize, latentSize, 1)
	goodArc := writeModel(t, dir, "arc.onnx", arc.model())
	emap := randomEmap(2)
	goodSwap := writeModel(t, dir, "swap.onnx", realSwapper(emap).model())

	renamed := realSwapper(emap)
	renamed.target, renamed.source, renamed.output = "img", "latent", "swapped"
	if e, err := New(rt, writeModel(t, dir, "renamed.onnx", renamed.model()), goodArc); err != nil {
		t.Errorf("a swapper with other names was rejected: %v", err)
	} else if e.targetIn != "img" || e.sourceIn != "latent" || e.faceO != "swapped" {
		t.Errorf("names %q %q %q", e.targetIn, e.sourceIn, e.faceO)
	}

	cases := []struct {
		name      string
		swap, arc func() string
		want      string
	}{
		{"big target", func() string {
			s := realSwapper(emap)
			s.targetDims = []int64{1, 3, 256, 256}
			return writeModel(t, dir, "big.onnx", s.model())
		}, nil, `input "target" is float32[1 3 256 256], want float32[1 3 128 128]`},
		{"short latent", func() string {
			s := realSwapper(emap)
			s.sourceDims = []int64{1, 256}
			return writeModel(t, dir, "short.onnx", s.model())
		}, nil, `input "source" is float32[1 256], want float32[1 512]`},
		{"wrong output", func() string {
			s := realSwapper(emap)
			s.meanOutput = true
			return writeModel(t, dir, "mean.onnx", s.model())
		}, nil, "no float32 output of shape [1 3 128 128]"},
		{"no emap", func() string {
			s := realSwapper(nil)
			return writeModel(t, dir, "noemap.onnx", s.model())
		}, nil, `the last initializer "c" has dims [], want the emap's [512 512]`},
		{"emap not last", func() string {
			s := realSwapper(emap)
			s.extraInitializerAfterMap = true
			return writeModel(t, dir, "late.onnx", s.model())
		}, nil, `the last initializer "late" has dims [2]`},
		{"emap data short", func() string {
			s := realSwapper(emap[:1000])
			return writeModel(t, dir, "shortmap.onnx", s.model())
		}, nil, "holds 1000 values"},
		{"arcface input", nil, func() string {
			return writeModel(t, dir, "arc128.onnx", newArcSpec(128, 512, 1).model())
		}, "want one float32 input of shape [1 3 112 112]"},
		{"arcface output", nil, func() string {
			return writeModel(t, dir, "arc128o.onnx", newArcSpec(112, 128, 1).model())
		}, "no float32 output of shape [1 512]"},
		{"missing swapper", func() string { return dir + "/none.onnx" }, nil, "no such file"},
		{"not onnx", func() string {
			p := filepath.Join(dir, "garbage.onnx")
			if err := os.WriteFile(p, []byte("not a model at all"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil, "inswapper: swapper"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sp, ap := goodSwap, goodArc
			if c.swap != nil {
				sp = c.swap()
			}
			if c.arc != nil {
				ap = c.arc()
			}
			_, err := New(rt, sp, ap)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			t.Log(err)
		})
	}
}

// Images whose Rect does not start at (0,0) (sub-images) swap the same,
// with regions in the image's coordinates, and nothing outside the
// sub-image changes.
func TestSubImages(t *testing.T) {
	fx := newFixture(t, constantSpec(0.6))
	ph := loadPhoto(t, group3)
	pairs := rotatedPairs(ph.faces, 3)
	opt := swap.Options{Interpolation: resample.Bilinear}
	plain := clone(ph.img)
	want, err := fx.e.Swap(plain, ph.img, pairs, opt)
	if err != nil {
		t.Fatal(err)
	}
	off := image.Pt(10, 7)
	canvas := image.NewNRGBA(ph.img.Rect.Inset(-20).Add(off))
	for i := range canvas.Pix {
		canvas.Pix[i] = 77
	}
	for y := 0; y < ph.img.Rect.Dy(); y++ {
		copy(canvas.Pix[canvas.PixOffset(off.X, off.Y+y):], ph.img.Pix[y*ph.img.Stride:(y+1)*ph.img.Stride])
	}
	dst := canvas.SubImage(ph.img.Rect.Add(off)).(*image.NRGBA)
	src := clone(canvas).SubImage(ph.img.Rect.Add(off)).(*image.NRGBA)
	got, err := fx.e.Swap(dst, src, pairs, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i].Bounds != want[i].Bounds.Add(off) || string(got[i].Alpha) != string(want[i].Alpha) {
			t.Errorf("region %d: %v, want %v", i, got[i].Bounds, want[i].Bounds.Add(off))
		}
	}
	for y := canvas.Rect.Min.Y; y < canvas.Rect.Max.Y; y++ {
		for x := canvas.Rect.Min.X; x < canvas.Rect.Max.X; x++ {
			c := canvas.NRGBAAt(x, y)
			p := image.Pt(x, y)
			if !p.In(dst.Rect) {
				if c.R != 77 || c.G != 77 || c.B != 77 || c.A != 77 {
					t.Fatalf("(%d,%d) outside the sub-image changed to %v", x, y, c)
				}
				continue
			}
			if w := plain.NRGBAAt(x-off.X, y-off.Y); c != w {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, c, w)
			}
		}
	}
}

// Faces cut by the picture's border swap too, and still change nothing
// outside their regions. The picture is the demo group photo with its top
// 120 rows cut off, through the forehead of the woman at the top (her face
// box starts at row 85).
func TestFacesAtBorder(t *testing.T) {
	fx := newFixture(t, constantSpec(0.6))
	group := loadPhoto(t, testenv.Group5).img
	cut := image.NewNRGBA(image.Rect(0, 0, group.Rect.Dx(), group.Rect.Dy()-120))
	copy(cut.Pix, group.Pix[group.PixOffset(0, 120):])
	ph := analysed(t, cut)
	var pairs []swap.Pair
	atBorder := false
	for _, f := range ph.faces {
		pairs = append(pairs, swap.Pair{Source: ph.faces[0], Target: f})
		m, _ := align.Crop(f.Keypoints, align.Inswapper128)
		x0, y0, x1, y1 := raster.Footprint(m, faceSize, faceSize)
		atBorder = atBorder || x0 < 0 || y0 < 0 || x1 >= float64(ph.img.Rect.Dx()) || y1 >= float64(ph.img.Rect.Dy())
	}
	if !atBorder {
		t.Fatal("no face's crop crosses the border; the test needs one")
	}
	if len(pairs) != testenv.PhotoFaces[testenv.Group5] {
		t.Errorf("%d faces in the cut photo, want all %d", len(pairs), testenv.PhotoFaces[testenv.Group5])
	}
	dst := clone(ph.img)
	regions, err := fx.e.Swap(dst, ph.img, pairs, swap.Options{Interpolation: resample.Lanczos})
	if err != nil {
		t.Fatal(err)
	}
	checkRegions(t, regions, len(pairs), dst.Rect)
	checkConstant(t, ph.img, dst, regions, 153)
}

// A face whose keypoints cannot be aligned is the request's problem (422).
func TestUnalignableFace(t *testing.T) {
	fx := newFixture(t, identitySpec())
	ph := loadPhoto(t, group3)
	var flat faceswap.Face // every keypoint at (0,0)
	for _, p := range []swap.Pair{{Source: flat, Target: ph.faces[0]}, {Source: ph.faces[0], Target: flat}} {
		dst := clone(ph.img)
		_, err := fx.e.Swap(dst, ph.img, []swap.Pair{p}, swap.Options{})
		var fe *faceswap.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity {
			t.Errorf("error %v, want a 422", err)
		}
		if d, _, _ := diffStats(dst, ph.img); d != 0 {
			t.Error("a failed swap changed the picture")
		}
	}
}
