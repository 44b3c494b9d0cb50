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
// resolution, at a cost that does not depend on k. Both are package
// filter's (the sampled Gaussian, borders reflected as OpenCV's, and the
// running minimum). The blend rounds (the reference truncates).
package paste

import (
	"image"
	"math"

	"faceswap/filter"
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
func erode(p []float32, w, h, k int) {
	filter.Plane{W: w, H: h, C: 1, Pix: p}.Min(k/2, k-1-k/2)
}

// gaussian returns the w×h plane blurred by the Gaussian of the given
// kernel size and σ, borders reflected as OpenCV's; p is not changed. With
// a reduction f > 1 it runs on an f-times smaller plane (box reduction,
// then bilinear expansion), with σ reduced so that the three together blur
// by σ: σ_f² = (σ² − f²/4)/f² (a box of f adds f²/12 of variance, the
// bilinear expansion f²/6).
func gaussian(p []float32, w, h, ksize int, sigma float64, f int) []float32 {
	r := ksize / 2
	in := filter.Plane{W: w, H: h, C: 1, Pix: p}
	if f <= 1 {
		out := filter.Plane{W: w, H: h, C: 1, Pix: append([]float32(nil), p...)}
		out.Convolve(filter.Kernel(r, sigma), filter.Reflect)
		return out.Pix
	}
	low := in.Reduce(f)
	sf := math.Sqrt(max(sigma*sigma-float64(f*f)/4, 0.25)) / float64(f)
	low.Convolve(filter.Kernel((r+f-1)/f, sf), filter.Reflect)
	return low.Enlarge(w, h, f).Pix
}
