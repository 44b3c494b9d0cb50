package imageio

import (
	"bytes"
	"encoding/binary"
)

// orientationOf returns the EXIF orientation (1-8) stored in data's
// metadata, or 1 when there is none or it cannot be read.
func orientationOf(format string, data []byte) int {
	var tiff []byte
	switch format {
	case formatJPEG:
		tiff = jpegExif(data)
	case formatPNG:
		tiff = pngExif(data)
	case formatWebP:
		tiff = webpExif(data)
	}
	return tiffOrientation(tiff)
}

// exifHeader starts the payload of a JPEG APP1 Exif segment; some writers
// copy it into PNG eXIf and WebP EXIF chunks too.
var exifHeader = []byte("Exif\x00")

// stripExifHeader drops a leading "Exif\0\0" (or "Exif\0" plus any byte).
func stripExifHeader(b []byte) []byte {
	if len(b) >= 6 && bytes.HasPrefix(b, exifHeader) {
		return b[6:]
	}
	return b
}

// jpegExif returns the TIFF structure of the first APP1 Exif segment that
// comes before the first scan, or nil.
func jpegExif(b []byte) []byte {
	var tiff []byte
	jpegSegments(b, func(m byte, seg []byte) bool {
		if m == 0xE1 && len(seg) >= 6 && bytes.HasPrefix(seg, exifHeader) {
			tiff = seg[6:]
			return false
		}
		return true
	})
	return tiff
}

// jpegSegments calls fn with each marker segment's marker and content (the
// bytes after the length) up to the first scan, while fn returns true. It
// stops quietly at anything malformed.
func jpegSegments(b []byte, fn func(marker byte, seg []byte) bool) {
	jpegWalk(b, func(m byte, seg []byte) bool { return m != 0xDA && fn(m, seg) })
}

// jpegCoding names the coding process of a JPEG frame that Go's decoder
// does not support ("arithmetic coding", ...), or returns "".
func jpegCoding(b []byte) string {
	var kind string
	jpegSegments(b, func(m byte, _ []byte) bool {
		switch m {
		case 0xC3:
			kind = "lossless coding"
		case 0xC5, 0xC6, 0xC7:
			kind = "hierarchical coding"
		case 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			kind = "arithmetic coding"
		default:
			return true
		}
		return false
	})
	return kind
}

// pngExif returns the content of the first eXIf chunk, or nil.
func pngExif(b []byte) []byte {
	const sigLen = 8
	i := sigLen
	for i+8 <= len(b) {
		n := binary.BigEndian.Uint32(b[i:])
		typ := string(b[i+4 : i+8])
		i += 8
		if uint64(n) > uint64(len(b)-i) {
			return nil
		}
		if typ == "eXIf" {
			return stripExifHeader(b[i : i+int(n)])
		}
		if typ == "IEND" {
			return nil
		}
		i += int(n)
		if len(b)-i < 4 {
			return nil
		}
		i += 4 // CRC
	}
	return nil
}

// webpExif returns the content of the first EXIF chunk of a RIFF WebP file,
// or nil.
func webpExif(b []byte) []byte {
	var tiff []byte
	webpChunks(b, func(fourcc string, data []byte) bool {
		if fourcc == "EXIF" {
			tiff = stripExifHeader(data)
			return false
		}
		return true
	})
	return tiff
}

// webpChunks calls fn with the FourCC and content of each top-level chunk
// of a RIFF WebP file while fn returns true. It stops quietly at anything
// malformed.
func webpChunks(b []byte, fn func(fourcc string, data []byte) bool) {
	if len(b) < 12 {
		return
	}
	i := 12 // "RIFF", size, "WEBP"
	for i+8 <= len(b) {
		fourcc := string(b[i : i+4])
		n := binary.LittleEndian.Uint32(b[i+4:])
		i += 8
		if uint64(n) > uint64(len(b)-i) {
			return
		}
		if !fn(fourcc, b[i:i+int(n)]) {
			return
		}
		i += int(n)
		if n%2 == 1 { // chunks are padded to an even size
			i++
		}
	}
}

// tiffOrientation reads tag 0x0112 (Orientation) from IFD0 of the TIFF
// structure b, in either byte order. It returns 1 when b is not TIFF, when
// the tag is absent or malformed, or when its value is outside 1-8.
func tiffOrientation(b []byte) int {
	if len(b) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := uint64(bo.Uint32(b[4:]))
	if ifd < 8 || ifd+2 > uint64(len(b)) {
		return 1
	}
	count := int(bo.Uint16(b[ifd:]))
	p := int(ifd) + 2
	for k := 0; k < count; k++ {
		e := p + 12*k
		if e+12 > len(b) {
			return 1
		}
		if bo.Uint16(b[e:]) != 0x0112 {
			continue
		}
		typ, n := bo.Uint16(b[e+2:]), bo.Uint32(b[e+4:])
		if n < 1 {
			return 1
		}
		var v uint32
		switch typ {
		case 3: // SHORT, left-justified in the 4-byte value field
			v = uint32(bo.Uint16(b[e+8:]))
		case 4: // LONG
			v = bo.Uint32(b[e+8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
