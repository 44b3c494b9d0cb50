package raster

import (
	"image"
	"math"

	"faceswap/resample"
)

// Layout is the order of a tensor's values.
type Layout uint8

const (
	// NHWC interleaves each pixel's channels (the TF.js analysis models).
	NHWC Layout = iota
	// NCHW writes one plane per channel (the swapper, ArcFace and the
	// restorers, exported from PyTorch).
	NCHW
)

// Norm maps a channel value v in 0..255 to v·Scale + Offset.
type Norm struct {
	Scale, Offset float32
	Gray          bool // write one luminance channel instead of RGB
}

// Crop is one crop to sample: its size, where its pixels lie in the image,
// how they are interpolated and how the tensor holds them.
type Crop struct {
	W, H int
	// M maps a crop pixel centre (u, v) to an image pixel index (the
	// centre of pixel i is at i), relative to the image's Rect.Min.
	M Affine
	// Kernel interpolates the pyramid level: Bilinear for the analysis
	// models, the request's interpolation for the swapper and restorers.
	// The zero value is Nearest.
	Kernel resample.Kernel
	Norm   Norm
	Layout Layout // ignored for Gray, which has one channel
}

// Len returns the number of values the crop's tensor holds.
func (c Crop) Len() int {
	if c.Norm.Gray {
		return c.W * c.H
	}
	return 3 * c.W * c.H
}

// level returns the pyramid level a crop through m reads: the one whose
// pixels are at most twice as fine as the crop's.
func level(m Affine) int {
	k := 0
	for s := m.Scale(); s >= 2 && k < 16; s /= 2 {
		k++
	}
	return k
}

// Sample fills dst (c.Len() values) with the crop c of the pyramid's image,
// read from the level level(c.M) chooses. Positions outside the image read
// as black. Bilinear samples the level's bytes directly; the other kernels
// convert the whole level to floats first, so for one crop of a large
// image SampleImage, which reduces only the part the crop reads, is the
// cheaper call.
func (p *Pyramid) Sample(dst []float32, c Crop) {
	k := level(c.M)
	lvl := p.Level(k)
	w := c.writer()
	if c.Kernel != resample.Bilinear {
		sampleKernel(dst, lvl, levelMap(c.M, k, kernelPad), c, w)
		return
	}
	m := c.M
	if k > 0 {
		m = levelMap(m, k, 0)
	}
	if m[1] == 0 && m[3] == 0 {
		sampleAxisAligned(dst, c.W, c.H, lvl, m, w)
		return
	}
	sampleAffine(dst, c.W, c.H, lvl, m, w)
}

// SampleImage fills dst with the crop c of img as NewPyramid(img).Sample
// does, but makes the pyramid of only the part of img the crop reads (its
// footprint and the kernel's reach at the crop's level), so one face of a
// large photo costs little: the swapper and the restorers sample this way.
// Positions are worked out relative to that part and its levels start at
// its corner, so the two can differ in the last bits.
func SampleImage(dst []float32, img *image.NRGBA, c Crop) {
	x0, y0, x1, y1 := Footprint(c.M, float64(c.W), float64(c.H))
	k := level(c.M)
	// the kernel's reach at level k, in image pixels: 2 level pixels for
	// Bilinear, kernelPad for the others
	pad := float64(int(2) << k)
	if c.Kernel != resample.Bilinear {
		pad = float64(int(kernelPad) << k)
	}
	r := image.Rect(int(math.Floor(x0-pad)), int(math.Floor(y0-pad)), int(math.Ceil(x1+pad))+1, int(math.Ceil(y1+pad))+1).
		Intersect(image.Rect(0, 0, img.Rect.Dx(), img.Rect.Dy()))
	if r.Empty() {
		// wholly outside: black
		dst = dst[:c.Len()]
		for i := range dst {
			dst[i] = c.Norm.Offset
		}
		return
	}
	m := c.M
	m[2] -= float64(r.Min.X)
	m[5] -= float64(r.Min.Y)
	c.M = m
	NewPyramid(img.SubImage(r.Add(img.Rect.Min)).(*image.NRGBA)).Sample(dst, c)
}

// levelMap turns m (crop pixel → base pixel index) into the map to pixel
// indices of pyramid level k, plus pad: a level-k pixel centre x_k is at
// base x = 2^k·x_k + (2^k−1)/2.
func levelMap(m Affine, k int, pad float64) Affine {
	f := 1 / float64(uint(1)<<k)
	o := (1 - f) / 2
	return Affine{m[0] * f, m[1] * f, m[2]*f - o + pad, m[3] * f, m[4] * f, m[5]*f - o + pad}
}

// writer stores normalised samples in a tensor's layout: the sample of the
// crop's pixel i (row by row) starts at i·step, its channels plane apart.
type writer struct {
	Norm
	step, plane int
}

func (c Crop) writer() writer {
	switch {
	case c.Norm.Gray:
		return writer{Norm: c.Norm, step: 1}
	case c.Layout == NCHW:
		return writer{Norm: c.Norm, step: 1, plane: c.W * c.H}
	}
	return writer{Norm: c.Norm, step: 3, plane: 1}
}

// put writes one sample, normalised, at offset o of dst.
func (w writer) put(dst []float32, o int, r, g, b float32) {
	if w.Gray {
		dst[o] = (0.299*r+0.587*g+0.114*b)*w.Scale + w.Offset
		return
	}
	dst[o] = r*w.Scale + w.Offset
	dst[o+w.plane] = g*w.Scale + w.Offset
	dst[o+2*w.plane] = b*w.Scale + w.Offset
}

// sampleAffine samples bilinearly through any affine map, working out each
// output pixel's source position and weights as it goes.
func sampleAffine(dst []float32, w, h int, img *image.NRGBA, m Affine, out writer) {
	iw, ih := img.Rect.Dx(), img.Rect.Dy()
	pix, stride := img.Pix, img.Stride
	fw, fh := float64(iw-1), float64(ih-1)
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
			out.put(dst, i, r, g, b)
			i += out.step
		}
	}
}

// sampleAxisAligned is sampleAffine for a map without rotation or shear
// (the detector's windows): the source column and weight of each output
// column, and the row of each output row, are worked out once. The
// positions are accumulated exactly as sampleAffine does, so the output is
// bit for bit the same.
func sampleAxisAligned(dst []float32, w, h int, img *image.NRGBA, m Affine, out writer) {
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
			out.put(dst, i, r, g, b)
			i += out.step
		}
	}
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

// kernelPad is how far beyond a crop's footprint the kernels read: the
// widest kernel's reach (Lanczos, 3) plus one.
const kernelPad = 4

// sampleKernel samples lvl with a kernel other than Bilinear through m
// (crop pixel → pixel index of lvl, plus kernelPad): the level is
// surrounded by kernelPad black pixels, so the kernels read black outside
// the image rather than repeating its edge.
func sampleKernel(dst []float32, lvl *image.NRGBA, m Affine, c Crop, out writer) {
	lw, lh := lvl.Rect.Dx(), lvl.Rect.Dy()
	src := resample.New(lw+2*kernelPad, lh+2*kernelPad)
	for y := 0; y < lh; y++ {
		row := lvl.Pix[y*lvl.Stride:]
		o := src.Pix[3*((y+kernelPad)*src.W+kernelPad):]
		for x := 0; x < lw; x++ {
			o[3*x], o[3*x+1], o[3*x+2] = float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
		}
	}
	i := 0
	for v := 0; v < c.H; v++ {
		for u := 0; u < c.W; u++ {
			x, y := m.Apply(float64(u), float64(v))
			r, g, b := src.At(c.Kernel, x, y)
			out.put(dst, i, r, g, b)
			i += out.step
		}
	}
}
