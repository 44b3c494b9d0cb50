// Package paste blends a model's output crop back into the picture: Back
// warps the crop with the inverse of the transform that cut it (see
// raster.SampleImage) and blends it under the soft mask insightface's
// reference paste-back uses. The swap engines and the restorers share it.
//
// The mask, as the reference builds it: a white crop-sized mask is warped
// back with the inverse transform (bilinearly), values above 20 become
// 255, the mask is eroded by a k×k square, k = max(s/10, 10), and blurred
// by a Gaussian of size 2·max(s/20, 5)+1 (σ as OpenCV derives it from the
// size), s = √(h·w) of the box of the full-mask pixels; the result is the
// alpha of the blend. For large crops (σ ≥ 6, a mask of about 400 px and
// more) the Gaussian runs at 1/⌊σ/3⌋ of the resolution, with σ corrected
// for the box reduction and bilinear expansion, which changes alpha by
// less than 1 level of 255 (TestReducedBlur). Erosion runs at full
// resolution as a van Herk/Gil-Werman running minimum, whose cost does not
// depend on k. The blend rounds (the reference truncates).
package paste

import (
	"image"
	"math"

	"faceswap/raster"
	"faceswap/resample"
	"faceswap/swap"
)

// pasteParams are the mask sizes the reference derives from the warped
// mask's extent.
type pasteParams struct {
	erode int     // side of the square erosion
	blur  int     // Gaussian kernel size (odd)
	sigma float64 // Gaussian σ, as OpenCV derives it from the size
}

func paramsFor(maskH, maskW int) pasteParams {
	s := int(math.Sqrt(float64(maskH) * float64(maskW)))
	b := 2*max(s/20, 5) + 1
	return pasteParams{erode: max(s/10, 10), blur: b, sigma: 0.3*(float64(b-1)*0.5-1) + 0.8}
}

// reduction is the factor the Gaussian of σ runs reduced by.
func reduction(sigma float64) int { return max(1, int(sigma/3)) }

// coverage is the bilinear sample, at crop position u, of a row of n
// white pixels on black: what warping a white mask back gives.
func coverage(u float64, n int) float64 {
	return min(max(min(u+1, float64(n)-u), 0), 1)
}

// Blend scales the mask of a paste.
type Blend struct {
	// Opacity multiplies the mask, 0..1: 1 pastes the face fully where
	// the mask is full, 0 changes nothing.
	Opacity float64
	// Within, when not nil, limits the paste to a region (one a swap
	// returned): the mask is also multiplied by the region's alpha, so
	// nothing outside it changes.
	Within *swap.Region
}

// Back blends face (a model's output crop, samples 0..255), mapped by m
// (crop pixel → dst pixel index, relative to dst.Rect.Min) and sampled
// with k, into dst under the soft mask scaled by b, and returns the region
// it changed: Alpha is the blend factor of each pixel, quantised to 0..255
// before blending, so pixels where it is 0 are untouched.
func Back(dst *image.NRGBA, face *resample.Image, m raster.Affine, k resample.Kernel, b Blend) swap.Region {
	W, H := dst.Rect.Dx(), dst.Rect.Dy()
	img := image.Rect(0, 0, W, H)
	if !(b.Opacity > 0) {
		return swap.Region{}
	}
	x0, y0, x1, y1 := raster.Footprint(m, float64(face.W), float64(face.H))
	fb := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1))+1, int(math.Ceil(y1))+1).Intersect(img)
	if fb.Empty() {
		return swap.Region{}
	}
	inv := m.Invert()

	// The warped white mask, thresholded, and the box of its full pixels.
	fw, fh := fb.Dx(), fb.Dy()
	mask := make([]float32, fw*fh)
	minX, minY, maxX, maxY := math.MaxInt, math.MaxInt, -1, -1
	for y := 0; y < fh; y++ {
		for x := 0; x < fw; x++ {
			u, v := inv.Apply(float64(fb.Min.X+x), float64(fb.Min.Y+y))
			c := 255 * coverage(u, face.W) * coverage(v, face.H)
			if c > 20 {
				c = 255
				minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
			}
			mask[y*fw+x] = float32(c)
		}
	}
	if maxX < 0 {
		return swap.Region{}
	}
	p := paramsFor(maxY-minY, maxX-minX)
	f := reduction(p.sigma)
	margin := max(p.erode, p.blur/2+2*f) + 2
	wb := fb.Inset(-margin).Intersect(img)
	ww, wh := wb.Dx(), wb.Dy()
	alpha := make([]float32, ww*wh)
	ox, oy := fb.Min.X-wb.Min.X, fb.Min.Y-wb.Min.Y
	for y := 0; y < fh; y++ {
		copy(alpha[(oy+y)*ww+ox:], mask[y*fw:(y+1)*fw])
	}
	erode(alpha, ww, wh, p.erode)
	alpha = gaussian(alpha, ww, wh, p.blur, p.sigma, f)

	// Scale, quantise, and keep the box where alpha is not 0.
	opacity := float32(min(b.Opacity, 1))
	var within swap.Region
	if b.Within != nil {
		within = *b.Within
		within.Bounds = within.Bounds.Sub(dst.Rect.Min) // to wb's frame
	}
	a8 := make([]uint8, ww*wh)
	rx0, ry0, rx1, ry1 := ww, wh, -1, -1
	for y := 0; y < wh; y++ {
		for x := 0; x < ww; x++ {
			a := alpha[y*ww+x]
			if opacity != 1 {
				a *= opacity
			}
			if b.Within != nil {
				a *= float32(alphaOf(within, wb.Min.X+x, wb.Min.Y+y)) / 255
			}
			q := resample.Clamp8(a)
			if q == 0 {
				continue
			}
			a8[y*ww+x] = q
			rx0, ry0, rx1, ry1 = min(rx0, x), min(ry0, y), max(rx1, x), max(ry1, y)
		}
	}
	if rx1 < 0 {
		return swap.Region{}
	}
	rb := image.Rect(rx0, ry0, rx1+1, ry1+1)
	out := make([]uint8, rb.Dx()*rb.Dy())
	for y := rb.Min.Y; y < rb.Max.Y; y++ {
		gy := wb.Min.Y + y
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X+wb.Min.X, dst.Rect.Min.Y+gy):]
		for x := rb.Min.X; x < rb.Max.X; x++ {
			a := a8[y*ww+x]
			if a == 0 {
				continue
			}
			out[(y-rb.Min.Y)*rb.Dx()+x-rb.Min.X] = a
			u, v := inv.Apply(float64(wb.Min.X+x), float64(gy))
			r, g, b := face.At(k, u, v)
			q := row[4*x : 4*x+3 : 4*x+3]
			t := float32(a) / 255
			q[0] = resample.Clamp8(float32(q[0]) + (r-float32(q[0]))*t)
			q[1] = resample.Clamp8(float32(q[1]) + (g-float32(q[1]))*t)
			q[2] = resample.Clamp8(float32(q[2]) + (b-float32(q[2]))*t)
		}
	}
	return swap.Region{Bounds: rb.Add(wb.Min).Add(dst.Rect.Min), Alpha: out}
}

// alphaOf returns r's alpha at (x, y), 0 outside it.
func alphaOf(r swap.Region, x, y int) uint8 {
	if !(image.Point{x, y}).In(r.Bounds) || len(r.Alpha) != r.Bounds.Dx()*r.Bounds.Dy() {
		return 0
	}
	return r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X]
}

// erode replaces each value of the w×h plane by the minimum over the k×k
// square around it (OpenCV's anchor: k/2 before, k−1−k/2 after); positions
// outside the plane do not count (as OpenCV's default erosion border).
// Rows are filtered over the span of their non-zero values only (a window
// that reaches a zero gives zero); columns are filtered a whole row at a
// time, to read memory in order.
func erode(p []float32, w, h, k int) {
	if k <= 1 {
		return
	}
	pad := make([]float32, w+k-1)
	g := make([]float32, w+k-1)
	hh := make([]float32, w+k-1)
	line := make([]float32, w)
	for y := 0; y < h; y++ {
		row := p[y*w : (y+1)*w]
		first, last := -1, -1
		for x, v := range row {
			if v != 0 {
				if first < 0 {
					first = x
				}
				last = x
			}
		}
		if first < 0 {
			continue
		}
		// Beyond the span by k, every window holds a zero of the row.
		x0, x1 := max(first-k, 0), min(last+k+1, w)
		seg := row[x0:x1]
		minFilter(seg, line[:len(seg)], k, pad, g, hh)
		copy(seg, line[:len(seg)])
	}
	minColumns(p, w, h, k)
}

// minColumns is the vertical pass of erode: van Herk/Gil-Werman block
// minima over rows.
func minColumns(p []float32, w, h, k int) {
	a := k / 2
	L := h + k - 1
	inf := float32(math.Inf(1))
	infRow := make([]float32, w)
	for i := range infRow {
		infRow[i] = inf
	}
	row := func(j int) []float32 { // padded row j is plane row j−a
		if y := j - a; y >= 0 && y < h {
			return p[y*w : (y+1)*w]
		}
		return infRow
	}
	g := make([]float32, L*w)
	hp := make([]float32, L*w)
	for s := 0; s < L; s += k {
		e := min(s+k, L)
		copy(g[s*w:(s+1)*w], row(s))
		for j := s + 1; j < e; j++ {
			prev, cur, src := g[(j-1)*w:j*w], g[j*w:(j+1)*w], row(j)
			for x := range cur {
				cur[x] = min(prev[x], src[x])
			}
		}
		copy(hp[(e-1)*w:e*w], row(e-1))
		for j := e - 2; j >= s; j-- {
			next, cur, src := hp[(j+1)*w:(j+2)*w], hp[j*w:(j+1)*w], row(j)
			for x := range cur {
				cur[x] = min(next[x], src[x])
			}
		}
	}
	for y := 0; y < h; y++ {
		out, hr, gr := p[y*w:(y+1)*w], hp[y*w:(y+1)*w], g[(y+k-1)*w:(y+k)*w]
		for x := range out {
			out[x] = min(hr[x], gr[x])
		}
	}
}

// minFilter sets out[i] to the minimum of in over [i−k/2, i−k/2+k−1]
// (indices outside in ignored), with van Herk/Gil-Werman block minima: a
// constant number of comparisons per value whatever k is. pad, g and h are
// scratch of at least len(in)+k−1.
func minFilter(in, out []float32, k int, pad, g, h []float32) {
	n := len(in)
	a := k / 2
	L := n + k - 1
	inf := float32(math.Inf(1))
	pad, g, h = pad[:L], g[:L], h[:L]
	for j := range pad {
		if i := j - a; i >= 0 && i < n {
			pad[j] = in[i]
		} else {
			pad[j] = inf
		}
	}
	for s := 0; s < L; s += k {
		e := min(s+k, L)
		g[s] = pad[s]
		for j := s + 1; j < e; j++ {
			g[j] = min(g[j-1], pad[j])
		}
		h[e-1] = pad[e-1]
		for j := e - 2; j >= s; j-- {
			h[j] = min(h[j+1], pad[j])
		}
	}
	for i := 0; i < n; i++ {
		out[i] = min(h[i], g[i+k-1])
	}
}

// gaussianKernel returns the normalised Gaussian of σ over 2r+1 taps.
func gaussianKernel(r int, sigma float64) []float32 {
	k := make([]float32, 2*r+1)
	var s float64
	w := make([]float64, len(k))
	for i := range w {
		d := float64(i - r)
		w[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += w[i]
	}
	for i := range k {
		k[i] = float32(w[i] / s)
	}
	return k
}

// reflect101 maps an index beyond 0..n−1 back inside, mirroring about the
// edge pixels (OpenCV's default border).
func reflect101(i, n int) int {
	if n == 1 {
		return 0
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

// convolve blurs the w×h plane p separably with kernel kern (odd length),
// reflecting at the edges, and returns the result.
func convolve(p []float32, w, h int, kern []float32) []float32 {
	r := len(kern) / 2
	tmp := make([]float32, w*h)
	idx := make([]int, w+2*r)
	for i := range idx {
		idx[i] = reflect101(i-r, w)
	}
	for y := 0; y < h; y++ {
		row := p[y*w : (y+1)*w]
		zero := true
		for _, v := range row {
			if v != 0 {
				zero = false
				break
			}
		}
		if zero {
			continue
		}
		out := tmp[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var s float32
			ix := idx[x : x+2*r+1]
			for t, c := range kern {
				s += c * row[ix[t]]
			}
			out[x] = s
		}
	}
	res := make([]float32, w*h)
	acc := make([]float32, w)
	for y := 0; y < h; y++ {
		clear(acc)
		for t, c := range kern {
			src := tmp[reflect101(y+t-r, h)*w:][:w]
			for x, v := range src {
				acc[x] += c * v
			}
		}
		copy(res[y*w:], acc)
	}
	return res
}

// gaussian blurs the w×h plane with the Gaussian of the given kernel size
// and σ. With a reduction f > 1 it runs on an f-times smaller plane (box
// reduction, then bilinear expansion), with σ reduced so that the three
// together blur by σ: σ_f² = (σ² − f²/4)/f² (a box of f adds f²/12 of
// variance, the bilinear expansion f²/6).
func gaussian(p []float32, w, h, ksize int, sigma float64, f int) []float32 {
	r := ksize / 2
	if f <= 1 {
		return convolve(p, w, h, gaussianKernel(r, sigma))
	}
	lw, lh := (w+f-1)/f, (h+f-1)/f
	low := make([]float32, lw*lh)
	for ly := 0; ly < lh; ly++ {
		for lx := 0; lx < lw; lx++ {
			var s float32
			n := 0
			for y := ly * f; y < min((ly+1)*f, h); y++ {
				for x := lx * f; x < min((lx+1)*f, w); x++ {
					s += p[y*w+x]
					n++
				}
			}
			low[ly*lw+lx] = s / float32(n)
		}
	}
	sf := math.Sqrt(max(sigma*sigma-float64(f*f)/4, 0.25)) / float64(f)
	low = convolve(low, lw, lh, gaussianKernel((r+f-1)/f, sf))
	// bilinear expansion: full pixel x sits at (x+0.5)/f − 0.5 in the
	// reduced plane
	out := make([]float32, w*h)
	xs := make([]int, w)
	xa := make([]float32, w)
	for x := 0; x < w; x++ {
		fx := (float64(x)+0.5)/float64(f) - 0.5
		fx = min(max(fx, 0), float64(lw-1))
		xs[x] = min(int(fx), lw-2)
		if lw == 1 {
			xs[x] = 0
		}
		xa[x] = float32(fx - float64(xs[x]))
	}
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)/float64(f) - 0.5
		fy = min(max(fy, 0), float64(lh-1))
		y0 := min(int(fy), max(lh-2, 0))
		ay := float32(fy - float64(y0))
		y1 := min(y0+1, lh-1)
		r0, r1 := low[y0*lw:(y0+1)*lw], low[y1*lw:(y1+1)*lw]
		o := out[y*w : (y+1)*w]
		for x := range o {
			x0 := xs[x]
			x1 := min(x0+1, lw-1)
			ax := xa[x]
			top := r0[x0] + (r0[x1]-r0[x0])*ax
			bot := r1[x0] + (r1[x1]-r1[x0])*ax
			o[x] = top + (bot-top)*ay
		}
	}
	return out
}
