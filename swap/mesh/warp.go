package mesh

import (
	"image"
	"math"

	"faceswap"
	"faceswap/resample"
)

// source is the part of the source image around one face, possibly reduced
// so that it is at most about 1.5× the target face's scale (sampling a much
// larger face with a small kernel would alias).
type source struct {
	img    *resample.Image
	ox, oy float64 // source-image position of img's pixel (0,0) centre, in index coordinates
	scale  float64 // source-image pixels per img pixel (a power of two)
}

// cutSource takes the source face's neighbourhood (the mesh bounds plus a
// quarter) and reduces it by halving while its scale exceeds 1.5× the
// target's.
func cutSource(src *image.NRGBA, mesh []faceswap.Point3, ratio float64) *source {
	x0, y0, x1, y1 := bounds(mesh)
	m := 0.25 * max(x1-x0, y1-y0)
	r := image.Rect(int(x0-m), int(y0-m), int(x1+m)+1, int(y1+m)+1).Intersect(src.Rect)
	if r.Empty() {
		r = image.Rect(0, 0, 1, 1).Intersect(src.Rect)
	}
	sub := src.SubImage(r).(*image.NRGBA)
	cp := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		copy(cp.Pix[y*cp.Stride:y*cp.Stride+4*r.Dx()], sub.Pix[y*sub.Stride:])
	}
	s := &source{img: resample.FromNRGBA(cp), ox: float64(r.Min.X), oy: float64(r.Min.Y), scale: 1}
	for ratio > 1.5 && s.img.W > 8 && s.img.H > 8 {
		s.img = halve(s.img)
		// a halved pixel centre j sits at 2j + 0.5 of the level above
		s.ox += 0.5 * s.scale
		s.oy += 0.5 * s.scale
		s.scale *= 2
		ratio /= 2
	}
	return s
}

func halve(im *resample.Image) *resample.Image {
	w, h := im.W/2, im.H/2
	out := resample.New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				a := im.Pix[3*((2*y)*im.W+2*x)+c] + im.Pix[3*((2*y)*im.W+2*x+1)+c]
				b := im.Pix[3*((2*y+1)*im.W+2*x)+c] + im.Pix[3*((2*y+1)*im.W+2*x+1)+c]
				out.Pix[3*(y*w+x)+c] = (a + b) / 4
			}
		}
	}
	return out
}

func bounds(mesh []faceswap.Point3) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range mesh {
		x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
		x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
	}
	return
}

// warp renders the source face onto the target mesh inside the region r of
// the target image: every target triangle facing the camera is filled with
// the source texture of the same triangle, or, where the source turns that
// triangle away (its area under 35% of its mirror twin's), with the mirror
// triangle's texture from the visible half. A z-buffer keeps the nearest
// surface where the target folds over itself. It returns the warped colours
// and the coverage (1 where a triangle was drawn).
func warp(r image.Rectangle, tgt, srcMesh []faceswap.Point3, s *source, k resample.Kernel) (*resample.Image, *plane) {
	w, h := r.Dx(), r.Dy()
	out := resample.New(w, h)
	cover := newPlane(w, h)
	zbuf := make([]float32, w*h)
	for i := range zbuf {
		zbuf[i] = float32(math.Inf(1))
	}
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	cross := func(p []faceswap.Point3, a, b, c int) float64 {
		return (p[b].X-p[a].X)*(p[c].Y-p[a].Y) - (p[b].Y-p[a].Y)*(p[c].X-p[a].X)
	}
	for _, t := range triangles {
		a, b, c := int(t[0]), int(t[1]), int(t[2])
		ct := cross(tgt, a, b, c)
		if ct > -1e-6 { // the target turns this triangle away (or it is degenerate)
			continue
		}
		sa, sb, sc := a, b, c
		if cs, cm := -cross(srcMesh, a, b, c), cross(srcMesh, int(twin[a]), int(twin[b]), int(twin[c])); cs < 0.35*cm {
			sa, sb, sc = int(twin[a]), int(twin[b]), int(twin[c])
		}
		// target triangle in region coordinates (continuous: centres at i+0.5)
		x0, y0 := tgt[a].X-ox, tgt[a].Y-oy
		x1, y1 := tgt[b].X-ox, tgt[b].Y-oy
		x2, y2 := tgt[c].X-ox, tgt[c].Y-oy
		z := float32((tgt[a].Z + tgt[b].Z + tgt[c].Z) / 3)
		minX := max(0, int(math.Floor(min(x0, x1, x2))))
		maxX := min(w-1, int(math.Ceil(max(x0, x1, x2))))
		minY := max(0, int(math.Floor(min(y0, y1, y2))))
		maxY := min(h-1, int(math.Ceil(max(y0, y1, y2))))
		if minX > maxX || minY > maxY {
			continue
		}
		den := (y1-y2)*(x0-x2) + (x2-x1)*(y0-y2)
		// source vertices in the source crop's index coordinates
		toS := func(p faceswap.Point3) (float64, float64) {
			return (p.X - 0.5 - s.ox) / s.scale, (p.Y - 0.5 - s.oy) / s.scale
		}
		sx0, sy0 := toS(srcMesh[sa])
		sx1, sy1 := toS(srcMesh[sb])
		sx2, sy2 := toS(srcMesh[sc])
		const eps = -1e-4
		for y := minY; y <= maxY; y++ {
			py := float64(y) + 0.5
			for x := minX; x <= maxX; x++ {
				px := float64(x) + 0.5
				l0 := ((y1-y2)*(px-x2) + (x2-x1)*(py-y2)) / den
				l1 := ((y2-y0)*(px-x2) + (x0-x2)*(py-y2)) / den
				l2 := 1 - l0 - l1
				if l0 < eps || l1 < eps || l2 < eps {
					continue
				}
				o := y*w + x
				if z >= zbuf[o] {
					continue
				}
				zbuf[o] = z
				cr, cg, cb := s.img.At(k, l0*sx0+l1*sx1+l2*sx2, l0*sy0+l1*sy1+l2*sy2)
				out.Pix[3*o], out.Pix[3*o+1], out.Pix[3*o+2] = cr, cg, cb
				cover.v[o] = 1
			}
		}
	}
	return out, cover
}
