package raster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image"
	"math"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/resample"
)

// checksum is the SHA-256 of the tensor's float32 bits (little-endian),
// shortened: equal sums mean bit-identical tensors.
func checksum(v []float32) string {
	h := sha256.New()
	b := make([]byte, 4)
	for _, x := range v {
		binary.LittleEndian.PutUint32(b, math.Float32bits(x))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestSamplerChecksums holds the tensors the model inputs are made of, on
// a real photo, to the bits they had when the analysis models and the
// swapper had a sampler each (raster's and paste's, recorded then): the
// shared-pyramid NHWC crops of the analysis models and the one-crop NCHW
// crops of the swapper and restorers, at several positions
// (inside, half outside and wholly outside the picture), scales (enlarging,
// level 0 and reductions to pyramid levels 1–4), angles, sizes,
// normalisations and kernels.
func TestSamplerChecksums(t *testing.T) {
	img := testenv.Load(t, testenv.PhotoPath(t, "group5_office_meeting.jpg")) // 1280×853
	p := NewPyramid(img)
	at := func(x, y float64) faceswap.Point { return faceswap.Point{X: x, Y: y} }
	tanh := Norm{Scale: 2.0 / 255, Offset: -1}
	unit := Norm{Scale: 1.0 / 255}
	arc := Norm{Scale: 1 / 127.5, Offset: -1}

	nhwc := []struct {
		name string
		w, h int
		m    Affine
		n    Norm
		want string
	}{
		{"blazeface window, level 2", 128, 128, Affine{6.5, 0, 3.25 - 0.5, 0, 6.5, 10 + 3.25 - 0.5}, tanh, "af2c4d8621954405"},
		{"letterbox rows, level 2", 320, 213, Affine{4, 0, 1.5, 0, 4, 1.5}, Norm{Scale: 1}, "17cb1790fcdec822"},
		{"mesh crop, rotated, level 0", 192, 192, CropTransform(at(420, 260), 210, 0.31, 192), unit, "27aeb28e76b7e542"},
		{"faceres crop, level 1", 224, 224, CropTransform(at(905, 300), 520, -0.2, 224), Norm{Scale: 1}, "1c33d7ce38e4f379"},
		{"enlarged, half outside", 96, 64, CropTransform(at(5, 840), 40, 0.7, 96), tanh, "43df80bc6fbfc76d"},
		{"gray, level 4", 48, 48, CropTransform(at(640, 426), 900, 1.1, 48), Norm{Scale: 1.0 / 255, Offset: 0.5, Gray: true}, "d1667f7bbe9f1c99"},
		{"wholly outside", 32, 32, CropTransform(at(-500, -500), 64, 0, 32), tanh, "542288a792c2de1c"},
	}
	for _, c := range nhwc {
		ch := 3
		if c.n.Gray {
			ch = 1
		}
		dst := make([]float32, c.w*c.h*ch)
		sample(p, dst, c.w, c.h, c.m, c.n)
		if got := checksum(dst); got != c.want {
			t.Errorf("NHWC %s: checksum %s, want %s", c.name, got, c.want)
		}
	}

	// The part of the photo right of x=300 and below y=40, with its own
	// origin: one-crop sampling reads img.Rect.Min-relative positions.
	sub := img.SubImage(image.Rect(300, 40, 1280, 853)).(*image.NRGBA)
	nchw := []struct {
		name string
		img  *image.NRGBA
		size int
		m    Affine
		n    Norm
		want [4]string // Nearest, Bilinear, Bicubic, Lanczos
	}{
		{"arcface 112, level 0", img, 112, CropTransform(at(420, 250), 150, 0.12, 112), arc, [4]string{"8f2b5f241385e1ed", "c78a0669b6a1389e", "b7a07384d6d0c1b7", "4dce9646324b8c96"}},
		{"inswapper 128, enlarging", img, 128, CropTransform(at(905, 300), 90, -0.4, 128), unit, [4]string{"160b27bf2a551c51", "a4341bb548cc78a4", "f1f48795b363d1e0", "2e8f0afc68313908"}},
		{"restorer 512, enlarging", img, 512, CropTransform(at(640, 420), 260, 0.05, 512), arc, [4]string{"bcbd551df819e418", "4ba47d81b4f4864c", "40c7f112925ecc6c", "83efa5ffed7317f0"}},
		{"reduced to level 3, rotated", img, 64, CropTransform(at(700, 400), 600, 0.9, 64), Norm{Scale: 1}, [4]string{"6eba037130587ad9", "8b97c711dfca9ba9", "61c97c44de9f8520", "58eb373727d4bbbd"}},
		{"half outside, level 1", img, 96, CropTransform(at(1270, 20), 300, 0.3, 96), arc, [4]string{"74cdd32c99c7a9a8", "376484abec9dd03e", "8fa4073e61b00432", "8a67285892e1d730"}},
		{"offset image, level 1", sub, 128, CropTransform(at(400, 300), 330, -0.25, 128), unit, [4]string{"3c78a0f90f43db68", "03750086dd3346cc", "bfd87759a8699593", "96ed69e7a2656bdd"}},
		{"wholly outside", img, 40, CropTransform(at(2000, 2000), 50, 0, 40), arc, [4]string{"37e3fe3ba1a0b49f", "37e3fe3ba1a0b49f", "37e3fe3ba1a0b49f", "37e3fe3ba1a0b49f"}},
	}
	for _, c := range nchw {
		for k := resample.Nearest; k <= resample.Lanczos; k++ {
			dst := make([]float32, 3*c.size*c.size)
			sampleNCHW(dst, c.img, c.m, c.size, c.n, k)
			if got := checksum(dst); got != c.want[k] {
				t.Errorf("NCHW %s, %s: checksum %s, want %s", c.name, k, got, c.want[k])
			}
		}
	}
}
