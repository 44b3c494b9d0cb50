package paste

import (
	"image"
	"math"

	"faceswap/raster"
	"faceswap/resample"
)

// kernelPad is how far beyond a crop's footprint its samples read: the
// widest kernel's reach (Lanczos, 3) plus one.
const kernelPad = 4

// Sample fills dst (3·size·size, NCHW) with the size×size crop of img
// that m maps (crop pixel → image pixel index, relative to img.Rect.Min),
// each channel value v in 0..255 written as v·n.Scale + n.Offset.
// Positions outside img are black. n.Gray is ignored (the crop is RGB). The crop is read from the level of a
// half-size pyramid of img matching m's scale (so strong reductions do not
// alias) and interpolated with k: Bilinear is raster.Pyramid.Sample; the
// other kernels sample the same level with resample's kernels. Only the
// part of img the crop reads is copied.
func Sample(dst []float32, img *image.NRGBA, m raster.Affine, size int, n raster.Norm, k resample.Kernel) {
	n.Gray = false
	w, h := img.Rect.Dx(), img.Rect.Dy()
	x0, y0, x1, y1 := Footprint(m, float64(size), float64(size))
	level := 0
	for s := m.Scale(); s >= 2 && level < 16; s /= 2 {
		level++
	}
	pad := float64(int(2) << level)
	if k != resample.Bilinear {
		pad = float64(int(kernelPad) << level)
	}
	r := image.Rect(int(math.Floor(x0-pad)), int(math.Floor(y0-pad)), int(math.Ceil(x1+pad))+1, int(math.Ceil(y1+pad))+1).Intersect(image.Rect(0, 0, w, h))
	nhwc := make([]float32, 3*size*size)
	switch {
	case r.Empty():
		for i := range nhwc {
			nhwc[i] = n.Offset
		}
	case k == resample.Bilinear:
		sub := img.SubImage(r.Add(img.Rect.Min)).(*image.NRGBA)
		mm := m
		mm[2] -= float64(r.Min.X)
		mm[5] -= float64(r.Min.Y)
		raster.NewPyramid(sub).Sample(nhwc, size, size, mm, n)
	default:
		sampleKernel(nhwc, img.SubImage(r.Add(img.Rect.Min)).(*image.NRGBA), r.Min, m, size, level, n, k)
	}
	plane := size * size
	for i := 0; i < plane; i++ {
		dst[i] = nhwc[3*i]
		dst[plane+i] = nhwc[3*i+1]
		dst[2*plane+i] = nhwc[3*i+2]
	}
}

// sampleKernel is Sample with a kernel other than Bilinear: sub (the part
// of the image at offset off) is reduced to the pyramid level, surrounded
// by kernelPad black pixels (so the kernels read black outside the image
// rather than repeating its edge), and sampled with k at the positions m
// maps the crop pixels to.
func sampleKernel(nhwc []float32, sub *image.NRGBA, off image.Point, m raster.Affine, size, level int, n raster.Norm, k resample.Kernel) {
	lvl := raster.NewPyramid(sub).Level(level)
	lw, lh := lvl.Rect.Dx(), lvl.Rect.Dy()
	src := resample.New(lw+2*kernelPad, lh+2*kernelPad)
	for y := 0; y < lh; y++ {
		row := lvl.Pix[y*lvl.Stride:]
		out := src.Pix[3*((y+kernelPad)*src.W+kernelPad):]
		for x := 0; x < lw; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
		}
	}
	// image pixel index → level pixel index: a level-L pixel centre x_L
	// is at image x = 2^L·x_L + (2^L−1)/2 (raster's pyramid).
	f := 1 / float64(uint(1)<<level)
	o := (1 - f) / 2
	mm := raster.Affine{m[0] * f, m[1] * f, (m[2]-float64(off.X))*f - o + kernelPad, m[3] * f, m[4] * f, (m[5]-float64(off.Y))*f - o + kernelPad}
	i := 0
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			x, y := mm.Apply(float64(u), float64(v))
			r, g, b := src.At(k, x, y)
			nhwc[i] = r*n.Scale + n.Offset
			nhwc[i+1] = g*n.Scale + n.Offset
			nhwc[i+2] = b*n.Scale + n.Offset
			i += 3
		}
	}
}

// Footprint returns the box of image positions a w×h crop's pixels
// (indices −1..w and −1..h, to include the bilinear fringe) map to
// through m.
func Footprint(m raster.Affine, w, h float64) (x0, y0, x1, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float64{{-1, -1}, {w, -1}, {-1, h}, {w, h}} {
		x, y := m.Apply(c[0], c[1])
		x0, y0, x1, y1 = math.Min(x0, x), math.Min(y0, y), math.Max(x1, x), math.Max(y1, y)
	}
	return
}
