package imageio

import (
	"encoding/binary"
	"image"
)

// orient returns src turned upright according to the EXIF orientation o:
//
//	1 as stored          5 transposed (mirrored across the main diagonal)
//	2 mirrored left-right 6 turned 90° clockwise
//	3 turned 180°         7 transversed (mirrored across the other diagonal)
//	4 mirrored top-bottom 8 turned 90° counter-clockwise
//
// src must have bounds starting at (0, 0). For o == 1, or a value outside
// 1-8, src itself is returned.
func orient(src *image.NRGBA, o int) *image.NRGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	// where(x, y) is the destination of source pixel (x, y), in pixels.
	// It is affine in x and y, so a start and two steps describe it.
	where := func(x, y int) int {
		var dx, dy int
		switch o {
		case 2:
			dx, dy = w-1-x, y
		case 3:
			dx, dy = w-1-x, h-1-y
		case 4:
			dx, dy = x, h-1-y
		case 5:
			dx, dy = y, x
		case 6:
			dx, dy = h-1-y, x
		case 7:
			dx, dy = h-1-y, w-1-x
		case 8:
			dx, dy = y, w-1-x
		}
		return dy*dw + dx
	}
	start := where(0, 0)
	stepX, stepY := 4*(where(1, 0)-start), 4*(where(0, 1)-start)
	// Reads are sequential; for 5-8 writes go down columns. (Walking in
	// 64x64 tiles was measured slower here, so the loop stays simple.)
	for y := 0; y < h; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+4*w]
		di := 4*start + y*stepY
		for x := 0; x < w; x++ {
			binary.LittleEndian.PutUint32(dst.Pix[di:], binary.LittleEndian.Uint32(row[4*x:]))
			di += stepX
		}
	}
	return dst
}
