package imageio

// MaxJPEGScans is the most scans a JPEG may have. A progressive JPEG
// refines the whole picture once per scan, so thousands of tiny scans make
// a small file take minutes to decode; encoders write about ten. 500 is
// libjpeg-turbo's own limit for untrusted input.
const MaxJPEGScans = 500

// jpegScans counts the scans (SOS markers) of a JPEG in one pass over the
// bytes. It stops at the end of the image, at anything malformed (the
// decoder reports that), or once it has counted past limit.
func jpegScans(b []byte, limit int) int {
	scans := 0
	jpegWalk(b, func(m byte, _ []byte) bool {
		if m == 0xDA {
			scans++
		}
		return scans <= limit
	})
	return scans
}

// jpegWalk calls fn with the marker and content (the bytes after the
// length) of each marker segment of a JPEG in order, while fn returns true,
// skipping the entropy-coded data that follows each scan header (SOS). It
// stops at the end of the image and, quietly, at anything malformed.
// Markers are read as Go's decoder reads them: only TEM and the restart
// markers come without a length.
func jpegWalk(b []byte, fn func(marker byte, seg []byte) bool) {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return
	}
	i := 2
	for i+2 <= len(b) {
		if b[i] != 0xFF {
			return // not at a marker: give up rather than guess
		}
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		i += 2
		switch {
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue // markers without a length
		case m == 0xD9:
			return // end of image
		}
		if i+2 > len(b) {
			return
		}
		n := int(b[i])<<8 | int(b[i+1]) // includes the two length bytes
		if n < 2 || n > len(b)-i {
			return
		}
		if !fn(m, b[i+2:i+n]) {
			return
		}
		i += n
		if m == 0xDA {
			i = skipEntropyCoded(b, i)
		}
	}
}

// skipEntropyCoded returns the index of the marker that ends the
// entropy-coded data starting at i: the next 0xFF that is not a stuffed
// 0xFF00, a restart marker or fill.
func skipEntropyCoded(b []byte, i int) int {
	for i+1 < len(b) {
		if b[i] == 0xFF {
			if c := b[i+1]; c != 0x00 && !(c >= 0xD0 && c <= 0xD7) && c != 0xFF {
				break
			}
		}
		i++
	}
	return i
}
