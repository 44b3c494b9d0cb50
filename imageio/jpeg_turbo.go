//go:build cgo

package imageio

import (
	"image"

	"faceswap/turbojpeg"
)

// jpegBackend names the JPEG codec of this build (see JPEGBackend).
const jpegBackend = "libjpeg-turbo"

// decodeJPEGFast decodes a JPEG of the given stored size with
// libjpeg-turbo. ok is false when it leaves the file to image/jpeg: a
// coding image/jpeg refuses with a precise message (arithmetic, lossless,
// hierarchical), CMYK and YCCK (whose Adobe conventions image/jpeg
// handles), and any file libjpeg-turbo fails on, so that image/jpeg either
// decodes it (libjpeg-turbo is stricter about warnings) or says what is
// wrong in the words the pure-Go build uses (and whether the data ended
// early, which decodeFull sees).
func decodeJPEGFast(data []byte, size image.Point) (img *image.NRGBA, ok bool) {
	if jpegCoding(data) != "" {
		return nil, false
	}
	h, err := turbojpeg.DecodeHeader(data)
	if err != nil || h.Width != size.X || h.Height != size.Y ||
		(h.Colorspace != turbojpeg.YCbCr && h.Colorspace != turbojpeg.Gray && h.Colorspace != turbojpeg.RGB) {
		return nil, false
	}
	out := image.NewNRGBA(image.Rect(0, 0, size.X, size.Y))
	if err := turbojpeg.DecodeRGBA(data, out.Pix, size.X, size.Y, out.Stride); err != nil {
		return nil, false
	}
	return out, true
}

// encodeJPEGFast encodes opaque RGBA pixels with libjpeg-turbo (4:2:0, as
// image/jpeg writes). ok is false when this build has no fast encoder.
func encodeJPEGFast(m *image.RGBA, quality int) (data []byte, ok bool, err error) {
	b := m.Rect
	pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y):]
	data, err = turbojpeg.EncodeRGBA(pix, b.Dx(), b.Dy(), m.Stride, quality)
	return data, true, err
}
