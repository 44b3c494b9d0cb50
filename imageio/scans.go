package imageio

// MaxJPEGScans is the most scans a JPEG may have. A progressive JPEG
// refines the whole picture once per scan, so thousands of tiny scans make
// a small file take minutes to decode; encoders write about ten. 500 is
// libjpeg-turbo's own limit for untrusted input.
const MaxJPEGScans = 500

// jpegScans counts the scans (SOS markers) of a JPEG, walking its marker
// segments and skipping each scan's entropy-coded data, in one pass over
// the bytes. It stops at the end of the image, at anything malformed (the
// decoder reports that), or once it has counted past limit.
func jpegScans(b []byte, limit int) int {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return 0
	}
	scans := 0
	i := 2
	for i+2 <= len(b) && scans <= limit {
		if b[i] != 0xFF {
			return scans
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
			return scans
		}
		if i+2 > len(b) {
			return scans
		}
		n := int(b[i])<<8 | int(b[i+1]) // includes the two length bytes
		if n < 2 || n > len(b)-i {
			return scans
		}
		i += n
		if m != 0xDA {
			continue
		}
		scans++
		// Entropy-coded data runs to the next marker that is not a stuffed
		// 0xFF00, a restart marker or fill.
		for i+1 < len(b) {
			if b[i] == 0xFF {
				if c := b[i+1]; c != 0x00 && !(c >= 0xD0 && c <= 0xD7) && c != 0xFF {
					break
				}
			}
			i++
		}
	}
	return scans
}
