package testenv

import (
	"image"

	"faceswap/filter"
	"faceswap/resample"
)

// Blur returns img blurred by a Gaussian of sigma pixels (edges
// repeated), as an out-of-focus photo of the same scene: what tests of
// sharpness start from.
func Blur(img *image.NRGBA, sigma float64) *image.NRGBA {
	f := resample.FromNRGBA(img)
	filter.Plane{W: f.W, H: f.H, C: 3, Pix: f.Pix}.Gaussian(sigma, filter.Clamp)
	out := image.NewNRGBA(image.Rect(0, 0, f.W, f.H))
	for i := range f.W * f.H {
		for c := range 3 {
			out.Pix[4*i+c] = resample.Clamp8(f.Pix[3*i+c])
		}
		out.Pix[4*i+3] = 255
	}
	return out
}
