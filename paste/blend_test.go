package paste

import (
	"image"
	"math"
	"testing"

	"faceswap"
	"faceswap/raster"
	"faceswap/resample"
	"faceswap/swap"
)

func flat(w, h int, v uint8) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

func constFace(size int, v float32) *resample.Image {
	f := resample.New(size, size)
	for i := range f.Pix {
		f.Pix[i] = v
	}
	return f
}

func regionAlpha(r swap.Region, x, y int) int {
	if !(image.Point{x, y}).In(r.Bounds) {
		return 0
	}
	return int(r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X])
}

// Opacity scales the mask: half opacity gives half the alpha (within the
// quantisation of each), and the blend follows the alpha it reports;
// opacity 0 changes nothing and reports nothing.
func TestOpacity(t *testing.T) {
	m := raster.CropTransform(faceswap.Point{X: 150, Y: 120}, 180, 0.3, faceSize)
	face := constFace(faceSize, 220)
	full := flat(300, 240, 100)
	rf := Back(full, face, m, resample.Bilinear, Blend{Opacity: 1})
	for _, op := range []float64{0.5, 0.25, 0.9} {
		half := flat(300, 240, 100)
		rh := Back(half, face, m, resample.Bilinear, Blend{Opacity: op})
		if !rh.Bounds.In(rf.Bounds) {
			t.Fatalf("opacity %g: region %v beyond the full one %v", op, rh.Bounds, rf.Bounds)
		}
		worst, n := 0.0, 0
		for y := 0; y < 240; y++ {
			for x := 0; x < 300; x++ {
				af, ah := regionAlpha(rf, x, y), regionAlpha(rh, x, y)
				// the full alpha was rounded, the scaled one too
				if d := math.Abs(float64(ah) - op*float64(af)); d > op*0.5+0.5+1e-9 {
					t.Fatalf("opacity %g at (%d,%d): alpha %d, full alpha %d", op, x, y, ah, af)
				} else if d > worst {
					worst = d
				}
				got := half.Pix[half.PixOffset(x, y)]
				want := resample.Clamp8(100 + 120*float32(ah)/255)
				if got != want {
					t.Fatalf("opacity %g at (%d,%d): %d under alpha %d, want %d", op, x, y, got, ah, want)
				}
				if ah > 0 {
					n++
				}
			}
		}
		t.Logf("opacity %g: %d pixels with alpha, max |alpha − %g·full alpha| %.2f", op, n, op, worst)
	}
	none := flat(300, 240, 100)
	if r := Back(none, face, m, resample.Bilinear, Blend{Opacity: 0}); !r.Bounds.Empty() || r.Alpha != nil {
		t.Errorf("opacity 0 reported %v", r.Bounds)
	}
	if string(none.Pix) != string(flat(300, 240, 100).Pix) {
		t.Error("opacity 0 changed the picture")
	}
}

// Within limits the paste to a region, its alpha scaling the mask:
// nothing changes where it is 0 or outside it, full alpha keeps the
// mask's, half alpha halves it.
func TestWithin(t *testing.T) {
	m := raster.CropTransform(faceswap.Point{X: 150, Y: 120}, 180, 0, faceSize)
	face := constFace(faceSize, 220)
	full := flat(300, 240, 100)
	rf := Back(full, face, m, resample.Bilinear, Blend{Opacity: 1})
	// a region over the left part of the face: 255 in x < 140, 128 in
	// 140 ≤ x < 160, 0 beyond; rows 60..200
	lim := swap.Region{Bounds: image.Rect(40, 60, 200, 200)}
	lim.Alpha = make([]uint8, lim.Bounds.Dx()*lim.Bounds.Dy())
	for y := 0; y < lim.Bounds.Dy(); y++ {
		for x := 0; x < lim.Bounds.Dx(); x++ {
			switch gx := lim.Bounds.Min.X + x; {
			case gx < 140:
				lim.Alpha[y*lim.Bounds.Dx()+x] = 255
			case gx < 160:
				lim.Alpha[y*lim.Bounds.Dx()+x] = 128
			}
		}
	}
	got := flat(300, 240, 100)
	r := Back(got, face, m, resample.Bilinear, Blend{Opacity: 1, Within: &lim})
	orig := flat(300, 240, 100)
	for y := 0; y < 240; y++ {
		for x := 0; x < 300; x++ {
			a, af, al := regionAlpha(r, x, y), regionAlpha(rf, x, y), regionAlpha(lim, x, y)
			want := int(resample.Clamp8(float32(af) * float32(al) / 255))
			if math.Abs(float64(a-want)) > 1 {
				t.Fatalf("(%d,%d): alpha %d, want about %d (mask %d, limit %d)", x, y, a, want, af, al)
			}
			if al == 0 && a != 0 {
				t.Fatalf("(%d,%d): alpha %d outside the limit", x, y, a)
			}
			o := orig.PixOffset(x, y)
			if a == 0 && string(got.Pix[o:o+4]) != string(orig.Pix[o:o+4]) {
				t.Fatalf("(%d,%d) changed without alpha", x, y)
			}
		}
	}
	if !r.Bounds.In(lim.Bounds) {
		t.Errorf("region %v beyond the limit %v", r.Bounds, lim.Bounds)
	}
	// On a sub-image, the limit is in the picture's coordinates too.
	off := image.Pt(7, 5)
	canvas := flat(320, 260, 100)
	sub := canvas.SubImage(image.Rect(0, 0, 300, 240).Add(off)).(*image.NRGBA)
	lim2 := lim
	lim2.Bounds = lim.Bounds.Add(off)
	r2 := Back(sub, face, m, resample.Bilinear, Blend{Opacity: 1, Within: &lim2})
	if r2.Bounds != r.Bounds.Add(off) || string(r2.Alpha) != string(r.Alpha) {
		t.Errorf("sub-image: region %v, want %v", r2.Bounds, r.Bounds.Add(off))
	}
}
