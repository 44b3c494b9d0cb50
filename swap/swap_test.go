package swap

import (
	"image"
	"testing"

	"faceswap/swap/assess"
)

func filled(r image.Rectangle, a uint8) Region {
	al := make([]uint8, r.Dx()*r.Dy())
	for i := range al {
		al[i] = a
	}
	return Region{Bounds: r, Alpha: al}
}

// TestUnion: the union covers every region, takes the largest alpha at each
// pixel, leaves 0 where none reaches, returns a lone region as it is and
// ignores empty ones.
func TestUnion(t *testing.T) {
	a := filled(image.Rect(0, 0, 10, 10), 100)
	b := filled(image.Rect(5, 5, 15, 15), 1) // a moved, not painted, ring
	u := Union(a, Region{}, b)
	if u.Bounds != image.Rect(0, 0, 15, 15) || len(u.Alpha) != 15*15 {
		t.Fatalf("bounds %v, %d alphas", u.Bounds, len(u.Alpha))
	}
	at := func(x, y int) uint8 { return u.Alpha[y*15+x] }
	for _, c := range []struct {
		x, y int
		want uint8
	}{{0, 0, 100}, {7, 7, 100}, {12, 12, 1}, {12, 2, 0}, {2, 12, 0}} {
		if got := at(c.x, c.y); got != c.want {
			t.Errorf("alpha at (%d,%d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
	if one := Union(Region{}, b); one.Bounds != b.Bounds || &one.Alpha[0] != &b.Alpha[0] {
		t.Errorf("a lone region came back as %v", one.Bounds)
	}
	if none := Union(Region{}, Region{}); !none.Bounds.Empty() || none.Alpha != nil {
		t.Errorf("union of empty regions: %v", none.Bounds)
	}
}

// TestUnionKeepsFindings: what an engine saw while swapping survives the
// union of a pair's regions (the mesh engine's reshape and swap), whether
// two regions are merged, one is alone or all are empty.
func TestUnionKeepsFindings(t *testing.T) {
	f := assess.Finding{Reason: assess.Occlusion, X: 2, Detail: "glasses"}
	a := filled(image.Rect(0, 0, 10, 10), 100)
	b := filled(image.Rect(5, 5, 15, 15), 1)
	b.Findings = []assess.Finding{f}
	for _, c := range []struct {
		name string
		u    Region
	}{
		{"merged", Union(a, b)},
		{"alone", Union(Region{}, b)},
		{"empty", Union(Region{}, Region{Findings: b.Findings})},
	} {
		if len(c.u.Findings) != 1 || c.u.Findings[0] != f {
			t.Errorf("%s: findings %+v, want %+v", c.name, c.u.Findings, f)
		}
	}
	if u := Union(a, Region{}); u.Findings != nil {
		t.Errorf("findings %+v from regions with none", u.Findings)
	}
}
