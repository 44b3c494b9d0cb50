package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// encode is Encode into a new buffer, failing the test on error.
func encode(t testing.TB, img image.Image, format string, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, img, format, quality); err != nil {
		t.Fatalf("Encode %s q%d: %v", format, quality, err)
	}
	return buf.Bytes()
}

// decodeAs decodes data with Decode and checks the format it was taken for.
func decodeAs(t *testing.T, data []byte, format string) *image.NRGBA {
	t.Helper()
	img, info, err := Decode(data, DefaultLimits)
	if err != nil {
		t.Fatalf("decoding our %s: %v", format, err)
	}
	if info.Format != format {
		t.Fatalf("our %s decodes as %q", format, info.Format)
	}
	return img
}

// riffChunks lists the chunk FourCCs of a WebP file after checking its
// RIFF/WEBP header and sizes.
func riffChunks(t *testing.T, data []byte) []string {
	t.Helper()
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		t.Fatalf("no RIFF/WEBP header: % x", data[:min(len(data), 16)])
	}
	if n := binary.LittleEndian.Uint32(data[4:]); int(n) != len(data)-8 {
		t.Fatalf("RIFF size %d, file has %d bytes after it", n, len(data)-8)
	}
	var ids []string
	for p := 12; p < len(data); {
		if p+8 > len(data) {
			t.Fatalf("truncated chunk header at %d", p)
		}
		n := int(binary.LittleEndian.Uint32(data[p+4:]))
		ids = append(ids, string(data[p:p+4]))
		p += 8 + n + n&1
		if p > len(data) {
			t.Fatalf("chunk %q runs past the end", ids[len(ids)-1])
		}
	}
	return ids
}

func TestEncodeRoundTrip(t *testing.T) {
	withAlpha := pattern(patW, patH, true)
	opaque := pattern(patW, patH, false)

	t.Run("png keeps every pixel, alpha included", func(t *testing.T) {
		for _, m := range []*image.NRGBA{withAlpha, opaque} {
			sameNRGBA(t, decodeAs(t, encode(t, m, "png", 0), "png"), m)
		}
	})

	for _, format := range []string{"jpeg", "webp"} {
		t.Run(format+" is close and quality matters", func(t *testing.T) {
			hi := encode(t, opaque, format, 95)
			lo := encode(t, opaque, format, 10)
			if len(lo) >= len(hi) {
				t.Errorf("quality 10 gave %d bytes, quality 95 %d", len(lo), len(hi))
			}
			got := decodeAs(t, hi, format)
			mean, maxd, maxA := diffStats(t, got, opaque, 0)
			t.Logf("%s q95 on the %dx%d pattern: %d bytes, mean error %.2f, max %d", format, patW, patH, len(hi), mean, maxd)
			if mean > 3 || maxd > 40 || maxA != 0 {
				t.Errorf("quality 95 round trip: mean %.2f max %d, alpha max %d", mean, maxd, maxA)
			}
		})
	}

	t.Run("webp is lossy VP8 with no alpha when opaque", func(t *testing.T) {
		data := encode(t, opaque, "webp", 95)
		if ids := riffChunks(t, data); !slices.Equal(ids, []string{"VP8 "}) {
			t.Errorf("chunks %q, want just the lossy \"VP8 \"", ids)
		}
		// Quality 100 is still lossy: the API has no lossless WebP.
		if ids := riffChunks(t, encode(t, opaque, "WebP", 100)); !slices.Equal(ids, []string{"VP8 "}) {
			t.Errorf("quality 100: chunks %q, want just the lossy \"VP8 \"", ids)
		}
	})

	t.Run("webp keeps alpha", func(t *testing.T) {
		data := encode(t, withAlpha, "webp", 95)
		ids := riffChunks(t, data)
		if !slices.Equal(ids, []string{"VP8X", "ALPH", "VP8 "}) {
			t.Errorf("chunks %q, want VP8X, ALPH and the lossy \"VP8 \"", ids)
		}
		got := decodeAs(t, data, "webp")
		// Colour under (nearly) transparent pixels is the encoder's to
		// choose; compare where it shows.
		mean, maxd, maxA := diffStats(t, got, withAlpha, 64)
		t.Logf("webp q95 with alpha: mean %.2f max %d, alpha max %d", mean, maxd, maxA)
		if mean > 3 || maxd > 40 || maxA > 0 {
			t.Errorf("mean %.2f max %d, alpha max %d (alpha should be lossless)", mean, maxd, maxA)
		}
	})

	t.Run("one transparent pixel is enough for webp alpha", func(t *testing.T) {
		m := pattern(patW, patH, false)
		m.SetNRGBA(patW-1, patH-1, color.NRGBA{10, 20, 30, 0})
		if ids := riffChunks(t, encode(t, m, "webp", 80)); !slices.Contains(ids, "ALPH") {
			t.Errorf("chunks %q have no ALPH", ids)
		}
		if a := decodeAs(t, encode(t, m, "webp", 80), "webp").NRGBAAt(patW-1, patH-1).A; a != 0 {
			t.Errorf("alpha of the transparent pixel = %d", a)
		}
	})

	t.Run("jpeg composites onto white", func(t *testing.T) {
		m := image.NewNRGBA(image.Rect(0, 0, 48, 16))
		for y := range 16 {
			for x := range 48 {
				c := color.NRGBA{200, 40, 90, 255} // opaque: kept
				switch x / 16 {
				case 1:
					c = color.NRGBA{0, 0, 0, 0} // transparent black: white
				case 2:
					c = color.NRGBA{255, 0, 0, 128} // half red: pink
				}
				m.SetNRGBA(x, y, c)
			}
		}
		orig := slices.Clone(m.Pix)
		got := decodeAs(t, encode(t, m, "jpeg", 95), "jpeg")
		if !bytes.Equal(m.Pix, orig) {
			t.Error("Encode changed the caller's image")
		}
		for _, c := range []struct {
			x    int
			want color.NRGBA
		}{{8, color.NRGBA{200, 40, 90, 255}}, {24, color.NRGBA{255, 255, 255, 255}}, {40, color.NRGBA{255, 127, 127, 255}}} {
			g := got.NRGBAAt(c.x, 8)
			if g.A != 255 || abs(int(g.R)-int(c.want.R)) > 4 || abs(int(g.G)-int(c.want.G)) > 4 || abs(int(g.B)-int(c.want.B)) > 4 {
				t.Errorf("pixel (%d,8) = %v, want about %v", c.x, g, c.want)
			}
		}
	})

	t.Run("opaque nrgba goes to jpeg unchanged", func(t *testing.T) {
		src := jpegSource(opaque)
		if _, ok := src.(*image.RGBA); !ok {
			t.Fatalf("jpegSource gave %T, want the *image.RGBA view", src)
		}
		if &src.(*image.RGBA).Pix[0] != &opaque.Pix[0] {
			t.Error("jpegSource copied an opaque image")
		}
	})

	t.Run("other image types", func(t *testing.T) {
		// Premultiplied RGBA with alpha, a sub-image whose bounds do not
		// start at (0, 0) and whose rows are longer than it, grey, Y'CbCr.
		rgba := image.NewRGBA(image.Rect(0, 0, patW, patH))
		for y := range patH {
			for x := range patW {
				rgba.Set(x, y, withAlpha.NRGBAAt(x, y))
			}
		}
		big := pattern(2*patW, 2*patH, false)
		sub := big.SubImage(image.Rect(7, 5, 7+patW, 5+patH)).(*image.NRGBA)
		gray := image.NewGray(image.Rect(0, 0, 8, 8))
		for i := range gray.Pix {
			gray.Pix[i] = uint8(i * 4)
		}
		ycc := image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)
		for i := range ycc.Y {
			ycc.Y[i] = uint8(i)
		}
		for i := range ycc.Cb {
			ycc.Cb[i], ycc.Cr[i] = 100, 160
		}

		flat := toNRGBA(onWhite(withAlpha))
		for _, c := range []struct {
			name           string
			img            image.Image
			want, wantJPEG *image.NRGBA
			minAlpha       uint8 // compare colour only where alpha >= this
		}{
			{"rgba", rgba, toNRGBA(rgba), flat, 64},
			{"sub", sub, toNRGBA(sub), toNRGBA(sub), 0},
			{"gray", gray, toNRGBA(gray), toNRGBA(gray), 0},
			{"ycbcr", ycc, toNRGBA(ycc), toNRGBA(ycc), 0},
		} {
			sameNRGBA(t, decodeAs(t, encode(t, c.img, "png", 0), "png"), c.want)
			got := decodeAs(t, encode(t, c.img, "webp", 95), "webp")
			if mean, maxd, maxA := diffStats(t, got, c.want, c.minAlpha); mean > 3 || maxd > 40 || maxA > 1 {
				t.Errorf("%s webp: mean %.2f max %d alpha max %d", c.name, mean, maxd, maxA)
			}
			got = decodeAs(t, encode(t, c.img, "jpeg", 95), "jpeg")
			if mean, maxd, maxA := diffStats(t, got, c.wantJPEG, 0); mean > 3 || maxd > 40 || maxA != 0 {
				t.Errorf("%s jpeg: mean %.2f max %d alpha max %d", c.name, mean, maxd, maxA)
			}
		}
	})
}

func TestEncodeErrors(t *testing.T) {
	m := pattern(4, 4, false)
	var buf bytes.Buffer
	wantError(t, Encode(&buf, m, "bmp", 90), 400, `image_format "bmp" is not one of jpeg, png, webp.`)
	wantError(t, Encode(&buf, m, "", 90), 400, `image_format "" is not one of jpeg, png, webp.`)
	for _, f := range []string{"jpeg", "JPG", "webp"} {
		for _, q := range []int{-1, 0, 5, 9, 101} {
			wantError(t, Encode(&buf, m, f, q), 400, fmt.Sprintf("image_quality %d is outside 10-100.", q))
		}
	}
	wantError(t, Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 0, 3)), "png", 0), 500, "empty")
	wantError(t, Encode(&buf, image.NewNRGBA(image.Rect(0, 0, maxWebPSide+1, 1)), "webp", 90), 400,
		"16384x1", "at most 16383 pixels per side", "jpeg or png")
	for _, f := range []string{"png", "jpeg", "webp"} {
		wantError(t, Encode(failWriter{}, m, f, 80), 500, "could not be encoded as")
	}
	if buf.Len() != 0 {
		t.Errorf("refused encodes wrote %d bytes", buf.Len())
	}

	// PNG ignores quality; the limits themselves are accepted.
	for _, c := range []struct {
		f string
		q int
	}{{"png", 0}, {"PNG", 1000}, {"jpeg", 10}, {"jpeg", 100}, {"webp", 10}, {"webp", 100}} {
		if err := Encode(&buf, m, c.f, c.q); err != nil {
			t.Errorf("%s q%d: %v", c.f, c.q, err)
		}
	}
}

func TestParseOutput(t *testing.T) {
	for _, c := range []struct {
		in, canon, ctype, ext string
	}{
		{"jpeg", "jpeg", "image/jpeg", ".jpg"},
		{"JPEG", "jpeg", "image/jpeg", ".jpg"},
		{"jpg", "jpeg", "image/jpeg", ".jpg"},
		{"Jpg", "jpeg", "image/jpeg", ".jpg"},
		{"png", "png", "image/png", ".png"},
		{"PNG", "png", "image/png", ".png"},
		{"webp", "webp", "image/webp", ".webp"},
		{"WebP", "webp", "image/webp", ".webp"},
		{"gif", "", "", ""},
		{" jpeg", "", "", ""},
		{"", "", "", ""},
	} {
		got, err := ParseOutput(c.in, DefaultQuality)
		if got != c.canon || (err == nil) != (c.canon != "") {
			t.Errorf("ParseOutput(%q) = %q, %v; want %q", c.in, got, err, c.canon)
		}
		if ct := ContentType(c.in); ct != c.ctype {
			t.Errorf("ContentType(%q) = %q, want %q", c.in, ct, c.ctype)
		}
		if e := Ext(c.in); e != c.ext {
			t.Errorf("Ext(%q) = %q, want %q", c.in, e, c.ext)
		}
	}
	for _, f := range OutputFormats {
		if ContentType(f) == "" || Ext(f) == "" {
			t.Errorf("output format %q has no content type or extension", f)
		}
	}
}

// WebP encoders run side by side in a server; each gets its own instance.
func TestEncodeWebPConcurrent(t *testing.T) {
	const n = 6
	var wg sync.WaitGroup
	out := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			var buf bytes.Buffer
			errs[i] = Encode(&buf, pattern(patW+i, patH, i%2 == 1), "webp", 50+5*i)
			out[i] = buf.Bytes()
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("encode %d: %v", i, errs[i])
		}
		got := decodeAs(t, out[i], "webp")
		if got.Rect.Dx() != patW+i || got.Rect.Dy() != patH {
			t.Errorf("encode %d: size %v", i, got.Rect.Size())
		}
	}
}

// officePhoto decodes the shared office photo (1280×853) that the figures
// in BENCHMARKS.md were measured on.
func officePhoto(b *testing.B) *image.NRGBA {
	b.Helper()
	data := readFile(b, filepath.Join(sharedTestdata(b), "images", "group5_office_meeting.jpg"))
	img, _, err := Decode(data, DefaultLimits)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// photo decodes the real photo used for the real-size checks (a demo
// photo of five people, 1920×1398).
func photo(t testing.TB) *image.NRGBA {
	t.Helper()
	data := readFile(t, demoPhoto(t, 5))
	img, _, err := Decode(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestEncodePhoto(t *testing.T) {
	src := photo(t)
	t.Logf("WebP backend: %s", WebPBackend())
	png := encode(t, src, "png", 0)
	sameNRGBA(t, decodeAs(t, png, "png"), src)
	for _, format := range []string{"jpeg", "webp"} {
		hi := encode(t, src, format, 95)
		lo := encode(t, src, format, 10)
		got := decodeAs(t, hi, format)
		mean, maxd, _ := diffStats(t, got, src, 0)
		t.Logf("%s %dx%d: q95 %d bytes (mean error %.2f levels, max %d), q10 %d bytes; png %d bytes",
			format, src.Rect.Dx(), src.Rect.Dy(), len(hi), mean, maxd, len(lo), len(png))
		if mean > 2 {
			t.Errorf("%s q95: mean absolute error %.2f levels, want < 2", format, mean)
		}
		if 4*len(lo) > len(hi) {
			t.Errorf("%s: q10 is %d bytes, not under a quarter of q95's %d", format, len(lo), len(hi))
		}
		if got := decodeAs(t, lo, format); got.Rect != src.Rect {
			t.Errorf("%s q10: bounds %v", format, got.Rect)
		}
	}
	if ids := riffChunks(t, encode(t, src, "webp", 95)); !slices.Equal(ids, []string{"VP8 "}) {
		t.Errorf("webp chunks %q", ids)
	}
}

func BenchmarkEncode(b *testing.B) {
	src := officePhoto(b)
	InitWebP() // the one-off module compilation is not part of an encode
	for _, format := range OutputFormats {
		b.Run(format, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := Encode(&buf, src, format, DefaultQuality); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}

// BenchmarkPNGLevels writes the photo at each deflate level, for the choice
// of pngLevel (every level is lossless).
func BenchmarkPNGLevels(b *testing.B) {
	src := officePhoto(b)
	for _, c := range []struct {
		name  string
		level png.CompressionLevel
	}{{"default", png.DefaultCompression}, {"best-speed", png.BestSpeed}, {"best-compression", png.BestCompression}} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := (&png.Encoder{CompressionLevel: c.level}).Encode(&buf, src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

var errWrite = errors.New("write failed")
