package imageio

import (
	"encoding/binary"
	"errors"
	"image"
)

var (
	errShortFrame   = errors.New("imageio: WebP ANMF chunk too short")
	errFrameOutside = errors.New("imageio: WebP frame outside the canvas")
	errFrameSize    = errors.New("imageio: WebP frame size differs from its header")
)

// decodeWebP decodes a still WebP, or the first frame of an animated one
// placed on a transparent canvas of the given size.
func decodeWebP(data []byte, canvas image.Point) (*image.NRGBA, error) {
	still, at, animated, err := webpFirstFrame(data)
	if err != nil {
		return nil, err
	}
	if !animated {
		m, err := decodeFull(formatWebP, data)
		if err != nil {
			return nil, err
		}
		// Lossy WebP is limited-range BT.601 Y'CbCr, which the decoder
		// hands over as an *image.YCbCr (meant for full-range JFIF).
		return toNRGBARange(m, true), nil
	}
	if !at.In(image.Rect(0, 0, canvas.X, canvas.Y)) {
		return nil, errFrameOutside
	}
	m, err := decodeFull(formatWebP, still)
	if err != nil {
		return nil, err
	}
	if m.Bounds().Size() != at.Size() {
		return nil, errFrameSize
	}
	return onCanvas(m, at, canvas, true), nil
}

// webpFirstFrame finds the first ANMF chunk of an animated WebP and returns
// a still WebP file made of that frame's own chunks, with the frame's place
// on the canvas. ok is false when data has no ANMF chunk.
func webpFirstFrame(data []byte) (still []byte, at image.Rectangle, ok bool, err error) {
	var frame []byte
	webpChunks(data, func(fourcc string, d []byte) bool {
		if fourcc == "ANMF" {
			frame = d
			return false
		}
		return true
	})
	if frame == nil {
		return nil, image.Rectangle{}, false, nil
	}
	if len(frame) < 16 {
		return nil, image.Rectangle{}, true, errShortFrame
	}
	u24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	x, y := 2*u24(frame[0:]), 2*u24(frame[3:])
	w, h := 1+u24(frame[6:]), 1+u24(frame[9:])
	body := frame[16:] // the frame's ALPH, VP8 or VP8L chunks (after 16 bytes of frame header)
	hasAlpha := false
	webpChunks(append(make([]byte, 12), body...), func(fourcc string, _ []byte) bool {
		hasAlpha = hasAlpha || fourcc == "ALPH"
		return true
	})
	// A VP8X header carries the frame size, which the decoder checks
	// against the VP8/VP8L header, and says whether an ALPH chunk follows.
	vp8x := make([]byte, 18)
	copy(vp8x, "VP8X")
	binary.LittleEndian.PutUint32(vp8x[4:], 10)
	if hasAlpha {
		vp8x[8] = 0x10
	}
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(vp8x[12:], w-1)
	put24(vp8x[15:], h-1)
	still = make([]byte, 12, 12+len(vp8x)+len(body))
	copy(still, "RIFF")
	binary.LittleEndian.PutUint32(still[4:], uint32(4+len(vp8x)+len(body)))
	copy(still[8:], "WEBP")
	still = append(append(still, vp8x...), body...)
	return still, image.Rect(x, y, x+w, y+h), true, nil
}
