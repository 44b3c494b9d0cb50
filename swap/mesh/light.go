package mesh

import (
	"math"
	"sort"

	"faceswap"
)

// Shading as a smooth function of the surface normal: log lightness ≈ a
// second-order spherical-harmonic expansion in the normal (the irradiance
// model of Ramamoorthi & Hanrahan, fitted in the log domain as ratio-image
// relighting does), fitted on a face's skin with the mesh's normals. The
// colour transfer uses it on small faces (see transfer): the source's own
// shading is taken out and the target's put in on the target's surface,
// which keeps the shading cues a small face's shape is read from.

// vertexNormals returns unit normals of the mesh's vertices (area-weighted
// means of their triangles' normals), oriented towards the camera (−z), so
// that a face seen from the front has n ≈ (0, 0, 1) after flipping z.
// They are returned as (x, y, −z): x right, y down, z towards the viewer.
func vertexNormals(m []faceswap.Point3) [][3]float32 {
	acc := make([][3]float64, len(m))
	for _, t := range triangles {
		a, b, c := m[t[0]], m[t[1]], m[t[2]]
		ux, uy, uz := b.X-a.X, b.Y-a.Y, b.Z-a.Z
		vx, vy, vz := c.X-a.X, c.Y-a.Y, c.Z-a.Z
		nx, ny, nz := uy*vz-uz*vy, uz*vx-ux*vz, ux*vy-uy*vx
		// the triangulation is counter-clockwise in the mean face with y
		// down, so a triangle facing the camera has nz < 0
		for _, i := range t {
			acc[i][0] += nx
			acc[i][1] += ny
			acc[i][2] += nz
		}
	}
	out := make([][3]float32, len(m))
	for i, n := range acc {
		l := math.Sqrt(n[0]*n[0] + n[1]*n[1] + n[2]*n[2])
		if l == 0 {
			out[i] = [3]float32{0, 0, 1}
			continue
		}
		out[i] = [3]float32{float32(n[0] / l), float32(n[1] / l), float32(-n[2] / l)}
	}
	return out
}

// shTerms is the number of spherical-harmonic terms of the shading model.
const shTerms = 9

// shBasis evaluates the (unnormalised) real spherical harmonics up to
// order 2 at the unit normal n.
func shBasis(nx, ny, nz float64) [shTerms]float64 {
	return [shTerms]float64{1, nx, ny, nz, nx * ny, nx * nz, ny * nz, nx*nx - ny*ny, 3*nz*nz - 1}
}

// shading is a fitted shading model.
type shading [shTerms]float64

func (s *shading) at(nx, ny, nz float32) float64 {
	b := shBasis(float64(nx), float64(ny), float64(nz))
	var v float64
	for k := range b {
		v += s[k] * b[k]
	}
	return v
}

// fitShading fits u ≈ shading(n) over the pixels with weight w > 0 by
// iteratively reweighted least squares (Cauchy weights on the residual, so
// freckles, stubble, specular spots and leftover hair count little), with
// a ridge on the terms beyond the first order since a face shows only the
// front half of the sphere. n holds three values per pixel.
func fitShading(u *plane, n []float32, w *plane) shading {
	var s shading
	idx := make([]int, 0, len(u.v))
	for i, wi := range w.v {
		if wi > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) < 3*shTerms {
		// too few pixels for a shape: a constant
		var sw, su float64
		for _, i := range idx {
			sw += float64(w.v[i])
			su += float64(w.v[i] * u.v[i])
		}
		if sw > 0 {
			s[0] = su / sw
		}
		return s
	}
	rw := make([]float64, len(idx))
	for i := range rw {
		rw[i] = 1
	}
	res := make([]float64, len(idx))
	for iter := 0; iter < 4; iter++ {
		var ata [shTerms][shTerms]float64
		var atb [shTerms]float64
		var sw float64
		for k, i := range idx {
			b := shBasis(float64(n[3*i]), float64(n[3*i+1]), float64(n[3*i+2]))
			wt := float64(w.v[i]) * rw[k]
			sw += wt
			for p := 0; p < shTerms; p++ {
				atb[p] += wt * b[p] * float64(u.v[i])
				for q := p; q < shTerms; q++ {
					ata[p][q] += wt * b[p] * b[q]
				}
			}
		}
		for p := 0; p < shTerms; p++ {
			for q := 0; q < p; q++ {
				ata[p][q] = ata[q][p]
			}
		}
		for p := 1; p < shTerms; p++ {
			ridge := 0.01
			if p >= 4 {
				ridge = 0.1
			}
			ata[p][p] += ridge * sw
		}
		x, ok := solve(ata, atb)
		if !ok {
			return s
		}
		s = x
		for k, i := range idx {
			res[k] = math.Abs(float64(u.v[i]) - s.at(n[3*i], n[3*i+1], n[3*i+2]))
		}
		scale := 1.4826 * median(res)
		scale = math.Max(scale, 0.01)
		for k := range rw {
			r := res[k] / (2.5 * scale)
			rw[k] = 1 / (1 + r*r)
		}
	}
	return s
}

func median(v []float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}

// solve solves a·x = b by Gaussian elimination with partial pivoting.
func solve(a [shTerms][shTerms]float64, b [shTerms]float64) (shading, bool) {
	for c := 0; c < shTerms; c++ {
		p := c
		for r := c + 1; r < shTerms; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return shading{}, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < shTerms; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < shTerms; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x shading
	for r := shTerms - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < shTerms; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}
