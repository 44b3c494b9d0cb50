package imageio

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	withAlpha := pattern(patW, patH, true)
	opaque := pattern(patW, patH, false)

	t.Run("png keeps every pixel, alpha included", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Encode(&buf, withAlpha, "png", 0); err != nil {
			t.Fatal(err)
		}
		got, info, err := Decode(buf.Bytes(), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if info.Format != "png" {
			t.Fatalf("format %q", info.Format)
		}
		sameNRGBA(t, got, withAlpha)
	})

	t.Run("jpeg is close and quality matters", func(t *testing.T) {
		var hi, lo bytes.Buffer
		if err := Encode(&hi, opaque, "jpeg", 95); err != nil {
			t.Fatal(err)
		}
		if err := Encode(&lo, opaque, "JPG", 10); err != nil {
			t.Fatal(err)
		}
		if lo.Len() >= hi.Len() {
			t.Errorf("quality 10 gave %d bytes, quality 95 %d", lo.Len(), hi.Len())
		}
		got, info, err := Decode(hi.Bytes(), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if info.Format != "jpeg" {
			t.Fatalf("format %q", info.Format)
		}
		if mean, maxd, _ := diffStats(t, got, opaque, 0); mean > 3 || maxd > 40 {
			t.Errorf("quality 95 round trip: mean %.2f max %d", mean, maxd)
		}
	})

	t.Run("jpeg drops alpha and keeps colour", func(t *testing.T) {
		m := image.NewNRGBA(image.Rect(0, 0, 16, 16))
		for i := 0; i < len(m.Pix); i += 4 {
			copy(m.Pix[i:], []uint8{200, 40, 90, 0}) // fully transparent
		}
		var buf bytes.Buffer
		if err := Encode(&buf, m, "jpeg", 95); err != nil {
			t.Fatal(err)
		}
		got, _, err := Decode(buf.Bytes(), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		c := got.NRGBAAt(8, 8)
		if c.A != 255 || abs(int(c.R)-200) > 4 || abs(int(c.G)-40) > 4 || abs(int(c.B)-90) > 4 {
			t.Errorf("centre = %v, want about {200 40 90 255}", c)
		}
	})

	t.Run("other image types", func(t *testing.T) {
		g := image.NewGray(image.Rect(0, 0, 8, 8))
		for i := range g.Pix {
			g.Pix[i] = uint8(i * 4)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, g, "png", 0); err != nil {
			t.Fatal(err)
		}
		got, _, err := Decode(buf.Bytes(), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if got.NRGBAAt(3, 2) != (color.NRGBA{76, 76, 76, 255}) {
			t.Errorf("grey round trip: %v", got.NRGBAAt(3, 2))
		}
	})
}

func TestEncodeErrors(t *testing.T) {
	m := pattern(4, 4, false)
	var buf bytes.Buffer
	wantError(t, Encode(&buf, m, "webp", 90), 400, "WebP output is not available yet")
	wantError(t, Encode(&buf, m, "bmp", 90), 400, `"bmp"`, "expected jpeg, png or webp")
	wantError(t, Encode(&buf, m, "jpeg", 0), 400, "between 1 and 100")
	wantError(t, Encode(&buf, m, "jpeg", 101), 400, "between 1 and 100")
	wantError(t, Encode(failWriter{}, m, "png", 0), 500)
	wantError(t, Encode(failWriter{}, m, "jpeg", 80), 500)
	if buf.Len() != 0 {
		t.Errorf("refused encodes wrote %d bytes", buf.Len())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

var errWrite = errors.New("write failed")
