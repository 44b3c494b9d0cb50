//go:build !cgo

package imageio

import "image"

// jpegBackend names the JPEG codec of this build (see JPEGBackend).
const jpegBackend = "image/jpeg"

// decodeJPEGFast has no fast decoder to offer without cgo.
func decodeJPEGFast([]byte, image.Point) (*image.NRGBA, bool) { return nil, false }

// encodeJPEGFast has no fast encoder to offer without cgo.
func encodeJPEGFast(*image.RGBA, int) ([]byte, bool, error) { return nil, false, nil }
