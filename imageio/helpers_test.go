package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faceswap"
	"faceswap/models"
)

// sharedTestdata returns the shared test data folder ($FACESWAP_TESTDATA,
// or shared/testdata beside the repository). When it holds no
// images/manifest.json the test is skipped, or failed under CI (CI=true)
// unless FACESWAP_NO_SHARED=1 says the folder is hidden on purpose: what
// testenv.TestdataDir does, which these tests cannot call (testenv imports
// imageio).
func sharedTestdata(t testing.TB) string {
	t.Helper()
	d := os.Getenv("FACESWAP_TESTDATA")
	if d == "" {
		dir, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				skipOrFail(t, "repository root (go.mod) not found; set FACESWAP_TESTDATA to the shared testdata folder")
			}
			dir = parent
		}
		d = filepath.Join(dir, "..", "shared", "testdata")
	}
	if _, err := os.Stat(filepath.Join(d, "images", "manifest.json")); err != nil {
		if os.Getenv("FACESWAP_NO_SHARED") == "1" {
			t.Skipf("needs the shared test data (%s is hidden: FACESWAP_NO_SHARED=1)", d)
		}
		skipOrFail(t, "needs the shared test data, not found at %s (set FACESWAP_TESTDATA to the folder holding images/manifest.json)", d)
	}
	return d
}

// demoPhoto returns face-api's demo photo i (1 … models.SampleCount): a
// real JPEG photo (1920 px wide) that set-up places in the model cache of
// every machine, for tests that need some real photo and nothing the
// shared test data documents. It skips the test (fails it under CI) when
// set-up has not fetched it.
func demoPhoto(t testing.TB, i int) string {
	t.Helper()
	p := models.Default()
	if err := p.Require(p.Sample(i)); err != nil {
		skipOrFail(t, "%v", err)
	}
	return p.Sample(i)
}

// skipOrFail skips t, or fails it under CI, where set-up has run and the
// shared folder is beside the clone.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join("testdata", name))
}

// wantError checks that err is a *faceswap.Error with the status and a
// message containing every one of subs.
func wantError(t *testing.T, err error, status int, subs ...string) {
	t.Helper()
	var fe *faceswap.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want *faceswap.Error %d", err, err, status)
	}
	if fe.Status != status {
		t.Fatalf("status = %d, want %d (message %q, cause %v)", fe.Status, status, fe.Message, fe.Err)
	}
	if fe.Message == "" || !strings.HasSuffix(fe.Message, ".") {
		t.Errorf("message %q is not a sentence", fe.Message)
	}
	for _, s := range subs {
		if !strings.Contains(fe.Message, s) {
			t.Errorf("message %q does not contain %q", fe.Message, s)
		}
	}
}

func encPNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encJPEG(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encGIF(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, m, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngChunk builds one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// makePNG writes a PNG by hand (for layouts Go's encoder never writes):
// rows are the unfiltered scanlines; extra chunks go after IHDR.
func makePNG(t testing.TB, w, h uint32, depth, colorType byte, rows [][]byte, extra ...[]byte) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	for _, c := range extra {
		out = append(out, c...)
	}
	if rows != nil {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		for _, r := range rows {
			zw.Write([]byte{0}) // filter: none
			zw.Write(r)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		out = append(out, pngChunk("IDAT", z.Bytes())...)
	}
	return append(out, pngChunk("IEND", nil)...)
}

// insertAfterIHDR puts chunk into a PNG right after its IHDR chunk.
func insertAfterIHDR(p, chunk []byte) []byte {
	const at = 8 + 8 + 13 + 4
	out := append([]byte(nil), p[:at]...)
	out = append(out, chunk...)
	return append(out, p[at:]...)
}

// exifTIFF builds a TIFF structure whose IFD0 holds a Make tag and an
// Orientation tag of the given type (3 SHORT, 4 LONG).
func exifTIFF(bigEndian bool, orientation uint32, typ uint16) []byte {
	var bo binary.ByteOrder = binary.LittleEndian
	b := make([]byte, 8+2+2*12+4)
	copy(b, "II*\x00")
	if bigEndian {
		bo = binary.BigEndian
		copy(b, "MM\x00*")
	}
	bo.PutUint32(b[4:], 8)
	bo.PutUint16(b[8:], 2)
	e := b[10:]
	bo.PutUint16(e[0:], 0x010F) // Make, ASCII, 3 bytes inline
	bo.PutUint16(e[2:], 2)
	bo.PutUint32(e[4:], 3)
	copy(e[8:], "Go\x00")
	e = b[22:]
	bo.PutUint16(e[0:], 0x0112)
	bo.PutUint16(e[2:], typ)
	bo.PutUint32(e[4:], 1)
	if typ == 4 {
		bo.PutUint32(e[8:], orientation)
	} else {
		bo.PutUint16(e[8:], uint16(orientation))
	}
	return b
}

// withAPP1Exif inserts an APP1 Exif segment holding tiff right after SOI.
func withAPP1Exif(j, tiff []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte(nil), j[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, j[2:]...)
}

// webpChunk builds one RIFF chunk, padded to an even size.
func webpChunk(fourcc string, data []byte) []byte {
	b := append([]byte(fourcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func riffWebP(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(4+len(body)))
	b = append(b, "WEBP"...)
	return append(b, body...)
}

func vp8xChunk(flags byte, w, h int) []byte {
	d := make([]byte, 10)
	d[0] = flags
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(d[4:], w-1)
	put24(d[7:], h-1)
	return webpChunk("VP8X", d)
}

// layout draws a stored image from rows of letters ("AD/BE/CF"), each
// letter a scale×scale block of its colour in letterColor.
func layout(s string, scale int) *image.NRGBA {
	rows := strings.Split(s, "/")
	m := image.NewNRGBA(image.Rect(0, 0, len(rows[0])*scale, len(rows)*scale))
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			m.SetNRGBA(x, y, letterColor[rows[y/scale][x/scale]])
		}
	}
	return m
}

var letterColor = map[byte]color.NRGBA{
	'A': {255, 0, 0, 255}, 'B': {0, 255, 0, 255}, 'C': {0, 0, 255, 255},
	'D': {255, 255, 0, 255}, 'E': {255, 0, 255, 255}, 'F': {0, 255, 255, 255},
}

// readLayout names the letter nearest in colour to the centre of each
// scale×scale block of m.
func readLayout(m *image.NRGBA, scale int) string {
	var rows []string
	for by := 0; by < m.Rect.Dy()/scale; by++ {
		var row []byte
		for bx := 0; bx < m.Rect.Dx()/scale; bx++ {
			c := m.NRGBAAt(bx*scale+scale/2, by*scale+scale/2)
			best, bestD := byte('?'), 1<<30
			for l, lc := range letterColor {
				d := sq(int(c.R)-int(lc.R)) + sq(int(c.G)-int(lc.G)) + sq(int(c.B)-int(lc.B))
				if d < bestD {
					best, bestD = l, d
				}
			}
			row = append(row, best)
		}
		rows = append(rows, string(row))
	}
	return strings.Join(rows, "/")
}

func sq(v int) int { return v * v }

// diffStats compares the colour channels of got and want where want's alpha
// is at least minAlpha, and the alpha channel everywhere.
func diffStats(t *testing.T, got, want *image.NRGBA, minAlpha uint8) (meanRGB float64, maxRGB, maxA int) {
	t.Helper()
	if got.Rect.Size() != want.Rect.Size() {
		t.Fatalf("size %v, want %v", got.Rect.Size(), want.Rect.Size())
	}
	var sum, n int
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y)
			maxA = max(maxA, abs(int(g.A)-int(w.A)))
			if w.A < minAlpha {
				continue
			}
			for _, d := range []int{int(g.R) - int(w.R), int(g.G) - int(w.G), int(g.B) - int(w.B)} {
				sum += abs(d)
				maxRGB = max(maxRGB, abs(d))
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no pixels compared")
	}
	return float64(sum) / float64(n), maxRGB, maxA
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// sameNRGBA reports the first pixel where a and b differ.
func sameNRGBA(t *testing.T, got, want *image.NRGBA) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
	}
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			if g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y); g != w {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

// genericNRGBA converts src through color.NRGBAModel one pixel at a time,
// the slow reference the fast paths must agree with.
func genericNRGBA(src image.Image) *image.NRGBA {
	b := src.Bounds()
	m := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			m.SetNRGBA(x-b.Min.X, y-b.Min.Y, color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA))
		}
	}
	return m
}
