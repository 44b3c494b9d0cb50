// Package imageio is the image front end for untrusted input: it recognises
// JPEG, PNG, GIF and WebP by their magic bytes, checks the byte size and the
// pixel dimensions against Limits before any full decode, decodes (the first
// frame of a GIF), applies the EXIF orientation found in JPEG APP1, PNG eXIf
// or WebP EXIF metadata, and returns every image as an *image.NRGBA whose
// bounds start at (0, 0).
//
// Every error it returns is a *faceswap.Error: status 400 with a one-sentence
// public message for empty, unrecognised, corrupt or truncated images, and
// status 413 for images over the byte or pixel limit. No input makes it
// panic: the decoders run under recover as a last line of defence, and a
// recovered panic becomes a 400.
//
// Encode writes JPEG and PNG for the responses.
package imageio
