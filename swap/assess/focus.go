package assess

import (
	"cmp"
	"image"
	"math"
	"slices"

	"faceswap"
)

// featurePoints bound the part of a face whose edges show its focus: the
// brows, the eyes' outer corners, the nose and the lower lip (mesh
// points).
var featurePoints = []int{70, 105, 107, 336, 334, 300, 33, 263, 1, 2, 61, 291, 17}

// Edge-width measurement.
const (
	// minGradient is the smallest Sobel gradient (grey levels per pixel)
	// taken for an edge, and minRise the smallest rise across one: below
	// them is noise and skin grain.
	minGradient = 2.0
	minRise     = 12.0
	// steepest is the share of the edges, steepest first, whose widths
	// are taken: the sharpest a face has, whatever else it holds (soft
	// shading, smooth skin).
	steepest = 0.2
	// minEdges is how many edges a face needs for a width.
	minEdges = 8
	// sampled is about how many rows and columns of a face's features
	// are read.
	sampled = 64
)

// EdgeWidth measures how sharp a face is in img: the median width in
// pixels, from 10% to 90% of the rise and measured square to the edge,
// of the steepest fifth of the edges between its brows and lower lip
// (brows, eyelids, lashes, nostrils, lips). A sharp photo reads 1.3–2.2
// whatever the face's size (the shared test photos: Apollo's 48-px
// faces 1.4–1.6, a 477-px face 1.5), a soft one 3–6, a face out of
// focus 12 (the background woman of the phones photo); a Gaussian blur
// of σ pixels makes a sharp photo's edges about 2.7σ wide, and a soft
// one's about as wide as the two widths' squares added. It reads 0 when
// it cannot tell: no image, no full mesh, a feature box under 8 pixels
// or too few edges.
//
// Each edge is a pixel where the luminance changes fastest along the
// row or column nearer its gradient's direction; its rise is followed
// both ways while it keeps rising, and the width between the 10% and 90%
// levels found by linear interpolation, times the cosine of the angle
// between that axis and the gradient. A large face is read on every
// few rows and columns only (about 64 of each), at full resolution: a
// 230-px face takes about 1 ms, a 780-px one at most 3.
func EdgeWidth(img *image.NRGBA, f faceswap.Face) float64 {
	if img == nil || len(f.Mesh) != faceswap.MeshPoints {
		return 0
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, i := range featurePoints {
		p := f.Mesh[i]
		x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
		x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
	}
	r := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1))+1, int(math.Ceil(y1))+1).Intersect(img.Rect)
	w, h := r.Dx(), r.Dy()
	if w < 8 || h < 8 {
		return 0
	}
	lum := make([]float32, w*h)
	for y := range h {
		row := img.Pix[img.PixOffset(r.Min.X, r.Min.Y+y):]
		for x := range w {
			p := row[4*x : 4*x+3 : 4*x+3]
			lum[y*w+x] = 0.299*float32(p[0]) + 0.587*float32(p[1]) + 0.114*float32(p[2])
		}
	}
	l := luma{lum, w, h}
	reach := max(6, w/6)
	// a large face is read on every stride-th row (edges across the
	// rows) and column (edges across the columns): a few thousand edges
	// are plenty for a median
	stride := max(1, w/sampled)
	type edge struct{ g, width float32 }
	var edges []edge
	prof := make([]float32, 0, 2*reach+1)
	for y := 1; y < h-1; y++ {
		rowSampled := y%stride == 0
		for x := 1; x < w-1; x++ {
			colSampled := x%stride == 0
			if !rowSampled && !colSampled {
				continue
			}
			o := y*w + x
			a, b, c := lum[o-w-1], lum[o-w], lum[o-w+1]
			d, f := lum[o-1], lum[o+1]
			g, hh, i := lum[o+w-1], lum[o+w], lum[o+w+1]
			gx := (c + 2*f + i - a - 2*d - g) / 8
			gy := (g + 2*hh + i - a - 2*b - c) / 8
			if gx*gx+gy*gy < minGradient*minGradient {
				continue
			}
			step, along := 1, gx // along the row
			if abs(gy) > abs(gx) {
				step, along = w, gy
			}
			if (step == 1 && !rowSampled) || (step == w && !colSampled) {
				continue
			}
			// the edge's centre: the steepest step along the axis
			if !l.steepest(x, y, step) {
				continue
			}
			if along < 0 { // walk so that the profile rises
				step = -step
			}
			lo, hi := 0, 0
			for lo > -reach && l.in(x, y, lo-1, step) && lum[o+(lo-1)*step] < lum[o+lo*step] {
				lo--
			}
			for hi < reach && l.in(x, y, hi+1, step) && lum[o+(hi+1)*step] > lum[o+hi*step] {
				hi++
			}
			prof = prof[:0]
			for k := lo; k <= hi; k++ {
				prof = append(prof, lum[o+k*step])
			}
			base, rise := prof[0], prof[len(prof)-1]-prof[0]
			if rise < minRise {
				continue
			}
			gm := float32(math.Sqrt(float64(gx*gx + gy*gy)))
			width := level(prof, base+0.9*rise) - level(prof, base+0.1*rise)
			edges = append(edges, edge{gm, width * abs(along) / gm})
		}
	}
	if len(edges) < minEdges {
		return 0
	}
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Compare(b.g, a.g) })
	top := edges[:max(minEdges, int(steepest*float64(len(edges))))]
	ws := make([]float64, len(top))
	for i, e := range top {
		ws[i] = float64(e.width)
	}
	slices.Sort(ws)
	return ws[len(ws)/2]
}

// luma is a luminance plane.
type luma struct {
	v    []float32
	w, h int
}

// in reports whether the pixel k steps of step (1 or -1 along the row,
// w or -w down the column) from x, y is in the plane.
func (l luma) in(x, y, k, step int) bool {
	switch step {
	case 1, -1:
		x += k * step
		return x >= 0 && x < l.w
	default:
		y += k * step / l.w
		return y >= 0 && y < l.h
	}
}

// steepest reports whether the central difference at x, y along step
// (1 or w) is at least that of the pixel before and more than that of
// the one after.
func (l luma) steepest(x, y, step int) bool {
	o := y*l.w + x
	diff := func(k int) float32 {
		if !l.in(x, y, k-1, step) || !l.in(x, y, k+1, step) {
			return 0
		}
		return abs(l.v[o+(k+1)*step] - l.v[o+(k-1)*step])
	}
	c := diff(0)
	return diff(-1) <= c && diff(1) < c
}

// level returns where, in samples and fractions of one, the rising
// profile p first reaches v.
func level(p []float32, v float32) float32 {
	for i := 1; i < len(p); i++ {
		if p[i] >= v {
			return float32(i-1) + (v-p[i-1])/(p[i]-p[i-1])
		}
	}
	return float32(len(p) - 1)
}

func abs(v float32) float32 { return float32(math.Abs(float64(v))) }
