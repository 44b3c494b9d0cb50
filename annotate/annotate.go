// Package annotate draws what analysis found onto a copy of an image: each
// face's box, its index, its five keypoints and its mesh points, for people
// checking results by eye.
package annotate

import (
	"image"
	"image/color"
	"strconv"

	"faceswap"
)

var (
	boxColor  = color.NRGBA{0, 230, 0, 255}
	meshColor = color.NRGBA{0, 200, 255, 255}
	kpColor   = color.NRGBA{255, 40, 40, 255}
	textColor = color.NRGBA{255, 255, 0, 255}
)

// Faces returns a copy of img with faces drawn in their given order; the
// number drawn at each box is its position in faces.
func Faces(img *image.NRGBA, faces []faceswap.Face) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	w := 4 * img.Rect.Dx()
	for y := 0; y < img.Rect.Dy(); y++ {
		copy(out.Pix[y*out.Stride:y*out.Stride+w], img.Pix[y*img.Stride:])
	}
	thick := max(1, min(img.Rect.Dx(), img.Rect.Dy())/400)
	for _, f := range faces {
		for _, p := range f.Mesh {
			dot(out, int(p.X), int(p.Y), thick/2, meshColor)
		}
		for _, p := range f.Keypoints {
			dot(out, int(p.X), int(p.Y), thick+1, kpColor)
		}
		rect(out, f.Box, thick)
	}
	for i, f := range faces {
		scale := max(1, int(f.Box.W)/40)
		x := min(max(int(f.Box.X)+thick+1, img.Rect.Min.X+1), img.Rect.Max.X-4*scale)
		y := min(max(int(f.Box.Y)+thick+1, img.Rect.Min.Y+1), img.Rect.Max.Y-6*scale)
		text(out, x, y, strconv.Itoa(i), scale)
	}
	return out
}

func set(img *image.NRGBA, x, y int, c color.NRGBA) {
	if (image.Point{x, y}).In(img.Rect) {
		img.SetNRGBA(x, y, c)
	}
}

func dot(img *image.NRGBA, x, y, r int, c color.NRGBA) {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			set(img, x+dx, y+dy, c)
		}
	}
}

func rect(img *image.NRGBA, b faceswap.Rect, t int) {
	x0, y0, x1, y1 := int(b.X), int(b.Y), int(b.X+b.W), int(b.Y+b.H)
	for k := 0; k < t; k++ {
		for x := x0; x <= x1; x++ {
			set(img, x, y0+k, boxColor)
			set(img, x, y1-k, boxColor)
		}
		for y := y0; y <= y1; y++ {
			set(img, x0+k, y, boxColor)
			set(img, x1-k, y, boxColor)
		}
	}
}

// digits is a 3×5 bitmap font: each digit is five rows of three bits.
var digits = [10][5]uint8{
	{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
	{7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
}

func text(img *image.NRGBA, x, y int, s string, scale int) {
	for _, r := range s {
		if r < '0' || r > '9' {
			continue
		}
		// dark backing so the digit reads on any background
		for yy := -1; yy < 6; yy++ {
			for xx := -1; xx < 4; xx++ {
				for sy := 0; sy < scale; sy++ {
					for sx := 0; sx < scale; sx++ {
						set(img, x+xx*scale+sx, y+yy*scale+sy, color.NRGBA{0, 0, 0, 255})
					}
				}
			}
		}
		for row, bits := range digits[r-'0'] {
			for col := 0; col < 3; col++ {
				if bits&(4>>col) == 0 {
					continue
				}
				for sy := 0; sy < scale; sy++ {
					for sx := 0; sx < scale; sx++ {
						set(img, x+col*scale+sx, y+row*scale+sy, textColor)
					}
				}
			}
		}
		x += 4 * scale
	}
}
