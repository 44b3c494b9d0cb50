package imageio

import (
	"image"
	"image/color"
)

// toNRGBA returns src as an *image.NRGBA with bounds starting at (0, 0).
// An *image.NRGBA that already has that layout is returned as it is.
func toNRGBA(src image.Image) *image.NRGBA { return toNRGBARange(src, false) }

// toNRGBARange is toNRGBA where, with limited true, Y'CbCr samples are read
// as limited ("video") range BT.601, as VP8 (lossy WebP) stores them.
func toNRGBARange(src image.Image, limited bool) *image.NRGBA {
	b := src.Bounds()
	if m, ok := src.(*image.NRGBA); ok && b.Min == (image.Point{}) && m.Stride == 4*b.Dx() {
		return m
	}
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	convertRange(dst, src, limited)
	return dst
}

// convertRange writes src into dst, whose size must equal src's; limited is
// as for toNRGBARange. Row y of dst starts at dst.Pix[y*dst.Stride] (true of
// sub-images too).
func convertRange(dst *image.NRGBA, src image.Image, limited bool) {
	switch s := src.(type) {
	case *image.YCbCr:
		if !convYCbCr(dst, s, nil, limited) {
			convGeneric(dst, src)
		}
	case *image.NYCbCrA:
		if !convYCbCr(dst, &s.YCbCr, s, limited) {
			convGeneric(dst, src)
		}
	case *image.NRGBA:
		convRows(dst, s.Pix, s.Stride, 4, s.Rect, func(d, src []uint8) { copy(d, src) })
	case *image.RGBA:
		convRows(dst, s.Pix, s.Stride, 4, s.Rect, rowRGBA)
	case *image.Gray:
		convRows(dst, s.Pix, s.Stride, 1, s.Rect, rowGray)
	case *image.Gray16:
		convRows(dst, s.Pix, s.Stride, 2, s.Rect, rowGray16)
	case *image.NRGBA64:
		convRows(dst, s.Pix, s.Stride, 8, s.Rect, rowNRGBA64)
	case *image.RGBA64:
		convRows(dst, s.Pix, s.Stride, 8, s.Rect, rowRGBA64)
	case *image.Paletted:
		convPaletted(dst, s)
	case *image.CMYK:
		convRows(dst, s.Pix, s.Stride, 4, s.Rect, rowCMYK)
	default:
		convGeneric(dst, src)
	}
}

// convRows converts the pixels of a source image (pix, with stride bytes
// a row and bpp bytes a pixel, rectangle r) row by row: conv writes the
// 4*w bytes of each dst row from the bpp*w bytes of the source row.
func convRows(dst *image.NRGBA, pix []uint8, stride, bpp int, r image.Rectangle, conv func(d, src []uint8)) {
	w := r.Dx()
	for y := 0; y < r.Dy(); y++ {
		o := y * stride
		conv(dstRow(dst, y, w), pix[o:o+bpp*w])
	}
}

// dstRow returns the 4*w bytes of row y of dst.
func dstRow(dst *image.NRGBA, y, w int) []uint8 {
	return dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
}

// convGeneric is the slow path for image types no decoder here produces.
func convGeneric(dst *image.NRGBA, src image.Image) {
	b := src.Bounds()
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		d := dstRow(dst, y, w)
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
}

// clampFix turns a 16.16 fixed-point value into a byte, saturating.
func clampFix(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 0xFFFFFF {
		return 255
	}
	return uint8(v >> 16)
}

// ycc holds the 16.16 fixed-point factors of a Y'CbCr to R'G'B' matrix.
type ycc struct {
	yOff, yMul, round  int32 // luma: (Y-yOff)*yMul + round
	rCr, gCb, gCr, bCb int32
}

var (
	// jfif is full-range BT.601 as JPEG (JFIF) uses it; with these factors
	// the result is byte for byte that of color.YCbCrToRGB.
	jfif = ycc{yOff: 0, yMul: 0x10101, round: 0, rCr: 91881, gCb: 22554, gCr: 46802, bCb: 116130}
	// video is limited-range BT.601 (Y 16-235, Cb and Cr 16-240), as VP8
	// uses it: 255/219 for luma, and 1.596, 0.392, 0.813, 2.017 for chroma.
	video = ycc{yOff: 16, yMul: 76309, round: 1 << 15, rCr: 104597, gCb: 25675, gCr: 53279, bCb: 132201}
)

// convYCbCr converts Y'CbCr with any chroma subsampling, read as full-range
// JFIF or, with limited, as limited-range BT.601; with a != nil it also
// takes the non-premultiplied alpha plane. Chroma is replicated, not
// interpolated. It reports false for a layout it does not handle, leaving
// dst untouched.
func convYCbCr(dst *image.NRGBA, s *image.YCbCr, a *image.NYCbCrA, limited bool) bool {
	var hs, vs uint // log2 of the horizontal and vertical chroma subsampling
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	default:
		return false
	}
	b := s.Rect
	if b.Min.X < 0 || b.Min.Y < 0 {
		return false // chroma indexing below assumes non-negative coordinates
	}
	k := jfif
	if limited {
		k = video
	}
	w, h := b.Dx(), b.Dy()
	cx0, cy0 := b.Min.X>>hs, b.Min.Y>>vs
	for y := 0; y < h; y++ {
		yrow := s.Y[y*s.YStride : y*s.YStride+w]
		coff := ((b.Min.Y+y)>>vs - cy0) * s.CStride
		last := coff + (b.Min.X+w-1)>>hs - cx0
		cb := s.Cb[coff : last+1]
		cr := s.Cr[coff : last+1]
		var arow []uint8
		if a != nil {
			arow = a.A[y*a.AStride : y*a.AStride+w]
		}
		d := dstRow(dst, y, w)
		for x, yy := range yrow {
			ci := (b.Min.X+x)>>hs - cx0
			y1 := (int32(yy)-k.yOff)*k.yMul + k.round
			cb1 := int32(cb[ci]) - 128
			cr1 := int32(cr[ci]) - 128
			p := d[4*x : 4*x+4 : 4*x+4]
			p[0] = clampFix(y1 + k.rCr*cr1)
			p[1] = clampFix(y1 - k.gCb*cb1 - k.gCr*cr1)
			p[2] = clampFix(y1 + k.bCb*cb1)
			if arow != nil {
				p[3] = arow[x]
			} else {
				p[3] = 0xFF
			}
		}
	}
	return true
}

// rowRGBA un-premultiplies with the same arithmetic as color.NRGBAModel.
func rowRGBA(d, src []uint8) {
	for i := 0; i+3 < len(src); i += 4 {
		p := src[i : i+4 : i+4]
		q := d[i : i+4 : i+4]
		switch a := p[3]; a {
		case 0xFF:
			q[0], q[1], q[2], q[3] = p[0], p[1], p[2], 0xFF
		case 0:
			q[0], q[1], q[2], q[3] = 0, 0, 0, 0
		default:
			a16 := uint32(a) * 0x101
			q[0] = uint8((uint32(p[0]) * 0x101 * 0xFFFF / a16) >> 8)
			q[1] = uint8((uint32(p[1]) * 0x101 * 0xFFFF / a16) >> 8)
			q[2] = uint8((uint32(p[2]) * 0x101 * 0xFFFF / a16) >> 8)
			q[3] = a
		}
	}
}

func rowGray(d, src []uint8) {
	for x, v := range src {
		p := d[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = v, v, v, 0xFF
	}
}

func rowGray16(d, src []uint8) {
	for x := 0; 2*x+1 < len(src); x++ {
		v := src[2*x] // big-endian: the high byte comes first
		p := d[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = v, v, v, 0xFF
	}
}

// rowNRGBA64 keeps the high byte of each (non-premultiplied) channel.
func rowNRGBA64(d, src []uint8) {
	for x := 0; 8*x+7 < len(src); x++ {
		p := src[8*x : 8*x+8 : 8*x+8]
		q := d[4*x : 4*x+4 : 4*x+4]
		q[0], q[1], q[2], q[3] = p[0], p[2], p[4], p[6]
	}
}

// rowRGBA64 un-premultiplies with the same arithmetic as color.NRGBAModel.
func rowRGBA64(d, src []uint8) {
	for x := 0; 8*x+7 < len(src); x++ {
		p := src[8*x : 8*x+8 : 8*x+8]
		q := d[4*x : 4*x+4 : 4*x+4]
		a := uint32(p[6])<<8 | uint32(p[7])
		switch a {
		case 0xFFFF:
			q[0], q[1], q[2], q[3] = p[0], p[2], p[4], 0xFF
		case 0:
			q[0], q[1], q[2], q[3] = 0, 0, 0, 0
		default:
			r := uint32(p[0])<<8 | uint32(p[1])
			g := uint32(p[2])<<8 | uint32(p[3])
			bl := uint32(p[4])<<8 | uint32(p[5])
			q[0] = uint8((r * 0xFFFF / a) >> 8)
			q[1] = uint8((g * 0xFFFF / a) >> 8)
			q[2] = uint8((bl * 0xFFFF / a) >> 8)
			q[3] = uint8(a >> 8)
		}
	}
}

// convPaletted looks every index up in a 256-entry table; an index past the
// end of the palette gives transparent black.
func convPaletted(dst *image.NRGBA, s *image.Paletted) {
	var lut [256][4]uint8
	for i, c := range s.Palette {
		if i == len(lut) {
			break
		}
		if c == nil {
			continue
		}
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		lut[i] = [4]uint8{n.R, n.G, n.B, n.A}
	}
	convRows(dst, s.Pix, s.Stride, 1, s.Rect, func(d, src []uint8) {
		for x, idx := range src {
			e := &lut[idx]
			p := d[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = e[0], e[1], e[2], e[3]
		}
	})
}

// rowCMYK uses the same arithmetic as color.CMYK.RGBA followed by
// color.NRGBAModel.
func rowCMYK(d, src []uint8) {
	for i := 0; i+3 < len(src); i += 4 {
		p := src[i : i+4 : i+4]
		q := d[i : i+4 : i+4]
		k := 0xFFFF - uint32(p[3])*0x101
		q[0] = uint8(((0xFFFF - uint32(p[0])*0x101) * k / 0xFFFF) >> 8)
		q[1] = uint8(((0xFFFF - uint32(p[1])*0x101) * k / 0xFFFF) >> 8)
		q[2] = uint8(((0xFFFF - uint32(p[2])*0x101) * k / 0xFFFF) >> 8)
		q[3] = 0xFF
	}
}
