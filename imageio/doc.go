// Package imageio is the image front end for untrusted input: it recognises
// JPEG, PNG, GIF and WebP by their magic bytes (never by a name), checks the
// byte size and the header's pixel dimensions against Limits before any
// full decode, decodes, applies the EXIF orientation found in JPEG APP1,
// PNG eXIf or WebP EXIF metadata, and returns every image as an
// *image.NRGBA whose bounds start at (0, 0).
//
// Animated GIF and WebP give their first frame, placed on a transparent
// canvas of the file's logical size. Lossy WebP is converted as the
// limited-range BT.601 it is (golang.org/x/image/webp hands it over as
// full-range Y'CbCr, which would wash out blacks and whites).
//
// Every error is a *faceswap.Error: status 400 with a one-sentence public
// message for empty, unrecognised, corrupt, truncated or unsupported images,
// 413 for images over the byte or pixel limit, and 500 for invalid Limits.
// No input makes it panic: the decoders run under recover as a last line of
// defence, and a recovered panic becomes a 400.
//
// Encode writes JPEG, PNG and WebP for responses.
//
// JPEG goes through libjpeg-turbo (package turbojpeg) in builds with cgo,
// about three times faster than image/jpeg both ways; image/jpeg remains
// the codec of CGO_ENABLED=0 builds, and decodes what libjpeg-turbo leaves
// to it (CMYK, and arithmetic, lossless or hierarchical coding, which it
// refuses with a precise message) or fails on (libjpeg-turbo is run
// strictly: a warning is an error), so no file decodes in one build and
// not the other that image/jpeg accepts.
package imageio
