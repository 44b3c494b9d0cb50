package imageio

import (
	"image"
	"io"

	"github.com/gen2brain/webp"
)

// WebP output uses github.com/gen2brain/webp: libwebp 1.4.0 compiled to
// WebAssembly and run by wazero, so it needs no cgo and nothing outside the
// Go module cache. When the process can dlopen a system "libwebp.so" (on
// Debian that name comes only with libwebp-dev) the module calls that
// instead through purego, even in a CGO_ENABLED=0 build. Both are libwebp
// driven with the same settings, so the output is the same kind of file
// (on the test photo even the same size); the system library is about
// twice as fast. Building with -tags nodynamic keeps the WebAssembly path
// always; WebPBackend tells which one is in use.

// webpMethod is libwebp's speed/size trade-off (0 fast … 6 slow). Method 2
// skips the rate-distortion passes of methods 3 and up: on a 1280x853 photo
// at quality 95 it encodes about 3x faster than libwebp's default of 4
// under WebAssembly (~0.15 s against ~0.45 s), for a file within 1% of the
// same size and a mean error of 1.0 rather than 0.9 levels.
const webpMethod = 2

// encodeWebP writes img as a lossy WebP (VP8, plus a losslessly compressed
// ALPH chunk when some pixel is not opaque; libwebp decides that from the
// pixels).
func encodeWebP(w io.Writer, img image.Image, quality int) (err error) {
	defer recoverEncode(&err)
	m := toNRGBA(img)
	// The encoder reads Pix as exactly width*height tightly packed pixels.
	n := 4 * m.Rect.Dx() * m.Rect.Dy()
	tight := &image.NRGBA{Pix: m.Pix[:n:n], Stride: 4 * m.Rect.Dx(), Rect: m.Rect}
	return webp.Encode(w, tight, webp.Options{Quality: quality, Method: webpMethod})
}

// WebPBackend says which libwebp writes WebP output: "wasm" (the one built
// into the binary, run by wazero) or "system" (a libwebp.so found on the
// machine). Worth a line in the start-up log.
func WebPBackend() string {
	if webp.Dynamic() == nil {
		return "system"
	}
	return "wasm"
}

// InitWebP prepares the WebP encoder: on the WebAssembly path it compiles
// the module (a few hundred milliseconds, once per process), which the
// first WebP Encode would otherwise pay for. It is safe to call from a
// goroutine at start-up, concurrently with Encode; calling it is optional.
func InitWebP() { webp.Init() }
