package detect

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/raster"
)

func TestTileCoversWithOverlap(t *testing.T) {
	for _, tc := range []struct{ w, h, side float64 }{
		{100, 100, 50},
		{416, 290, 208},
		{1280, 853, 640},
		{1280, 853, 320},
		{1280, 853, 160},
		{50, 300, 60},   // narrower than the side
		{1000, 10, 100}, // a strip
		{30, 20, 50},    // smaller than the side both ways
		{333, 333, 333}, // exactly one side
		{334, 200, 333}, // one pixel more than a side
	} {
		wins := tile(tc.w, tc.h, tc.side)
		xs, ys := map[float64]bool{}, map[float64]bool{}
		for _, w := range wins {
			if w.Side != tc.side {
				t.Fatalf("%+v: window %+v has the wrong side", tc, w)
			}
			xs[w.X], ys[w.Y] = true, true
		}
		if len(wins) != len(xs)*len(ys) {
			t.Errorf("%+v: %d windows are not a %d×%d grid", tc, len(wins), len(xs), len(ys))
		}
		checkAxis := func(name string, extent float64, pos map[float64]bool) {
			var p []float64
			for v := range pos {
				p = append(p, v)
			}
			sortFloats(p)
			if extent <= tc.side {
				// one window, centred
				if len(p) != 1 || p[0] != (extent-tc.side)/2 {
					t.Errorf("%+v %s: positions %v, want one centred at %g", tc, name, p, (extent-tc.side)/2)
				}
				return
			}
			// windows stay inside the image and reach both ends
			if p[0] != 0 || !near(p[len(p)-1]+tc.side, extent, 1e-9) {
				t.Errorf("%+v %s: positions %v do not span 0…%g", tc, name, p, extent)
			}
			for i := 1; i < len(p); i++ {
				if overlap := p[i-1] + tc.side - p[i]; overlap < 0.25*tc.side-1e-9 {
					t.Errorf("%+v %s: windows at %g and %g overlap by %g < a quarter of %g", tc, name, p[i-1], p[i], overlap, tc.side)
				}
			}
			// not wastefully many: one window fewer would overlap less than
			// a quarter
			if n := len(p) - 1; n > 1 && (extent-tc.side)/float64(n-1) <= 0.75*tc.side {
				t.Errorf("%+v %s: %d windows where %d would do", tc, name, len(p), len(p)-1)
			}
		}
		checkAxis("x", tc.w, xs)
		checkAxis("y", tc.h, ys)
		// every pixel centre is in some window
		for y := 0.5; y < tc.h; y++ {
			for x := 0.5; x < tc.w; x++ {
				in := false
				for _, w := range wins {
					if x >= w.X && x <= w.X+w.Side && y >= w.Y && y <= w.Y+w.Side {
						in = true
						break
					}
				}
				if !in {
					t.Fatalf("%+v: pixel (%g,%g) is in no window", tc, x, y)
				}
			}
		}
	}
}

func sortFloats(p []float64) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j] < p[j-1]; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func nearPt(ax, ay, bx, by, tol float64) bool { return math.Hypot(ax-bx, ay-by) <= tol }

// planner is a BlazeFace without a model: Windows only needs the config.
func planner(cfg Config) *BlazeFace { return &BlazeFace{cfg: cfg.withDefaults(), size: 256} }

func TestWindows(t *testing.T) {
	type win = Window
	cases := []struct {
		name string
		cfg  Config
		w, h int
		want []win
	}{
		// long side 115: MinFace 20, finest tile 200 > 57.5: the image alone
		{"tiny", Config{}, 115, 115, []win{{0, 0, 115}}},
		// long side 416: MinFace 20, finest 200; 208-px tiles, 3×2 of them
		{"group8", Config{}, 416, 290, []win{
			{0, -63, 416},
			{0, 0, 208}, {104, 0, 208}, {208, 0, 208},
			{0, 82, 208}, {104, 82, 208}, {208, 82, 208},
		}},
		// long side 1280: MinFace 1280/32 = 40, finest 400; 640-px tiles,
		// 3 across (step 320) and 2 down (853−640 = 213)
		{"office", Config{}, 1280, 853, []win{
			{0, -213.5, 1280},
			{0, 0, 640}, {320, 0, 640}, {640, 0, 640},
			{0, 213, 640}, {320, 213, 640}, {640, 213, 640},
		}},
		// a portrait-format image: the first window is centred across;
		// MinFace 962/32, finest 300.6; 481-px tiles, 2 across (step 159)
		// and 3 down (481 = 1.33 × 0.75 × 481: two steps of 240.5)
		{"tall", Config{}, 640, 962, []win{
			{-161, 0, 962},
			{0, 0, 481}, {159, 0, 481},
			{0, 240.5, 481}, {159, 240.5, 481},
			{0, 481, 481}, {159, 481, 481},
		}},
		// MaxTiles 6 leaves no room for the 6 tiles of the next level; 7
		// is just enough
		{"max tiles 6", Config{MaxTiles: 6}, 416, 290, []win{{0, -63, 416}}},
		{"max tiles 7", Config{MaxTiles: 7}, 416, 290, []win{
			{0, -63, 416},
			{0, 0, 208}, {104, 0, 208}, {208, 0, 208},
			{0, 82, 208}, {104, 82, 208}, {208, 82, 208},
		}},
	}
	for _, c := range cases {
		got := planner(c.cfg).Windows(c.w, c.h)
		if len(got) != len(c.want) {
			t.Errorf("%s: %d windows %v, want %d %v", c.name, len(got), got, len(c.want), c.want)
			continue
		}
		for i := range got {
			if !near(got[i].X, c.want[i].X, 1e-9) || !near(got[i].Y, c.want[i].Y, 1e-9) || got[i].Side != c.want[i].Side {
				t.Errorf("%s: window %d = %+v, want %+v", c.name, i, got[i], c.want[i])
			}
		}
	}

	// MinFace 10 on 1280×853: finest 100. 640 (3×2 = 6), 320 (5×4 = 20);
	// 160 would add 11×7 = 77 > 64 − 27 tiles, so the plan stops.
	wins := planner(Config{MinFace: 10}).Windows(1280, 853)
	sides := map[float64]int{}
	for _, w := range wins {
		sides[w.Side]++
	}
	if len(wins) != 27 || sides[1280] != 1 || sides[640] != 6 || sides[320] != 20 {
		t.Errorf("MinFace 10: %d windows by side %v, want 27 = 1×1280 + 6×640 + 20×320", len(wins), sides)
	}
	// with room for them, the 160-px level comes in
	wins = planner(Config{MinFace: 10, MaxTiles: 200}).Windows(1280, 853)
	if len(wins) != 27+77 {
		t.Errorf("MinFace 10, MaxTiles 200: %d windows, want 104", len(wins))
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{MinScore: 1.5, IoU: -0.1, MinFace: -1, MaxTiles: -2}.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, w := range []string{"min score 1.5", "IoU -0.1", "min face -1", "max tiles -2"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if err := (Config{}).withDefaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func det(score, x, y, w, h float64, cut bool, kpX float64) Detection {
	d := Detection{Box: faceswap.Rect{X: x, Y: y, W: w, H: h}, Score: score, cut: cut}
	for k := range d.Keypoints {
		d.Keypoints[k] = faceswap.Point{X: kpX, Y: float64(k)}
	}
	return d
}

func TestWeightedNMS(t *testing.T) {
	t.Run("merge and keep", func(t *testing.T) {
		a := det(0.9, 0, 0, 10, 10, false, 1)
		b := det(0.6, 1, 1, 10, 10, false, 2)      // IoU with a: 81/119
		c := det(0.95, 100, 100, 20, 20, false, 3) // far away
		d := det(0.5, 6, 0, 10, 10, false, 4)      // IoU with a: 40/160 = 0.25 ≤ 0.3
		out := WeightedNMS([]Detection{b, d, a, c}, 0.3)
		if len(out) != 3 {
			t.Fatalf("%d detections %+v, want 3", len(out), out)
		}
		// by descending score
		if out[0].Score != 0.95 || out[1].Score != 0.9 || out[2].Score != 0.5 {
			t.Errorf("scores %g %g %g, want 0.95 0.9 0.5", out[0].Score, out[1].Score, out[2].Score)
		}
		if out[0].Box != c.Box || out[0].Keypoints != c.Keypoints || out[2].Box != d.Box {
			t.Errorf("lone detections changed: %+v, %+v", out[0], out[2])
		}
		// the score-weighted mean box: (0.9·0 + 0.6·1) / 1.5 = 0.4
		want := faceswap.Rect{X: 0.4, Y: 0.4, W: 10, H: 10}
		if g := out[1].Box; !near(g.X, want.X, 1e-12) || !near(g.Y, want.Y, 1e-12) || !near(g.W, want.W, 1e-12) || !near(g.H, want.H, 1e-12) {
			t.Errorf("merged box %+v, want %+v", g, want)
		}
		if out[1].Keypoints != a.Keypoints {
			t.Errorf("merged keypoints are not the best detection's")
		}
	})

	t.Run("weighted box", func(t *testing.T) {
		a := det(0.8, 10, 20, 30, 40, false, 0)
		b := det(0.2, 14, 24, 34, 36, false, 0)
		out := WeightedNMS([]Detection{a, b}, 0.3)
		want := faceswap.Rect{X: 10.8, Y: 20.8, W: 30.8, H: 39.2}
		if len(out) != 1 {
			t.Fatalf("%d detections", len(out))
		}
		g := out[0].Box
		if !near(g.X, want.X, 1e-9) || !near(g.Y, want.Y, 1e-9) || !near(g.W, want.W, 1e-9) || !near(g.H, want.H, 1e-9) {
			t.Errorf("box %+v, want %+v", g, want)
		}
	})

	t.Run("uncut keypoints win", func(t *testing.T) {
		cutBest := det(0.95, 0, 0, 100, 100, true, 1)
		whole := det(0.7, 2, 2, 96, 96, false, 2)
		cutToo := det(0.8, 4, 0, 100, 100, true, 3)
		out := WeightedNMS([]Detection{cutBest, cutToo, whole}, 0.3)
		if len(out) != 1 {
			t.Fatalf("%d detections, want 1", len(out))
		}
		if out[0].Keypoints != whole.Keypoints || out[0].Cut() {
			t.Errorf("keypoints %v (cut %v), want the uncut detection's %v", out[0].Keypoints, out[0].Cut(), whole.Keypoints)
		}
		// the box still averages all three
		wantX := (0.95*0 + 0.7*2 + 0.8*4) / (0.95 + 0.7 + 0.8)
		if !near(out[0].Box.X, wantX, 1e-9) {
			t.Errorf("box X %g, want %g", out[0].Box.X, wantX)
		}
	})

	t.Run("all cut", func(t *testing.T) {
		a := det(0.6, 0, 0, 50, 50, true, 1)
		b := det(0.9, 1, 0, 50, 50, true, 2)
		out := WeightedNMS([]Detection{a, b}, 0.3)
		if len(out) != 1 || out[0].Keypoints != b.Keypoints || !out[0].Cut() || out[0].Score != 0.9 {
			t.Errorf("%+v: want one cut detection with the best one's keypoints and score", out)
		}
	})

	t.Run("whole faces first", func(t *testing.T) {
		cut := det(0.99, 0, 0, 10, 10, true, 1)
		whole := det(0.4, 50, 50, 10, 10, false, 2)
		out := WeightedNMS([]Detection{cut, whole}, 0.3)
		if len(out) != 2 || out[0].Score != 0.4 || out[1].Score != 0.99 || !out[1].Cut() || out[0].Cut() {
			t.Errorf("%+v: want the uncut face first", out)
		}
	})

	t.Run("iou threshold", func(t *testing.T) {
		a := det(0.9, 0, 0, 10, 10, false, 1)
		b := det(0.8, 5, 0, 10, 10, false, 2) // IoU 50/150 = 1/3
		if n := len(WeightedNMS([]Detection{a, b}, 0.3)); n != 1 {
			t.Errorf("IoU 1/3 > 0.3: %d detections, want 1", n)
		}
		if n := len(WeightedNMS([]Detection{a, b}, 0.34)); n != 2 {
			t.Errorf("IoU 1/3 ≤ 0.34: %d detections, want 2", n)
		}
		c := det(0.8, 6, 0, 10, 10, false, 2) // IoU 40/160 = 0.25 exactly
		if n := len(WeightedNMS([]Detection{a, c}, 0.25)); n != 2 {
			t.Errorf("IoU equal to the threshold: %d detections, want 2 (only IoU above it merges)", n)
		}
	})

	if out := WeightedNMS(nil, 0.3); len(out) != 0 {
		t.Errorf("no detections in, %d out", len(out))
	}
}

func TestNewBlazeFaceRejectsOtherModels(t *testing.T) {
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/facemesh.onnx", "onnx/blazeface-front.onnx")
	s, err := rt.Load(p.ONNX("facemesh"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewBlazeFace(s, Config{})
	if err == nil {
		t.Fatal("NewBlazeFace accepted the face mesh model")
	}
	if !strings.Contains(err.Error(), "facemesh.onnx") || !strings.Contains(err.Error(), "output") {
		t.Errorf("error %q does not name the model and its outputs", err)
	}
	// the 128-px front model is a BlazeFace too
	front, err := rt.Load(p.ONNX("blazeface-front"))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := NewBlazeFace(front, Config{}); err != nil {
		t.Errorf("front model: %v", err)
	} else if d.InputSize() != 128 {
		t.Errorf("front model: input size %d, want 128", d.InputSize())
	}
	// a bad config is refused before the model is looked at
	if _, err := NewBlazeFace(s, Config{IoU: 2}); err == nil || !strings.Contains(err.Error(), "IoU 2") {
		t.Errorf("bad config: %v", err)
	}
}

// TestBlazeFaceConversionsAgree: the TF.js model converted by our importer
// and keijiro's ONNX export of MediaPipe's model are the same network, so
// on a real photo they must find the same faces.
func TestBlazeFaceConversionsAgree(t *testing.T) {
	rt := testenv.Runtime(t)
	const keijiro = "face_detection_back_256x256_barracuda"
	p := testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/"+keijiro+".onnx")
	var dets [2]*BlazeFace
	for i, name := range []string{"blazeface-back", keijiro} {
		s, err := rt.Load(p.ONNX(name))
		if err != nil {
			t.Fatal(err)
		}
		if dets[i], err = NewBlazeFace(s, Config{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if dets[i].InputSize() != 256 {
			t.Errorf("%s: input size %d, want 256", name, dets[i].InputSize())
		}
	}
	for _, name := range []string{testenv.Group3, testenv.Portrait2} {
		path := testenv.Photo(t, name)
		t.Run(name, func(t *testing.T) {
			pyr := raster.NewPyramid(testenv.Load(t, path))
			var got [2][]Detection
			for i, d := range dets {
				var err error
				if got[i], err = d.Detect(pyr); err != nil {
					t.Fatal(err)
				}
			}
			if len(got[0]) != len(got[1]) {
				t.Fatalf("%d detections with the converted model, %d with keijiro's", len(got[0]), len(got[1]))
			}
			for i := range got[0] {
				a, b := got[0][i], got[1][i]
				if !nearPt(a.Box.X, a.Box.Y, b.Box.X, b.Box.Y, 1) || !near(a.Box.W, b.Box.W, 1) || !near(a.Box.H, b.Box.H, 1) {
					t.Errorf("detection %d: box %+v vs %+v", i, a.Box, b.Box)
				}
				if !near(a.Score, b.Score, 1e-3) || a.Cut() != b.Cut() {
					t.Errorf("detection %d: score %g (cut %v) vs %g (cut %v)", i, a.Score, a.Cut(), b.Score, b.Cut())
				}
				for k := range a.Keypoints {
					if !nearPt(a.Keypoints[k].X, a.Keypoints[k].Y, b.Keypoints[k].X, b.Keypoints[k].Y, 1) {
						t.Errorf("detection %d keypoint %d: %v vs %v", i, k, a.Keypoints[k], b.Keypoints[k])
					}
				}
			}
			// and they are right: each face of the photo, and nothing
			// else, is found with a confident whole box, its eyes in it
			checkConfident(t, name, got[0], testenv.PhotoFaces[name])
		})
	}
}

// checkConfident: BlazeFace's confident detections (score ≥ 0.65) of a
// photo with n faces are n whole boxes with both eye keypoints inside. On
// the demo photos and the pictures made from them real faces score 0.68 and
// more, other proposals 0.52 at most: without the mesh to confirm them
// those are expected, but not this confident.
func checkConfident(t *testing.T, name string, dets []Detection, n int) {
	t.Helper()
	var conf []Detection
	for _, d := range dets {
		if d.Score >= 0.65 {
			conf = append(conf, d)
		}
	}
	if len(conf) != n {
		t.Errorf("%s: %d confident detections, want %d: %s", name, len(conf), n, boxes(dets))
	}
	for _, d := range conf {
		b := d.Box
		if d.Cut() {
			t.Errorf("%s: face %+v is cut", name, b)
		}
		for _, e := range d.Keypoints[:2] {
			if e.X < b.X || e.X > b.X+b.W || e.Y < b.Y || e.Y > b.Y+b.H {
				t.Errorf("%s: eye %v outside the face %+v", name, e, b)
			}
		}
	}
}

// TestBlazeFaceFaceAPISamples: BlazeFace alone at default settings on
// face-api's six demo photos (1920 px wide, 3 to 5 women each).
func TestBlazeFaceFaceAPISamples(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/blazeface-back.onnx")
	s, err := rt.Load(p.ONNX("blazeface-back"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewBlazeFace(s, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(testenv.DemoFaces); i++ {
		dets, err := d.Detect(raster.NewPyramid(testenv.Load(t, testenv.Demo(t, i))))
		if err != nil {
			t.Fatal(err)
		}
		checkConfident(t, fmt.Sprintf("sample%d", i), dets, testenv.DemoFaces[i])
	}
}
