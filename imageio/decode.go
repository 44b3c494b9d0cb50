package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"

	"faceswap"

	"golang.org/x/image/webp"
)

// Info describes a decoded (or about to be decoded) image.
type Info struct {
	Format      string // "jpeg", "png", "gif" or "webp"
	Width       int    // after the EXIF orientation is applied
	Height      int    // after the EXIF orientation is applied
	Orientation int    // EXIF orientation 1-8; 1 when the file has none
}

// errPanic marks the cause of an error made from a recovered panic.
var errPanic = errors.New("imageio: recovered panic")

// Format names as they appear in Info.Format.
const (
	formatJPEG = "jpeg"
	formatPNG  = "png"
	formatGIF  = "gif"
	formatWebP = "webp"
)

// displayName is the format's name as written in public messages.
func displayName(format string) string {
	switch format {
	case formatWebP:
		return "WebP"
	case "":
		return "image"
	}
	return strings.ToUpper(format)
}

// sniff recognises the format from the magic bytes at the start of data.
func sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return formatJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return formatGIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return formatWebP
	}
	return ""
}

// DecodeConfig checks data the way Decode does, up to and including the
// dimension limits, without decoding the pixels. The Info it returns is the
// one Decode would return.
func DecodeConfig(data []byte, lim Limits) (info Info, err error) {
	defer recoverTo(&err, "")
	info, _, err = header(data, lim)
	return info, err
}

// Decode checks data against lim, decodes it, applies its EXIF orientation
// and returns it as an *image.NRGBA with bounds (0, 0)-(Width, Height).
// See the package documentation for the errors.
func Decode(data []byte, lim Limits) (img *image.NRGBA, info Info, err error) {
	defer recoverDecode(&img, &info, &err)
	info, stored, err := header(data, lim)
	if err != nil {
		return nil, Info{}, err
	}
	var out *image.NRGBA
	switch info.Format {
	case formatWebP:
		out, err = decodeWebP(data, stored)
	case formatGIF:
		var m image.Image
		if m, err = decodeFull(info.Format, data); err == nil {
			out = onCanvas(m, m.Bounds(), stored, false)
		}
	default:
		var ok bool
		if info.Format == formatJPEG {
			if out, ok = decodeJPEGFast(data, stored); ok {
				break
			}
		}
		var m image.Image
		if m, err = decodeFull(info.Format, data); err == nil {
			out = toNRGBA(m)
		}
	}
	if err != nil {
		return nil, Info{}, decodeError(info.Format, data, err)
	}
	if out.Rect.Dx() != stored.X || out.Rect.Dy() != stored.Y {
		// The decoders keep to the header they read; this is a guard.
		return nil, Info{}, faceswap.Errorf(http.StatusBadRequest,
			"The image could not be decoded: the %s data is corrupt.", displayName(info.Format))
	}
	out = orient(out, info.Orientation)
	return out, info, nil
}

// recoverTo, deferred, turns a panic in progress into a 400 stored in *err.
func recoverTo(err *error, format string) {
	if r := recover(); r != nil {
		*err = panicError(r, format)
	}
}

// recoverDecode is recoverTo for Decode's results.
func recoverDecode(img **image.NRGBA, info *Info, err *error) {
	if r := recover(); r != nil {
		*err = panicError(r, info.Format)
		*img, *info = nil, Info{}
	}
}

func panicError(r any, format string) error {
	return faceswap.Wrap(http.StatusBadRequest, fmt.Errorf("%w: %v", errPanic, r),
		"The image could not be decoded: the %s data is corrupt.", displayName(format))
}

// header does every check that needs no full decode. It returns the Info
// and the stored (pre-orientation) width and height.
func header(data []byte, lim Limits) (Info, image.Point, error) {
	if err := lim.Validate(); err != nil {
		return Info{}, image.Point{}, faceswap.Wrap(http.StatusInternalServerError, err,
			"The server's image limits are misconfigured.")
	}
	if len(data) == 0 {
		return Info{}, image.Point{}, faceswap.Errorf(http.StatusBadRequest, "The image is empty (0 bytes).")
	}
	if int64(len(data)) > lim.MaxBytes {
		return Info{}, image.Point{}, faceswap.Errorf(http.StatusRequestEntityTooLarge,
			"The image is %s, over the limit of %s.", faceswap.FormatBytes(int64(len(data))), faceswap.FormatBytes(lim.MaxBytes))
	}
	format := sniff(data)
	if format == "" {
		return Info{}, image.Point{}, faceswap.Errorf(http.StatusBadRequest,
			"The image could not be decoded: unsupported format (expected JPEG, PNG, WebP or GIF).")
	}
	cfg, err := decodeHeader(format, data)
	if err != nil {
		return Info{}, image.Point{}, decodeError(format, data, err)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return Info{}, image.Point{}, faceswap.Errorf(http.StatusBadRequest,
			"The image could not be decoded: the %s header gives no pixels (%dx%d).", displayName(format), w, h)
	}
	if w*h > lim.MaxPixels {
		return Info{}, image.Point{}, faceswap.Errorf(http.StatusRequestEntityTooLarge,
			"The image is %dx%d pixels (%s), over the limit of %s.",
			w, h, formatPixels(w*h, false), formatPixels(lim.MaxPixels, true))
	}
	if w > MaxSide || h > MaxSide {
		return Info{}, image.Point{}, faceswap.Errorf(http.StatusRequestEntityTooLarge,
			"The image is %dx%d pixels; each side may be at most %d pixels.", w, h, MaxSide)
	}
	if format == formatJPEG {
		if n := jpegScans(data, MaxJPEGScans); n > MaxJPEGScans {
			return Info{}, image.Point{}, faceswap.Errorf(http.StatusBadRequest,
				"The image could not be decoded: this JPEG has more than %d scans (a decompression bomb, or a broken encoder).", MaxJPEGScans)
		}
	}
	info := Info{Format: format, Width: cfg.Width, Height: cfg.Height, Orientation: orientationOf(format, data)}
	if info.Orientation >= 5 {
		info.Width, info.Height = info.Height, info.Width
	}
	return info, image.Pt(cfg.Width, cfg.Height), nil
}

// decoders are the standard library's and x/image's decoders by format:
// the header's and the pixels' (the first frame of a GIF).
var decoders = map[string]struct {
	header func(io.Reader) (image.Config, error)
	full   func(io.Reader) (image.Image, error)
}{
	formatJPEG: {jpeg.DecodeConfig, jpeg.Decode},
	formatPNG:  {png.DecodeConfig, png.Decode},
	formatGIF:  {gif.DecodeConfig, gif.Decode},
	formatWebP: {webp.DecodeConfig, webp.Decode},
}

// decodeHeader reads the format's header only.
func decodeHeader(format string, data []byte) (image.Config, error) {
	d, ok := decoders[format]
	if !ok {
		return image.Config{}, fmt.Errorf("imageio: no decoder for %q", format)
	}
	return guarded(format, data, d.header)
}

// decodeFull decodes the pixels (the first frame of a GIF).
func decodeFull(format string, data []byte) (image.Image, error) {
	d, ok := decoders[format]
	if !ok {
		return nil, fmt.Errorf("imageio: no decoder for %q", format)
	}
	return guarded(format, data, d.full)
}

// guarded runs a decoder on data, turning a panic into an error and marking
// an error that came after the decoder asked for more than there is.
func guarded[T any](format string, data []byte, decode func(io.Reader) (T, error)) (v T, err error) {
	defer recoverTo(&err, format)
	r := &endReader{r: bytes.NewReader(data)}
	defer r.mark(&err)
	return decode(r)
}

// decodeError turns a decoder's error into a 400 with a public sentence.
func decodeError(format string, data []byte, err error) error {
	var fe *faceswap.Error
	if errors.As(err, &fe) {
		return err // already public (a recovered panic)
	}
	name := displayName(format)
	var je jpeg.UnsupportedError
	var pe png.UnsupportedError
	switch {
	case errors.As(err, &je) && jpegCoding(data) != "":
		return faceswap.Wrap(http.StatusBadRequest, err,
			"The image could not be decoded: this JPEG uses %s, which is not supported.", jpegCoding(data))
	case errors.As(err, &je), errors.As(err, &pe):
		// The decoder's words for the feature go to the log (err).
		return faceswap.Wrap(http.StatusBadRequest, err,
			"The image could not be decoded: this %s uses a feature that is not supported.", name)
	case truncated(err):
		return faceswap.Wrap(http.StatusBadRequest, err,
			"The image could not be decoded: the %s data is truncated.", name)
	}
	return faceswap.Wrap(http.StatusBadRequest, err,
		"The image could not be decoded: the %s data is corrupt.", name)
}

// truncated reports whether the data ended early: the decoder said so with
// io.EOF or io.ErrUnexpectedEOF, or it failed after asking for more than
// there was (errEnded), whatever it called the failure.
func truncated(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errEnded)
}

// errEnded marks a decoder's failure after it had read to the end of the
// data.
var errEnded = errors.New("imageio: the decoder asked for more data than there is")

// endReader hands a decoder the data and notes whether it asked for more
// than there is. It has only Read (no ReadByte), so every byte a decoder
// takes comes through it.
type endReader struct {
	r     *bytes.Reader
	ended bool
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF && len(p) > 0 {
		e.ended = true
	}
	return n, err
}

// mark, deferred, marks *err with errEnded when the decoder failed after
// reading to the end.
func (e *endReader) mark(err *error) {
	if *err != nil && e.ended {
		*err = fmt.Errorf("%w: %w", errEnded, *err)
	}
}

// onCanvas places a frame (the first of a GIF or an animated WebP) at its
// place on a transparent canvas of the given size, as a browser shows it.
// A frame that does not fit leaves the canvas empty; the callers check.
func onCanvas(m image.Image, at image.Rectangle, size image.Point, limited bool) *image.NRGBA {
	canvas := image.Rect(0, 0, size.X, size.Y)
	if at == canvas && m.Bounds().Size() == size {
		return toNRGBARange(m, limited)
	}
	out := image.NewNRGBA(canvas)
	if at.Empty() || !at.In(canvas) || m.Bounds().Size() != at.Size() {
		return out
	}
	convertRange(out.SubImage(at).(*image.NRGBA), m, limited)
	return out
}
