//go:build cgo

package imageio

import (
	"errors"
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
// wrong in the words the pure-Go build uses.
//
// truncated says libjpeg-turbo found the data to end early, which
// image/jpeg, reading past the end into garbage, may report as corruption.
func decodeJPEGFast(data []byte, size image.Point) (img *image.NRGBA, ok, truncated bool) {
	if jpegCoding(data) != "" {
		return nil, false, false
	}
	h, err := turbojpeg.DecodeHeader(data)
	if err != nil || h.Width != size.X || h.Height != size.Y ||
		(h.Colorspace != turbojpeg.YCbCr && h.Colorspace != turbojpeg.Gray && h.Colorspace != turbojpeg.RGB) {
		return nil, false, false
	}
	out := image.NewNRGBA(image.Rect(0, 0, size.X, size.Y))
	if err := turbojpeg.DecodeRGBA(data, out.Pix, size.X, size.Y, out.Stride); err != nil {
		var te *turbojpeg.Error
		return nil, false, errors.As(err, &te) && te.Truncated()
	}
	return out, true, false
}

// encodeJPEGFast encodes opaque RGBA pixels with libjpeg-turbo (4:2:0, as
// image/jpeg writes). ok is false when this build has no fast encoder.
func encodeJPEGFast(m *image.RGBA, quality int) (data []byte, ok bool, err error) {
	b := m.Rect
	pix := m.Pix[m.PixOffset(b.Min.X, b.Min.Y):]
	data, err = turbojpeg.EncodeRGBA(pix, b.Dx(), b.Dy(), m.Stride, quality)
	return data, true, err
}
