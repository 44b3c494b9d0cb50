package imageio

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// The fixtures under testdata/ are made by testdata/make-fixtures.sh from
// this synthetic pattern (never from photos). The script asks this file for
// the sources through TestWriteFixtureSources.
const patW, patH = 61, 45 // odd sizes exercise partial blocks and chroma edges

// patternAt is the opaque colour of the synthetic pattern at (x, y): red
// grows to the right, green grows downwards, blue falls along the diagonal.
func patternAt(x, y, w, h int) color.NRGBA {
	return color.NRGBA{
		R: uint8(x * 255 / (w - 1)),
		G: uint8(y * 255 / (h - 1)),
		B: uint8(255 - (x+y)*255/(w+h-2)),
		A: 255,
	}
}

// alphaAt is the alpha of the pattern with transparency: 0 in the left
// column, growing to 255 in the right one.
func alphaAt(x, y, w, h int) uint8 { return uint8(x * 255 / (w - 1)) }

func pattern(w, h int, withAlpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := patternAt(x, y, w, h)
			if withAlpha {
				c.A = alphaAt(x, y, w, h)
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func TestWriteFixtureSources(t *testing.T) {
	dir := os.Getenv("IMAGEIO_FIXTURE_SRC")
	if dir == "" {
		t.Skip("only testdata/make-fixtures.sh runs this (it sets IMAGEIO_FIXTURE_SRC)")
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	encPNG := func(m image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	opaque := pattern(patW, patH, false)
	write("pattern.png", encPNG(opaque))
	write("pattern-alpha.png", encPNG(pattern(patW, patH, true)))
	var ppm bytes.Buffer // binary PPM for cjpeg
	fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", patW, patH)
	for i := 0; i < len(opaque.Pix); i += 4 {
		ppm.Write(opaque.Pix[i : i+3])
	}
	write("pattern.ppm", ppm.Bytes())
}
