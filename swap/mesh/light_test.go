package mesh

import (
	"math"
	"testing"

	"faceswap"
)

// TestFitShading: known shading over a hemisphere of normals is recovered
// with a fifth of the pixels replaced by outliers (dark hair): within 0.03
// (3% in lightness) where the surface faces the camera within 60°, within
// 0.05 at grazing angles, where the ridge on the higher terms pulls.
func TestFitShading(t *testing.T) {
	want := shading{4.2, 0.3, -0.1, 0.2, 0.05, 0, 0, -0.04, 0.06}
	const n = 60
	u, w := newPlane(n, n), newPlane(n, n)
	nv := make([]float32, 3*n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			i := y*n + x
			nx, ny := 1.8*(float64(x)/n-0.5), 1.8*(float64(y)/n-0.5)
			if nx*nx+ny*ny >= 0.95 {
				continue
			}
			nz := math.Sqrt(1 - nx*nx - ny*ny)
			nv[3*i], nv[3*i+1], nv[3*i+2] = float32(nx), float32(ny), float32(nz)
			u.v[i] = float32(want.at(nv[3*i], nv[3*i+1], nv[3*i+2]))
			if (x*7+y*13)%5 == 0 {
				u.v[i] -= 0.8 // dark hair
			}
			w.v[i] = 1
		}
	}
	got := fitShading(u, nv, w)
	for y := 0; y < n; y += 7 {
		for x := 0; x < n; x += 7 {
			i := y*n + x
			if w.v[i] == 0 {
				continue
			}
			g, e := got.at(nv[3*i], nv[3*i+1], nv[3*i+2]), want.at(nv[3*i], nv[3*i+1], nv[3*i+2])
			tol := 0.05
			if nv[3*i+2] > 0.5 {
				tol = 0.03
			}
			if math.Abs(g-e) > tol {
				t.Fatalf("at normal %v: fitted %.3f, true %.3f (coefficients %v)", nv[3*i:3*i+3], g, e, got)
			}
		}
	}
}

// TestVertexNormals: the mean face, flat, faces the camera; tilted about
// the vertical axis, its normals turn the same way.
func TestVertexNormals(t *testing.T) {
	for _, tilt := range []float64{0, 0.4} {
		var m []faceswap.Point3
		for _, p := range meanFace {
			// z grows away from the viewer; the image-right side farther away, so the surface faces right
			m = append(m, faceswap.Point3{X: float64(p[0]), Y: float64(p[1]), Z: tilt * float64(p[0])})
		}
		var sx, sz float64
		for _, n := range vertexNormals(m) {
			sx += float64(n[0])
			sz += float64(n[2])
		}
		if sz <= 0 {
			t.Fatalf("tilt %v: normals face away from the camera (mean z %v)", tilt, sz)
		}
		if got := sx / sz; math.Abs(got-tilt) > 0.05 {
			t.Errorf("tilt %v: mean normal x/z %.3f, want %.3f", tilt, got, tilt)
		}
	}
}
