package resample

import (
	"math"
	"testing"

	"faceswap"
)

func ramp(w, h int) *Image {
	img := New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := 3 * (y*w + x)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2] = float32(10*x), float32(10*y), 100
		}
	}
	return img
}

func TestKernels(t *testing.T) {
	img := ramp(16, 12)
	for _, k := range []Kernel{Nearest, Bilinear, Bicubic, Lanczos} {
		// at pixel centres every kernel returns the pixel itself
		for _, p := range [][2]int{{0, 0}, {5, 7}, {15, 11}, {8, 3}} {
			r, g, b := img.At(k, float64(p[0]), float64(p[1]))
			if math.Abs(float64(r)-float64(10*p[0])) > 1e-3 || math.Abs(float64(g)-float64(10*p[1])) > 1e-3 || math.Abs(float64(b)-100) > 1e-3 {
				t.Errorf("%s at %v: %v %v %v", k, p, r, g, b)
			}
		}
		// a constant channel stays constant anywhere (weights are normalised)
		if _, _, b := img.At(k, 7.3, 4.6); math.Abs(float64(b)-100) > 1e-3 {
			t.Errorf("%s: constant channel gave %v", k, b)
		}
	}
	// between centres, away from the border, the smooth kernels reproduce a
	// ramp: bilinear and Catmull-Rom exactly, Lanczos-3 (not linear-exact)
	// within half a level
	for k, tol := range map[Kernel]float64{Bilinear: 0.01, Bicubic: 0.01, Lanczos: 0.5} {
		r, g, _ := img.At(k, 7.25, 5.5)
		if math.Abs(float64(r)-72.5) > tol || math.Abs(float64(g)-55) > tol {
			t.Errorf("%s between centres: %v %v, want 72.5 55", k, r, g)
		}
	}
	if r, _, _ := img.At(Nearest, 7.6, 5.2); r != 80 {
		t.Errorf("nearest: %v, want 80", r)
	}
	// beyond the border the edge repeats
	if r, _, _ := img.At(Bicubic, -3, 2); math.Abs(float64(r)) > 1e-3 {
		t.Errorf("left of the border: %v, want 0", r)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Kernel{"": Bilinear, "nearest": Nearest, "BILINEAR": Bilinear, "Bicubic": Bicubic, "lanczos": Lanczos} {
		if k, err := Parse(in); err != nil || k != want {
			t.Errorf("Parse(%q) = %v, %v", in, k, err)
		}
	}
	_, err := Parse("cubic")
	if faceswap.StatusOf(err) != 400 || faceswap.PublicMessage(err) != `interpolation "cubic" is not one of Nearest, Bilinear, Bicubic, Lanczos.` {
		t.Errorf("bad name: %v", err)
	}
}

func TestClamp8(t *testing.T) {
	for in, want := range map[float32]uint8{-5: 0, 0: 0, 0.49: 0, 0.5: 1, 254.6: 255, 300: 255} {
		if got := Clamp8(in); got != want {
			t.Errorf("Clamp8(%v) = %d, want %d", in, got, want)
		}
	}
}
