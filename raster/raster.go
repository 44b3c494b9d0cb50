// Package raster gives the geometry of face crops and the one sampler that
// fills model input tensors with them. An Affine maps a crop's pixels into
// an image (CropTransform for a centre, side and angle; align derives the
// template alignments); a Pyramid holds an image and its half-size
// reductions; Sample reads a Crop from the pyramid level that matches the
// crop's scale, so strong reductions do not alias, with the crop's kernel,
// and writes it as float32 in the model's layout (NHWC or NCHW) and
// normalisation.
//
//	p := raster.NewPyramid(img)
//	m := raster.CropTransform(center, side, angle, 192)
//	p.Sample(dst, raster.Crop{W: 192, H: 192, M: m, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1.0 / 255}})
package raster

import (
	"math"

	"faceswap"
)

// Affine maps an output pixel centre (u, v) to a source position:
// x = A[0]·u + A[1]·v + A[2], y = A[3]·u + A[4]·v + A[5].
type Affine [6]float64

// Apply maps (u, v) through m.
func (m Affine) Apply(u, v float64) (float64, float64) {
	return m[0]*u + m[1]*v + m[2], m[3]*u + m[4]*v + m[5]
}

// ApplyPoint maps p through m.
func (m Affine) ApplyPoint(p faceswap.Point) faceswap.Point {
	x, y := m.Apply(p.X, p.Y)
	return faceswap.Point{X: x, Y: y}
}

// Scale returns how many source pixels one output pixel spans (the square
// root of the determinant's magnitude).
func (m Affine) Scale() float64 { return math.Sqrt(math.Abs(m[0]*m[4] - m[1]*m[3])) }

// Invert returns the inverse map.
func (m Affine) Invert() Affine {
	det := m[0]*m[4] - m[1]*m[3]
	if det == 0 {
		return Affine{}
	}
	a, b, d, e := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	return Affine{a, b, -(a*m[2] + b*m[5]), d, e, -(d*m[2] + e*m[5])}
}

// CropTransform returns the map from a size×size output whose centre is
// center in the source, covering side source pixels, rotated by angle
// radians (the output's x axis points along angle in the source).
func CropTransform(center faceswap.Point, side, angle float64, size int) Affine {
	s := side / float64(size)
	c, n := math.Cos(angle)*s, math.Sin(angle)*s
	h := float64(size) / 2
	// (u,v) are pixel centres: u+0.5 relative to the output centre.
	return Affine{c, -n, center.X - c*h + n*h + 0.5*(c-n) - 0.5, n, c, center.Y - n*h - c*h + 0.5*(n+c) - 0.5}
}

// Footprint returns the box of image positions a w×h crop's pixels
// (indices −1..w and −1..h, to include the bilinear fringe) map to
// through m.
func Footprint(m Affine, w, h float64) (x0, y0, x1, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float64{{-1, -1}, {w, -1}, {-1, h}, {w, h}} {
		x, y := m.Apply(c[0], c[1])
		x0, y0, x1, y1 = math.Min(x0, x), math.Min(y0, y), math.Max(x1, x), math.Max(y1, y)
	}
	return
}
