package paste

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"faceswap"
	"faceswap/raster"
	"faceswap/resample"
)

// faceSize is the crop side of these tests (inswapper's).
const faceSize = 128

func TestParams(t *testing.T) {
	for _, c := range []struct {
		h, w        int
		erode, blur int
		sigma       float64
	}{
		{100, 100, 10, 11, 2.0},
		{50, 60, 10, 11, 2.0},   // small masks use the minimum sizes
		{400, 400, 40, 41, 6.5}, // 0.3·(20−1)+0.8
		{300, 1200, 60, 61, 9.5},
	} {
		p := paramsFor(c.h, c.w)
		if p.erode != c.erode || p.blur != c.blur || math.Abs(p.sigma-c.sigma) > 1e-9 {
			t.Errorf("paramsFor(%d, %d) = %+v, want erode %d blur %d σ %g", c.h, c.w, p, c.erode, c.blur, c.sigma)
		}
	}
}

func TestCoverage(t *testing.T) {
	for _, c := range []struct{ u, want float64 }{{-2, 0}, {-1, 0}, {-0.25, 0.75}, {0, 1}, {60, 1}, {127, 1}, {127.5, 0.5}, {128, 0}, {130, 0}} {
		if got := coverage(c.u, 128); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("coverage(%g) = %g, want %g", c.u, got, c.want)
		}
	}
}

// erode is the 2-D k×k minimum.
func TestErode(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	w, h := 23, 17
	p := make([]float32, w*h)
	for i := range p {
		p[i] = float32(r.IntN(256))
	}
	// and a plane that is mostly zero, as masks are
	sparse := make([]float32, w*h)
	for y := 4; y < 13; y++ {
		for x := 6; x < 19; x++ {
			sparse[y*w+x] = float32(1 + r.IntN(255))
		}
	}
	for _, k := range []int{1, 2, 3, 4, 10, 11, 40} {
		for _, p := range [][]float32{p, sparse} {
			q := append([]float32(nil), p...)
			erode(q, w, h, k)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					want := float32(math.Inf(1))
					for yy := y - k/2; yy < y-k/2+k; yy++ {
						for xx := x - k/2; xx < x-k/2+k; xx++ {
							if xx >= 0 && yy >= 0 && xx < w && yy < h {
								want = min(want, p[yy*w+xx])
							}
						}
					}
					if q[y*w+x] != want {
						t.Fatalf("k %d: (%d,%d) = %g, want %g", k, x, y, q[y*w+x], want)
					}
				}
			}
		}
	}
}

// warpedMask is the eroded mask of a 128-px crop seen at the given size
// and angle, on a plane with the paste's margins, as paste builds it.
func warpedMask(size, angle float64) ([]float32, int, int, pasteParams) {
	m := raster.CropTransform(faceswap.Point{X: size, Y: size}, size, angle, faceSize)
	x0, y0, x1, y1 := raster.Footprint(m, faceSize, faceSize)
	fb := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1))+1, int(math.Ceil(y1))+1)
	inv := m.Invert()
	minX, minY, maxX, maxY := math.MaxInt, math.MaxInt, -1, -1
	vals := make([]float32, fb.Dx()*fb.Dy())
	for y := 0; y < fb.Dy(); y++ {
		for x := 0; x < fb.Dx(); x++ {
			u, v := inv.Apply(float64(fb.Min.X+x), float64(fb.Min.Y+y))
			c := 255 * coverage(u, faceSize) * coverage(v, faceSize)
			if c > 20 {
				c = 255
				minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
			}
			vals[y*fb.Dx()+x] = float32(c)
		}
	}
	p := paramsFor(maxY-minY, maxX-minX)
	margin := max(p.erode, p.blur/2+2*reduction(p.sigma)) + 2
	w, h := fb.Dx()+2*margin, fb.Dy()+2*margin
	plane := make([]float32, w*h)
	for y := 0; y < fb.Dy(); y++ {
		copy(plane[(y+margin)*w+margin:], vals[y*fb.Dx():(y+1)*fb.Dx()])
	}
	erode(plane, w, h, p.erode)
	return plane, w, h, p
}

// The reduced-resolution Gaussian used for large faces stays within about
// a level of the full-resolution one.
func TestReducedBlur(t *testing.T) {
	sizes := []float64{300, 450, 700, 1000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, size := range sizes {
		plane, w, h, p := warpedMask(size, 0.3)
		f := reduction(p.sigma)
		full := gaussian(plane, w, h, p.blur, p.sigma, 1)
		red := gaussian(plane, w, h, p.blur, p.sigma, f)
		var worst float64
		for i := range full {
			worst = math.Max(worst, math.Abs(float64(full[i]-red[i])))
		}
		t.Logf("crop of %.0f px: kernel %d, σ %.1f, reduced %d×: max |alpha difference| %.2f of 255", size, p.blur, p.sigma, f, worst)
		if worst > 1.5 {
			t.Errorf("crop of %.0f px: the reduced blur differs by %.2f levels", size, worst)
		}
	}
}

// The paste of a constant face into a blank picture: alpha is 255 in the
// middle of the crop, falls to 0 before the crop's edge, and the picture
// takes the face's value where alpha is full.
func TestPasteShape(t *testing.T) {
	dst := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	face := resample.New(faceSize, faceSize)
	for i := range face.Pix {
		face.Pix[i] = 200
	}
	m := raster.CropTransform(faceswap.Point{X: 200, Y: 150}, 160, 0.2, faceSize)
	r := Back(dst, face, m, resample.Bilinear, Blend{Opacity: 1})
	inv := m.Invert()
	for y := r.Bounds.Min.Y; y < r.Bounds.Max.Y; y++ {
		for x := r.Bounds.Min.X; x < r.Bounds.Max.X; x++ {
			a := r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X]
			u, v := inv.Apply(float64(x), float64(y))
			edge := math.Min(math.Min(u, 127-u), math.Min(v, 127-v)) // crop px from the crop's edge
			switch {
			case edge > 30 && a != 255:
				t.Fatalf("alpha %d at (%d,%d), %.1f crop px inside the edge", a, x, y, edge)
			case edge < -1.5 && a != 0:
				// the warped mask's bilinear fringe reaches one crop
				// pixel beyond the edge
				t.Fatalf("alpha %d at (%d,%d), %.1f crop px outside the crop", a, x, y, -edge)
			}
			if a == 255 && dst.Pix[dst.PixOffset(x, y)] != 200 {
				t.Fatalf("(%d,%d) = %d under full alpha", x, y, dst.Pix[dst.PixOffset(x, y)])
			}
		}
	}
}
