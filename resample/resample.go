// Package resample samples images at arbitrary positions with the kernels
// the API's `interpolation` field names: Nearest, Bilinear, Bicubic
// (Catmull-Rom, a = −0.5) and Lanczos (a = 3). The swap engines use it to
// warp a face and to paste it back.
//
//	k, _ := resample.Parse("bicubic")
//	img := resample.FromNRGBA(src)
//	r, g, b := img.At(k, 10.25, 20.5)
package resample

import (
	"image"
	"math"
	"net/http"
	"strings"

	"faceswap"
)

// Kernel is an interpolation kernel.
type Kernel int

// The kernels, in the order of the API's enum.
const (
	Nearest Kernel = iota
	Bilinear
	Bicubic
	Lanczos
)

var names = []string{"Nearest", "Bilinear", "Bicubic", "Lanczos"}

func (k Kernel) String() string {
	if k < 0 || int(k) >= len(names) {
		return "Kernel(?)"
	}
	return names[k]
}

// Parse parses a kernel name case-insensitively; "" is Bilinear (the API's
// default). An unknown name is a 400.
func Parse(s string) (Kernel, error) {
	if s == "" {
		return Bilinear, nil
	}
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return Kernel(i), nil
		}
	}
	return 0, faceswap.Errorf(http.StatusBadRequest, "interpolation %q is not one of %s.", s, strings.Join(names, ", "))
}

// radius is how many pixels each side of a position the kernel reads.
func (k Kernel) radius() int {
	switch k {
	case Bicubic:
		return 2
	case Lanczos:
		return 3
	}
	return 1
}

// weight is the kernel's value at distance d.
func (k Kernel) weight(d float64) float64 {
	d = math.Abs(d)
	switch k {
	case Bilinear:
		return max(0, 1-d)
	case Bicubic:
		const a = -0.5
		switch {
		case d < 1:
			return ((a+2)*d-(a+3))*d*d + 1
		case d < 2:
			return ((a*d-5*a)*d+8*a)*d - 4*a
		}
		return 0
	case Lanczos:
		const a = 3
		switch {
		case d == 0:
			return 1
		case d < a:
			x := math.Pi * d
			return a * math.Sin(x) * math.Sin(x/a) / (x * x)
		}
		return 0
	}
	if d < 0.5 {
		return 1
	}
	return 0
}

// Image is an RGB image of float32 samples in 0..255, interleaved.
type Image struct {
	W, H int
	Pix  []float32 // len 3·W·H
}

// New returns a black w×h image.
func New(w, h int) *Image { return &Image{W: w, H: h, Pix: make([]float32, 3*w*h)} }

// FromNRGBA converts an 8-bit image (alpha ignored).
func FromNRGBA(src *image.NRGBA) *Image {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	img := New(w, h)
	for y := 0; y < h; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+4*w]
		out := img.Pix[3*w*y : 3*w*(y+1)]
		for x := 0; x < w; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
		}
	}
	return img
}

// At returns the colour at (x, y) in pixel-index coordinates (the centre of
// pixel i is at i). Positions beyond the border repeat the edge pixels.
func (img *Image) At(k Kernel, x, y float64) (r, g, b float32) {
	if k == Nearest {
		o := 3 * (clamp(int(math.Floor(y+0.5)), img.H)*img.W + clamp(int(math.Floor(x+0.5)), img.W))
		return img.Pix[o], img.Pix[o+1], img.Pix[o+2]
	}
	if k == Bilinear {
		x0, y0 := math.Floor(x), math.Floor(y)
		ax, ay := float32(x-x0), float32(y-y0)
		xi, yi := int(x0), int(y0)
		xa, xb := clamp(xi, img.W), clamp(xi+1, img.W)
		ya, yb := clamp(yi, img.H), clamp(yi+1, img.H)
		p := img.Pix
		o00, o10, o01, o11 := 3*(ya*img.W+xa), 3*(ya*img.W+xb), 3*(yb*img.W+xa), 3*(yb*img.W+xb)
		w00, w10, w01, w11 := (1-ax)*(1-ay), ax*(1-ay), (1-ax)*ay, ax*ay
		r = p[o00]*w00 + p[o10]*w10 + p[o01]*w01 + p[o11]*w11
		g = p[o00+1]*w00 + p[o10+1]*w10 + p[o01+1]*w01 + p[o11+1]*w11
		b = p[o00+2]*w00 + p[o10+2]*w10 + p[o01+2]*w01 + p[o11+2]*w11
		return r, g, b
	}
	rad := k.radius()
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	var wx, wy [6]float64
	var sx, sy float64
	for i := 0; i < 2*rad; i++ {
		wx[i] = k.weight(x - float64(x0-rad+1+i))
		wy[i] = k.weight(y - float64(y0-rad+1+i))
		sx += wx[i]
		sy += wy[i]
	}
	var fr, fg, fb float64
	for j := 0; j < 2*rad; j++ {
		if wy[j] == 0 {
			continue
		}
		row := 3 * clamp(y0-rad+1+j, img.H) * img.W
		var rr, rg, rb float64
		for i := 0; i < 2*rad; i++ {
			o := row + 3*clamp(x0-rad+1+i, img.W)
			rr += wx[i] * float64(img.Pix[o])
			rg += wx[i] * float64(img.Pix[o+1])
			rb += wx[i] * float64(img.Pix[o+2])
		}
		fr += wy[j] * rr
		fg += wy[j] * rg
		fb += wy[j] * rb
	}
	n := sx * sy
	return float32(fr / n), float32(fg / n), float32(fb / n)
}

func clamp(i, n int) int {
	if i < 0 {
		return 0
	}
	if i >= n {
		return n - 1
	}
	return i
}

// Clamp8 rounds a sample to 0..255.
func Clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
