package testenv

import (
	"image"

	"faceswap/filter"
)

// Blur returns img blurred by a Gaussian of sigma pixels (edges
// repeated), as an out-of-focus photo of the same scene: what tests of
// sharpness start from.
func Blur(img *image.NRGBA, sigma float64) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	p := filter.New(w, h, 3)
	for y := range h {
		row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		for x := range w {
			for c := range 3 {
				p.Pix[3*(y*w+x)+c] = float32(row[4*x+c])
			}
		}
	}
	p.Gaussian(sigma, filter.Clamp)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		for c := range 3 {
			out.Pix[4*i+c] = uint8(min(255, max(0, p.Pix[3*i+c]+0.5)))
		}
		out.Pix[4*i+3] = 255
	}
	return out
}
