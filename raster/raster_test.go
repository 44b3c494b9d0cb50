package raster

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"faceswap"
	"faceswap/resample"
)

// Coordinates: Affine maps output pixel indices (u, v) to source sample
// positions where pixel i sits at i. A continuous position (pixel i covering
// [i, i+1]) is the sample position plus one half; cont converts.
func cont(m Affine, x, y float64) (float64, float64) {
	sx, sy := m.Apply(x-0.5, y-0.5)
	return sx + 0.5, sy + 0.5
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCropTransformCentreScaleRotation(t *testing.T) {
	center := faceswap.Point{X: 100.3, Y: 50.7}
	for _, tc := range []struct {
		side, angle float64
		size        int
	}{
		{64, 0, 32}, {64, math.Pi / 2, 32}, {300, 0.3, 192}, {17, -2.5, 7}, {128, math.Pi, 256},
	} {
		m := CropTransform(center, tc.side, tc.angle, tc.size)
		h := float64(tc.size) / 2
		// the output centre, continuous, lands on center
		if x, y := cont(m, h, h); !near(x, center.X, 1e-9) || !near(y, center.Y, 1e-9) {
			t.Errorf("%+v: centre maps to (%g, %g), want %v", tc, x, y, center)
		}
		// in pixel indices: the centre of an even-sized output is between
		// pixels h-1 and h, and lands on the sample position center-0.5
		if x, y := m.Apply(h-0.5, h-0.5); !near(x, center.X-0.5, 1e-9) || !near(y, center.Y-0.5, 1e-9) {
			t.Errorf("%+v: Apply(h-½, h-½) = (%g, %g)", tc, x, y)
		}
		if s := m.Scale(); !near(s, tc.side/float64(tc.size), 1e-12) {
			t.Errorf("%+v: Scale = %g, want %g", tc, s, tc.side/float64(tc.size))
		}
		// a similarity whose x axis points along angle
		if !near(m[0], m[4], 1e-12) || !near(m[1], -m[3], 1e-12) {
			t.Errorf("%+v: %v is not a rotation and scale", tc, m)
		}
		if a := math.Atan2(m[3], m[0]); !near(math.Remainder(a-tc.angle, 2*math.Pi), 0, 1e-12) {
			t.Errorf("%+v: rotation %g, want %g", tc, a, tc.angle)
		}
	}

	// Corners, continuous coordinates.
	const side, size = 64.0, 32
	corners := func(angle float64) [4][2]float64 {
		m := CropTransform(center, side, angle, size)
		var c [4][2]float64
		for i, p := range [4][2]float64{{0, 0}, {size, 0}, {size, size}, {0, size}} {
			c[i][0], c[i][1] = cont(m, p[0], p[1])
		}
		return c
	}
	cx, cy, r := center.X, center.Y, side/2
	check := func(name string, got, want [4][2]float64) {
		for i := range got {
			if !near(got[i][0], want[i][0], 1e-9) || !near(got[i][1], want[i][1], 1e-9) {
				t.Errorf("%s corner %d: %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	// angle 0: top-left, top-right, bottom-right, bottom-left in order
	check("0°", corners(0), [4][2]float64{{cx - r, cy - r}, {cx + r, cy - r}, {cx + r, cy + r}, {cx - r, cy + r}})
	// 90°: the output's x axis points down the source (y grows down), so
	// the output's top-left corner is the source's top-right, its top-right
	// the source's bottom-right, and so on.
	check("90°", corners(math.Pi/2), [4][2]float64{{cx + r, cy - r}, {cx + r, cy + r}, {cx - r, cy + r}, {cx - r, cy - r}})
}

func TestAffineInvertRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100; i++ {
		var m Affine
		for k := range m {
			m[k] = rng.Float64()*20 - 10
		}
		if math.Abs(m[0]*m[4]-m[1]*m[3]) < 0.1 {
			continue
		}
		inv := m.Invert()
		for j := 0; j < 5; j++ {
			u, v := rng.Float64()*500-250, rng.Float64()*500-250
			x, y := m.Apply(u, v)
			bu, bv := inv.Apply(x, y)
			if !near(bu, u, 1e-8*(1+math.Abs(u))) || !near(bv, v, 1e-8*(1+math.Abs(v))) {
				t.Fatalf("%v: (%g,%g) → (%g,%g) → (%g,%g)", m, u, v, x, y, bu, bv)
			}
			p := inv.ApplyPoint(m.ApplyPoint(faceswap.Point{X: u, Y: v}))
			if !near(p.X, u, 1e-8*(1+math.Abs(u))) || !near(p.Y, v, 1e-8*(1+math.Abs(v))) {
				t.Fatalf("ApplyPoint round trip: %v, want (%g,%g)", p, u, v)
			}
		}
		if !near(inv.Scale()*m.Scale(), 1, 1e-9) {
			t.Errorf("Scale of the inverse %g, want 1/%g", inv.Scale(), m.Scale())
		}
	}
	// The inverse of a crop maps its centre back to the output centre.
	m := CropTransform(faceswap.Point{X: 40, Y: 30}, 90, 0.7, 192)
	if u, v := m.Invert().Apply(39.5, 29.5); !near(u, 95.5, 1e-9) || !near(v, 95.5, 1e-9) {
		t.Errorf("inverse crop maps the centre to (%g,%g), want (95.5,95.5)", u, v)
	}
	// A singular map has no inverse.
	if inv := (Affine{1, 2, 3, 2, 4, 5}).Invert(); inv != (Affine{}) {
		t.Errorf("singular Invert = %v, want zero", inv)
	}
}

// gradient returns a w×h image with R = 3x, G = 5y, B = 7.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(3 * x), uint8(5 * y), 7, 255})
		}
	}
	return img
}

func noise(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 99))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	return img
}

// sample fills dst with the w×h crop m maps, as the analysis models take
// it: bilinear, NHWC.
func sample(p *Pyramid, dst []float32, w, h int, m Affine, n Norm) {
	p.Sample(dst, Crop{W: w, H: h, M: m, Kernel: resample.Bilinear, Norm: n})
}

func TestSampleIdentityReproducesGradient(t *testing.T) {
	const w, h = 64, 48
	p := NewPyramid(gradient(w, h))
	dst := make([]float32, w*h*3)
	sample(p, dst, w, h, Affine{1, 0, 0, 0, 1, 0}, Norm{Scale: 1})
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 3 * (y*w + x)
			if dst[i] != float32(3*x) || dst[i+1] != float32(5*y) || dst[i+2] != 7 {
				t.Fatalf("(%d,%d) = %v, want [%d %d 7]", x, y, dst[i:i+3], 3*x, 5*y)
			}
		}
	}
	// A sub-pixel shift interpolates the gradient linearly.
	sample(p, dst, w, h, Affine{1, 0, 0.25, 0, 1, 0.5}, Norm{Scale: 1})
	for y := 0; y < h-1; y++ {
		for x := 0; x < w-1; x++ {
			i := 3 * (y*w + x)
			if !near(float64(dst[i]), 3*(float64(x)+0.25), 1e-4) || !near(float64(dst[i+1]), 5*(float64(y)+0.5), 1e-4) || !near(float64(dst[i+2]), 7, 1e-4) {
				t.Fatalf("shifted (%d,%d) = %v", x, y, dst[i:i+3])
			}
		}
	}
	// A 1.5× enlargement (still level 0): x = 2u/3.
	sample(p, dst[:30*20*3], 30, 20, Affine{2.0 / 3, 0, 0, 0, 2.0 / 3, 0}, Norm{Scale: 2.0 / 255, Offset: -1})
	for v := 0; v < 20; v++ {
		for u := 0; u < 30; u++ {
			i := 3 * (v*30 + u)
			wantR := 3*(2*float64(u)/3)*2/255 - 1
			wantG := 5*(2*float64(v)/3)*2/255 - 1
			if !near(float64(dst[i]), wantR, 1e-5) || !near(float64(dst[i+1]), wantG, 1e-5) || !near(float64(dst[i+2]), 7*2.0/255-1, 1e-6) {
				t.Fatalf("enlarged (%d,%d) = %v, want [%g %g]", u, v, dst[i:i+3], wantR, wantG)
			}
		}
	}
}

func TestSampleChannelOrder(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []uint8{10, 20, 30, 40})
	}
	dst := make([]float32, 2*2*3)
	sample(NewPyramid(img), dst, 2, 2, Affine{1, 0, 1, 0, 1, 1}, Norm{Scale: 1})
	for i := 0; i < len(dst); i += 3 {
		if dst[i] != 10 || dst[i+1] != 20 || dst[i+2] != 30 {
			t.Fatalf("pixel %d = %v, want [10 20 30] (alpha is not written)", i/3, dst[i:i+3])
		}
	}
}

// bilinearRef samples img at sample position (x, y) the textbook way, with
// black outside the image.
func bilinearRef(img *image.NRGBA, x, y float64) [3]float64 {
	x0, y0 := math.Floor(x), math.Floor(y)
	ax, ay := x-x0, y-y0
	var out [3]float64
	for _, d := range [4][3]float64{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
		px, py := int(x0+d[0]), int(y0+d[1])
		if !(image.Point{px, py}).In(img.Rect) {
			continue
		}
		c := img.NRGBAAt(px, py)
		out[0] += float64(c.R) * d[2]
		out[1] += float64(c.G) * d[2]
		out[2] += float64(c.B) * d[2]
	}
	return out
}

func TestRotatedCropMatchesDirectComputation(t *testing.T) {
	const iw, ih = 90, 70
	img := noise(iw, ih, 1)
	p := NewPyramid(img)

	// 90° at scale 1 about an integer centre hits pixel centres exactly:
	// out(u, v) = src(cx + h − 1 − v, cy − h + u).
	const size, cx, cy = 40, 45, 35
	h := size / 2
	dst := make([]float32, size*size*3)
	sample(p, dst, size, size, CropTransform(faceswap.Point{X: cx, Y: cy}, size, math.Pi/2, size), Norm{Scale: 1})
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			c := img.NRGBAAt(cx+h-1-v, cy-h+u)
			i := 3 * (v*size + u)
			if !near(float64(dst[i]), float64(c.R), 1e-3) || !near(float64(dst[i+1]), float64(c.G), 1e-3) || !near(float64(dst[i+2]), float64(c.B), 1e-3) {
				t.Fatalf("90° crop (%d,%d) = %v, want %v", u, v, dst[i:i+3], c)
			}
		}
	}

	// Any angle and a scale under 2 (level 0), partly outside the image:
	// every output pixel is the bilinear value at its mapped position.
	for _, tc := range []struct {
		center      faceswap.Point
		side, angle float64
		size        int
	}{
		{faceswap.Point{X: 45, Y: 35}, 50, 0.5236, 48},
		{faceswap.Point{X: 10, Y: 60}, 60, -2.2, 40}, // crosses the left and bottom edges
		{faceswap.Point{X: 88, Y: 3}, 30, 1.1, 37},   // odd size, top-right corner
	} {
		m := CropTransform(tc.center, tc.side, tc.angle, tc.size)
		n := tc.size
		dst := make([]float32, n*n*3)
		sample(p, dst, n, n, m, Norm{Scale: 1})
		outside := 0
		for v := 0; v < n; v++ {
			for u := 0; u < n; u++ {
				x, y := m.Apply(float64(u), float64(v))
				if x < 0 || y < 0 || x > iw-1 || y > ih-1 {
					outside++
				}
				want := bilinearRef(img, x, y)
				i := 3 * (v*n + u)
				for c := 0; c < 3; c++ {
					if !near(float64(dst[i+c]), want[c], 0.01) {
						t.Fatalf("%+v: (%d,%d) channel %d = %g, want %g", tc, u, v, c, dst[i+c], want[c])
					}
				}
			}
		}
		if tc.center.X < 40 && outside == 0 {
			t.Errorf("%+v: the crop was meant to cross the border", tc)
		}
	}
}

func TestPyramidLevels(t *testing.T) {
	for _, sz := range [][2]int{{64, 64}, {37, 23}, {1, 5}, {2, 1}, {100, 3}, {255, 129}} {
		w, h := sz[0], sz[1]
		p := NewPyramid(noise(w, h, uint64(w*1000+h)))
		for k := 1; ; k++ {
			prev, lvl := p.Level(k-1), p.Level(k)
			pw, ph := prev.Rect.Dx(), prev.Rect.Dy()
			if pw == 1 && ph == 1 {
				if lvl != prev {
					t.Errorf("%dx%d: level %d past 1×1 is a new image", w, h, k)
				}
				break
			}
			d := 1 << k
			if lvl.Rect != image.Rect(0, 0, (w+d-1)/d, (h+d-1)/d) {
				t.Fatalf("%dx%d level %d: %v, want %d×%d", w, h, k, lvl.Rect, (w+d-1)/d, (h+d-1)/d)
			}
			// each pixel is the mean of the 2×2 block below it (those of
			// its pixels that exist), rounded
			for y := 0; y < lvl.Rect.Dy(); y++ {
				for x := 0; x < lvl.Rect.Dx(); x++ {
					for c := 0; c < 4; c++ {
						sum, n := 0.0, 0.0
						for dy := 0; dy < 2; dy++ {
							for dx := 0; dx < 2; dx++ {
								if 2*x+dx < pw && 2*y+dy < ph {
									sum += float64(prev.Pix[prev.PixOffset(2*x+dx, 2*y+dy)+c])
									n++
								}
							}
						}
						got := float64(lvl.Pix[lvl.PixOffset(x, y)+c])
						if !near(got, sum/n, 0.5) {
							t.Fatalf("%dx%d level %d (%d,%d) channel %d = %g, want %g", w, h, k, x, y, c, got, sum/n)
						}
					}
				}
			}
		}
		if top := p.Level(40); top.Rect != image.Rect(0, 0, 1, 1) {
			t.Errorf("%dx%d: Level(40) = %v, want 1×1", w, h, top.Rect)
		}
	}
}

func TestNewPyramidCopiesOffsetImage(t *testing.T) {
	img := noise(20, 20, 7)
	sub := img.SubImage(image.Rect(5, 3, 17, 11)).(*image.NRGBA)
	p := NewPyramid(sub)
	b := p.Base()
	if b.Rect != image.Rect(0, 0, 12, 8) {
		t.Fatalf("base %v, want 12×8 at the origin", b.Rect)
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 12; x++ {
			if b.NRGBAAt(x, y) != img.NRGBAAt(x+5, y+3) {
				t.Fatalf("base (%d,%d) = %v, want %v", x, y, b.NRGBAAt(x, y), img.NRGBAAt(x+5, y+3))
			}
		}
	}
	// A base at the origin is used as it is.
	if q := NewPyramid(img); q.Base() != img {
		t.Error("NewPyramid copied an image at the origin")
	}
}

// TestDownscaleUsesPyramid: at scale 4 each output pixel covers a 4×4
// block of source pixels; the sampler must return that block's mean (from
// pyramid level 2), not the bilinear value at the block centre.
func TestDownscaleUsesPyramid(t *testing.T) {
	const w, h = 128, 96
	img := noise(w, h, 5)
	p := NewPyramid(img)
	const ow, oh = w / 4, h / 4
	// output pixel u covers source pixels 4u … 4u+3; its centre is 4u+1.5
	m := Affine{4, 0, 1.5, 0, 4, 1.5}
	dst := make([]float32, ow*oh*3)
	sample(p, dst, ow, oh, m, Norm{Scale: 1})
	var naiveDiff float64
	for v := 0; v < oh; v++ {
		for u := 0; u < ow; u++ {
			var box [3]float64
			for dy := 0; dy < 4; dy++ {
				for dx := 0; dx < 4; dx++ {
					c := img.NRGBAAt(4*u+dx, 4*v+dy)
					box[0] += float64(c.R) / 16
					box[1] += float64(c.G) / 16
					box[2] += float64(c.B) / 16
				}
			}
			naive := bilinearRef(img, 4*float64(u)+1.5, 4*float64(v)+1.5)
			i := 3 * (v*ow + u)
			for c := 0; c < 3; c++ {
				// two roundings of the 2×2 means
				if !near(float64(dst[i+c]), box[c], 1) {
					t.Fatalf("(%d,%d) channel %d = %g, want the 4×4 mean %g (point sample %g)", u, v, c, dst[i+c], box[c], naive[c])
				}
				naiveDiff += math.Abs(naive[c] - box[c])
			}
		}
	}
	// The test can tell: on noise, point sampling is far from the mean.
	if naiveDiff/(ow*oh*3) < 10 {
		t.Fatalf("point sampling is within %g of the box mean: the test cannot tell them apart", naiveDiff/(ow*oh*3))
	}
}

// TestDownscaleCheckerboardDoesNotAlias: a one-pixel checkerboard reduced
// by 2 or more must come out mid-grey at any scale, offset and angle; point
// sampling would give black and white stripes and moiré.
func TestDownscaleCheckerboardDoesNotAlias(t *testing.T) {
	const n = 256
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(0)
			if (x+y)%2 == 1 {
				v = 255
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	p := NewPyramid(img)
	for _, tc := range []struct{ side, angle float64 }{
		{64, 0},    // scale 2 exactly: level 1
		{80, 0},    // 2.5
		{96, 0.3},  // 3, rotated
		{170, 1.2}, // 5.3, rotated
	} {
		const size = 32
		m := CropTransform(faceswap.Point{X: 128, Y: 128}, tc.side, tc.angle, size)
		dst := make([]float32, size*size*3)
		sample(p, dst, size, size, m, Norm{Scale: 1})
		for i, v := range dst {
			if !near(float64(v), 127.5, 1) {
				t.Fatalf("side %g angle %g: value %d = %g, want about 127.5", tc.side, tc.angle, i, v)
			}
		}
	}
	// Just under 2 the base is sampled: with the grid on pixel centres
	// (scale 1.5, positions 0, 1.5, 3, …) the pure pixels come through.
	dst := make([]float32, 4*3)
	sample(p, dst, 4, 1, Affine{1.5, 0, 10, 0, 1.5, 10}, Norm{Scale: 1})
	if dst[0] != 0 || dst[6] != 255 {
		t.Errorf("scale 1.5 from the base: %v, want 0 at u=0 and 255 at u=2", dst)
	}
}

func TestOutsideReadsAsOffset(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	p := NewPyramid(img)
	norm := Norm{Scale: 2.0 / 255, Offset: -1}
	for _, m := range []Affine{
		{1, 0, 100, 0, 1, 100}, // far right and below
		{1, 0, -50, 0, 1, 5},   // left
		CropTransform(faceswap.Point{X: -200, Y: 15}, 64, 0.7, 16), // scale 4: a pyramid level
	} {
		dst := make([]float32, 16*16*3)
		sample(p, dst, 16, 16, m, norm)
		for i, v := range dst {
			if v != -1 {
				t.Fatalf("%v: value %d = %g, want the offset -1", m, i, v)
			}
		}
	}
	// Half in, half out: pixels inside are 200, those two or more pixels
	// out are the offset, and the one straddling the border blends.
	dst := make([]float32, 8*3)
	sample(p, dst, 8, 1, Affine{1, 0, 35.5, 0, 1, 10}, Norm{Scale: 1})
	want := []float32{200, 200, 200, 200, 100, 0, 0, 0} // x = 35.5 … 42.5; 39.5 blends pixel 39 with black
	for u := 0; u < 8; u++ {
		if !near(float64(dst[3*u]), float64(want[u]), 1e-3) {
			t.Errorf("u=%d (x=%g): %g, want %g", u, 35.5+float64(u), dst[3*u], want[u])
		}
	}
}

func TestGrayWeights(t *testing.T) {
	for _, c := range []color.NRGBA{{200, 100, 50, 255}, {255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}} {
		img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				img.SetNRGBA(x, y, c)
			}
		}
		const sentinel = 12345
		dst := make([]float32, 4*4+1)
		dst[16] = sentinel
		sample(NewPyramid(img), dst, 4, 4, Affine{1, 0, 2, 0, 1, 2}, Norm{Scale: 1.0 / 255, Offset: 0.5, Gray: true})
		want := (0.299*float64(c.R)+0.587*float64(c.G)+0.114*float64(c.B))/255 + 0.5
		for i := 0; i < 16; i++ {
			if !near(float64(dst[i]), want, 1e-5) {
				t.Fatalf("%v: gray %g, want %g", c, dst[i], want)
			}
		}
		if dst[16] != sentinel {
			t.Errorf("Gray wrote past w·h values")
		}
	}
}

// TestAxisAlignedMatchesAffine: maps without rotation (the detector's
// windows, inside, across and beyond the image's edges, enlarged and
// reduced, mirrored) take the fast path, which must give what the general
// path gives for the same map.
func TestAxisAlignedMatchesAffine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	img := image.NewNRGBA(image.Rect(0, 0, 97, 61))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	const w, h = 40, 30
	var worst float64
	for k := 0; k < 300; k++ {
		sx, sy := 0.2+rng.Float64()*3, 0.2+rng.Float64()*3
		if k%7 == 0 {
			sx = -sx
		}
		m := Affine{sx, 0, rng.Float64()*140 - 40, 0, sy, rng.Float64()*100 - 30}
		for _, c := range []Crop{
			{W: w, H: h, Norm: Norm{Scale: 2.0 / 255, Offset: -1}},
			{W: w, H: h, Norm: Norm{Scale: 1, Gray: true}},
			{W: w, H: h, Norm: Norm{Scale: 1.0 / 255}, Layout: NCHW},
		} {
			fast, slow := make([]float32, c.Len()), make([]float32, c.Len())
			sampleAxisAligned(fast, w, h, img, m, c.writer())
			sampleAffine(slow, w, h, img, m, c.writer())
			for i := range fast {
				worst = max(worst, math.Abs(float64(fast[i]-slow[i])))
			}
		}
	}
	// The same operations in the same order: equal, short of a compiler
	// fusing a multiply and an add in one path and not the other.
	if worst > 1e-4 {
		t.Errorf("the axis-aligned path differs from the affine one by up to %g", worst)
	}
	t.Logf("largest difference: %g", worst)
}

func BenchmarkSampleWindow(b *testing.B) {
	img := image.NewNRGBA(image.Rect(0, 0, 1280, 853))
	p := NewPyramid(img)
	dst := make([]float32, 256*256*3)
	m := Affine{1.7, 0, 100, 0, 1.7, 50}
	for b.Loop() {
		sample(p, dst, 256, 256, m, Norm{Scale: 2.0 / 255, Offset: -1})
	}
}
