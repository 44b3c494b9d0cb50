package raster

import "image"

// Pyramid is an image and its successive half-size box-filtered reductions.
// Levels are made on first use; a Pyramid is not safe for concurrent use
// while levels are being made, so callers build it once per image.
type Pyramid struct {
	levels []*image.NRGBA
}

// NewPyramid returns a pyramid whose base is img (not copied).
func NewPyramid(img *image.NRGBA) *Pyramid {
	if img.Rect.Min != (image.Point{}) {
		c := image.NewNRGBA(image.Rect(0, 0, img.Rect.Dx(), img.Rect.Dy()))
		for y := 0; y < c.Rect.Dy(); y++ {
			copy(c.Pix[y*c.Stride:y*c.Stride+4*c.Rect.Dx()], img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):])
		}
		img = c
	}
	return &Pyramid{levels: []*image.NRGBA{img}}
}

// Base returns the full-resolution image.
func (p *Pyramid) Base() *image.NRGBA { return p.levels[0] }

// Level returns level k (k=0 is the base), making it if needed. Levels stop
// at 1×1.
func (p *Pyramid) Level(k int) *image.NRGBA {
	for len(p.levels) <= k {
		last := p.levels[len(p.levels)-1]
		if last.Rect.Dx() <= 1 && last.Rect.Dy() <= 1 {
			return last
		}
		p.levels = append(p.levels, halve(last))
	}
	return p.levels[k]
}

// halve box-filters src to half its size (rounding up; odd edges reuse the
// last column or row).
func halve(src *image.NRGBA) *image.NRGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	w, h := (sw+1)/2, (sh+1)/2
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := 2*y, min(2*y+1, sh-1)
		r0 := src.Pix[y0*src.Stride:]
		r1 := src.Pix[y1*src.Stride:]
		d := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			x0, x1 := 8*x, 4*min(2*x+1, sw-1)
			for c := 0; c < 4; c++ {
				s := uint32(r0[x0+c]) + uint32(r0[x1+c]) + uint32(r1[x0+c]) + uint32(r1[x1+c])
				d[4*x+c] = uint8((s + 2) >> 2)
			}
		}
	}
	return dst
}
