package inswapper

import (
	"image"
	"testing"
	"time"

	"faceswap"
	"faceswap/resample"
	"faceswap/swap"
)

func (e *Engine) ortTime() time.Duration {
	_, a := e.swapper.Stats()
	_, b := e.arcface.Stats()
	return a + b
}

// scaleUp enlarges a photo k times (nearest) with its faces, to try faces
// larger than the test photos have.
func scaleUp(ph photo, k int) photo {
	r := ph.img.Rect
	big := image.NewNRGBA(image.Rect(0, 0, k*r.Dx(), k*r.Dy()))
	for y := 0; y < big.Rect.Dy(); y++ {
		for x := 0; x < big.Rect.Dx(); x++ {
			copy(big.Pix[big.PixOffset(x, y):big.PixOffset(x, y)+4], ph.img.Pix[ph.img.PixOffset(x/k, y/k):])
		}
	}
	out := photo{img: big}
	for _, f := range ph.faces {
		g := faceswap.Face{Box: faceswap.Rect{X: f.Box.X * float64(k), Y: f.Box.Y * float64(k), W: f.Box.W * float64(k), H: f.Box.H * float64(k)}}
		for i, p := range f.Keypoints {
			g.Keypoints[i] = faceswap.Point{X: p.X * float64(k), Y: p.Y * float64(k)}
		}
		out.faces = append(out.faces, g)
	}
	return out
}

// BenchmarkSwap measures the engine around the models (alignment, crops,
// latent, paste-back) with the stand-ins; "outside-ORT-ms/op" leaves out
// the time spent in ONNX Runtime.
func BenchmarkSwap(b *testing.B) {
	fx := newFixture(b, identitySpec())
	office := loadPhoto(b, "group5_office_meeting.jpg")
	portrait := loadPhoto(b, "portrait_woman_frontal_smiling.png")
	cases := []struct {
		name  string
		ph    photo
		pairs []swap.Pair
	}{
		{"office-3-pairs", office, rotatedPairs(office.faces, 3)},
		{"face-441px", portrait, []swap.Pair{{Source: office.faces[0], Target: portrait.faces[0]}}},
		{"face-1323px", scaleUp(portrait, 3), []swap.Pair{{Source: office.faces[0], Target: scaleUp(portrait, 3).faces[0]}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			dst := clone(c.ph.img)
			src := office.img
			b.ReportAllocs()
			ort0 := fx.e.ortTime()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				copy(dst.Pix, c.ph.img.Pix)
				if _, err := fx.e.Swap(dst, src, c.pairs, swap.Options{Interpolation: resample.Bilinear}); err != nil {
					b.Fatal(err)
				}
			}
			total := time.Since(start)
			ort := fx.e.ortTime() - ort0
			b.ReportMetric(float64(total-ort)/float64(b.N)/1e6, "outside-ORT-ms/op")
			b.ReportMetric(float64(ort)/float64(b.N)/1e6, "ORT-ms/op")
		})
	}
}
