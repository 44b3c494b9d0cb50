package raster_test

import (
	"fmt"
	"image"
	"image/color"

	"faceswap"
	"faceswap/raster"
	"faceswap/resample"
)

// A 32×32 crop covering 64 source pixels around (100, 80): its centre lands
// on the given centre (in sample positions, where pixel i sits at i, that
// is 99.5, 79.5) and each output pixel spans 2 source pixels.
func ExampleCropTransform() {
	m := raster.CropTransform(faceswap.Point{X: 100, Y: 80}, 64, 0, 32)
	x, y := m.Apply(15.5, 15.5)
	fmt.Printf("centre at (%.1f, %.1f), scale %.1f\n", x, y, m.Scale())
	// Output: centre at (99.5, 79.5), scale 2.0
}

// Halving a 4×4 image samples the pyramid level whose pixels are the 2×2
// means, so nothing aliases.
func ExamplePyramid_Sample() {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			v := uint8(10 * (x + 4*y)) // 0, 10, 20, … row by row
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	p := raster.NewPyramid(img)
	dst := make([]float32, 2*2)
	// output pixel u covers source pixels 2u and 2u+1, centred at 2u+0.5
	p.Sample(dst, raster.Crop{W: 2, H: 2, M: raster.Affine{2, 0, 0.5, 0, 2, 0.5}, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1, Gray: true}})
	fmt.Printf("%.1f\n", dst)
	// Output: [25.0 45.0 105.0 125.0]
}
