package imageio

import (
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"

	"faceswap"
)

// Encode writes img to w as "jpeg" (or "jpg") or "png". quality (1-100)
// applies to JPEG only. JPEG has no alpha channel: the colour of an
// *image.NRGBA is written as it is and its alpha is dropped. "webp" is a
// known format whose output is not available: it gives a 400.
func Encode(w io.Writer, img image.Image, format string, quality int) error {
	switch strings.ToLower(format) {
	case "jpeg", "jpg":
		if quality < 1 || quality > 100 {
			return faceswap.Errorf(http.StatusBadRequest,
				"The image quality must be between 1 and 100, not %d.", quality)
		}
		if err := jpeg.Encode(w, jpegSource(img), &jpeg.Options{Quality: quality}); err != nil {
			return faceswap.Wrap(http.StatusInternalServerError, err, "The result image could not be encoded as JPEG.")
		}
		return nil
	case "png":
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		if err := enc.Encode(w, img); err != nil {
			return faceswap.Wrap(http.StatusInternalServerError, err, "The result image could not be encoded as PNG.")
		}
		return nil
	case "webp":
		return faceswap.Errorf(http.StatusBadRequest, "WebP output is not available yet; choose jpeg or png.")
	}
	return faceswap.Errorf(http.StatusBadRequest, "Unknown output format %q (expected jpeg, png or webp).", format)
}

// jpegSource presents an *image.NRGBA to the JPEG encoder as an
// *image.RGBA over the same bytes: the encoder has a fast path for RGBA,
// reads only the colour bytes, and so drops alpha without compositing.
func jpegSource(img image.Image) image.Image {
	if m, ok := img.(*image.NRGBA); ok {
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	return img
}
