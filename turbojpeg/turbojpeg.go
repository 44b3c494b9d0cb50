// Package turbojpeg decodes and encodes JPEG with libjpeg-turbo through its
// TurboJPEG API (Debian: libturbojpeg0-dev, installed by set-up). It is a
// cgo leaf package, like onnx: imageio uses it when the binary is built
// with cgo, and keeps Go's image/jpeg as the fallback (CGO_ENABLED=0, or a
// JPEG this package leaves to it).
//
// On a 1280×853 photo libjpeg-turbo decodes in about 5 ms and encodes at
// quality 95 in about 6 ms, where image/jpeg takes about 14 and 20 ms.
//
// Decoding is strict, for untrusted input: warnings (truncated or corrupt
// data) are errors, and a progressive JPEG may have at most 500 scans
// (libjpeg-turbo's guard against scan-count bombs). Chroma is upsampled by
// replication, as image/jpeg does, so both paths give nearly the same
// pixels. The functions are safe for concurrent use: each call has its own
// TurboJPEG handle, and no C memory outlives a call.
package turbojpeg

// #cgo LDFLAGS: -lturbojpeg
// #include <stdlib.h>
// #include <turbojpeg.h>
//
// // The flags of every decompression: strict about corrupt data, bounded
// // progressive scans, chroma replicated.
// #define FS_DECODE_FLAGS (TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_FASTUPSAMPLE)
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Colorspaces of a JPEG's stored data.
const (
	RGB   = C.TJCS_RGB
	YCbCr = C.TJCS_YCbCr
	Gray  = C.TJCS_GRAY
	CMYK  = C.TJCS_CMYK
	YCCK  = C.TJCS_YCCK
)

// Header is what a JPEG's header says.
type Header struct {
	Width, Height int
	Colorspace    int // one of RGB, YCbCr, Gray, CMYK, YCCK
}

// Error is a failure reported by libjpeg-turbo.
type Error struct {
	Op  string // "header", "decode" or "encode"
	Msg string // libjpeg-turbo's message
}

func (e *Error) Error() string { return "turbojpeg: " + e.Op + ": " + e.Msg }

// maxInt is the largest value of a C int, which sizes and strides must fit.
const maxInt = 1<<31 - 1

// lastError reads the handle's message. libjpeg-turbo keeps the message of
// a warning (a truncated file, with stop-on-warning) in a thread-local
// buffer rather than in the handle, so every function here locks its
// goroutine to its OS thread from the first libjpeg-turbo call to this one:
// otherwise the goroutine may move between the two calls and read another
// thread's message (seen under load: a truncated JPEG reported as corrupt).
func lastError(op string, h C.tjhandle) error {
	return &Error{Op: op, Msg: C.GoString(C.tjGetErrorStr2(h))}
}

// DecodeHeader reads the header of a JPEG.
func DecodeHeader(data []byte) (Header, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if len(data) == 0 || len(data) > maxInt {
		return Header{}, &Error{Op: "header", Msg: fmt.Sprintf("%d bytes of data", len(data))}
	}
	h := C.tjInitDecompress()
	if h == nil {
		return Header{}, errors.New("turbojpeg: cannot create a decompressor")
	}
	defer C.tjDestroy(h)
	var w, ht, sub, cs C.int
	if C.tjDecompressHeader3(h, (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), &w, &ht, &sub, &cs) != 0 {
		return Header{}, lastError("header", h)
	}
	return Header{Width: int(w), Height: int(ht), Colorspace: int(cs)}, nil
}

// DecodeRGBA decodes data into pix as 8-bit RGBA rows of stride bytes
// (alpha 255), which must hold width×height pixels of the header. The
// caller checks the header first (DecodeHeader) and sizes pix from it.
// CMYK and YCCK JPEGs are refused (libjpeg-turbo cannot convert them to RGB).
func DecodeRGBA(data []byte, pix []byte, width, height, stride int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if len(data) == 0 || len(data) > maxInt {
		return &Error{Op: "decode", Msg: fmt.Sprintf("%d bytes of data", len(data))}
	}
	if width <= 0 || height <= 0 || stride < 4*width || stride > maxInt || len(pix) < stride*(height-1)+4*width {
		return fmt.Errorf("turbojpeg: decode: a %d-byte buffer of stride %d cannot hold %dx%d RGBA", len(pix), stride, width, height)
	}
	h := C.tjInitDecompress()
	if h == nil {
		return errors.New("turbojpeg: cannot create a decompressor")
	}
	defer C.tjDestroy(h)
	var w, ht, sub, cs C.int
	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	if C.tjDecompressHeader3(h, src, C.ulong(len(data)), &w, &ht, &sub, &cs) != 0 {
		return lastError("decode", h)
	}
	if int(w) != width || int(ht) != height {
		return &Error{Op: "decode", Msg: fmt.Sprintf("the header says %dx%d, not %dx%d", w, ht, width, height)}
	}
	if cs == C.TJCS_CMYK || cs == C.TJCS_YCCK {
		return &Error{Op: "decode", Msg: "CMYK and YCCK JPEGs are not converted to RGB"}
	}
	if C.tjDecompress2(h, src, C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&pix[0])),
		w, C.int(stride), ht, C.TJPF_RGBA, C.FS_DECODE_FLAGS) != 0 {
		return lastError("decode", h)
	}
	return nil
}

// EncodeRGBA encodes width×height pixels of 8-bit RGBA rows of stride bytes
// (alpha ignored: the caller composites non-opaque pixels first) as a
// baseline JPEG with 4:2:0 chroma, as image/jpeg writes, at quality 1-100.
func EncodeRGBA(pix []byte, width, height, stride, quality int) ([]byte, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if width <= 0 || height <= 0 || width > 65535 || height > 65535 || stride < 4*width || stride > maxInt ||
		len(pix) < stride*(height-1)+4*width {
		return nil, fmt.Errorf("turbojpeg: encode: a %d-byte buffer of stride %d does not hold %dx%d RGBA", len(pix), stride, width, height)
	}
	if quality < 1 || quality > 100 {
		return nil, fmt.Errorf("turbojpeg: encode: quality %d is outside 1-100", quality)
	}
	h := C.tjInitCompress()
	if h == nil {
		return nil, errors.New("turbojpeg: cannot create a compressor")
	}
	defer C.tjDestroy(h)
	var out *C.uchar
	var size C.ulong
	if C.tjCompress2(h, (*C.uchar)(unsafe.Pointer(&pix[0])), C.int(width), C.int(stride), C.int(height), C.TJPF_RGBA,
		&out, &size, C.TJSAMP_420, C.int(quality), 0) != 0 {
		if out != nil {
			C.tjFree(out)
		}
		return nil, lastError("encode", h)
	}
	defer C.tjFree(out)
	return C.GoBytes(unsafe.Pointer(out), C.int(size)), nil
}
