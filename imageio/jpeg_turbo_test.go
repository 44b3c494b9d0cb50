//go:build cgo

package imageio

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faceswap/models"
)

// TestJPEGBackendsAgree decodes real photos (the demo photos every set-up
// machine has, and every JPEG of the shared photos) and the fixtures with
// libjpeg-turbo (what Decode uses in this build) and with image/jpeg (the
// pure-Go build's decoder). The two IDCTs and colour conversions round
// differently, so pixels may differ by a few levels, but never visibly:
// measured, the mean difference is at most 0.34 levels and the largest 4.
func TestJPEGBackendsAgree(t *testing.T) {
	var files []string
	for i := 1; i <= models.SampleCount; i++ {
		files = append(files, demoPhoto(t, i))
	}
	for _, name := range []string{"baseline-410.jpg", "baseline-411.jpg", "baseline-422.jpg", "baseline-440.jpg", "baseline-444.jpg",
		"progressive-420.jpg", "progressive-444.jpg", "progressive-gray.jpg"} {
		files = append(files, filepath.Join("testdata", name))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) { backendsAgree(t, path) })
	}
	t.Run("shared", func(t *testing.T) {
		dir := filepath.Join(sharedTestdata(t), "images")
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".jpg") {
				t.Run(e.Name(), func(t *testing.T) { backendsAgree(t, filepath.Join(dir, e.Name())) })
			}
		}
	})
}

// backendsAgree compares the two decoders on the JPEG file at path.
func backendsAgree(t *testing.T, path string) {
	data := readFile(t, path)
	info, err := DecodeConfig(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	fast, ok := decodeJPEGFast(data, image.Pt(info.Width, info.Height))
	if !ok {
		// TurboJPEG 2.1 reads no header with 4:1:0 chroma; Decode
		// then gives image/jpeg's pixels.
		if !strings.Contains(path, "410") {
			t.Fatal("libjpeg-turbo left the file to image/jpeg")
		}
		img, _, err := Decode(data, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		sameNRGBA(t, img, toNRGBA(ref))
		return
	}
	mean, maxRGB, maxA := diffStats(t, fast, toNRGBA(ref), 0)
	t.Logf("mean %.3f, max %d", mean, maxRGB)
	if mean > 0.5 || maxRGB > 6 || maxA != 0 {
		t.Errorf("mean difference %.3f levels, largest %d (alpha %d): want ≤ 0.5, ≤ 6, 0", mean, maxRGB, maxA)
	}
}
