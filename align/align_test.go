package align

import (
	"math"
	"math/rand/v2"
	"testing"

	"faceswap"
	"faceswap/raster"
)

// similarity builds the transform of scale s, angle th and translation.
func similarity(s, th, tx, ty float64) raster.Affine {
	c, n := s*math.Cos(th), s*math.Sin(th)
	return raster.Affine{c, -n, tx, n, c, ty}
}

func apply(m raster.Affine, pts []faceswap.Point) []faceswap.Point {
	out := make([]faceswap.Point, len(pts))
	for i, p := range pts {
		out[i] = m.ApplyPoint(p)
	}
	return out
}

func cost(m raster.Affine, from, to []faceswap.Point) float64 {
	var c float64
	for i, p := range apply(m, from) {
		c += (p.X-to[i].X)*(p.X-to[i].X) + (p.Y-to[i].Y)*(p.Y-to[i].Y)
	}
	return c
}

// Noiseless points give back the transform that made them.
func TestSimilarityExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 200; k++ {
		want := similarity(0.05+5*r.Float64(), (r.Float64()-0.5)*2*math.Pi, 2000*(r.Float64()-0.5), 2000*(r.Float64()-0.5))
		from := ArcFace112[:]
		if k%2 == 1 {
			from = make([]faceswap.Point, 2+r.IntN(20))
			for i := range from {
				from[i] = faceswap.Point{X: 500 * r.Float64(), Y: 500 * r.Float64()}
			}
		}
		got, err := Similarity(from, apply(want, from))
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-9*math.Max(1, math.Abs(want[i])) {
				t.Fatalf("case %d: got %v, want %v", k, got, want)
			}
		}
	}
}

// Noisy points give a transform near the true one, at which the
// least-squares cost is minimal: no small change of scale, angle or
// translation lowers it.
func TestSimilarityNoisy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 50; k++ {
		s, th, tx, ty := 0.5+3*r.Float64(), (r.Float64()-0.5)*math.Pi, 300*r.Float64(), 300*r.Float64()
		want := similarity(s, th, tx, ty)
		to := apply(want, ArcFace112[:])
		for i := range to {
			to[i].X += r.NormFloat64() * 0.5
			to[i].Y += r.NormFloat64() * 0.5
		}
		got, err := Similarity(ArcFace112[:], to)
		if err != nil {
			t.Fatal(err)
		}
		gs := math.Hypot(got[0], got[3])
		gth := math.Atan2(got[3], got[0])
		if math.Abs(gs/s-1) > 0.05 || math.Abs(gth-th) > 0.05 {
			t.Errorf("case %d: scale %.4f angle %.4f, want %.4f %.4f", k, gs, gth, s, th)
		}
		// the template's centre lands within a pixel of where it should
		c := faceswap.Point{X: 56, Y: 72}
		if p, q := got.ApplyPoint(c), want.ApplyPoint(c); math.Hypot(p.X-q.X, p.Y-q.Y) > 1 {
			t.Errorf("case %d: centre maps to %v, want %v", k, p, q)
		}
		best := cost(got, ArcFace112[:], to)
		for _, d := range []struct{ ds, dth, dx, dy float64 }{
			{1e-4, 0, 0, 0}, {-1e-4, 0, 0, 0}, {0, 1e-4, 0, 0}, {0, -1e-4, 0, 0},
			{0, 0, 1e-3, 0}, {0, 0, -1e-3, 0}, {0, 0, 0, 1e-3}, {0, 0, 0, -1e-3},
		} {
			m := similarity(gs*(1+d.ds), gth+d.dth, got[2]+d.dx, got[5]+d.dy)
			if c := cost(m, ArcFace112[:], to); c < best-1e-9 {
				t.Errorf("case %d: a nearby transform %+v has a lower cost %g < %g", k, d, c, best)
			}
		}
	}
}

// A mirrored point set still gets a proper rotation (positive
// determinant): a similarity never reflects.
func TestSimilarityNoReflection(t *testing.T) {
	from := ArcFace112[:]
	to := make([]faceswap.Point, len(from))
	for i, p := range from {
		to[i] = faceswap.Point{X: -p.X, Y: p.Y}
	}
	m, err := Similarity(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if det := m[0]*m[4] - m[1]*m[3]; det < 0 {
		t.Errorf("determinant %g < 0: %v", det, m)
	}
}

func TestSimilarityErrors(t *testing.T) {
	p := faceswap.Point{X: 3, Y: 4}
	nan := faceswap.Point{X: math.NaN()}
	for name, c := range map[string][2][]faceswap.Point{
		"lengths":   {{p, p}, {p}},
		"one point": {{p}, {p}},
		"same":      {{p, p, p}, {{}, {X: 1}, {Y: 1}}},
		"nan":       {{p, nan}, {p, p}},
		"nan to":    {{p, {}}, {p, nan}},
	} {
		if _, err := Similarity(c[0], c[1]); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTemplates(t *testing.T) {
	for i := range ArcFace112 {
		if Inswapper128[i].X != ArcFace112[i].X+8 || Inswapper128[i].Y != ArcFace112[i].Y {
			t.Errorf("Inswapper128[%d] = %v", i, Inswapper128[i])
		}
	}
	// Left is left in the image: eyes and mouth corners ordered in x,
	// eyes above the nose above the mouth.
	for _, tp := range [][5]faceswap.Point{ArcFace112, Inswapper128, FFHQ512} {
		if !(tp[0].X < tp[1].X && tp[3].X < tp[4].X && tp[0].Y < tp[2].Y && tp[2].Y < tp[3].Y) {
			t.Errorf("template order %v", tp)
		}
	}
}

// Crop maps template points onto the keypoints, converting faceswap's
// pixel-edge convention to pixel indices.
func TestCrop(t *testing.T) {
	m := similarity(2.5, 0.3, 100, 40)
	var kps [5]faceswap.Point
	for i, p := range Inswapper128 {
		q := m.ApplyPoint(p)
		kps[i] = faceswap.Point{X: q.X + 0.5, Y: q.Y + 0.5}
	}
	got, err := Crop(kps, Inswapper128)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		if math.Abs(got[i]-m[i]) > 1e-9 {
			t.Fatalf("Crop = %v, want %v", got, m)
		}
	}
	// and its inverse takes the keypoints back to the template
	inv := got.Invert()
	for i, k := range kps {
		x, y := inv.Apply(k.X-0.5, k.Y-0.5)
		if math.Hypot(x-Inswapper128[i].X, y-Inswapper128[i].Y) > 1e-9 {
			t.Errorf("keypoint %d maps to (%g, %g), want %v", i, x, y, Inswapper128[i])
		}
	}
}
