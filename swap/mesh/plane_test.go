package mesh

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// erodeByWindows is the direct form of plane.erode: the minimum over each
// window, zero where the window leaves the plane.
func erodeByWindows(p *plane, r int) *plane {
	out := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			m := float32(1)
			for yy := y - r; yy <= y+r; yy++ {
				for xx := x - r; xx <= x+r; xx++ {
					if xx < 0 || yy < 0 || xx >= p.w || yy >= p.h {
						m = 0
					} else {
						m = min(m, p.v[yy*p.w+xx])
					}
				}
			}
			if m >= 0.5 {
				out.v[y*p.w+x] = 1
			}
		}
	}
	return out
}

func TestErodeMatchesDirectForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ w, h, r int }{{40, 30, 1}, {60, 50, 3}, {20, 70, 4}, {7, 7, 3}, {5, 5, 3}} {
		p := newPlane(c.w, c.h)
		// blobs, so that something survives erosion, with a few holes
		for k := 0; k < 4; k++ {
			cx, cy, rad := rng.Float64()*float64(c.w), rng.Float64()*float64(c.h), 4+rng.Float64()*20
			for y := 0; y < c.h; y++ {
				for x := 0; x < c.w; x++ {
					if math.Hypot(float64(x)-cx, float64(y)-cy) < rad {
						p.v[y*c.w+x] = 0.5 + 0.5*rng.Float32()
						if rng.IntN(60) == 0 {
							p.v[y*c.w+x] = 0.49
						}
					}
				}
			}
		}
		want := erodeByWindows(p, c.r)
		p.erode(c.r)
		kept := 0
		for i := range p.v {
			if p.v[i] != want.v[i] {
				t.Fatalf("%d×%d r=%d: pixel %d is %g, the direct form gives %g", c.w, c.h, c.r, i, p.v[i], want.v[i])
			}
			kept += int(p.v[i])
		}
		t.Logf("%d×%d r=%d: %d pixels kept", c.w, c.h, c.r, kept)
	}
}

func TestNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 1; n < 200; n++ {
		a := make([]float64, n)
		for i := range a {
			a[i] = float64(rng.IntN(n/3 + 1)) // with repeats
		}
		sorted := slices.Clone(a)
		slices.Sort(sorted)
		for _, k := range []int{0, n / 2, n - 1, rng.IntN(n)} {
			if got := nth(slices.Clone(a), k); got != sorted[k] {
				t.Fatalf("n=%d k=%d: %g, sorted gives %g", n, k, got, sorted[k])
			}
		}
	}
}

// TestThinLines: a 2-px dark line and a 1-px light one on a flat ground
// are found; a 12-px dark bar (a brow, a nostril) and the ground are not.
func TestThinLines(t *testing.T) {
	p := newPlane(40, 40)
	for i := range p.v {
		p.v[i] = 60
	}
	for y := 0; y < 40; y++ {
		p.v[y*40+5], p.v[y*40+6] = 40, 40 // thin dark
		p.v[y*40+12] = 80                 // thin light
		for x := 20; x < 32; x++ {
			p.v[y*40+x] = 30 // wide dark
		}
	}
	m := p.thinLines(2, 8)
	for _, c := range []struct {
		x    int
		want float32
	}{{5, 1}, {6, 1}, {12, 1}, {2, 0}, {9, 0}, {16, 0}, {25, 0}, {36, 0}} {
		if got := m.v[20*40+c.x]; got != c.want {
			t.Errorf("x=%d: marked %v, want %v", c.x, got, c.want)
		}
	}
	if d := p.maxOver(1); d.v[20*40+4] != 60 || d.v[20*40+11] != 80 || d.v[20*40+19] != 60 {
		t.Errorf("maxOver(1): %v %v %v", d.v[20*40+4], d.v[20*40+11], d.v[20*40+19])
	}
}
