package tfjs

import (
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"testing"

	"faceswap/internal/testenv"
	"faceswap/onnx"
)

// Golden tests: every converted model, run by ONNX Runtime, must give the
// outputs TensorFlow.js itself computes (CPU backend, tools/tfjs-reference)
// for the same input: real photos (made from face-api's demo photos, which
// every set-up machine has), cropped around a face and resized with the
// bilinear sampler below.

type goldenModel struct {
	name   string
	grey   bool    // one grey channel instead of RGB
	lo, hi float32 // the input range the model expects
	whole  bool    // a detector: feed the whole photo, not a face crop
}

// The value ranges follow what the models are fed in practice: BlazeFace
// [-1,1]; FaceMesh, FaceRes and GEAR 0..1; the grey gender model (Keras
// preprocess_input) and MobileFaceNet (x−127.5)/127.5, both [-1,1]. The
// range only makes the inputs realistic: both runtimes get the same values.
var goldenModels = []goldenModel{
	{name: "blazeface-back", lo: -1, hi: 1, whole: true},
	{name: "blazeface-front", lo: -1, hi: 1, whole: true},
	{name: "facemesh", lo: 0, hi: 1},
	{name: "faceres", lo: 0, hi: 1},
	{name: "gear", lo: 0, hi: 1},
	{name: "gender", grey: true, lo: -1, hi: 1},
	{name: "mobilefacenet", lo: -1, hi: 1},
}

// goldenPhotos are the photos used (see testenv.Photos), each with the box
// of one face as the product's detector finds it (x, y, w, h, rounded); a
// face crop uses it (so models with a dynamic batch run a batch of two).
var goldenPhotos = []struct {
	name string
	box  [4]float64
}{
	{testenv.Portrait, [4]float64{119, 117, 165, 165}},
	{testenv.Group3, [4]float64{211, 194, 89, 104}}, // the left-hand face
}

func TestGolden(t *testing.T) {
	photos := loadPhotos(t)
	rt := runtime(t)
	referenceRunner(t)
	for _, gm := range goldenModels {
		t.Run(gm.name, func(t *testing.T) {
			path := modelPath(t, gm.name)
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			data, err := m.ToONNX()
			if err != nil {
				t.Fatal(err)
			}
			ins, err := m.Inputs()
			if err != nil || len(ins) != 1 {
				t.Fatalf("inputs %v, %v", ins, err)
			}
			outs, err := m.Outputs()
			if err != nil {
				t.Fatal(err)
			}
			shape := placeholderShape(t, m, ins[0].Node)
			if shape[0] < 0 {
				shape[0] = int64(len(photos))
			}
			in := makeInput(photos, gm, shape)
			s, err := rt.LoadBytes(gm.name, data)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.Run(map[string]onnx.Tensor{ins[0].Name: in})
			if err != nil {
				t.Fatal(err)
			}
			nodes := make([]string, len(outs))
			for i, o := range outs {
				nodes[i] = o.Node
			}
			want := runReference(t, path, map[string]onnx.Tensor{ins[0].Node: in}, nodes)
			if len(want) != len(outs) {
				t.Fatalf("TF.js gave %d outputs, want %d", len(want), len(outs))
			}
			declared := map[string][]int64{}
			for _, io := range s.Outputs {
				declared[io.Name] = io.Shape
			}
			for i, o := range outs {
				g, ok := got[o.Name]
				if !ok {
					t.Errorf("ONNX model has no output %q", o.Name)
					continue
				}
				if d := declared[o.Name]; !shapeMatches(d, g.Shape) {
					t.Errorf("%s: declared shape %v, actual %v", o.Name, d, g.Shape)
				}
				r := compareOutput(t, o.Name, g, want[i])
				t.Logf("%-24s shape %v: max error %.3f of the tolerance", o.Name, g.Shape, r)
			}
		})
	}
}

// shapeMatches tells whether an actual shape fits a declared one (-1 is
// any size).
func shapeMatches(declared, actual []int64) bool {
	if len(declared) != len(actual) {
		return false
	}
	for i, d := range declared {
		if d >= 0 && d != actual[i] {
			return false
		}
	}
	return true
}

func placeholderShape(t testing.TB, m *Model, node string) []int64 {
	t.Helper()
	n := m.node(node)
	if n == nil {
		t.Fatalf("no node %q", node)
	}
	a, ok := n.Attr["shape"]
	if !ok || a.Shape == nil || len(a.Shape.Dims) != 4 {
		t.Fatalf("placeholder %q has no 4-D shape", node)
	}
	return append([]int64(nil), a.Shape.Dims...)
}

// photo is a decoded image with its first face box.
type photo struct {
	img image.Image
	box [4]float64 // x, y, w, h
}

func loadPhotos(t testing.TB) []photo {
	t.Helper()
	var out []photo
	for _, g := range goldenPhotos {
		f, err := os.Open(testenv.Photo(t, g.name))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		out = append(out, photo{img: img, box: g.box})
	}
	return out
}

// makeInput builds an NHWC batch of shape (N,H,W,C): photo i%len(photos)
// whole (detectors) or its face box enlarged by 1.4 (square, centred),
// resized bilinearly and scaled to [lo,hi].
func makeInput(photos []photo, gm goldenModel, shape []int64) onnx.Tensor {
	n, h, w, c := int(shape[0]), int(shape[1]), int(shape[2]), int(shape[3])
	t := onnx.NewTensor(shape...)
	for b := 0; b < n; b++ {
		p := photos[b%len(photos)]
		bounds := p.img.Bounds()
		x0, y0 := float64(bounds.Min.X), float64(bounds.Min.Y)
		cw, ch := float64(bounds.Dx()), float64(bounds.Dy())
		if !gm.whole {
			side := 1.4 * math.Max(p.box[2], p.box[3])
			x0 = p.box[0] + p.box[2]/2 - side/2
			y0 = p.box[1] + p.box[3]/2 - side/2
			cw, ch = side, side
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				sx := x0 + (float64(x)+0.5)*cw/float64(w) - 0.5
				sy := y0 + (float64(y)+0.5)*ch/float64(h) - 0.5
				r, g, bl := bilinear(p.img, sx, sy)
				px := []float64{r, g, bl}
				if gm.grey {
					px = []float64{0.2989*r + 0.587*g + 0.114*bl}
				}
				for k := 0; k < c; k++ {
					v := px[k%len(px)]
					t.Data[((b*h+y)*w+x)*c+k] = gm.lo + (gm.hi-gm.lo)*float32(v)
				}
			}
		}
	}
	return t
}

// bilinear samples img at (x, y) (pixel centres at integer coordinates,
// edges clamped) and returns R, G, B in 0..1.
func bilinear(img image.Image, x, y float64) (float64, float64, float64) {
	b := img.Bounds()
	clamp := func(v, lo, hi int) int { return min(max(v, lo), hi) }
	fx, fy := math.Floor(x), math.Floor(y)
	ax, ay := x-fx, y-fy
	var out [3]float64
	for _, c := range [4]struct {
		dx, dy int
		w      float64
	}{{0, 0, (1 - ax) * (1 - ay)}, {1, 0, ax * (1 - ay)}, {0, 1, (1 - ax) * ay}, {1, 1, ax * ay}} {
		px := clamp(int(fx)+c.dx, b.Min.X, b.Max.X-1)
		py := clamp(int(fy)+c.dy, b.Min.Y, b.Max.Y-1)
		r, g, bl, _ := img.At(px, py).RGBA()
		out[0] += c.w * float64(r) / 65535
		out[1] += c.w * float64(g) / 65535
		out[2] += c.w * float64(bl) / 65535
	}
	return out[0], out[1], out[2]
}
