package mesh

import (
	"image"
	"math"
	"sort"

	"faceswap"
	"faceswap/filter"
	"faceswap/resample"
)

// source is the part of the source image around one face, possibly reduced
// so that its scale is between 1 and 2 times the target face's.
type source struct {
	img    *resample.Image
	ox, oy float64 // source-image position of img's pixel (0,0) centre, in index coordinates
	scale  float64 // source-image pixels per img pixel (a power of two)
	ratio  float64 // the ratio reduced made it for (0: the full-scale crop)
	wired  bool    // frames of thin-wire glasses were painted out of it (unwire)
	turned bool    // the face is turned far (turnedFar): no frames are painted out of its warp (paintFrames)
}

// cropSource is the source face's neighbourhood (the mesh bounds plus a
// quarter) at full scale, the frames of thin-wire glasses painted out
// (unwire); reduced makes of it what a target face needs.
func cropSource(src *image.NRGBA, mesh []faceswap.Point3) *source {
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
	s := &source{img: resample.FromNRGBA(cp), ox: float64(r.Min.X), oy: float64(r.Min.Y), scale: 1, turned: turnedFar(mesh)}
	s.unwire(mesh)
	return s
}

// reduced halves a full-scale crop (cropSource) while it is at least twice
// the target face's scale (ratio: source face width over target face
// width), then blurs it by as
// much as the remaining reduction needs so that sampling it does not
// alias. Halving stops before the copy gets smaller than the target face:
// one sampled below the target's scale is enlarged, and a 28-px face of the
// class photo drawn from a copy at 0.79× its scale (halving while the ratio
// was above 1.5) came out blurred enough for the FaceRes identity check to
// find it closer to the target's own face (margin −0.06) and for its
// re-detected mesh to move 4.9% of the interocular distance; from a copy
// at 1.58×, other things equal, +0.05 and 3.2%. It returns s itself when
// there is nothing to reduce or s was made for this ratio, else a new
// source (s is not changed), so one crop serves several target scales.
func (s *source) reduced(ratio float64) *source {
	if ratio <= 1 || s.ratio == ratio {
		return s
	}
	out := &source{img: s.img, ox: s.ox, oy: s.oy, scale: s.scale, ratio: ratio, wired: s.wired, turned: s.turned}
	for ratio >= 2 && out.img.W > 8 && out.img.H > 8 {
		out.img = reduceBy(out.img, 2)
		// a halved pixel centre j sits at 2j + 0.5 of the level above
		out.ox += 0.5 * out.scale
		out.oy += 0.5 * out.scale
		out.scale *= 2
		ratio /= 2
	}
	if ratio > 1 {
		if out.img == s.img {
			out.img = &resample.Image{W: s.img.W, H: s.img.H, Pix: append([]float32(nil), s.img.Pix...)}
		}
		rgb(out.img).Gaussian(0.4*math.Sqrt(ratio*ratio-1), filter.Clamp)
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

// stretchWeights decides, from how much each triangle is stretched going
// from the source onto the target, where the mirror twin's texture is used
// and how far the warped texture can be trusted. A triangle's quality is
// its area in the source against its area in the target, divided by the
// median of that ratio over the triangles both show (so scale cancels): 1
// where the source shows it as the target does, small where the source
// squeezes what the target shows wide. Where the direct quality is low
// and the twin's at least twice as good, the twin's texture is used (a
// source turned away from the target fills its hidden half from the
// visible one): fully at a quality of 0.2, not at all from 0.5. Weights
// are averaged per vertex, so the change is a smooth gradient rather than
// jagged patches. A side that the source and the target turn away alike
// is not stretched and keeps its own texture and shading, so a face
// swapped onto itself comes back unchanged. The confidence of a triangle
// is the quality of the texture it gets, full from 0.4: stretching a
// sliver more than that smears (the forehead of a source looking steeply
// down), so there the target stays. Triangles the target turns away are
// not drawn and have no say.
func stretchWeights(src, tgt []faceswap.Point3) (mirror []float32, conf []float64) {
	direct := make([]float64, len(triangles))
	mir := make([]float64, len(triangles))
	drawn := make([]bool, len(triangles))
	var ratios []float64
	for i, t := range triangles {
		a, b, c := int(t[0]), int(t[1]), int(t[2])
		ct := -cross(tgt, a, b, c)
		if ct <= 0 {
			continue
		}
		drawn[i] = true
		cs := -cross(src, a, b, c)
		direct[i] = cs / ct
		mir[i] = cross(src, int(twin[a]), int(twin[b]), int(twin[c])) / ct
		if cs > 0 {
			ratios = append(ratios, cs/ct)
		}
	}
	norm := 1.0
	if len(ratios) > 0 {
		sort.Float64s(ratios)
		norm = 1 / math.Max(ratios[len(ratios)/2], 1e-12)
	}
	sum := make([]float64, len(src))
	n := make([]float64, len(src))
	conf = make([]float64, len(triangles))
	for i, t := range triangles {
		if !drawn[i] {
			continue
		}
		d, m := direct[i]*norm, mir[i]*norm
		w := 0.0
		if m > 0 && m >= 2*d {
			x := math.Max(0, math.Min(1, (d-0.2)/0.3))
			w = 1 - x*x*(3-2*x)
		}
		for _, v := range t {
			sum[v] += w
			n[v]++
		}
		conf[i] = math.Min(1, math.Max(0, math.Max(d, m))/0.4)
	}
	mirror = make([]float32, len(src))
	for v := range mirror {
		if n[v] > 0 {
			mirror[v] = float32(sum[v] / n[v])
		}
	}
	return mirror, conf
}

func cross(p []faceswap.Point3, a, b, c int) float64 {
	return (p[b].X-p[a].X)*(p[c].Y-p[a].Y) - (p[b].Y-p[a].Y)*(p[c].X-p[a].X)
}

// warped is what warp draws.
type warped struct {
	img               *resample.Image
	cover, confidence *plane
	// with normals: the surface normal (x, y, z towards the viewer) under
	// each drawn pixel on the target's mesh, and on the source's where its
	// texture came from; three values a pixel
	tn, sn []float32
}

// warp renders the source face onto the target mesh inside the region r of
// the target image: every target triangle facing the camera is filled with
// the source texture of the same triangle, mixed with the mirror triangle's
// texture where the source squeezes what the target shows (stretchWeights).
// A z-buffer keeps the nearest surface where the target folds over itself.
// It returns the warped colours, the coverage (1 where a triangle was
// drawn), the confidence of each drawn pixel (stretchWeights) and, if
// normals is set, the normals under each pixel.
func warp(r image.Rectangle, tgt, srcMesh []faceswap.Point3, s *source, k resample.Kernel, normals bool) warped {
	w, h := r.Dx(), r.Dy()
	out := resample.New(w, h)
	cover, confidence := newPlane(w, h), newPlane(w, h)
	var tn, sn []float32
	var tvn, svn [][3]float32
	if normals {
		tn, sn = make([]float32, 3*w*h), make([]float32, 3*w*h)
		tvn, svn = vertexNormals(tgt), vertexNormals(srcMesh)
	}
	zbuf := make([]float32, w*h)
	for i := range zbuf {
		zbuf[i] = float32(math.Inf(1))
	}
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	mw, tconf := stretchWeights(srcMesh, tgt)
	// source vertices in the source crop's index coordinates
	toS := func(p faceswap.Point3) (float64, float64) {
		return (p.X - 0.5 - s.ox) / s.scale, (p.Y - 0.5 - s.oy) / s.scale
	}
	for ti, t := range triangles {
		a, b, c := int(t[0]), int(t[1]), int(t[2])
		ct := cross(tgt, a, b, c)
		if ct > -1e-6 { // the target turns this triangle away (or it is degenerate)
			continue
		}
		ta, tb, tc := int(twin[a]), int(twin[b]), int(twin[c])
		wa, wb, wc := mw[a], mw[b], mw[c]
		conf := float32(tconf[ti])
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
		sx0, sy0 := toS(srcMesh[a])
		sx1, sy1 := toS(srcMesh[b])
		sx2, sy2 := toS(srcMesh[c])
		mx0, my0 := toS(srcMesh[ta])
		mx1, my1 := toS(srcMesh[tb])
		mx2, my2 := toS(srcMesh[tc])
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
				m := float32(l0)*wa + float32(l1)*wb + float32(l2)*wc
				var cr, cg, cb float32
				if m < 1 {
					cr, cg, cb = s.img.At(k, l0*sx0+l1*sx1+l2*sx2, l0*sy0+l1*sy1+l2*sy2)
				}
				if m > 0 {
					mr, mg, mb := s.img.At(k, l0*mx0+l1*mx1+l2*mx2, l0*my0+l1*my1+l2*my2)
					cr, cg, cb = cr*(1-m)+mr*m, cg*(1-m)+mg*m, cb*(1-m)+mb*m
				}
				out.Pix[3*o], out.Pix[3*o+1], out.Pix[3*o+2] = cr, cg, cb
				cover.v[o] = 1
				confidence.v[o] = conf
				if normals {
					f0, f1, f2 := float32(l0), float32(l1), float32(l2)
					for d := 0; d < 3; d++ {
						tn[3*o+d] = f0*tvn[a][d] + f1*tvn[b][d] + f2*tvn[c][d]
						// texture from the twin was lit as the twin's surface faces
						direct := f0*svn[a][d] + f1*svn[b][d] + f2*svn[c][d]
						twinN := f0*svn[ta][d] + f1*svn[tb][d] + f2*svn[tc][d]
						sn[3*o+d] = direct*(1-m) + twinN*m
					}
				}
			}
		}
	}
	return warped{img: out, cover: cover, confidence: confidence, tn: tn, sn: sn}
}
