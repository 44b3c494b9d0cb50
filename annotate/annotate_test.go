package annotate

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"faceswap"
)

var gray = color.NRGBA{90, 90, 90, 255}

func plain(r image.Rectangle) *image.NRGBA {
	img := image.NewNRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetNRGBA(x, y, gray)
		}
	}
	return img
}

// Two faces on a plain 200×150 picture: outline thickness 1, label scale
// 2 (box width / 40).
var testFaces = []faceswap.Face{
	{
		Box:       faceswap.Rect{X: 20, Y: 30, W: 80, H: 80},
		Keypoints: [5]faceswap.Point{{X: 45, Y: 60}, {X: 75, Y: 60}, {X: 60, Y: 75}, {X: 48, Y: 92}, {X: 72, Y: 92}},
		Mesh:      []faceswap.Point3{{X: 60, Y: 50}, {X: 35, Y: 100}},
	},
	{
		Box:       faceswap.Rect{X: 110, Y: 40, W: 80, H: 80},
		Keypoints: [5]faceswap.Point{{X: 135, Y: 70}, {X: 165, Y: 70}, {X: 150, Y: 85}, {X: 138, Y: 102}, {X: 162, Y: 102}},
	},
}

func TestFacesDraws(t *testing.T) {
	img := plain(image.Rect(0, 0, 200, 150))
	before := bytes.Clone(img.Pix)
	out := Faces(img, testFaces)

	if !bytes.Equal(img.Pix, before) {
		t.Fatal("Faces changed its input")
	}
	if out.Rect != img.Rect {
		t.Fatalf("output bounds %v, want %v", out.Rect, img.Rect)
	}
	at := func(x, y int) color.NRGBA { return out.NRGBAAt(x, y) }
	want := func(what string, x, y int, c color.NRGBA) {
		t.Helper()
		if got := at(x, y); got != c {
			t.Errorf("%s at (%d,%d) is %v, want %v", what, x, y, got, c)
		}
	}

	// Box outline of face 0: right and bottom edges entirely, the top and
	// left edges away from the label in the corner.
	for y := 30; y <= 110; y++ {
		want("right edge", 100, y, boxColor)
	}
	for x := 20; x <= 100; x++ {
		want("bottom edge", x, 110, boxColor)
	}
	want("top edge", 80, 30, boxColor)
	want("left edge", 20, 80, boxColor)
	// The outline is one pixel thick: just inside and outside it is untouched.
	want("inside the right edge", 99, 70, gray)
	want("outside the right edge", 101, 70, gray)
	want("outside the bottom edge", 60, 111, gray)

	// Keypoints are dots of radius 2, mesh points single pixels.
	want("left eye", 45, 60, kpColor)
	want("left eye dot", 47, 62, kpColor)
	want("beside the left eye dot", 48, 60, gray)
	want("mesh point", 60, 50, meshColor)
	want("beside the mesh point", 61, 50, gray)

	// Labels: the digit's 3×5 cells of 2×2 pixels on a black backing,
	// starting 2 px inside the box corner.
	black := color.NRGBA{0, 0, 0, 255}
	// "0" at (22,32): top row all lit, the middle of the second row dark.
	for x := 22; x < 28; x++ {
		want("top of 0", x, 32, textColor)
	}
	want("hole of 0", 24, 34, black)
	want("backing of 0", 21, 31, black)
	// "1" at (112,42): rows 2,6,2,2,7 — only the middle cell of the top row.
	want("top-left of 1", 112, 42, black)
	want("top-middle of 1", 114, 42, textColor)
	want("top-right of 1", 116, 42, black)
	want("second row left of 1", 112, 44, textColor)
	for x := 112; x < 118; x++ {
		want("foot of 1", x, 50, textColor)
	}

	// Far from the faces nothing is drawn.
	near := func(x, y int) bool {
		for _, f := range testFaces {
			b := f.Box
			if float64(x) >= b.X-3 && float64(x) <= b.X+b.W+3 && float64(y) >= b.Y-3 && float64(y) <= b.Y+b.H+3 {
				return true
			}
		}
		return false
	}
	changed := 0
	for y := 0; y < 150; y++ {
		for x := 0; x < 200; x++ {
			if !near(x, y) && at(x, y) != gray {
				changed++
			}
		}
	}
	if changed != 0 {
		t.Errorf("%d pixels changed away from the faces", changed)
	}
}

func TestFacesNoFacesIsACopy(t *testing.T) {
	img := plain(image.Rect(0, 0, 40, 30))
	out := Faces(img, nil)
	if !bytes.Equal(out.Pix, img.Pix) {
		t.Fatal("without faces the output differs from the input")
	}
	out.Pix[0] = 1
	if img.Pix[0] == 1 {
		t.Fatal("output shares its pixels with the input")
	}
}

func TestFacesAcrossTheBorder(t *testing.T) {
	// A face cut by the top-left corner and one wholly outside: drawing
	// clips without panicking and draws the visible edges.
	img := plain(image.Rect(0, 0, 100, 80))
	out := Faces(img, []faceswap.Face{
		{Box: faceswap.Rect{X: -30, Y: -20, W: 70, H: 60}, Keypoints: [5]faceswap.Point{{X: -5, Y: -5}}},
		{Box: faceswap.Rect{X: 500, Y: 500, W: 50, H: 50}},
	})
	if got := out.NRGBAAt(40, 10); got != boxColor {
		t.Errorf("visible right edge at (40,10) is %v, want %v", got, boxColor)
	}
	if got := out.NRGBAAt(20, 40); got != boxColor {
		t.Errorf("visible bottom edge at (20,40) is %v, want %v", got, boxColor)
	}
	if got := out.NRGBAAt(70, 60); got != gray {
		t.Errorf("(70,60) away from the faces is %v", got)
	}
}

func TestFacesSubImage(t *testing.T) {
	whole := plain(image.Rect(0, 0, 100, 100))
	whole.SetNRGBA(30, 30, color.NRGBA{1, 2, 3, 255})
	sub := whole.SubImage(image.Rect(20, 20, 60, 60)).(*image.NRGBA)
	out := Faces(sub, nil)
	if out.Rect != sub.Rect {
		t.Fatalf("bounds %v, want %v", out.Rect, sub.Rect)
	}
	for y := 20; y < 60; y++ {
		for x := 20; x < 60; x++ {
			if out.NRGBAAt(x, y) != sub.NRGBAAt(x, y) {
				t.Fatalf("pixel (%d,%d) is %v, want %v", x, y, out.NRGBAAt(x, y), sub.NRGBAAt(x, y))
			}
		}
	}
}
