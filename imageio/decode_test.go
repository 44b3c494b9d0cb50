package imageio

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"faceswap"
)

func TestLimitsValidate(t *testing.T) {
	if err := DefaultLimits.Validate(); err != nil {
		t.Fatal(err)
	}
	if DefaultLimits.MaxBytes != 20<<20 || DefaultLimits.MaxPixels != 40_000_000 {
		t.Fatalf("DefaultLimits = %+v", DefaultLimits)
	}
	for _, l := range []Limits{{}, {MaxBytes: 1}, {MaxPixels: 1}, {MaxBytes: -1, MaxPixels: 1}} {
		if l.Validate() == nil {
			t.Errorf("%+v: Validate() = nil", l)
		}
	}
	_, _, err := Decode(encPNG(t, pattern(4, 4, false)), Limits{})
	wantError(t, err, 500)
}

// patchSOF sets the height and width of a JPEG's first SOF0 segment.
func patchSOF(t *testing.T, j []byte, w, h int) []byte {
	t.Helper()
	j = append([]byte(nil), j...)
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	binary.BigEndian.PutUint16(j[i+5:], uint16(h))
	binary.BigEndian.PutUint16(j[i+7:], uint16(w))
	return j
}

// patchGIFScreen sets a GIF's logical screen size.
func patchGIFScreen(g []byte, w, h int) []byte {
	g = append([]byte(nil), g...)
	binary.LittleEndian.PutUint16(g[6:], uint16(w))
	binary.LittleEndian.PutUint16(g[8:], uint16(h))
	return g
}

// vp8lHeader is a lossless WebP whose header claims w×h and has no pixels.
func vp8lHeader(w, h int) []byte {
	d := []byte{0x2f, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(d[1:], uint32(w-1)|uint32(h-1)<<14)
	return riffWebP(webpChunk("VP8L", append(d, make([]byte, 16)...)))
}

func TestDecodeRejects(t *testing.T) {
	small := pattern(40, 30, false)
	pngData := encPNG(t, small)
	jpgData := encJPEG(t, small, 90)
	gifData := encGIF(t, small)
	webpData := fixture(t, "lossy.webp")
	hugePNG := makePNG(t, 100000, 100000, 8, 2, nil)
	cases := []struct {
		name   string
		data   []byte
		status int
		subs   []string
	}{
		{"empty", nil, 400, []string{"empty"}},
		{"one byte", []byte{0xFF}, 400, []string{"unsupported format (expected JPEG, PNG, WebP or GIF)"}},
		{"text", []byte("hello, world"), 400, []string{"unsupported format"}},
		{"BMP", append([]byte("BM"), make([]byte, 60)...), 400, []string{"unsupported format"}},
		{"RIFF not WebP", append([]byte("RIFF\x10\x00\x00\x00WAVE"), make([]byte, 16)...), 400, []string{"unsupported format"}},
		{"JPEG magic then garbage", append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte("garbage!"), 20)...), 400, []string{"could not be decoded", "JPEG"}},
		{"PNG magic then garbage", append(pngData[:8:8], bytes.Repeat([]byte("garbage!"), 20)...), 400, []string{"could not be decoded", "PNG"}},
		{"GIF magic then garbage", append([]byte("GIF89a"), bytes.Repeat([]byte{0xFF}, 40)...), 400, []string{"could not be decoded", "GIF"}},
		{"WebP magic then garbage", append(webpData[:12:12], bytes.Repeat([]byte("garbage!"), 20)...), 400, []string{"could not be decoded", "WebP"}},
		{"JPEG truncated in the scan", jpgData[:len(jpgData)/2], 400, []string{"JPEG data is truncated"}},
		{"JPEG truncated in the header", jpgData[:40], 400, []string{"JPEG data is truncated"}},
		{"PNG truncated in the pixels", pngData[:len(pngData)/2], 400, []string{"PNG data is truncated"}},
		{"PNG truncated in IHDR", pngData[:20], 400, []string{"PNG data is truncated"}},
		{"GIF truncated", gifData[:len(gifData)/2], 400, []string{"GIF data is truncated"}},
		{"GIF truncated in the header", gifData[:9], 400, []string{"GIF data is truncated"}},
		{"WebP truncated", webpData[:len(webpData)/2], 400, []string{"WebP data is truncated"}},
		{"WebP truncated in the header", webpData[:16], 400, []string{"WebP data is truncated"}},
		{"PNG with zero width", makePNG(t, 0, 10, 8, 2, nil), 400, []string{"could not be decoded"}},
		{"PNG bad IHDR CRC", append(append(pngData[:29:29], 0, 0, 0, 0), pngData[33:]...), 400, []string{"PNG data is corrupt"}},
		{"arithmetic-coded JPEG", fixture(t, "arithmetic.jpg"), 400, []string{"this JPEG uses arithmetic coding, which is not supported"}},
		{"PNG claiming 100000x100000", hugePNG, 413, []string{"100000x100000 pixels (10000.0 MP)", "over the limit of 40 MP"}},
		{"PNG claiming 70000x100", makePNG(t, 70000, 100, 8, 2, nil), 413, []string{"70000x100", "at most 65535"}},
		{"JPEG claiming 30000x30000", patchSOF(t, jpgData, 30000, 30000), 413, []string{"30000x30000 pixels (900.0 MP)", "40 MP"}},
		{"GIF claiming 30000x30000", patchGIFScreen(gifData, 30000, 30000), 413, []string{"30000x30000"}},
		{"WebP VP8X claiming 30000x30000", riffWebP(vp8xChunk(0, 30000, 30000), webpData[12:]), 413, []string{"30000x30000"}},
		{"WebP VP8L claiming 16384x16384", vp8lHeader(16384, 16384), 413, []string{"16384x16384"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeConfig(c.data, DefaultLimits)
			if c.status == 413 || c.name == "empty" || c.name == "one byte" {
				wantError(t, err, c.status, c.subs...)
			} else if err != nil {
				// Header-level checks may already catch it; when they do it is a 400.
				wantError(t, err, c.status)
			}
			img, info, err := Decode(c.data, DefaultLimits)
			t.Logf("%v", err)
			wantError(t, err, c.status, c.subs...)
			if img != nil || info != (Info{}) {
				t.Errorf("failed Decode returned %v, %+v", img != nil, info)
			}
		})
	}
}

// TestHugeHeadersAllocateLittle checks that an image whose header claims
// hundreds of megapixels is refused before the decoder allocates for it.
func TestHugeHeadersAllocateLittle(t *testing.T) {
	small := pattern(40, 30, false)
	inputs := map[string][]byte{
		"png":  makePNG(t, 30000, 30000, 8, 6, [][]byte{make([]byte, 4*30000)}),
		"jpeg": patchSOF(t, encJPEG(t, small, 90), 30000, 30000),
		"gif":  patchGIFScreen(encGIF(t, small), 30000, 30000),
		"webp": riffWebP(vp8xChunk(0, 30000, 30000), fixture(t, "lossy.webp")[12:]),
	}
	for name, data := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Decode(data, DefaultLimits)
		runtime.ReadMemStats(&after)
		wantError(t, err, 413)
		// 30000x30000 would need at least 900 MB; allow a little for the
		// header reads.
		if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
			t.Errorf("%s: Decode allocated %d bytes before refusing", name, got)
		}
	}
}

func TestDecodeByteLimit(t *testing.T) {
	data := encPNG(t, pattern(20, 20, false))
	n := int64(len(data))
	_, _, err := Decode(data, Limits{MaxBytes: n - 1, MaxPixels: 1 << 20})
	wantError(t, err, 413, "over the limit of ")
	if _, _, err := Decode(data, Limits{MaxBytes: n, MaxPixels: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 21<<20)
	copy(big, data)
	_, _, err = Decode(big, DefaultLimits)
	wantError(t, err, 413, "The image is 21 MB, over the limit of 20 MB.")
	_, err = DecodeConfig(big, DefaultLimits)
	wantError(t, err, 413)
	// The pixel limit is inclusive too.
	if _, _, err := Decode(data, Limits{MaxBytes: n, MaxPixels: 400}); err != nil {
		t.Fatal(err)
	}
	_, _, err = Decode(data, Limits{MaxBytes: n, MaxPixels: 399})
	wantError(t, err, 413, "20x20 pixels (400 pixels), over the limit of 399 pixels")
}

// randImage fills a w×h image of the given kind with random valid content.
func randImage(kind string, w, h int, rng *rand.Rand) image.Image {
	r := image.Rect(0, 0, w, h)
	fill := func(p []uint8) {
		for i := range p {
			p[i] = uint8(rng.UintN(256))
		}
	}
	switch kind {
	case "gray":
		m := image.NewGray(r)
		fill(m.Pix)
		return m
	case "gray16":
		m := image.NewGray16(r)
		fill(m.Pix)
		return m
	case "nrgba":
		m := image.NewNRGBA(r)
		fill(m.Pix)
		return m
	case "nrgba64":
		m := image.NewNRGBA64(r)
		fill(m.Pix)
		return m
	case "rgba", "rgba-opaque":
		m := image.NewRGBA(r)
		fill(m.Pix)
		for i := 0; i < len(m.Pix); i += 4 {
			a := m.Pix[i+3]
			if kind == "rgba-opaque" || i%12 == 0 {
				a = 0xFF
			}
			if i%20 == 0 && kind == "rgba" {
				a = 0
			}
			m.Pix[i+3] = a
			for c := 0; c < 3; c++ { // keep it premultiplied
				m.Pix[i+c] = uint8(uint32(m.Pix[i+c]) * uint32(a) / 255)
			}
		}
		return m
	case "rgba64", "rgba64-opaque":
		m := image.NewRGBA64(r)
		for y := range h {
			for x := range w {
				a := uint32(rng.Uint32N(0x10000))
				if kind == "rgba64-opaque" || x%3 == 0 {
					a = 0xFFFF
				}
				if x%5 == 0 && kind == "rgba64" {
					a = 0
				}
				m.SetRGBA64(x, y, color.RGBA64{
					R: uint16(rng.Uint32N(a + 1)), G: uint16(rng.Uint32N(a + 1)), B: uint16(rng.Uint32N(a + 1)), A: uint16(a)})
			}
		}
		return m
	case "cmyk":
		m := image.NewCMYK(r)
		fill(m.Pix)
		return m
	}
	panic("unknown kind " + kind)
}

// TestConvertFastPaths checks each fast path against the per-pixel
// color.NRGBAModel conversion, on whole images and on sub-images with odd
// origins.
func TestConvertFastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var srcs []image.Image
	for _, k := range []string{"gray", "gray16", "nrgba", "rgba", "rgba-opaque", "rgba64", "rgba64-opaque", "cmyk"} {
		srcs = append(srcs, randImage(k, 37, 23, rng))
	}
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		m := image.NewYCbCr(image.Rect(0, 0, 37, 23), ratio)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(rng.UintN(256))
			}
		}
		srcs = append(srcs, m)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 37, 23), color.Palette{
		color.NRGBA{10, 20, 30, 255}, color.NRGBA{200, 100, 50, 128}, color.NRGBA{0, 0, 0, 0}, color.RGBA{40, 40, 40, 200}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rng.UintN(4))
	}
	srcs = append(srcs, pal)
	// Negative origins (YCbCr falls back to the per-pixel path) and a type
	// with no fast path.
	neg := image.NewYCbCr(image.Rect(-5, -3, 32, 20), image.YCbCrSubsampleRatio420)
	for _, p := range [][]uint8{neg.Y, neg.Cb, neg.Cr} {
		for i := range p {
			p[i] = uint8(rng.UintN(256))
		}
	}
	alpha := image.NewAlpha(image.Rect(0, 0, 37, 23))
	for i := range alpha.Pix {
		alpha.Pix[i] = uint8(rng.UintN(256))
	}
	srcs = append(srcs, neg, alpha)

	for _, src := range srcs {
		subs := []image.Image{src, src.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(3, 5, 34, 22))}
		for i, s := range subs {
			got := toNRGBA(s)
			if got.Rect.Min != (image.Point{}) {
				t.Fatalf("%T: bounds %v do not start at 0", s, got.Rect)
			}
			t.Run(name(s, i), func(t *testing.T) { sameNRGBA(t, got, genericNRGBA(s)) })
		}
	}
}

func name(m image.Image, sub int) string {
	n := typeName(m)
	if y, ok := m.(*image.YCbCr); ok {
		n += "-" + y.SubsampleRatio.String()
	}
	if sub > 0 {
		n += "-sub"
	}
	return n
}

func typeName(m image.Image) string {
	switch m.(type) {
	case *image.Gray:
		return "Gray"
	case *image.Gray16:
		return "Gray16"
	case *image.NRGBA:
		return "NRGBA"
	case *image.RGBA:
		return "RGBA"
	case *image.RGBA64:
		return "RGBA64"
	case *image.NRGBA64:
		return "NRGBA64"
	case *image.CMYK:
		return "CMYK"
	case *image.YCbCr:
		return "YCbCr"
	case *image.NYCbCrA:
		return "NYCbCrA"
	case *image.Paletted:
		return "Paletted"
	case *image.Alpha:
		return "Alpha"
	}
	return "other"
}

func TestRecoverTurnsPanicsInto400(t *testing.T) {
	f := func() (err error) {
		defer recoverTo(&err, "png")
		panic("boom")
	}
	err := f()
	wantError(t, err, 400, "PNG data is corrupt")
	if !errors.Is(err, errPanic) {
		t.Errorf("%v does not wrap errPanic", err)
	}
	g := func() (img *image.NRGBA, info Info, err error) {
		defer recoverDecode(&img, &info, &err)
		img, info = image.NewNRGBA(image.Rect(0, 0, 1, 1)), Info{Format: "gif", Width: 1, Height: 1}
		var m map[string]int
		m["x"] = 1 // nil map write
		return img, info, nil
	}
	img, info, err := g()
	wantError(t, err, 400, "GIF data is corrupt")
	if img != nil || info != (Info{}) || !errors.Is(err, errPanic) {
		t.Errorf("after a panic: %v %+v %v", img != nil, info, err)
	}
}

// TestConvertExact covers the paths whose result is more exact than the
// premultiplied per-pixel route: 16-bit non-premultiplied colour and WebP's
// Y'CbCr with a separate alpha plane.
func TestConvertExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n64 := randImage("nrgba64", 19, 7, rng).(*image.NRGBA64)
	got := toNRGBA(n64)
	for y := range 7 {
		for x := range 19 {
			c := n64.NRGBA64At(x, y)
			want := color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)}
			if g := got.NRGBAAt(x, y); g != want {
				t.Fatalf("NRGBA64 (%d,%d) = %v, want %v", x, y, g, want)
			}
		}
	}
	a := image.NewNYCbCrA(image.Rect(0, 0, 19, 7), image.YCbCrSubsampleRatio420)
	for _, p := range [][]uint8{a.Y, a.Cb, a.Cr, a.A} {
		for i := range p {
			p[i] = uint8(rng.UintN(256))
		}
	}
	got = toNRGBA(a)
	for y := range 7 {
		for x := range 19 {
			yi, ci := a.YOffset(x, y), a.COffset(x, y)
			r, g, b := color.YCbCrToRGB(a.Y[yi], a.Cb[ci], a.Cr[ci])
			want := color.NRGBA{r, g, b, a.A[a.AOffset(x, y)]}
			if c := got.NRGBAAt(x, y); c != want {
				t.Fatalf("NYCbCrA (%d,%d) = %v, want %v", x, y, c, want)
			}
		}
	}
	// Limited-range BT.601 (lossy WebP) against the textbook formula.
	v := image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio444)
	for i := range v.Y {
		v.Y[i], v.Cb[i], v.Cr[i] = uint8(rng.UintN(256)), uint8(rng.UintN(256)), uint8(rng.UintN(256))
	}
	v.Y[0], v.Cb[0], v.Cr[0] = 16, 128, 128  // video black
	v.Y[1], v.Cb[1], v.Cr[1] = 235, 128, 128 // video white
	got = toNRGBARange(v, true)
	if got.NRGBAAt(0, 0) != (color.NRGBA{0, 0, 0, 255}) || got.NRGBAAt(1, 0) != (color.NRGBA{255, 255, 255, 255}) {
		t.Fatalf("video black and white = %v %v", got.NRGBAAt(0, 0), got.NRGBAAt(1, 0))
	}
	for i := range v.Y {
		y, cb, cr := 1.164383*(float64(v.Y[i])-16), float64(v.Cb[i])-128, float64(v.Cr[i])-128
		want := [3]float64{y + 1.596027*cr, y - 0.391762*cb - 0.812968*cr, y + 2.017232*cb}
		for c, w := range want {
			w = math.Round(math.Max(0, math.Min(255, w)))
			if d := math.Abs(float64(got.Pix[4*i+c]) - w); d > 1 {
				t.Fatalf("video range pixel %d channel %d = %d, want %v", i, c, got.Pix[4*i+c], w)
			}
		}
	}

	// An index past the end of the palette is transparent black, not a panic.
	p := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.White})
	p.Pix[1] = 7
	got = toNRGBA(p)
	if got.NRGBAAt(0, 0) != (color.NRGBA{255, 255, 255, 255}) || got.NRGBAAt(1, 0) != (color.NRGBA{}) {
		t.Fatalf("paletted = %v", got.Pix)
	}
}

// TestDecodeLosslessFormats round-trips every pixel model the lossless
// decoders produce and checks the pixels exactly.
func TestDecodeLosslessFormats(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const w, h = 29, 17
	hi := func(v uint16) uint8 { return uint8(v >> 8) }

	gray := randImage("gray", w, h, rng).(*image.Gray)
	gray16 := randImage("gray16", w, h, rng).(*image.Gray16)
	nrgba := pattern(w, h, true)
	n64 := randImage("nrgba64", w, h, rng).(*image.NRGBA64)
	rgb16 := randImage("rgba64-opaque", w, h, rng).(*image.RGBA64)
	opaque := randImage("rgba-opaque", w, h, rng).(*image.RGBA)

	palette := func(n int) *image.Paletted {
		var pal color.Palette
		for i := range n {
			pal = append(pal, color.NRGBA{uint8(i * 7), uint8(255 - i), uint8(i * 3), uint8(255 - (i%3)*100)})
		}
		m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for i := range m.Pix {
			m.Pix[i] = uint8(rng.UintN(uint(n)))
		}
		return m
	}

	// Grey with alpha (8 and 16 bits) is never written by Go's encoder.
	var ga8, ga16 [][]byte
	for range h {
		r8, r16 := make([]byte, 2*w), make([]byte, 4*w)
		for i := range r8 {
			r8[i] = uint8(rng.UintN(256))
		}
		for i := range r16 {
			r16[i] = uint8(rng.UintN(256))
		}
		ga8, ga16 = append(ga8, r8), append(ga16, r16)
	}
	// 4-bit grey: two pixels a byte, scaled by 17.
	var g4 [][]byte
	for range h {
		r := make([]byte, (w+1)/2)
		for i := range r {
			r[i] = uint8(rng.UintN(256))
		}
		g4 = append(g4, r)
	}

	cases := []struct {
		name string
		data []byte
		want func(x, y int) color.NRGBA
	}{
		{"PNG grey 8", encPNG(t, gray), func(x, y int) color.NRGBA {
			v := gray.GrayAt(x, y).Y
			return color.NRGBA{v, v, v, 255}
		}},
		{"PNG grey 16", encPNG(t, gray16), func(x, y int) color.NRGBA {
			v := hi(gray16.Gray16At(x, y).Y)
			return color.NRGBA{v, v, v, 255}
		}},
		{"PNG grey 4", makePNG(t, w, h, 4, 0, g4), func(x, y int) color.NRGBA {
			v := g4[y][x/2] >> (4 * (1 - x%2)) & 0xF * 17
			return color.NRGBA{v, v, v, 255}
		}},
		{"PNG grey+alpha 8", makePNG(t, w, h, 8, 4, ga8), func(x, y int) color.NRGBA {
			v, a := ga8[y][2*x], ga8[y][2*x+1]
			return color.NRGBA{v, v, v, a}
		}},
		{"PNG grey+alpha 16", makePNG(t, w, h, 16, 4, ga16), func(x, y int) color.NRGBA {
			v, a := ga16[y][4*x], ga16[y][4*x+2]
			return color.NRGBA{v, v, v, a}
		}},
		{"PNG RGB 8", encPNG(t, opaque), func(x, y int) color.NRGBA {
			c := opaque.RGBAAt(x, y)
			return color.NRGBA{c.R, c.G, c.B, 255}
		}},
		{"PNG RGB 16", encPNG(t, rgb16), func(x, y int) color.NRGBA {
			c := rgb16.RGBA64At(x, y)
			return color.NRGBA{hi(c.R), hi(c.G), hi(c.B), 255}
		}},
		{"PNG RGBA 8", encPNG(t, nrgba), nrgba.NRGBAAt},
		{"PNG RGBA 16", encPNG(t, n64), func(x, y int) color.NRGBA {
			c := n64.NRGBA64At(x, y)
			return color.NRGBA{hi(c.R), hi(c.G), hi(c.B), hi(c.A)}
		}},
		{"WebP lossless", fixture(t, "lossless.webp"), func(x, y int) color.NRGBA { return patternAt(x, y, patW, patH) }},
		{"WebP lossless with alpha", fixture(t, "lossless-alpha.webp"), func(x, y int) color.NRGBA {
			c := patternAt(x, y, patW, patH)
			c.A = alphaAt(x, y, patW, patH)
			return c
		}},
	}
	for _, n := range []int{2, 4, 16, 200} { // 1, 2, 4 and 8 bits per index
		m := palette(n)
		cases = append(cases, struct {
			name string
			data []byte
			want func(x, y int) color.NRGBA
		}{fmt.Sprintf("PNG palette of %d", n), encPNG(t, m), func(x, y int) color.NRGBA {
			return m.Palette[m.ColorIndexAt(x, y)].(color.NRGBA)
		}})
	}
	gp := palette(100)
	for i, c := range gp.Palette {
		c := c.(color.NRGBA)
		c.A = 255 // GIF has on/off transparency only
		gp.Palette[i] = c
	}
	gp.Palette[5] = color.NRGBA{} // the transparent index
	cases = append(cases, struct {
		name string
		data []byte
		want func(x, y int) color.NRGBA
	}{"GIF with transparency", encGIF(t, gp), func(x, y int) color.NRGBA {
		return gp.Palette[gp.ColorIndexAt(x, y)].(color.NRGBA)
	}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, info, err := Decode(c.data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Min != (image.Point{}) || b.Dx() != info.Width || b.Dy() != info.Height || info.Orientation != 1 {
				t.Fatalf("bounds %v, info %+v", b, info)
			}
			for y := range b.Dy() {
				for x := range b.Dx() {
					if got, want := img.NRGBAAt(x, y), c.want(x, y); got != want {
						t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
}

// TestDecodeLossyFormats decodes the lossy fixtures (and Go-encoded JPEG)
// and checks they are close to the synthetic pattern they were made from.
func TestDecodeLossyFormats(t *testing.T) {
	want := pattern(patW, patH, false)
	wantAlpha := pattern(patW, patH, true)
	grey := image.NewNRGBA(want.Rect)
	for i := 0; i < len(want.Pix); i += 4 {
		// BT.601 luma, as JPEG encoders compute it.
		v := uint8((299*int(want.Pix[i]) + 587*int(want.Pix[i+1]) + 114*int(want.Pix[i+2]) + 500) / 1000)
		copy(grey.Pix[i:], []uint8{v, v, v, 255})
	}
	goJPEG := encJPEG(t, want, 95)
	goGray := image.NewGray(want.Rect)
	for i := range goGray.Pix {
		goGray.Pix[i] = grey.Pix[4*i]
	}
	cases := []struct {
		name, format string
		data         []byte
		want         *image.NRGBA
		maxMean      float64
	}{
		{"Go baseline 4:2:0", "jpeg", goJPEG, want, 3},
		{"Go baseline grey", "jpeg", encJPEG(t, goGray, 95), grey, 2},
		{"progressive 4:2:0", "jpeg", fixture(t, "progressive-420.jpg"), want, 3},
		{"progressive 4:4:4", "jpeg", fixture(t, "progressive-444.jpg"), want, 3},
		{"progressive grey", "jpeg", fixture(t, "progressive-gray.jpg"), grey, 2},
		{"baseline 4:4:4", "jpeg", fixture(t, "baseline-444.jpg"), want, 3},
		{"baseline 4:2:2", "jpeg", fixture(t, "baseline-422.jpg"), want, 3},
		{"baseline 4:4:0", "jpeg", fixture(t, "baseline-440.jpg"), want, 3},
		{"baseline 4:1:1", "jpeg", fixture(t, "baseline-411.jpg"), want, 4},
		{"baseline 4:1:0", "jpeg", fixture(t, "baseline-410.jpg"), want, 4},
		{"CMYK", "jpeg", fixture(t, "cmyk.jpg"), want, 3},
		{"WebP lossy", "webp", fixture(t, "lossy.webp"), want, 3},
		{"WebP lossy with alpha", "webp", fixture(t, "lossy-alpha.webp"), wantAlpha, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, info, err := Decode(c.data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if info != (Info{Format: c.format, Width: patW, Height: patH, Orientation: 1}) {
				t.Fatalf("info = %+v", info)
			}
			cfg, err := DecodeConfig(c.data, DefaultLimits)
			if err != nil || cfg != info {
				t.Fatalf("DecodeConfig = %+v, %v; Decode gave %+v", cfg, err, info)
			}
			mean, maxd, maxA := diffStats(t, img, c.want, 64)
			t.Logf("mean |diff| %.2f, max %d, max alpha diff %d", mean, maxd, maxA)
			if mean > c.maxMean || maxd > 40 || maxA != 0 {
				t.Errorf("too far from the pattern: mean %.2f (limit %.1f), max %d, alpha max %d", mean, c.maxMean, maxd, maxA)
			}
		})
	}
}

func TestGIFFirstFrame(t *testing.T) {
	pal := color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}}
	f1 := image.NewPaletted(image.Rect(3, 2, 8, 6), pal) // a red frame inside a 10x8 screen
	for i := range f1.Pix {
		f1.Pix[i] = 1
	}
	f2 := image.NewPaletted(image.Rect(0, 0, 10, 8), pal) // all blue
	for i := range f2.Pix {
		f2.Pix[i] = 2
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{
		Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 10, Height: 8},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, info, err := Decode(buf.Bytes(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{Format: "gif", Width: 10, Height: 8, Orientation: 1}) || img.Rect != image.Rect(0, 0, 10, 8) {
		t.Fatalf("info %+v, bounds %v", info, img.Rect)
	}
	for y := range 8 {
		for x := range 10 {
			want := color.NRGBA{}
			if (image.Point{x, y}).In(f1.Rect) {
				want = color.NRGBA{255, 0, 0, 255}
			}
			if got := img.NRGBAAt(x, y); got != want {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

// anmfChunk wraps a still frame's chunks as an ANMF chunk placed at (x, y).
func anmfChunk(x, y, w, h int, body []byte) []byte {
	d := make([]byte, 16)
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(d[0:], x/2)
	put24(d[3:], y/2)
	put24(d[6:], w-1)
	put24(d[9:], h-1)
	put24(d[12:], 100) // duration
	return webpChunk("ANMF", append(d, body...))
}

func TestWebPAnimatedFirstFrame(t *testing.T) {
	img, info, err := Decode(fixture(t, "animated.webp"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{Format: "webp", Width: patW, Height: patH, Orientation: 1}) {
		t.Fatalf("info %+v", info)
	}
	sameNRGBA(t, img, pattern(patW, patH, false)) // the first frame is lossless and opaque

	vp8 := fixture(t, "lossy.webp")[12:]
	anim := webpChunk("ANIM", make([]byte, 6))
	const cw, ch, fx, fy = 70, 55, 4, 6
	data := riffWebP(vp8xChunk(0x02, cw, ch), anim,
		anmfChunk(fx, fy, patW, patH, vp8),
		anmfChunk(0, 0, patW, patH, fixture(t, "lossless.webp")[12:]))
	img, info, err = Decode(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{Format: "webp", Width: cw, Height: ch, Orientation: 1}) {
		t.Fatalf("info %+v", info)
	}
	for y := range ch {
		for x := range cw {
			inside := x >= fx && x < fx+patW && y >= fy && y < fy+patH
			if c := img.NRGBAAt(x, y); (c.A == 255) != inside || (!inside && c != color.NRGBA{}) {
				t.Fatalf("(%d,%d) = %v, inside the frame: %v", x, y, c, inside)
			}
		}
	}
	frame := img.SubImage(image.Rect(fx, fy, fx+patW, fy+patH)).(*image.NRGBA)
	if mean, maxd, _ := diffStats(t, toNRGBA(frame), pattern(patW, patH, false), 0); mean > 3 || maxd > 40 {
		t.Errorf("placed frame differs from the pattern: mean %.2f max %d", mean, maxd)
	}

	for name, bad := range map[string][]byte{
		"frame outside the canvas": riffWebP(vp8xChunk(0x02, 40, 40), anim, anmfChunk(0, 0, patW, patH, vp8)),
		"frame header wrong size":  riffWebP(vp8xChunk(0x02, cw, ch), anim, anmfChunk(0, 0, patW-1, patH, vp8)),
		"frame too short":          riffWebP(vp8xChunk(0x02, cw, ch), anim, webpChunk("ANMF", make([]byte, 9))),
		"frame without pixels":     riffWebP(vp8xChunk(0x02, cw, ch), anim, anmfChunk(0, 0, 8, 8, nil)),
	} {
		_, _, err := Decode(bad, DefaultLimits)
		t.Logf("%s: %v", name, err)
		wantError(t, err, 400, "WebP data")
	}
}

// storedLayouts gives, for each EXIF orientation, how the upright picture
// "ABC/DEF" is stored (written out by hand from the EXIF definitions of
// where row 0 and column 0 go).
var storedLayouts = map[int]string{
	1: "ABC/DEF",
	2: "CBA/FED",
	3: "FED/CBA",
	4: "DEF/ABC",
	5: "AD/BE/CF",
	6: "CF/BE/AD",
	7: "FC/EB/DA",
	8: "DA/EB/FC",
}

func TestOrientationJPEG(t *testing.T) {
	const scale = 16 // whole MCUs, so JPEG keeps each block's colour
	for o := 1; o <= 8; o++ {
		for _, big := range []bool{false, true} {
			data := withAPP1Exif(encJPEG(t, layout(storedLayouts[o], scale), 100), exifTIFF(big, uint32(o), 3))
			img, info, err := Decode(data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if info != (Info{Format: "jpeg", Width: 3 * scale, Height: 2 * scale, Orientation: o}) {
				t.Errorf("orientation %d (big-endian %v): info %+v", o, big, info)
			}
			if got := readLayout(img, scale); got != "ABC/DEF" {
				t.Errorf("orientation %d (big-endian %v): upright image reads %s, want ABC/DEF", o, big, got)
			}
			cfg, err := DecodeConfig(data, DefaultLimits)
			if err != nil || cfg != info {
				t.Errorf("DecodeConfig = %+v, %v", cfg, err)
			}
		}
	}
}

func TestOrientationPNG(t *testing.T) {
	for o := 1; o <= 8; o++ {
		stored := encPNG(t, layout(storedLayouts[o], 1))
		for _, prefix := range []string{"", "Exif\x00\x00"} {
			data := insertAfterIHDR(stored, pngChunk("eXIf", append([]byte(prefix), exifTIFF(o%2 == 0, uint32(o), 3)...)))
			img, info, err := Decode(data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != o || info.Width != 3 || info.Height != 2 {
				t.Errorf("orientation %d: info %+v", o, info)
			}
			sameNRGBA(t, img, layout("ABC/DEF", 1)) // exact for PNG
		}
	}
}

func TestOrientationWebP(t *testing.T) {
	vp8 := fixture(t, "lossy.webp")[12:] // the one "VP8 " chunk
	want := image.NewNRGBA(image.Rect(0, 0, patH, patW))
	for y := range patW { // orientation 6: turned 90° clockwise
		for x := range patH {
			want.SetNRGBA(x, y, patternAt(y, patH-1-x, patW, patH))
		}
	}
	for _, prefix := range []string{"", "Exif\x00\x00"} {
		exif := webpChunk("EXIF", append([]byte(prefix), exifTIFF(true, 6, 4)...)) // LONG, big-endian
		data := riffWebP(vp8xChunk(0x08, patW, patH), vp8, exif)
		img, info, err := Decode(data, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if info != (Info{Format: "webp", Width: patH, Height: patW, Orientation: 6}) {
			t.Fatalf("info %+v", info)
		}
		if mean, maxd, _ := diffStats(t, img, want, 0); mean > 3 || maxd > 40 {
			t.Fatalf("rotated WebP differs: mean %.2f max %d", mean, maxd)
		}
	}
}

func TestTIFFOrientation(t *testing.T) {
	good := exifTIFF(false, 6, 3)
	cases := []struct {
		name string
		b    []byte
		want int
	}{
		{"little-endian SHORT", good, 6},
		{"big-endian SHORT", exifTIFF(true, 8, 3), 8},
		{"LONG", exifTIFF(false, 3, 4), 3},
		{"nil", nil, 1},
		{"short", good[:7], 1},
		{"bad magic", append([]byte("XX*\x00"), good[4:]...), 1},
		{"IFD cut", good[:20], 1},
		{"IFD offset past the end", func() []byte { b := bytes.Clone(good); b[4] = 200; return b }(), 1},
		{"IFD offset into the header", func() []byte { b := bytes.Clone(good); b[4] = 2; return b }(), 1},
		{"huge entry count", func() []byte { b := bytes.Clone(good); b[8], b[9] = 0xFF, 0xFF; return b }(), 6},
		{"value 0", exifTIFF(false, 0, 3), 1},
		{"value 9", exifTIFF(false, 9, 3), 1},
		{"wrong type", exifTIFF(false, 6, 7), 1},
		{"zero count", func() []byte { b := bytes.Clone(good); b[26] = 0; return b }(), 1},
	}
	for _, c := range cases {
		if got := tiffOrientation(c.b); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// Every prefix of a real segment is handled without panicking.
	j := withAPP1Exif(encJPEG(t, pattern(8, 8, false), 80), good)
	for n := range len(j) {
		orientationOf("jpeg", j[:n])
		orientationOf("png", j[:n])
		orientationOf("webp", j[:n])
	}
	// An XMP APP1 before the Exif one is skipped.
	xmp := []byte("http://ns.adobe.com/xap/1.0/\x00<x/>")
	app1 := append([]byte{0xFF, 0xE1, 0, byte(len(xmp) + 2)}, xmp...)
	jx := append(append([]byte{0xFF, 0xD8}, app1...), j[2:]...)
	if got := orientationOf("jpeg", jx); got != 6 {
		t.Errorf("after an XMP segment: %d, want 6", got)
	}
}

type manifestEntry struct {
	File   string `json:"file"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// TestRealPhotos decodes the shared photos: sizes as in the manifest, and
// pixels identical to the per-pixel conversion of the standard decoders
// (for JPEG in builds without libjpeg-turbo; with it, TestJPEGBackendsAgree
// bounds the difference).
func TestRealPhotos(t *testing.T) {
	dir := filepath.Join(sharedTestdata(t), "images")
	var manifest []manifestEntry
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "manifest.json")), &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 11 {
		t.Fatalf("manifest lists %d images, want 11", len(manifest))
	}
	kinds := map[string]bool{}
	for _, e := range manifest {
		t.Run(e.File, func(t *testing.T) {
			data := readFile(t, filepath.Join(dir, e.File))
			img, info, err := Decode(data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != e.Width || info.Height != e.Height || img.Rect != image.Rect(0, 0, e.Width, e.Height) {
				t.Fatalf("decoded %+v bounds %v, manifest says %dx%d", info, img.Rect, e.Width, e.Height)
			}
			ref, _, err := image.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			kinds[info.Format+" "+typeName(ref)] = true
			if testing.Short() {
				return
			}
			if info.Format == formatJPEG && JPEGBackend() != "image/jpeg" {
				return // libjpeg-turbo rounds differently: TestJPEGBackendsAgree
			}
			sameNRGBA(t, img, genericNRGBA(ref))
		})
	}
	t.Logf("pixel models seen: %v", kinds)
	for _, k := range []string{"png Paletted", "png Gray", "png NRGBA", "jpeg YCbCr"} {
		if !kinds[k] {
			t.Errorf("no %s among the photos", k)
		}
	}
}

// The image front end is fuzzed per format, each target seeded with files
// of its format (the mutator rarely turns one format into another), with
// the same checks: no panic (a recovered one fails too), every error a
// public 400 or 413, DecodeConfig agreeing with Decode, limits respected,
// bounds as reported.

func FuzzDecodeJPEG(f *testing.F) {
	for _, name := range []string{"progressive-420.jpg", "progressive-gray.jpg", "baseline-410.jpg", "baseline-411.jpg",
		"baseline-444.jpg", "cmyk.jpg", "arithmetic.jpg"} {
		f.Add(fixture(f, name))
	}
	small := pattern(12, 9, true)
	f.Add(encJPEG(f, small, 50))
	f.Add(withAPP1Exif(encJPEG(f, small, 50), exifTIFF(true, 6, 3)))
	var buf bytes.Buffer
	if err := Encode(&buf, pattern(40, 24, false), "jpeg", 90); err != nil { // libjpeg-turbo's output in cgo builds
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	fuzzDecode(f)
}

func FuzzDecodePNG(f *testing.F) {
	small := pattern(12, 9, true)
	f.Add(encPNG(f, small))
	f.Add(encPNG(f, randImage("gray16", 5, 4, rand.New(rand.NewPCG(1, 1)))))
	f.Add(encPNG(f, randImage("rgba64", 3, 3, rand.New(rand.NewPCG(2, 2)))))
	f.Add(insertAfterIHDR(encPNG(f, small), pngChunk("eXIf", exifTIFF(false, 7, 3))))
	pal := image.NewPaletted(image.Rect(0, 0, 7, 5), color.Palette{color.Black, color.White, color.NRGBA{255, 0, 0, 128}})
	pal.Pix[3] = 2
	f.Add(encPNG(f, pal))
	fuzzDecode(f)
}

func FuzzDecodeGIF(f *testing.F) {
	f.Add(encGIF(f, pattern(12, 9, true)))
	pal := color.Palette{color.Black, color.White, color.Transparent}
	frame := func(r image.Rectangle, c uint8) *image.Paletted {
		m := image.NewPaletted(r, pal)
		for i := range m.Pix {
			m.Pix[i] = c
		}
		return m
	}
	var anim bytes.Buffer
	if err := gif.EncodeAll(&anim, &gif.GIF{
		Image:  []*image.Paletted{frame(image.Rect(2, 1, 6, 4), 1), frame(image.Rect(0, 0, 8, 6), 0)},
		Delay:  []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 8, Height: 6},
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(anim.Bytes())
	fuzzDecode(f)
}

func FuzzDecodeWebP(f *testing.F) {
	for _, name := range []string{"lossy.webp", "lossless.webp", "lossy-alpha.webp", "lossless-alpha.webp", "animated.webp"} {
		f.Add(fixture(f, name))
	}
	f.Add(riffWebP(vp8xChunk(0x08, patW, patH), fixture(f, "lossy.webp")[12:], webpChunk("EXIF", exifTIFF(false, 5, 3))))
	fuzzDecode(f)
}

func fuzzDecode(f *testing.F) {
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 18}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := Decode(data, lim)
		cfg, cfgErr := DecodeConfig(data, lim)
		if err != nil {
			var fe *faceswap.Error
			if !errors.As(err, &fe) || (fe.Status != 400 && fe.Status != 413) || fe.Message == "" {
				t.Fatalf("error %v (%T) is not a public 400 or 413", err, err)
			}
			if errors.Is(err, errPanic) {
				t.Fatalf("a decoder panicked: %v", err)
			}
			if img != nil {
				t.Fatal("image returned with an error")
			}
			return
		}
		if cfgErr != nil || cfg != info {
			t.Fatalf("DecodeConfig = %+v, %v; Decode gave %+v", cfg, cfgErr, info)
		}
		if int64(len(data)) > lim.MaxBytes || int64(info.Width)*int64(info.Height) > lim.MaxPixels {
			t.Fatalf("accepted %d bytes, %dx%d over the limits", len(data), info.Width, info.Height)
		}
		if img.Rect != image.Rect(0, 0, info.Width, info.Height) || len(img.Pix) < 4*info.Width*info.Height {
			t.Fatalf("bounds %v for info %+v", img.Rect, info)
		}
		if info.Orientation < 1 || info.Orientation > 8 {
			t.Fatalf("orientation %d", info.Orientation)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := readFile(b, filepath.Join(sharedTestdata(b), "images", "group5_office_meeting.jpg"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(data, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConvertYCbCr measures the conversion alone, against the
// per-pixel route it replaces.
func BenchmarkConvertYCbCr(b *testing.B) {
	data := readFile(b, filepath.Join(sharedTestdata(b), "images", "group5_office_meeting.jpg"))
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			toNRGBA(m)
		}
	})
	b.Run("per-pixel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			genericNRGBA(m)
		}
	})
}

// BenchmarkOrient measures turning a 1280x853 image (orientation 6 writes
// columns, the unfriendly case for caches).
func BenchmarkOrient(b *testing.B) {
	m := pattern(1280, 853, false)
	for _, o := range []int{3, 6} {
		b.Run(fmt.Sprint(o), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				orient(m, o)
			}
		})
	}
}
