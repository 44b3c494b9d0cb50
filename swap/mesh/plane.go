package mesh

import (
	"math"

	"faceswap/filter"
)

// plane is a w×h single-channel float32 image (masks, luminance).
type plane struct {
	w, h int
	v    []float32
}

func newPlane(w, h int) *plane { return &plane{w: w, h: h, v: make([]float32, w*h)} }

// fillPolygon sets to 1 the pixels whose centres lie inside the polygon
// (even-odd rule); pts are in plane coordinates (pixel centres at i+0.5).
func (p *plane) fillPolygon(xs, ys []float64) {
	n := len(xs)
	var cross []float64
	for y := 0; y < p.h; y++ {
		cy := float64(y) + 0.5
		cross = cross[:0]
		for i := 0; i < n; i++ {
			j := (i + 1) % n
			y0, y1 := ys[i], ys[j]
			if (y0 <= cy) == (y1 <= cy) {
				continue
			}
			cross = append(cross, xs[i]+(cy-y0)/(y1-y0)*(xs[j]-xs[i]))
		}
		sortFloats(cross)
		for k := 0; k+1 < len(cross); k += 2 {
			x0 := max(0, int(math.Ceil(cross[k]-0.5)))
			x1 := min(p.w-1, int(math.Floor(cross[k+1]-0.5)))
			for x := x0; x <= x1; x++ {
				p.v[y*p.w+x] = 1
			}
		}
	}
}

func sortFloats(a []float64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// view is p as a filter.Plane: the same samples, one channel.
func (p *plane) view() filter.Plane { return filter.Plane{W: p.w, H: p.h, C: 1, Pix: p.v} }

// blur blurs p by about a Gaussian of standard deviation sigma (pixels),
// as three passes of a box filter each way (filter.Plane.BoxBlur).
func (p *plane) blur(sigma float64) { p.view().BoxBlur(sigma) }

// erode shrinks the set of pixels ≥ 0.5 by r pixels (square structuring
// element), leaving 0/1 values: a pixel stays when every pixel within r of
// it, each way, is ≥ 0.5 and inside the plane.
func (p *plane) erode(r int) {
	if r <= 0 {
		return
	}
	out := make([]float32, len(p.v))
	for i, v := range p.v {
		if v >= 0.5 {
			out[i] = 1
		}
	}
	p.v = out
	p.view().Min(r, r)
	// the pixels whose square leaves the plane
	for y := 0; y < p.h; y++ {
		row := p.v[y*p.w : (y+1)*p.w]
		if y < r || y >= p.h-r {
			clear(row)
			continue
		}
		clear(row[:min(r, p.w)])
		clear(row[max(p.w-r, 0):])
	}
}

// mul multiplies p by q pixel by pixel.
func (p *plane) mul(q *plane) {
	for i := range p.v {
		p.v[i] *= q.v[i]
	}
}

// downsample returns p reduced by an integer factor f (box mean,
// filter.Plane.Reduce).
func (p *plane) downsample(f int) *plane {
	d := p.view().Reduce(f)
	return &plane{w: d.W, h: d.H, v: d.Pix}
}

// at samples p bilinearly at (x, y) in pixel-index coordinates, clamped.
func (p *plane) at(x, y float64) float32 {
	x = math.Max(0, math.Min(float64(p.w-1), x))
	y = math.Max(0, math.Min(float64(p.h-1), y))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	ax, ay := float32(x-float64(x0)), float32(y-float64(y0))
	a := p.v[y0*p.w+x0]*(1-ax) + p.v[y0*p.w+x1]*ax
	b := p.v[y1*p.w+x0]*(1-ax) + p.v[y1*p.w+x1]*ax
	return a*(1-ay) + b*ay
}

// upsampleTo returns p scaled by f to w×h (bilinear, centre-aligned, as at
// samples; filter.Plane.Enlarge).
func (p *plane) upsampleTo(w, h, f int) *plane {
	e := p.view().Enlarge(w, h, f)
	return &plane{w: e.W, h: e.H, v: e.Pix}
}

// maxOver returns the maximum of p over the (2r+1)² square around each
// pixel (a grey-level dilation), edges clamped.
func (p *plane) maxOver(r int) *plane {
	q := copyPlane(p)
	q.view().Max(r, r)
	return q
}

// minOver returns the minimum over the same square (a grey-level erosion).
func (p *plane) minOver(r int) *plane {
	q := copyPlane(p)
	q.view().Min(r, r)
	return q
}

// thinLines marks (1) the pixels of p on a line at most 2r+1 pixels wide
// that is more than c darker than what a (2r+1)² closing fills in, or
// more than c lighter than what an opening leaves (the morphological line
// detection used on hairs over skin).
func (p *plane) thinLines(r int, c float32) *plane {
	out := p.lineContrast(r)
	for i, v := range out.v {
		out.v[i] = 0
		if v > c {
			out.v[i] = 1
		}
	}
	return out
}

// lineContrast is how much darker than what a (2r+1)² closing fills in,
// or lighter than what an opening leaves, each pixel of p is (thinLines
// marks where this exceeds its c).
func (p *plane) lineContrast(r int) *plane {
	closed := p.maxOver(r).minOver(r)
	opened := p.minOver(r).maxOver(r)
	out := newPlane(p.w, p.h)
	for i, v := range p.v {
		out.v[i] = max(closed.v[i]-v, v-opened.v[i])
	}
	return out
}

// connected returns the parts of p (8-connected pixels above 0) that
// contain a pixel for which seed is true, with their values.
func (p *plane) connected(seed func(i int) bool) *plane {
	out := newPlane(p.w, p.h)
	seen := make([]bool, len(p.v))
	var stack []int
	for i, v := range p.v {
		if v <= 0 || seen[i] || !seed(i) {
			continue
		}
		stack = append(stack[:0], i)
		seen[i] = true
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out.v[j] = p.v[j]
			x, y := j%p.w, j/p.w
			for ny := max(0, y-1); ny <= min(p.h-1, y+1); ny++ {
				for nx := max(0, x-1); nx <= min(p.w-1, x+1); nx++ {
					if k := ny*p.w + nx; !seen[k] && p.v[k] > 0 {
						seen[k] = true
						stack = append(stack, k)
					}
				}
			}
		}
	}
	return out
}
