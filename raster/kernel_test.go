package raster

import (
	"image"
	"math"
	"testing"

	"faceswap"
	"faceswap/resample"
)

// sampleNCHW fills dst with the size×size crop m maps, as the swapper and
// the restorers take it: one crop of img, NCHW, with kernel k.
func sampleNCHW(dst []float32, img *image.NRGBA, m Affine, size int, n Norm, k resample.Kernel) {
	SampleImage(dst, img, Crop{W: size, H: size, M: m, Kernel: k, Norm: n, Layout: NCHW})
}

// smooth is a smooth test picture.
func smooth(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x, y)
			img.Pix[o] = uint8(128 + 100*math.Sin(float64(x)/9))
			img.Pix[o+1] = uint8(128 + 100*math.Cos(float64(y)/7))
			img.Pix[o+2] = uint8((x + 2*y) % 256)
			img.Pix[o+3] = 255
		}
	}
	return img
}

// SampleImage with a kernel reads what the kernel gives at the mapped
// positions (at full resolution when enlarging), black outside the
// picture; Bilinear is the pyramid's sampling.
func TestSampleImageKernels(t *testing.T) {
	img := smooth(200, 160)
	const size = 64
	n := Norm{Scale: 1 / 127.5, Offset: -1}
	m := CropTransform(faceswap.Point{X: 100, Y: 80}, 40, 0.4, size) // enlarging 1.6×
	ref := resample.FromNRGBA(img)
	for k := resample.Nearest; k <= resample.Lanczos; k++ {
		got := make([]float32, 3*size*size)
		sampleNCHW(got, img, m, size, n, k)
		worst := 0.0
		for v := 0; v < size; v++ {
			for u := 0; u < size; u++ {
				x, y := m.Apply(float64(u), float64(v))
				r, g, b := ref.At(k, x, y)
				for c, want := range []float32{r, g, b} {
					d := math.Abs(float64(got[c*size*size+v*size+u] - (want*n.Scale + n.Offset)))
					worst = math.Max(worst, d)
				}
			}
		}
		if worst > 1e-4 {
			t.Errorf("%s: differs from the kernel by %.3g", k, worst)
		}
	}
	// reducing 3×: the kernels agree on a smooth picture within a few levels
	m = CropTransform(faceswap.Point{X: 100, Y: 80}, 150, 0.2, 50)
	base := make([]float32, 3*50*50)
	sampleNCHW(base, img, m, 50, Norm{Scale: 1}, resample.Bilinear)
	for k := resample.Nearest; k <= resample.Lanczos; k++ {
		got := make([]float32, 3*50*50)
		sampleNCHW(got, img, m, 50, Norm{Scale: 1}, k)
		var sum float64
		for i := range got {
			sum += math.Abs(float64(got[i] - base[i]))
		}
		t.Logf("reduced 3×, %s vs Bilinear: mean |diff| %.2f levels", k, sum/float64(len(got)))
		if sum/float64(len(got)) > 4 {
			t.Errorf("reduced 3×, %s differs from Bilinear by %.2f levels on average", k, sum/float64(len(got)))
		}
	}
	// a crop half outside the picture: black there for every kernel
	m = CropTransform(faceswap.Point{X: 0, Y: 80}, 60, 0, 60)
	for k := resample.Nearest; k <= resample.Lanczos; k++ {
		got := make([]float32, 3*60*60)
		sampleNCHW(got, img, m, 60, n, k)
		for v := 0; v < 60; v++ {
			for u := 0; u < 25; u++ { // x < −4 px
				if got[v*60+u] != -1 {
					t.Fatalf("%s: (%d,%d) outside the picture reads %g", k, u, v, got[v*60+u])
				}
			}
		}
	}
}
