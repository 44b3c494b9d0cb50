package turbojpeg_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"faceswap/internal/testenv"
	"faceswap/turbojpeg"
)

// photo is a smooth test picture with edges: gradients and a disc.
func photo(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			r, g, b := uint8(255*x/w), uint8(255*y/h), uint8(128)
			if dx, dy := x-w/2, y-h/2; dx*dx+dy*dy < w*h/16 {
				r, g, b = 240, 200, 40
			}
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = r, g, b, 255
		}
	}
	return m
}

// psnr compares the RGB of two RGBA buffers of the same size.
func psnr(a, b []byte) float64 {
	var se float64
	n := 0
	for i := 0; i < len(a); i += 4 {
		for c := range 3 {
			d := float64(a[i+c]) - float64(b[i+c])
			se += d * d
			n++
		}
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

func TestRoundTrip(t *testing.T) {
	src := photo(97, 61) // sizes that are not multiples of the 16-px MCU
	data, err := turbojpeg.EncodeRGBA(src.Pix, 97, 61, src.Stride, 95)
	if err != nil {
		t.Fatal(err)
	}
	h, err := turbojpeg.DecodeHeader(data)
	if err != nil || h.Width != 97 || h.Height != 61 || h.Colorspace != turbojpeg.YCbCr {
		t.Fatalf("header %+v, %v", h, err)
	}
	pix := make([]byte, 4*97*61)
	if err := turbojpeg.DecodeRGBA(data, pix, 97, 61, 4*97); err != nil {
		t.Fatal(err)
	}
	if p := psnr(src.Pix, pix); p < 30 {
		t.Errorf("round trip PSNR %.1f dB, want ≥ 30", p)
	}
	for i := 3; i < len(pix); i += 4 {
		if pix[i] != 255 {
			t.Fatalf("alpha %d at %d", pix[i], i)
		}
	}
	// image/jpeg reads what we write, as the same picture.
	ref, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if ycc, ok := ref.(*image.YCbCr); !ok || ycc.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Errorf("image/jpeg reads a %T, want 4:2:0 Y'CbCr", ref)
	}
	goPix := image.NewRGBA(ref.Bounds())
	for y := range 61 {
		for x := range 97 {
			goPix.Set(x, y, ref.At(x, y))
		}
	}
	if p := psnr(goPix.Pix, pix); p < 40 {
		t.Errorf("image/jpeg and libjpeg-turbo decode it %.1f dB apart, want ≥ 40", p)
	}
	// A stride wider than the row, and a larger quality, make a larger file.
	wide := make([]byte, 500*61)
	for y := range 61 {
		copy(wide[500*y:], src.Pix[y*src.Stride:y*src.Stride+4*97])
	}
	hi, err := turbojpeg.EncodeRGBA(wide, 97, 61, 500, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(hi) <= len(data) {
		t.Errorf("quality 100: %d bytes, quality 95: %d", len(hi), len(data))
	}
}

func TestDecodeRefusals(t *testing.T) {
	src := photo(64, 48)
	data, err := turbojpeg.EncodeRGBA(src.Pix, 64, 48, src.Stride, 90)
	if err != nil {
		t.Fatal(err)
	}
	pix := make([]byte, 4*64*48)
	var te *turbojpeg.Error
	// Truncated: a warning in libjpeg-turbo, an error here (imageio tells
	// it is truncated by image/jpeg reading to the end).
	err = turbojpeg.DecodeRGBA(data[:len(data)/2], pix, 64, 48, 4*64)
	if !errors.As(err, &te) {
		t.Errorf("truncated: %v, want an error", err)
	}
	// Corrupt entropy-coded data.
	bad := bytes.Clone(data)
	for i := len(bad) / 2; i < len(bad)/2+64; i++ {
		bad[i] = 0xFF
	}
	if err := turbojpeg.DecodeRGBA(bad, pix, 64, 48, 4*64); !errors.As(err, &te) {
		t.Errorf("corrupt: %v, want an *turbojpeg.Error", err)
	}
	// Not a JPEG; empty.
	if _, err := turbojpeg.DecodeHeader([]byte("GIF89a....")); !errors.As(err, &te) {
		t.Errorf("GIF: %v", err)
	}
	if _, err := turbojpeg.DecodeHeader(nil); err == nil {
		t.Error("empty: no error")
	}
	// A buffer too small, or a size that is not the header's, is refused
	// before libjpeg-turbo writes anything.
	if err := turbojpeg.DecodeRGBA(data, pix[:100], 64, 48, 4*64); err == nil {
		t.Error("small buffer: no error")
	}
	if err := turbojpeg.DecodeRGBA(data, make([]byte, 4*128*96), 128, 96, 4*128); !errors.As(err, &te) {
		t.Errorf("wrong size: %v", err)
	}
	// CMYK is left to image/jpeg.
	cmyk, err := os.ReadFile(filepath.Join("..", "imageio", "testdata", "cmyk.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := turbojpeg.DecodeHeader(cmyk)
	if err != nil || h.Colorspace != turbojpeg.CMYK && h.Colorspace != turbojpeg.YCCK {
		t.Fatalf("cmyk.jpg: %+v, %v", h, err)
	}
	if err := turbojpeg.DecodeRGBA(cmyk, make([]byte, 4*h.Width*h.Height), h.Width, h.Height, 4*h.Width); !errors.As(err, &te) {
		t.Errorf("CMYK: %v", err)
	}
}

func TestEncodeRefusals(t *testing.T) {
	pix := make([]byte, 4*8*8)
	for _, c := range []struct{ w, h, stride, q int }{
		{0, 8, 32, 90}, {8, 8, 16, 90}, {8, 9, 32, 90}, {8, 8, 32, 0}, {8, 8, 32, 101},
	} {
		if _, err := turbojpeg.EncodeRGBA(pix, c.w, c.h, c.stride, c.q); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestConcurrent decodes and encodes from several goroutines at once (each
// call has its own handle), with the race detector when it is on.
func TestConcurrent(t *testing.T) {
	src := photo(120, 80)
	want, err := turbojpeg.EncodeRGBA(src.Pix, 120, 80, src.Stride, 90)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for range 20 {
				got, err := turbojpeg.EncodeRGBA(src.Pix, 120, 80, src.Stride, 90)
				if err != nil || !bytes.Equal(got, want) {
					t.Error("encoding differs between calls")
					return
				}
				if err := turbojpeg.DecodeRGBA(got, make([]byte, 4*120*80), 120, 80, 4*120); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func office(b *testing.B) ([]byte, turbojpeg.Header) {
	data, err := os.ReadFile(filepath.Join(testenv.TestdataDir(b), "images", "group5_office_meeting.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	h, err := turbojpeg.DecodeHeader(data)
	if err != nil {
		b.Fatal(err)
	}
	return data, h
}

// BenchmarkDecode decodes the 1280×853 office photo to RGBA.
func BenchmarkDecode(b *testing.B) {
	data, h := office(b)
	pix := make([]byte, 4*h.Width*h.Height)
	for b.Loop() {
		if err := turbojpeg.DecodeRGBA(data, pix, h.Width, h.Height, 4*h.Width); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes the office photo at quality 95.
func BenchmarkEncode(b *testing.B) {
	data, h := office(b)
	pix := make([]byte, 4*h.Width*h.Height)
	if err := turbojpeg.DecodeRGBA(data, pix, h.Width, h.Height, 4*h.Width); err != nil {
		b.Fatal(err)
	}
	var n int
	for b.Loop() {
		out, err := turbojpeg.EncodeRGBA(pix, h.Width, h.Height, 4*h.Width, 95)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes")
}
