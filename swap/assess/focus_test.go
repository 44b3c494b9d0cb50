package assess

import (
	"image"
	"math"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
)

// TestEdgeWidthGrowsWithBlur: a portrait blurred by a Gaussian of σ
// pixels reads wider edges, as if edges about 2.7σ wide were added to
// its own (widths adding about as squares).
func TestEdgeWidthGrowsWithBlur(t *testing.T) {
	img := testenv.Load(t, testenv.Photo(t, testenv.Portrait))
	f := analyse(t, img).faces[0]
	sharp := EdgeWidth(img, f)
	if sharp < 1 || sharp > 4 {
		t.Errorf("the sharp portrait's edges are %.2f px wide, want 1–4", sharp)
	}
	prev := sharp
	for _, sigma := range []float64{1.5, 3, 4.5} {
		blurred := testenv.Blur(img, sigma)
		// the face found in the sharp photo, measured in the blurred one
		w := EdgeWidth(blurred, f)
		if w <= prev {
			t.Errorf("blurred by σ %.1f: edges %.2f px wide, not wider than %.2f", sigma, w, prev)
		}
		// widths add about as squares: the blur's own is about 2.7σ
		if own := math.Sqrt(w*w - sharp*sharp); own < 1.8*sigma || own > 3.4*sigma {
			t.Errorf("blurred by σ %.1f: edges %.2f px wide from %.2f, the blur's own %.2f, want %.1f–%.1f",
				sigma, w, sharp, own, 1.8*sigma, 3.4*sigma)
		}
		t.Logf("σ %.1f: %.2f px (sharp %.2f)", sigma, w, sharp)
		prev = w
	}
}

// TestEdgeWidthCannotTell: no image, no mesh, a face off the image, a
// featureless one or a mesh of NaNs read 0.
func TestEdgeWidthCannotTell(t *testing.T) {
	f := face(0, 0, 0, 2, 200, 200, 0.04, 0.3)
	grey := image.NewNRGBA(image.Rect(0, 0, 400, 400))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	for _, c := range []struct {
		name string
		img  *image.NRGBA
		f    faceswap.Face
	}{
		{"no image", nil, f},
		{"no mesh", grey, faceswap.Face{Box: faceswap.Rect{X: 100, Y: 100, W: 200, H: 200}}},
		{"a face beside the image", grey, face(0, 0, 0, 2, -1000, 200, 0.04, 0.3)},
		{"a flat grey face", grey, f},
		{"a mesh of NaNs", grey, nanFace()},
	} {
		if w := EdgeWidth(c.img, c.f); w != 0 {
			t.Errorf("%s: %.2f px, want 0", c.name, w)
		}
	}
}

// BenchmarkEdgeWidth: one face of face-api's demo photo 5, its largest
// (about 230 px wide).
func BenchmarkEdgeWidth(b *testing.B) {
	p := load(b, "demo5")
	f := p.faces[p.largest()]
	for b.Loop() {
		EdgeWidth(p.img, f)
	}
}

// nanFace is a face whose mesh points are all NaN: what a broken model
// could give.
func nanFace() faceswap.Face {
	m := make([]faceswap.Point3, faceswap.MeshPoints)
	for i := range m {
		m[i] = faceswap.Point3{X: math.NaN(), Y: math.NaN(), Z: math.NaN()}
	}
	return faceswap.Face{Mesh: m}
}
