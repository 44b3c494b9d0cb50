package imageio

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"

	"faceswap"
)

// Output encoding limits and default, as in the API's image_quality field.
const (
	MinQuality     = 10  // lowest image_quality accepted for JPEG and WebP
	MaxQuality     = 100 // highest image_quality
	DefaultQuality = 95  // image_quality when the request has none
)

// OutputFormats are the image_format values Encode writes, in the order
// public messages list them. "jpg" is accepted as another name of "jpeg".
var OutputFormats = []string{formatJPEG, formatPNG, formatWebP}

// pngLevel is the deflate effort of PNG output. PNG is lossless at every
// level; on the 1280×853 office photo BestSpeed writes 1.24 MB where the
// default level writes 1.04 MB (19% more), about 6 times faster.
const pngLevel = png.BestSpeed

// maxWebPSide is the largest width or height a WebP file can hold (14 bits).
const maxWebPSide = 16383

// ParseOutput checks an image_format and image_quality pair the way Encode
// does, so a request can be refused before any work is done. It returns the
// canonical format name ("jpeg", "png" or "webp"; matching is
// case-insensitive and "jpg" means "jpeg"). quality must be within
// MinQuality-MaxQuality for JPEG and WebP; PNG ignores it.
//
// Errors are *faceswap.Error with status 400, e.g.
// `image_format "bmp" is not one of jpeg, png, webp.` or
// `image_quality 5 is outside 10-100.`
func ParseOutput(format string, quality int) (string, error) {
	f := canonicalFormat(format)
	if f == "" {
		return "", faceswap.Errorf(http.StatusBadRequest,
			"image_format %q is not one of %s.", format, strings.Join(OutputFormats, ", "))
	}
	if f != formatPNG && (quality < MinQuality || quality > MaxQuality) {
		return "", faceswap.Errorf(http.StatusBadRequest,
			"image_quality %d is outside %d-%d.", quality, MinQuality, MaxQuality)
	}
	return f, nil
}

// canonicalFormat returns the canonical name of an output format, or "".
func canonicalFormat(format string) string {
	switch strings.ToLower(format) {
	case "jpeg", "jpg":
		return formatJPEG
	case "png":
		return formatPNG
	case "webp":
		return formatWebP
	}
	return ""
}

// outputNames are each output format's MIME type and usual file name
// extension.
var outputNames = map[string]struct{ contentType, ext string }{
	formatJPEG: {"image/jpeg", ".jpg"},
	formatPNG:  {"image/png", ".png"},
	formatWebP: {"image/webp", ".webp"},
}

// ContentType returns the MIME type of an output format ("image/jpeg",
// "image/png" or "image/webp"), or "" for a format Encode does not write.
func ContentType(format string) string { return outputNames[canonicalFormat(format)].contentType }

// Ext returns the usual file name extension of an output format, with its
// dot (".jpg", ".png" or ".webp"), or "" for a format Encode does not write.
func Ext(format string) string { return outputNames[canonicalFormat(format)].ext }

// Encode writes img to w as format: "jpeg" (or "jpg"), "png" or "webp",
// matched case-insensitively. quality (MinQuality-MaxQuality) sets the JPEG
// and WebP quality; PNG is lossless and ignores it.
//
//   - JPEG has no alpha channel: pixels that are not opaque are composited
//     onto white, which is how the image looks on a white page or in a
//     viewer. (The colour stored under a transparent pixel is arbitrary —
//     often black — so dropping alpha would show whatever happened to be
//     there.) Opaque images are encoded as they are.
//   - PNG keeps every pixel, alpha included.
//   - WebP is always lossy (VP8) at the given quality, so quality 100 is
//     near-lossless rather than lossless; an image with any pixel that is
//     not fully opaque keeps its alpha channel (compressed losslessly), an
//     opaque one is written without one. WebP holds at most 16383 pixels
//     per side: a larger image is a 400 naming jpeg and png instead.
//
// Argument errors are *faceswap.Error 400 (see ParseOutput); failures of
// the encoder or of w are *faceswap.Error 500. Nothing is written to w when
// the arguments are refused.
func Encode(w io.Writer, img image.Image, format string, quality int) error {
	f, err := ParseOutput(format, quality)
	if err != nil {
		return err
	}
	b := img.Bounds()
	if b.Empty() {
		return faceswap.Errorf(http.StatusInternalServerError, "The result image is empty (%dx%d pixels).", b.Dx(), b.Dy())
	}
	switch f {
	case formatJPEG:
		if err := encodeJPEG(w, jpegSource(img), quality); err != nil {
			return faceswap.Wrap(http.StatusInternalServerError, err, "The result image could not be encoded as JPEG.")
		}
	case formatPNG:
		enc := png.Encoder{CompressionLevel: pngLevel}
		if err := enc.Encode(w, img); err != nil {
			return faceswap.Wrap(http.StatusInternalServerError, err, "The result image could not be encoded as PNG.")
		}
	case formatWebP:
		if b.Dx() > maxWebPSide || b.Dy() > maxWebPSide {
			return faceswap.Errorf(http.StatusBadRequest,
				"The result image is %dx%d pixels, but WebP holds at most %d pixels per side; choose jpeg or png.",
				b.Dx(), b.Dy(), maxWebPSide)
		}
		if err := encodeWebP(w, img, quality); err != nil {
			return faceswap.Wrap(http.StatusInternalServerError, err, "The result image could not be encoded as WebP.")
		}
	}
	return nil
}

// encodeJPEG writes m as a JPEG at quality: with libjpeg-turbo when the
// build has it (cgo), else with image/jpeg. Both write baseline 4:2:0.
func encodeJPEG(w io.Writer, m image.Image, quality int) error {
	if rgba, ok := m.(*image.RGBA); ok {
		if data, ok, err := encodeJPEGFast(rgba, quality); ok {
			if err != nil {
				return err
			}
			_, err = w.Write(data)
			return err
		}
	}
	return jpeg.Encode(w, m, &jpeg.Options{Quality: quality})
}

// JPEGBackend says which codec decodes and encodes JPEG: "libjpeg-turbo"
// (builds with cgo) or "image/jpeg" (CGO_ENABLED=0). Worth a line in the
// start-up log.
func JPEGBackend() string { return jpegBackend }

// jpegSource returns what the JPEG encoder should see for img: img itself
// when it is opaque (an opaque *image.NRGBA is shown as an *image.RGBA over
// the same bytes, the encoder's fast path, which is exact when every alpha
// is 255), otherwise a copy composited onto white.
func jpegSource(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		if m, ok := img.(*image.NRGBA); ok {
			return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
		}
		return img
	}
	return onWhite(toNRGBA(img))
}

// onWhite composites src over an opaque white background.
func onWhite(src *image.NRGBA) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		s := src.Pix[y*src.Stride : y*src.Stride+4*w]
		d := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for i := 0; i < len(s); i += 4 {
			a := uint32(s[i+3])
			bg := 255 * (255 - a)
			d[i+0] = uint8((uint32(s[i+0])*a + bg + 127) / 255)
			d[i+1] = uint8((uint32(s[i+1])*a + bg + 127) / 255)
			d[i+2] = uint8((uint32(s[i+2])*a + bg + 127) / 255)
			d[i+3] = 255
		}
	}
	return dst
}

// recoverEncode, deferred, turns a panic in an encoder into an error in
// *err (which Encode reports as a 500).
func recoverEncode(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", errPanic, r)
	}
}
