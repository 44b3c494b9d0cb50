// Package filter gives the filters the engines run on float32 images
// (masks, RGB), one implementation of each: Gaussian blur, minimum and
// maximum over a square (erosion, dilation), and the steps of a pyramid.
//
// Two blurs serve two needs: Gaussian samples the kernel (exact at small
// σ, and OpenCV's where a reference is matched); BoxBlur is three box
// passes, close to a Gaussian at a cost that does not grow with σ (the
// wide feathering of masks). Two steps go down: Reduce, a box mean over a
// whole factor, for work at a lower resolution; PyramidDown, a Gaussian
// pyramid's binomial level, for the bands of a multi-band blend. Enlarge
// goes back up, bilinearly.
//
// A Plane is a view of W×H samples of C interleaved channels: a mask or
// one channel (C = 1), or the samples of a resample.Image (C = 3), taken
// without copying.
//
//	m := filter.Plane{W: w, H: h, C: 1, Pix: mask}
//	m.Min(3, 3)      // erode by a 7×7 square
//	m.BoxBlur(4.5)   // then feather
package filter

import "math"

// Plane is a W×H image of float32 samples, C channels interleaved, row by
// row. It is a view: copying a Plane copies no samples, and the methods
// that filter in place change the samples its Pix holds.
type Plane struct {
	W, H, C int
	Pix     []float32 // len W·H·C
}

// New returns a w×h plane of c channels, all 0.
func New(w, h, c int) Plane { return Plane{W: w, H: h, C: c, Pix: make([]float32, w*h*c)} }

// Border says what the samples beyond a plane's edges are taken to be.
type Border int

const (
	// Clamp repeats the edge samples.
	Clamp Border = iota
	// Reflect mirrors about the edge samples (… 2 1 | 0 1 2 …), OpenCV's
	// default border.
	Reflect
)

// index maps i, which may lie beyond 0..n−1, to the sample it reads.
func (b Border) index(i, n int) int {
	if b == Clamp || n == 1 {
		return min(max(i, 0), n-1)
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		} else {
			i = 2*n - 2 - i
		}
	}
	return i
}

// Kernel returns the Gaussian of σ sampled over 2r+1 taps, normalised to
// sum 1 (taps and sum in float32).
func Kernel(r int, sigma float64) []float32 {
	k := make([]float32, 2*r+1)
	var sum float32
	for i := range k {
		d := float64(i - r)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// Gaussian blurs p in place with the Gaussian of σ sampled over ±⌈3σ⌉
// samples, b beyond the edges. Below σ = 0.2 it leaves p as it is (the
// kernel's side taps would be under 10⁻⁵).
func (p Plane) Gaussian(sigma float64, b Border) {
	if sigma < 0.2 {
		return
	}
	p.Convolve(Kernel(int(math.Ceil(3*sigma)), sigma), b)
}

// Convolve filters p in place with kern (odd length) along its rows, then
// along its columns, each channel on its own, b beyond the edges.
func (p Plane) Convolve(kern []float32, b Border) { p.convolve(p, kern, b, 1) }

// binomial is the 5-tap binomial kernel (1 4 6 4 1)/16, close to a
// Gaussian of σ 1.
var binomial = []float32{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}

// PyramidDown returns the next level of p's Gaussian pyramid (Burt and
// Adelson's REDUCE): p blurred by the binomial (1 4 6 4 1)/16 each way,
// edges repeated, at every second sample from the first (so ⌈W/2⌉×⌈H/2⌉).
// Unlike Reduce's box mean, which serves work at a lower resolution, its
// levels hold no detail finer than their own samples, as a multi-band
// blend's bands need.
func (p Plane) PyramidDown() Plane {
	out := New((p.W+1)/2, (p.H+1)/2, p.C)
	p.convolve(out, binomial, Clamp, 2)
	return out
}

// convolve writes to dst p filtered by kern along its rows, then along its
// columns, b beyond the edges, at every step-th sample of each axis from
// the first: dst is ⌈W/step⌉×⌈H/step⌉ and may be p itself when step is 1.
// Rows of zeros are skipped in the first pass (they stay zero), which
// masks with a wide empty margin gain from.
func (p Plane) convolve(dst Plane, kern []float32, b Border, step int) {
	r := len(kern) / 2
	c, n, m := p.C, p.W*p.C, dst.W*p.C
	// off[i+r] is the offset in a row of the first channel of sample i
	off := make([]int, p.W+2*r)
	for i := range off {
		off[i] = c * b.index(i-r, p.W)
	}
	// tmp: every row of p filtered along x, at dst's columns
	tmp := make([]float32, p.H*m)
	for y := 0; y < p.H; y++ {
		row := p.Pix[y*n : (y+1)*n]
		if zero(row) {
			continue
		}
		out := tmp[y*m : (y+1)*m]
		for x := 0; x < dst.W; x++ {
			ox := off[step*x : step*x+2*r+1]
			for ch := 0; ch < c; ch++ {
				var s float32
				for t, k := range kern {
					s += k * row[ox[t]+ch]
				}
				out[c*x+ch] = s
			}
		}
	}
	// the columns a whole row at a time, to read memory in order
	acc := make([]float32, m)
	for y := 0; y < dst.H; y++ {
		clear(acc)
		for t, k := range kern {
			src := tmp[b.index(step*y+t-r, p.H)*m:][:m]
			for x, v := range src {
				acc[x] += k * v
			}
		}
		copy(dst.Pix[y*m:], acc)
	}
}

func zero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
