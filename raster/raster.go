// Package raster samples image pixels into model input tensors: an affine
// crop (translated, scaled, rotated) of an image is resampled bilinearly from
// the level of a half-size pyramid that matches its scale, so that strong
// reductions do not alias, and written as NHWC float32 with a per-channel
// scale and offset.
//
//	p := raster.NewPyramid(img)
//	m := raster.CropTransform(center, side, angle, 192)
//	p.Sample(dst, 192, 192, m, raster.Norm{Scale: 1.0 / 255})
package raster

import (
	"image"
	"math"

	"faceswap"
)

// Pyramid is an image and its successive half-size box-filtered reductions.
// Levels are made on first use; a Pyramid is not safe for concurrent use
// while levels are being made, so callers build it once per image.
type Pyramid struct {
	levels []*image.NRGBA
}

// NewPyramid returns a pyramid whose base is img (not copied).
func NewPyramid(img *image.NRGBA) *Pyramid {
	if img.Rect.Min != (image.Point{}) {
		c := image.NewNRGBA(image.Rect(0, 0, img.Rect.Dx(), img.Rect.Dy()))
		for y := 0; y < c.Rect.Dy(); y++ {
			copy(c.Pix[y*c.Stride:y*c.Stride+4*c.Rect.Dx()], img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):])
		}
		img = c
	}
	return &Pyramid{levels: []*image.NRGBA{img}}
}

// Base returns the full-resolution image.
func (p *Pyramid) Base() *image.NRGBA { return p.levels[0] }

// Level returns level k (k=0 is the base), making it if needed. Levels stop
// at 1×1.
func (p *Pyramid) Level(k int) *image.NRGBA {
	for len(p.levels) <= k {
		last := p.levels[len(p.levels)-1]
		if last.Rect.Dx() <= 1 && last.Rect.Dy() <= 1 {
			return last
		}
		p.levels = append(p.levels, halve(last))
	}
	return p.levels[k]
}

// halve box-filters src to half its size (rounding up; odd edges reuse the
// last column or row).
func halve(src *image.NRGBA) *image.NRGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	w, h := (sw+1)/2, (sh+1)/2
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := 2*y, min(2*y+1, sh-1)
		r0 := src.Pix[y0*src.Stride:]
		r1 := src.Pix[y1*src.Stride:]
		d := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			x0, x1 := 8*x, 4*min(2*x+1, sw-1)
			for c := 0; c < 4; c++ {
				s := uint32(r0[x0+c]) + uint32(r0[x1+c]) + uint32(r1[x0+c]) + uint32(r1[x1+c])
				d[4*x+c] = uint8((s + 2) >> 2)
			}
		}
	}
	return dst
}

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

// Norm maps a channel value v in 0..255 to v·Scale + Offset.
type Norm struct {
	Scale, Offset float32
	Gray          bool // write one luminance channel instead of RGB
}

// Sample fills dst (w·h·3 floats, or w·h for Gray, NHWC) with the source
// resampled through m, choosing the pyramid level whose pixels are at most
// twice as fine as the output. Positions outside the image read as black.
func (p *Pyramid) Sample(dst []float32, w, h int, m Affine, n Norm) {
	k := 0
	for s := m.Scale(); s >= 2 && k < 16; s /= 2 {
		k++
	}
	lvl := p.Level(k)
	if k > 0 {
		f := 1 / float64(uint(1)<<k)
		// a level-k pixel centre x_k corresponds to base x = 2^k·x_k + (2^k−1)/2
		o := (1 - f) / 2
		m = Affine{m[0] * f, m[1] * f, m[2]*f - o, m[3] * f, m[4] * f, m[5]*f - o}
	}
	sampleBilinear(dst, w, h, lvl, m, n)
}

func sampleBilinear(dst []float32, w, h int, img *image.NRGBA, m Affine, n Norm) {
	if m[1] == 0 && m[3] == 0 {
		sampleAxisAligned(dst, w, h, img, m, n)
		return
	}
	sampleAffine(dst, w, h, img, m, n)
}

// sampleAffine samples through any affine map, working out each output
// pixel's source position and weights as it goes.
func sampleAffine(dst []float32, w, h int, img *image.NRGBA, m Affine, n Norm) {
	iw, ih := img.Rect.Dx(), img.Rect.Dy()
	pix, stride := img.Pix, img.Stride
	fw, fh := float64(iw-1), float64(ih-1)
	ch := 3
	if n.Gray {
		ch = 1
	}
	i := 0
	for v := 0; v < h; v++ {
		x := m[1]*float64(v) + m[2]
		y := m[4]*float64(v) + m[5]
		for u := 0; u < w; u++ {
			fx, fy := x, y
			x += m[0]
			y += m[3]
			var r, g, b float32
			if fx >= 0 && fy >= 0 && fx < fw && fy < fh {
				// interior: all four neighbours exist
				x0, y0 := int(fx), int(fy)
				ax, ay := float32(fx-float64(x0)), float32(fy-float64(y0))
				o := y0*stride + 4*x0
				q := pix[o : o+stride+7 : o+stride+7]
				w00, w10, w01, w11 := (1-ax)*(1-ay), ax*(1-ay), (1-ax)*ay, ax*ay
				r = float32(q[0])*w00 + float32(q[4])*w10 + float32(q[stride])*w01 + float32(q[stride+4])*w11
				g = float32(q[1])*w00 + float32(q[5])*w10 + float32(q[stride+1])*w01 + float32(q[stride+5])*w11
				b = float32(q[2])*w00 + float32(q[6])*w10 + float32(q[stride+2])*w01 + float32(q[stride+6])*w11
			} else {
				r, g, b = sampleEdge(pix, stride, iw, ih, fx, fy)
			}
			n.put(dst[i:], r, g, b)
			i += ch
		}
	}
}

// sampleAxisAligned is sampleAffine for a map without rotation or shear
// (the detector's windows): the source column and weight of each output
// column, and the row of each output row, are worked out once. The
// positions are accumulated exactly as sampleAffine does, so the output is
// bit for bit the same.
func sampleAxisAligned(dst []float32, w, h int, img *image.NRGBA, m Affine, n Norm) {
	iw, ih := img.Rect.Dx(), img.Rect.Dy()
	pix, stride := img.Pix, img.Stride
	fw, fh := float64(iw-1), float64(ih-1)
	type column struct {
		fx     float64
		o      int // byte offset of the left neighbour in a row
		ax     float32
		inside bool
	}
	cols := make([]column, w)
	x := m[1]*0 + m[2]
	for u := range cols {
		fx := x
		x += m[0]
		c := column{fx: fx, inside: fx >= 0 && fx < fw}
		if c.inside {
			x0 := int(fx)
			c.o, c.ax = 4*x0, float32(fx-float64(x0))
		}
		cols[u] = c
	}
	ch := 3
	if n.Gray {
		ch = 1
	}
	i := 0
	for v := 0; v < h; v++ {
		fy := m[4]*float64(v) + m[5]
		rowInside := fy >= 0 && fy < fh
		var row []uint8
		var ay float32
		if rowInside {
			y0 := int(fy)
			ay = float32(fy - float64(y0))
			row = pix[y0*stride:]
		}
		for _, c := range cols {
			var r, g, b float32
			if rowInside && c.inside {
				// the interpolation written out as in sampleAffine: as a
				// function (too large to inline) it cost this path 15%
				ax := c.ax
				q := row[c.o : c.o+stride+7 : c.o+stride+7]
				w00, w10, w01, w11 := (1-ax)*(1-ay), ax*(1-ay), (1-ax)*ay, ax*ay
				r = float32(q[0])*w00 + float32(q[4])*w10 + float32(q[stride])*w01 + float32(q[stride+4])*w11
				g = float32(q[1])*w00 + float32(q[5])*w10 + float32(q[stride+1])*w01 + float32(q[stride+5])*w11
				b = float32(q[2])*w00 + float32(q[6])*w10 + float32(q[stride+2])*w01 + float32(q[stride+6])*w11
			} else {
				r, g, b = sampleEdge(pix, stride, iw, ih, c.fx, fy)
			}
			n.put(dst[i:], r, g, b)
			i += ch
		}
	}
}

// put writes one sample, normalised, at the start of dst.
func (n Norm) put(dst []float32, r, g, b float32) {
	if n.Gray {
		dst[0] = (0.299*r+0.587*g+0.114*b)*n.Scale + n.Offset
		return
	}
	dst[0] = r*n.Scale + n.Offset
	dst[1] = g*n.Scale + n.Offset
	dst[2] = b*n.Scale + n.Offset
}

// sampleEdge interpolates at a position whose neighbourhood crosses the
// image border; pixels outside the image are black.
func sampleEdge(pix []uint8, stride, iw, ih int, fx, fy float64) (r, g, b float32) {
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	if x0 < -1 || y0 < -1 || x0 >= iw || y0 >= ih {
		return 0, 0, 0
	}
	ax, ay := float32(fx-float64(x0)), float32(fy-float64(y0))
	ws := [4]float32{(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay}
	for k, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		px, py := x0+d[0], y0+d[1]
		if px < 0 || py < 0 || px >= iw || py >= ih {
			continue
		}
		o := py*stride + 4*px
		r += float32(pix[o]) * ws[k]
		g += float32(pix[o+1]) * ws[k]
		b += float32(pix[o+2]) * ws[k]
	}
	return r, g, b
}
