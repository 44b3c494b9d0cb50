package detect

import (
	"fmt"
	"math"

	"faceswap"
	"faceswap/onnx"
	"faceswap/raster"
	"faceswap/resample"
)

// This file holds what the 640-pixel detector families (RetinaFace,
// YOLOv5-face, SCRFD) share: the square NCHW model input, the letterbox and
// tile plan that feeds it, and the loop that runs the model on every
// window and merges the results.
//
// A window is a square of the image (it may extend past the border) scaled
// to the model's input; what lies outside the image is the family's padding
// colour. The first window is the letterbox: the whole image, its long side
// filling the input, placed at the top-left corner (centred for
// YOLOv5-face, as its reference letterbox does). These models find faces
// down to about minInputFace input pixels, so one letterbox finds faces of
// at least long side × minInputFace / input size image pixels (a fortieth
// of the long side at 640): 32 px in a 1280-px photo. Config.MinFace asks
// for smaller faces: levels of overlapping tiles (as BlazeFace plans them),
// each half the side of the level above, are added until a MinFace face
// reaches minInputFace pixels in the input, within Config.MaxTiles runs
// (and tiles no smaller than a quarter of the input). A detection crossing
// a tile seam is dropped (see seamCut), so these families never report
// Detection.Cut. Detect is safe for concurrent use on different pyramids.

// Detector finds faces in an image. BlazeFace, RetinaFace, YOLOv5Face and
// SCRFD are Detectors.
type Detector interface {
	Detect(p *raster.Pyramid) ([]Detection, error)
}

var (
	_ Detector = (*BlazeFace)(nil)
	_ Detector = (*RetinaFace)(nil)
	_ Detector = (*YOLOv5Face)(nil)
	_ Detector = (*SCRFD)(nil)
)

// Five returns the five alignment points of a detection made by RetinaFace,
// YOLOv5Face or SCRFD: the eye on the image's left, the eye on the image's
// right, the nose tip, the mouth corner on the image's left and the one on
// its right (the order of align's ArcFace and FFHQ templates). These
// families store them in Keypoints[0..4] and leave Keypoints[5] zero.
// BlazeFace's Keypoints[3] and [4] are the mouth centre and an ear, not
// mouth corners: Five of a BlazeFace detection is not an alignment set.
func (d Detection) Five() [5]faceswap.Point {
	return [5]faceswap.Point(d.Keypoints[:5])
}

const (
	// defaultInput is the input side used when the model's is dynamic.
	defaultInput = 640
	// minInputFace is the smallest face, in input pixels, the tiling plans
	// for: the smallest anchors of RetinaFace and SCRFD are 16 px.
	minInputFace = 16
	// defaultMaxTiles bounds the runs of a 640-px detector per image
	// unless Config.MaxTiles says otherwise.
	defaultMaxTiles = 16
	// defaultIoU is the overlap above which two boxes are one face (the
	// reference implementations of all three families use 0.4).
	defaultIoU = 0.4
)

// inputNorm says how a family wants pixels: channel c of the input (in
// model order) is (v − Mean[c])·Scale[c] where v is the image's red, green
// or blue value 0..255 (blue first when BGR); Pad is the RGB colour of the
// letterbox border. The letterbox puts the image at the top-left corner of
// the input, or in its middle when Centred.
type inputNorm struct {
	BGR     bool
	Mean    [3]float32
	Scale   [3]float32
	Pad     [3]float32
	Centred bool
}

// squareInput returns the one image input of s, which must be
// [1,3,S,S] (or [N,3,?,?], dynamic: S is then defaultInput).
// kind is what the caller wants, e.g. "a RetinaFace model".
func squareInput(s *onnx.Session, kind string) (name string, size int, err error) {
	if len(s.Inputs) != 1 {
		return "", 0, fmt.Errorf("detect: %s is not %s: it has %d inputs, want one image [1,3,H,W]", s.Path, kind, len(s.Inputs))
	}
	in := s.Inputs[0]
	if in.Type != "float32" || len(in.Shape) != 4 || in.Shape[1] != 3 || in.Shape[0] > 1 || in.Shape[0] == 0 {
		return "", 0, fmt.Errorf("detect: %s is not %s: input %s is %s %v, want float32 [1,3,H,W]", s.Path, kind, in.Name, in.Type, in.Shape)
	}
	h, w := in.Shape[2], in.Shape[3]
	switch {
	case h < 0 && w < 0:
		return in.Name, defaultInput, nil
	case h != w || h < 32 || h%32 != 0:
		return "", 0, fmt.Errorf("detect: %s: input %s %v is not a square multiple of 32 pixels", s.Path, in.Name, in.Shape)
	}
	return in.Name, int(h), nil
}

// raw is one proposal in model input pixels: box corners, score and the
// five keypoints.
type raw struct {
	x1, y1, x2, y2 float64
	score          float64
	kps            [5]faceswap.Point
}

// decodeFunc reads a run's outputs and calls emit for every proposal whose
// score reaches minScore.
type decodeFunc func(out map[string]onnx.Tensor, minScore float64, emit func(raw)) error

// grid runs a square-input detector over the windows of an image.
type grid struct {
	s     *onnx.Session
	cfg   Config
	input string
	size  int
	norm  inputNorm
}

// newGrid validates cfg and applies a family's default minimum score; the
// IoU defaults to defaultIoU and MaxTiles to defaultMaxTiles.
func newGrid(s *onnx.Session, cfg Config, kind string, minScore float64, norm inputNorm) (grid, error) {
	if err := cfg.Validate(); err != nil {
		return grid{}, err
	}
	if cfg.MinScore == 0 {
		cfg.MinScore = minScore
	}
	if cfg.IoU == 0 {
		cfg.IoU = defaultIoU
	}
	if cfg.MaxTiles == 0 {
		cfg.MaxTiles = defaultMaxTiles
	}
	name, size, err := squareInput(s, kind)
	if err != nil {
		return grid{}, err
	}
	return grid{s: s, cfg: cfg.withDefaults(), input: name, size: size, norm: norm}, nil
}

// windows plans the runs for a w×h image: the letterbox, then tile levels
// while a MinFace face would be under minInputFace input pixels.
func (g *grid) windows(w, h int) []Window {
	long := float64(max(w, h))
	wins := []Window{{X: 0, Y: 0, Side: long}}
	if g.norm.Centred {
		wins[0] = Window{X: (float64(w) - long) / 2, Y: (float64(h) - long) / 2, Side: long}
	}
	if g.cfg.MinFace == 0 {
		return wins
	}
	for side := long; g.cfg.MinFace*float64(g.size)/side < minInputFace; {
		side /= 2
		level := tile(float64(w), float64(h), side)
		if len(wins)+len(level) > g.cfg.MaxTiles || side < float64(g.size)/4 {
			break
		}
		wins = append(wins, level...)
	}
	return wins
}

// detect runs the model on every window and merges the detections.
func (g *grid) detect(p *raster.Pyramid, decode decodeFunc) ([]Detection, error) {
	b := p.Base().Rect
	in := onnx.NewTensor(1, 3, int64(g.size), int64(g.size))
	var buf []float32
	var all []Detection
	for _, win := range g.windows(b.Dx(), b.Dy()) {
		buf = g.fill(in.Data, buf, p, win)
		out, err := g.s.Run(map[string]onnx.Tensor{g.input: in})
		if err != nil {
			return nil, err
		}
		scale := win.Side / float64(g.size)
		toImg := func(x, y float64) faceswap.Point {
			return faceswap.Point{X: win.X + x*scale, Y: win.Y + y*scale}
		}
		err = decode(out, g.cfg.MinScore, func(r raw) {
			if !(r.x2 > r.x1 && r.y2 > r.y1) {
				return
			}
			tl := toImg(r.x1, r.y1)
			d := Detection{
				Box:   faceswap.Rect{X: tl.X, Y: tl.Y, W: (r.x2 - r.x1) * scale, H: (r.y2 - r.y1) * scale},
				Score: r.score,
			}
			for k, kp := range r.kps {
				d.Keypoints[k] = toImg(kp.X, kp.Y)
			}
			if seamCut(d.Box, win, float64(b.Dx()), float64(b.Dy())) {
				return
			}
			all = append(all, d)
		})
		if err != nil {
			return nil, fmt.Errorf("detect: %s: %w", g.s.Path, err)
		}
	}
	return WeightedNMS(all, g.cfg.IoU), nil
}

// seamCut reports whether box crosses an edge of the window that lies
// inside the w×h image: a tile seam. Such detections are dropped: tiles of
// one level overlap by a quarter of their side, so a face up to that size
// lies whole in some tile of the level, and a larger one reaches at least
// an eighth of the input (80 px at 640) at the level above, which holds it
// whole, down to the letterbox, which holds everything. Faces cut by the
// image's own border are cut in every window alike and are kept.
//
// A box that reaches within a 64th of the side of a seam counts as crossing
// it: YOLOv5-face boxes the visible part of a face the seam cuts, ending
// just short of the edge.
func seamCut(box faceswap.Rect, win Window, w, h float64) bool {
	m := win.Side / 64
	return win.X > 0 && box.X < win.X+m ||
		win.Y > 0 && box.Y < win.Y+m ||
		win.X+win.Side < w && box.X+box.W > win.X+win.Side-m ||
		win.Y+win.Side < h && box.Y+box.H > win.Y+win.Side-m
}

// fill writes the window of the image into dst (NCHW, size×size) in the
// family's normalisation; buf is scratch space, returned for reuse.
func (g *grid) fill(dst, buf []float32, p *raster.Pyramid, win Window) []float32 {
	n := g.size
	iw, ih := p.Base().Rect.Dx(), p.Base().Rect.Dy()
	scale := win.Side / float64(n)
	// the input pixels whose centres fall on the image
	span := func(origin float64, extent int) (int, int) {
		lo := int(math.Max(0, math.Round(-origin/scale)))
		hi := int(math.Min(float64(n), math.Round((float64(extent)-origin)/scale)))
		return lo, max(lo, hi)
	}
	u0, u1 := span(win.X, iw)
	v0, v1 := span(win.Y, ih)
	nw, nh := u1-u0, v1-v0
	if cap(buf) < nw*nh*3 {
		buf = make([]float32, nw*nh*3)
	}
	buf = buf[:nw*nh*3]
	if nw > 0 && nh > 0 {
		m := raster.Affine{scale, 0, win.X + (float64(u0)+0.5)*scale - 0.5, 0, scale, win.Y + (float64(v0)+0.5)*scale - 0.5}
		p.Sample(buf, raster.Crop{W: nw, H: nh, M: m, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1}})
	}
	nm := g.norm
	plane := n * n
	for c := 0; c < 3; c++ {
		src := c // RGB channel feeding model channel c
		if nm.BGR {
			src = 2 - c
		}
		pad := (nm.Pad[src] - nm.Mean[c]) * nm.Scale[c]
		out := dst[c*plane : (c+1)*plane]
		for v := 0; v < n; v++ {
			row := out[v*n : (v+1)*n]
			if v < v0 || v >= v1 {
				for u := range row {
					row[u] = pad
				}
				continue
			}
			for u := 0; u < u0; u++ {
				row[u] = pad
			}
			for u := u1; u < n; u++ {
				row[u] = pad
			}
			in := buf[(v-v0)*nw*3:]
			mean, sc := nm.Mean[c], nm.Scale[c]
			for u := u0; u < u1; u++ {
				row[u] = (in[(u-u0)*3+src] - mean) * sc
			}
		}
	}
	return buf
}

// outputLen checks that a run returned output name with n values.
func outputLen(out map[string]onnx.Tensor, name string, n int) ([]float32, error) {
	t, ok := out[name]
	if !ok {
		return nil, fmt.Errorf("output %s missing", name)
	}
	if len(t.Data) != n {
		return nil, fmt.Errorf("output %s has %d values (shape %v), want %d", name, len(t.Data), t.Shape, n)
	}
	return t.Data, nil
}

func sigmoid(x float32) float64 {
	return 1 / (1 + math.Exp(-math.Max(-80, math.Min(80, float64(x)))))
}
