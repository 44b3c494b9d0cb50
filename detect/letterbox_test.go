package detect

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/raster"
)

// testModels are the real detectors of the shared test data, one or two per
// family (test-only weights: never a default, never committed).
var testModels = []struct {
	file   string
	family models.Family
}{
	{"retinaface_mobilenet0.25_640.onnx", models.FamilyRetinaFace},
	{"yolov5n-0.5-face.onnx", models.FamilyYOLOv5Face},
	{"scrfd_500m_kps.onnx", models.FamilySCRFD},
	{"scrfd_2.5g_kps.onnx", models.FamilySCRFD},
}

// testModel loads a model of the shared test data.
func testModel(t testing.TB, file string) *onnx.Session {
	t.Helper()
	rt := testenv.Runtime(t)
	s, err := rt.Load(testModelPath(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testModelPath returns the path of a model of the shared test data,
// skipping t (failing it under CI) when the file is missing.
func testModelPath(t testing.TB, file string) string {
	t.Helper()
	path := filepath.Join(testenv.TestdataDir(t), "models", file)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: test model missing: %v", err)
		}
		t.Skipf("test model missing: %v", err)
	}
	return path
}

func testDetector(t testing.TB, file string, f models.Family, cfg Config) Detector {
	t.Helper()
	d, err := New(testModel(t, file), f, cfg)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// clippedIoU is the IoU of the parts of a and b inside the w×h image. The
// manifest's boxes of a face cut by the image border, and the detectors'
// own, extend past it by different amounts (scrfd_2.5g_kps boxes the whole
// head above the office photo's top edge, 60 px beyond it); what can be
// compared is the part that is in the picture. Inside the image it is the
// plain IoU.
func clippedIoU(a, b faceswap.Rect, w, h float64) float64 {
	clip := func(r faceswap.Rect) faceswap.Rect {
		x0, y0 := math.Max(r.X, 0), math.Max(r.Y, 0)
		x1, y1 := math.Min(r.X+r.W, w), math.Min(r.Y+r.H, h)
		return faceswap.Rect{X: x0, Y: y0, W: math.Max(0, x1-x0), H: math.Max(0, y1-y0)}
	}
	return clip(a).IoU(clip(b))
}

// TestFamiliesOnPhotos: every test detector finds exactly the documented
// faces in every test photo at its default settings, each face of both
// reference lists matched with IoU ≥ 0.5, with plausible keypoints.
func TestFamiliesOnPhotos(t *testing.T) {
	imgs := testenv.Manifest(t)
	pyrs := make([]*raster.Pyramid, len(imgs))
	for i, m := range imgs {
		pyrs[i] = raster.NewPyramid(testenv.Load(t, m.Path))
	}
	for _, tm := range testModels {
		t.Run(tm.file, func(t *testing.T) {
			d := testDetector(t, tm.file, tm.family, Config{})
			for i, m := range imgs {
				dets, err := d.Detect(pyrs[i])
				if err != nil {
					t.Fatal(err)
				}
				worst := 1.0
				if len(dets) != m.Faces {
					t.Errorf("%s: %d faces, want %d: %v", m.File, len(dets), m.Faces, boxes(dets))
				}
				for _, list := range [][][]float64{m.YuNet, m.SCRFD} {
					for _, f := range list {
						want := faceswap.Rect{X: f[0], Y: f[1], W: f[2], H: f[3]}
						best := 0.0
						for _, d := range dets {
							best = math.Max(best, clippedIoU(d.Box, want, float64(m.Width), float64(m.Height)))
						}
						worst = math.Min(worst, best)
						if best < 0.5 {
							t.Errorf("%s: face %v matched with IoU %.2f < 0.5 by %v", m.File, f[:4], best, boxes(dets))
						}
					}
				}
				for _, d := range dets {
					checkKeypoints(t, m.File, d, !strings.Contains(m.File, "profile"))
				}
				if m.Faces > 0 {
					t.Logf("%-45s %d faces, worst IoU %.2f", m.File, len(dets), worst)
				}
			}
		})
	}
}

func boxes(dets []Detection) string {
	var s []string
	for _, d := range dets {
		s = append(s, fmt.Sprintf("[%.0f %.0f %.0f %.0f %.2f]", d.Box.X, d.Box.Y, d.Box.W, d.Box.H, d.Score))
	}
	return strings.Join(s, " ")
}

// checkKeypoints: both eyes in the box (give or take 5% of its size, for
// faces cut by the border), the image-left eye left of the other and the
// mouth corners below the eyes on a frontal face, and Keypoints[5] unused.
func checkKeypoints(t *testing.T, file string, d Detection, frontal bool) {
	t.Helper()
	k := d.Five()
	b := d.Box
	mx, my := 0.05*b.W, 0.05*b.H
	for _, e := range k[:2] {
		if e.X < b.X-mx || e.X > b.X+b.W+mx || e.Y < b.Y-my || e.Y > b.Y+b.H+my {
			t.Errorf("%s: eye %v outside the face %+v", file, e, b)
		}
	}
	if frontal {
		if k[0].X >= k[1].X {
			t.Errorf("%s: left eye %v is not left of the right eye %v", file, k[0], k[1])
		}
		if k[3].X >= k[4].X || k[3].Y <= k[0].Y || k[4].Y <= k[1].Y {
			t.Errorf("%s: mouth corners %v %v are not below the eyes %v %v in order", file, k[3], k[4], k[0], k[1])
		}
	}
	if d.Keypoints[5] != (faceswap.Point{}) {
		t.Errorf("%s: Keypoints[5] = %v, want unused", file, d.Keypoints[5])
	}
}

// mosaic tiles n×n copies of the class photo (eight faces of about 28 px)
// and returns it with the reference boxes.
func mosaic(t testing.TB, n int) (*image.NRGBA, []faceswap.Rect) {
	t.Helper()
	var class testenv.Image
	for _, m := range testenv.Manifest(t) {
		if m.File == "group8_nasa_astronaut_class_2013.png" {
			class = m
		}
	}
	if class.Path == "" {
		t.Fatal("the class photo is not in the manifest")
	}
	src := testenv.Load(t, class.Path)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	img := image.NewNRGBA(image.Rect(0, 0, n*w, n*h))
	var want []faceswap.Rect
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			draw.Draw(img, image.Rect(j*w, i*h, (j+1)*w, (i+1)*h), src, image.Point{}, draw.Src)
			for _, f := range class.SCRFD {
				want = append(want, faceswap.Rect{X: f[0] + float64(j*w), Y: f[1] + float64(i*h), W: f[2], H: f[3]})
			}
		}
	}
	return img, want
}

// TestTiling: in a 4×4 mosaic of the class photo (1664×1160, 128 faces of
// about 28 px, 11 px in a single 640-px letterbox) MinFace 20 adds a level
// of six 832-px tiles, and every detector then finds every face once.
func TestTiling(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	img, want := mosaic(t, 4)
	p := raster.NewPyramid(img)
	for _, tm := range testModels {
		t.Run(tm.file, func(t *testing.T) {
			single, err := testDetector(t, tm.file, tm.family, Config{}).Detect(p)
			if err != nil {
				t.Fatal(err)
			}
			dets, err := testDetector(t, tm.file, tm.family, Config{MinFace: 20}).Detect(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("one letterbox: %d faces; with tiles: %d of %d", len(single), len(dets), len(want))
			if len(dets) != len(want) {
				t.Errorf("%d faces with tiles, want %d", len(dets), len(want))
			}
			for _, w := range want {
				n := 0
				for _, d := range dets {
					if d.Box.IoU(w) >= 0.5 {
						n++
						checkKeypoints(t, "mosaic", d, true)
					}
				}
				if n != 1 {
					t.Errorf("face %+v matched by %d detections, want 1", w, n)
				}
			}
		})
	}
}

// TestFaceAPISamples: the test detectors (models of the shared test data)
// at default settings on the 1920-px group photos of face-api (set-up
// places them in the cache folder).
func TestFaceAPISamples(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var dets []Detector
	for _, tm := range testModels {
		dets = append(dets, testDetector(t, tm.file, tm.family, Config{}))
	}
	var pyrs []*raster.Pyramid
	for i := 1; i < len(testenv.DemoFaces); i++ {
		pyrs = append(pyrs, raster.NewPyramid(testenv.Load(t, testenv.Demo(t, i))))
	}
	for j, tm := range testModels {
		for i, pyr := range pyrs {
			got, err := dets[j].Detect(pyr)
			if err != nil {
				t.Fatal(err)
			}
			if want := testenv.DemoFaces[i+1]; len(got) != want {
				t.Errorf("%s sample%d: %d faces, want %d: %s", tm.file, i+1, len(got), want, boxes(got))
			}
			for _, d := range got {
				checkKeypoints(t, fmt.Sprintf("%s sample%d", tm.file, i+1), d, true)
			}
		}
	}
}

// planGrid is a 640-px grid without a model: windows only needs the config.
func planGrid(cfg Config) *grid {
	if cfg.MaxTiles == 0 {
		cfg.MaxTiles = defaultMaxTiles
	}
	return &grid{cfg: cfg.withDefaults(), size: 640}
}

func TestGridWindows(t *testing.T) {
	// the letterbox alone by default, whatever the size
	for _, wh := range [][2]int{{115, 115}, {1280, 853}, {640, 962}, {8000, 6000}} {
		got := planGrid(Config{}).windows(wh[0], wh[1])
		if len(got) != 1 || got[0] != (Window{0, 0, float64(max(wh[0], wh[1]))}) {
			t.Errorf("%v: %v, want the top-left letterbox alone", wh, got)
		}
	}
	// centred letterbox
	g := planGrid(Config{})
	g.norm.Centred = true
	if got := g.windows(1280, 853); len(got) != 1 || got[0] != (Window{0, -213.5, 1280}) {
		t.Errorf("centred: %v", got)
	}
	// MinFace 20 on 1280×853: 20 px is 10 input px in the letterbox, 20 in
	// a 640-px tile: one level of 3×2 tiles
	got := planGrid(Config{MinFace: 20}).windows(1280, 853)
	want := []Window{{0, 0, 1280}, {0, 0, 640}, {320, 0, 640}, {640, 0, 640}, {0, 213, 640}, {320, 213, 640}, {640, 213, 640}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("MinFace 20: %v, want %v", got, want)
	}
	// MinFace 32 is 16 px already in the letterbox
	if got := planGrid(Config{MinFace: 32}).windows(1280, 853); len(got) != 1 {
		t.Errorf("MinFace 32: %d windows, want 1", len(got))
	}
	// MinFace 10 wants 320-px tiles too (5×4 = 20 more): beyond 16 runs,
	// the plan stops at the 640-px level; with room it goes on
	if got := planGrid(Config{MinFace: 10}).windows(1280, 853); len(got) != 7 {
		t.Errorf("MinFace 10: %d windows, want 7", len(got))
	}
	if got := planGrid(Config{MinFace: 10, MaxTiles: 27}).windows(1280, 853); len(got) != 27 {
		t.Errorf("MinFace 10, MaxTiles 27: %d windows, want 27", len(got))
	}
	// tiles stop at a quarter of the input (160 px) however small MinFace
	// and however many runs are allowed: 1 + 6 + 20 + 77 (160-px tiles)
	got = planGrid(Config{MinFace: 0.01, MaxTiles: 1 << 30}).windows(1280, 853)
	if len(got) != 104 || got[len(got)-1].Side != 160 {
		t.Errorf("MinFace 0.01: %d windows, the last %+v; want 104 down to 160 px", len(got), got[len(got)-1])
	}
}

func TestSeamCut(t *testing.T) {
	const w, h = 1280, 853
	letterbox := Window{0, 0, 1280}
	tile := Window{320, 213, 640} // seams on every side but the bottom
	for _, c := range []struct {
		name string
		win  Window
		box  faceswap.Rect
		want bool
	}{
		{"letterbox, inside", letterbox, faceswap.Rect{X: 100, Y: 100, W: 50, H: 50}, false},
		{"letterbox, cut by the image top", letterbox, faceswap.Rect{X: 970, Y: -60, W: 100, H: 120}, false},
		{"letterbox, cut by the image right", letterbox, faceswap.Rect{X: 1250, Y: 100, W: 50, H: 50}, false},
		{"tile, inside", tile, faceswap.Rect{X: 400, Y: 300, W: 50, H: 50}, false},
		{"tile, across the left seam", tile, faceswap.Rect{X: 300, Y: 300, W: 50, H: 50}, true},
		{"tile, across the top seam", tile, faceswap.Rect{X: 400, Y: 200, W: 50, H: 50}, true},
		{"tile, across the right seam", tile, faceswap.Rect{X: 940, Y: 300, W: 50, H: 50}, true},
		{"tile, ending just short of the right seam", tile, faceswap.Rect{X: 930, Y: 300, W: 25, H: 50}, true},
		{"tile, 11 px from the right seam", tile, faceswap.Rect{X: 900, Y: 300, W: 29, H: 50}, false},
		{"tile, past the image bottom", tile, faceswap.Rect{X: 400, Y: 820, W: 50, H: 50}, false},
	} {
		if got := seamCut(c.box, c.win, w, h); got != c.want {
			t.Errorf("%s: seamCut = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestFill: a 16×8 image letterboxed into an 8-px input: the image fills
// the top half at half size (the middle when centred), the rest is the
// padding colour, channels in the family's order and normalisation.
func TestFill(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: 200, G: 100, B: 50, A: 255})
		}
	}
	p := raster.NewPyramid(img)
	for _, c := range []struct {
		name  string
		norm  inputNorm
		image [3]float32 // channel values of the image's pixels
		pad   [3]float32
		rows  [2]int // input rows holding the image
	}{
		{"RetinaFace", inputNorm{BGR: true, Mean: [3]float32{104, 117, 123}, Scale: [3]float32{1, 1, 1}, Pad: [3]float32{123, 117, 104}},
			[3]float32{50 - 104, 100 - 117, 200 - 123}, [3]float32{0, 0, 0}, [2]int{0, 4}},
		{"YOLOv5-face", inputNorm{Scale: [3]float32{0.5, 0.5, 0.5}, Pad: [3]float32{114, 114, 114}, Centred: true},
			[3]float32{100, 50, 25}, [3]float32{57, 57, 57}, [2]int{2, 6}},
		{"SCRFD", inputNorm{Mean: [3]float32{127.5, 127.5, 127.5}, Scale: [3]float32{1.0 / 128, 1.0 / 128, 1.0 / 128}},
			[3]float32{72.5 / 128, -27.5 / 128, -77.5 / 128}, [3]float32{-127.5 / 128, -127.5 / 128, -127.5 / 128}, [2]int{0, 4}},
	} {
		g := &grid{size: 8, norm: c.norm}
		win := g.windows(16, 8)[0]
		dst := make([]float32, 3*8*8)
		for i := range dst {
			dst[i] = float32(math.NaN())
		}
		g.fill(dst, nil, p, win)
		for ch := 0; ch < 3; ch++ {
			for v := 0; v < 8; v++ {
				for u := 0; u < 8; u++ {
					want := c.pad[ch]
					if v >= c.rows[0] && v < c.rows[1] {
						want = c.image[ch]
					}
					if got := dst[ch*64+v*8+u]; math.Abs(float64(got-want)) > 1e-5 {
						t.Fatalf("%s: channel %d pixel (%d,%d) = %g, want %g", c.name, ch, u, v, got, want)
					}
				}
			}
		}
	}
}

func TestFive(t *testing.T) {
	var d Detection
	for k := range d.Keypoints {
		d.Keypoints[k] = faceswap.Point{X: float64(k), Y: float64(10 * k)}
	}
	f := d.Five()
	for k := range f {
		if f[k] != d.Keypoints[k] {
			t.Errorf("Five()[%d] = %v, want %v", k, f[k], d.Keypoints[k])
		}
	}
}

// benchmarkFamily times Detect on the office photo (1280×853, five faces).
func benchmarkFamily(b *testing.B, file string, f models.Family) {
	var office string
	for _, m := range testenv.Manifest(b) {
		if m.File == "group5_office_meeting.jpg" {
			office = m.Path
		}
	}
	p := raster.NewPyramid(testenv.Load(b, office))
	s := testModel(b, file)
	d, err := New(s, f, Config{})
	if err != nil {
		b.Fatal(err)
	}
	_, ort0 := s.Stats()
	n := 0
	for b.Loop() {
		dets, err := d.Detect(p)
		if err != nil || len(dets) != 5 {
			b.Fatalf("%d faces, %v", len(dets), err)
		}
		n++
	}
	_, ort1 := s.Stats()
	b.ReportMetric((ort1-ort0).Seconds()*1000/float64(n), "ort-ms/op")
}

func BenchmarkRetinaFaceMobile(b *testing.B) {
	benchmarkFamily(b, "retinaface_mobilenet0.25_640.onnx", models.FamilyRetinaFace)
}
func BenchmarkYOLOv5n05Face(b *testing.B) {
	benchmarkFamily(b, "yolov5n-0.5-face.onnx", models.FamilyYOLOv5Face)
}
func BenchmarkSCRFD500m(b *testing.B) { benchmarkFamily(b, "scrfd_500m_kps.onnx", models.FamilySCRFD) }
func BenchmarkSCRFD2_5g(b *testing.B) { benchmarkFamily(b, "scrfd_2.5g_kps.onnx", models.FamilySCRFD) }
