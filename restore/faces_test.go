package restore

import (
	"image"
	"testing"

	"faceswap"
	"faceswap/swap"
)

func face(x, y, w float64) faceswap.Face {
	f := faceswap.Face{Box: faceswap.Rect{X: x, Y: y, W: w, H: w}}
	for i := range f.Keypoints {
		f.Keypoints[i] = faceswap.Point{X: x + w/2, Y: y + float64(i)}
	}
	return f
}

func region(r image.Rectangle, a uint8) swap.Region {
	al := make([]uint8, r.Dx()*r.Dy())
	for i := range al {
		al[i] = a
	}
	return swap.Region{Bounds: r, Alpha: al}
}

func TestSwapped(t *testing.T) {
	a, b := face(0, 0, 10), face(50, 0, 10)
	ra1 := region(image.Rect(0, 0, 10, 10), 100)
	rb := region(image.Rect(50, 0, 60, 10), 255)
	ra2 := region(image.Rect(5, 5, 15, 15), 200)
	faces, rs := Swapped([]faceswap.Face{a, b, a}, []swap.Region{ra1, rb, ra2})
	if len(faces) != 2 || faces[0].Box != a.Box || faces[1].Box != b.Box || len(rs) != 2 {
		t.Fatalf("faces %v, %d regions", faces, len(rs))
	}
	u := rs[0]
	if u.Bounds != image.Rect(0, 0, 15, 15) {
		t.Fatalf("union bounds %v", u.Bounds)
	}
	at := func(x, y int) uint8 { return u.Alpha[y*15+x] }
	if at(0, 0) != 100 || at(7, 7) != 200 || at(12, 12) != 200 || at(12, 2) != 0 || at(2, 12) != 0 {
		t.Errorf("union alphas %d %d %d %d %d", at(0, 0), at(7, 7), at(12, 12), at(12, 2), at(2, 12))
	}
	if rs[1].Bounds != rb.Bounds || string(rs[1].Alpha) != string(rb.Alpha) {
		t.Errorf("single region changed: %v", rs[1].Bounds)
	}
}

func TestRealign(t *testing.T) {
	a, b, c := face(0, 0, 100), face(200, 0, 100), face(400, 0, 100)
	da := face(5, 5, 100) // IoU 0.82 with a
	da.Keypoints[0] = faceswap.Point{X: 1, Y: 1}
	dab := face(100, 0, 150) // overlaps a and b a little: no match
	db := face(210, 0, 90)
	db.Keypoints[0] = faceswap.Point{X: 2, Y: 2}
	dbWorse := face(230, 20, 100) // also b, but less than db
	got, n := Realign([]faceswap.Face{a, b, c}, []faceswap.Face{dab, dbWorse, da, db})
	if n != 2 {
		t.Fatalf("%d matched, want 2", n)
	}
	if got[0].Keypoints != da.Keypoints || got[1].Keypoints != db.Keypoints || got[2].Keypoints != c.Keypoints {
		t.Errorf("keypoints %v", got)
	}
	if got[0].Box != a.Box {
		t.Error("the face's box changed")
	}
	if a.Keypoints == da.Keypoints {
		t.Fatal("bad fixture")
	}
	// one detection for two faces goes to the one it overlaps most
	got, n = Realign([]faceswap.Face{b, face(210, 0, 95)}, []faceswap.Face{db})
	if n != 1 || got[0].Keypoints == db.Keypoints || got[1].Keypoints != db.Keypoints {
		t.Errorf("one detection, two faces: %d matched, %v", n, got)
	}
}
