// Package detect finds faces. The default is BlazeFace (MediaPipe's SSD face
// detector) at any image size: the image is covered by tiles at several
// scales so that a face of MinFace pixels and a face filling the frame both
// reach the model at a size it was trained on, and duplicates across tiles
// and scales are merged by weighted non-maximum suppression. The detectors
// the API's facedetection field names (RetinaFace, YOLOv5-face) and SCRFD
// (InsightFace's det_10g family) decode their own outputs into the same
// Detection with five landmarks (retinaface.go, yolov5face.go, scrfd.go) and
// are opened by name from the models folder (named.go); all satisfy Detector.
package detect

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"faceswap"
	"faceswap/onnx"
	"faceswap/raster"
	"faceswap/resample"
)

// Config tunes detection. Zero values take the defaults.
type Config struct {
	// MinScore is the lowest detector confidence kept (default 0.3: the
	// detector proposes, the face mesh's presence score confirms).
	MinScore float64
	// IoU is the overlap above which two boxes are the same face (default 0.3).
	IoU float64
	// MinFace is the smallest face side, in image pixels, that the tiling
	// must be able to find (default 20, or image long side / 32 if larger).
	MinFace float64
	// MaxTiles bounds the model runs per image (default 64).
	MaxTiles int
}

func (c Config) withDefaults() Config {
	if c.MinScore == 0 {
		c.MinScore = 0.3
	}
	if c.IoU == 0 {
		c.IoU = 0.3
	}
	if c.MaxTiles == 0 {
		c.MaxTiles = 64
	}
	return c
}

// Validate reports every bad setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.MinScore < 0 || c.MinScore >= 1 {
		errs = append(errs, fmt.Errorf("detect: min score %g is outside [0,1)", c.MinScore))
	}
	if c.IoU < 0 || c.IoU >= 1 {
		errs = append(errs, fmt.Errorf("detect: IoU %g is outside [0,1)", c.IoU))
	}
	if c.MinFace < 0 {
		errs = append(errs, fmt.Errorf("detect: min face %g is negative", c.MinFace))
	}
	if c.MaxTiles < 0 {
		errs = append(errs, fmt.Errorf("detect: max tiles %d is negative", c.MaxTiles))
	}
	return errors.Join(errs...)
}

// Detection is one face as the detector sees it.
type Detection struct {
	Box   faceswap.Rect
	Score float64
	// Keypoints: subject's right eye (image left), left eye, nose tip, mouth
	// centre, right ear tragion, left ear tragion.
	Keypoints [6]faceswap.Point
	// cut is set when the model saw the face badly: its box crosses the
	// edge of the window it was found in, or fills most of the window
	// (beyond the face sizes BlazeFace was trained on). Such keypoints are
	// guesses.
	cut bool
}

// BlazeFace runs a BlazeFace model (256×256 "back" or 128×128 "front",
// MediaPipe's or the TF.js conversion; NHWC RGB in [−1, 1]).
type BlazeFace struct {
	s        *onnx.Session
	cfg      Config
	size     int
	input    string
	scores   []string // output names, per anchor layer
	regress  []string
	anchors  []faceswap.Point // anchor centres in input pixels
	perLayer []int
}

// NewBlazeFace wraps a loaded BlazeFace session.
func NewBlazeFace(s *onnx.Session, cfg Config) (*BlazeFace, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(s.Inputs) != 1 || len(s.Inputs[0].Shape) != 4 || s.Inputs[0].Shape[1] != s.Inputs[0].Shape[2] || s.Inputs[0].Shape[3] != 3 {
		return nil, fmt.Errorf("detect: %s is not a BlazeFace model (want one NHWC square RGB input)", s.Path)
	}
	d := &BlazeFace{s: s, cfg: cfg, size: int(s.Inputs[0].Shape[1]), input: s.Inputs[0].Name}
	// Outputs: per layer a [1,N,1] score and a [1,N,16] regressor; layers
	// are ordered finest first (more anchors first).
	type layer struct {
		n            int64
		score, regrs string
	}
	byN := map[int64]*layer{}
	for _, o := range s.Outputs {
		if len(o.Shape) != 3 {
			return nil, fmt.Errorf("detect: %s: unexpected output %s %v", s.Path, o.Name, o.Shape)
		}
		l := byN[o.Shape[1]]
		if l == nil {
			l = &layer{n: o.Shape[1]}
			byN[o.Shape[1]] = l
		}
		switch o.Shape[2] {
		case 1:
			l.score = o.Name
		case 16:
			l.regrs = o.Name
		default:
			return nil, fmt.Errorf("detect: %s: unexpected output %s %v", s.Path, o.Name, o.Shape)
		}
	}
	var layers []*layer
	for _, l := range byN {
		if l.score == "" || l.regrs == "" {
			return nil, fmt.Errorf("detect: %s: outputs do not pair into scores and boxes", s.Path)
		}
		layers = append(layers, l)
	}
	sort.Slice(layers, func(i, j int) bool { return layers[i].n > layers[j].n })
	// The anchor grid: 896 anchors = 16×16 cells × 2 + 8×8 cells × 6.
	grids := []struct{ cells, per int }{{16, 2}, {8, 6}}
	total := int64(0)
	for _, l := range layers {
		total += l.n
	}
	if total != 896 {
		return nil, fmt.Errorf("detect: %s: %d anchors, want 896", s.Path, total)
	}
	for _, g := range grids {
		stride := float64(d.size) / float64(g.cells)
		for y := 0; y < g.cells; y++ {
			for x := 0; x < g.cells; x++ {
				for k := 0; k < g.per; k++ {
					d.anchors = append(d.anchors, faceswap.Point{X: (float64(x) + 0.5) * stride, Y: (float64(y) + 0.5) * stride})
				}
			}
		}
	}
	for _, l := range layers {
		d.scores = append(d.scores, l.score)
		d.regress = append(d.regress, l.regrs)
		d.perLayer = append(d.perLayer, int(l.n))
	}
	if len(layers) == 1 && layers[0].n != 896 || len(layers) == 2 && (layers[0].n != 512 || layers[1].n != 384) {
		return nil, fmt.Errorf("detect: %s: anchor layers %v do not match the BlazeFace grid", s.Path, d.perLayer)
	}
	return d, nil
}

// InputSize is the model's square input side.
func (d *BlazeFace) InputSize() int { return d.size }

// Window is one model run: a square of the image (side Side, top-left X,Y,
// may extend past the border) resampled to the model input.
type Window struct{ X, Y, Side float64 }

// Windows plans the tiling of a w×h image: the whole image, then grids of
// overlapping squares each half the side of the level above, while a MinFace
// face would still be under a tenth of the tile side (BlazeFace "back"
// finds faces down to about a fifteenth of its input).
func (d *BlazeFace) Windows(w, h int) []Window {
	long := float64(max(w, h))
	minFace := d.cfg.MinFace
	if minFace == 0 {
		minFace = math.Max(20, long/32)
	}
	finest := minFace * 10
	wins := []Window{{X: (float64(w) - long) / 2, Y: (float64(h) - long) / 2, Side: long}}
	for side := long / 2; side >= finest; side /= 2 {
		level := tile(float64(w), float64(h), side)
		if len(wins)+len(level) > d.cfg.MaxTiles {
			break
		}
		wins = append(wins, level...)
	}
	return wins
}

// tile covers w×h with squares of the given side overlapping by at least a
// quarter.
func tile(w, h, side float64) []Window {
	pos := func(extent float64) []float64 {
		if extent <= side {
			return []float64{(extent - side) / 2}
		}
		n := int(math.Ceil((extent - side) / (side * 0.75)))
		step := (extent - side) / float64(n)
		var p []float64
		for i := 0; i <= n; i++ {
			p = append(p, float64(i)*step)
		}
		return p
	}
	var out []Window
	for _, y := range pos(h) {
		for _, x := range pos(w) {
			out = append(out, Window{X: x, Y: y, Side: side})
		}
	}
	return out
}

// Detect finds every face in the image behind p.
func (d *BlazeFace) Detect(p *raster.Pyramid) ([]Detection, error) {
	b := p.Base().Rect
	var all []Detection
	in := onnx.NewTensor(1, int64(d.size), int64(d.size), 3)
	for _, win := range d.Windows(b.Dx(), b.Dy()) {
		dets, err := d.run(p, win, in)
		if err != nil {
			return nil, err
		}
		all = append(all, dets...)
	}
	return WeightedNMS(all, d.cfg.IoU), nil
}

func (d *BlazeFace) run(p *raster.Pyramid, win Window, in onnx.Tensor) ([]Detection, error) {
	scale := win.Side / float64(d.size)
	m := raster.Affine{scale, 0, win.X + scale/2 - 0.5, 0, scale, win.Y + scale/2 - 0.5}
	p.Sample(in.Data, raster.Crop{W: d.size, H: d.size, M: m, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 2.0 / 255, Offset: -1}})
	out, err := d.s.Run(map[string]onnx.Tensor{d.input: in})
	if err != nil {
		return nil, err
	}
	var dets []Detection
	minLogit := math.Log(d.cfg.MinScore / (1 - d.cfg.MinScore))
	base := 0
	for li := range d.scores {
		sc, rg := out[d.scores[li]].Data, out[d.regress[li]].Data
		for i := 0; i < d.perLayer[li]; i++ {
			logit := float64(sc[i])
			if logit < minLogit {
				continue
			}
			a := d.anchors[base+i]
			r := rg[16*i : 16*i+16]
			toImg := func(x, y float64) faceswap.Point {
				return faceswap.Point{X: win.X + x*scale, Y: win.Y + y*scale}
			}
			cx, cy := a.X+float64(r[0]), a.Y+float64(r[1])
			bw, bh := float64(r[2]), float64(r[3])
			if bw <= 0 || bh <= 0 {
				continue
			}
			det := Detection{
				Box:   faceswap.Rect{X: win.X + (cx-bw/2)*scale, Y: win.Y + (cy-bh/2)*scale, W: bw * scale, H: bh * scale},
				Score: 1 / (1 + math.Exp(-math.Max(-100, math.Min(100, logit)))),
			}
			for k := 0; k < 6; k++ {
				det.Keypoints[k] = toImg(a.X+float64(r[4+2*k]), a.Y+float64(r[5+2*k]))
			}
			if !plausible(det, win) {
				continue
			}
			det.cut = !inside(det.Box, win) || det.Box.W > 0.6*win.Side
			dets = append(dets, det)
		}
		base += d.perLayer[li]
	}
	return dets, nil
}

// plausible drops detections whose centre lies outside the window: they
// are faces cut by the tile edge, which a neighbouring tile or a coarser
// level sees whole.
func plausible(det Detection, win Window) bool {
	c := det.Box.Center()
	return c.X >= win.X && c.Y >= win.Y && c.X <= win.X+win.Side && c.Y <= win.Y+win.Side
}

// inside reports whether the box lies within the window.
func inside(b faceswap.Rect, w Window) bool {
	return b.X >= w.X && b.Y >= w.Y && b.X+b.W <= w.X+w.Side && b.Y+b.H <= w.Y+w.Side
}

// WeightedNMS merges overlapping detections (IoU > iou) into one and
// returns them, those that saw the whole face first, by descending score.
// The box is the score-weighted mean of the group (BlazeFace's blending
// suppression); the keypoints are the group leader's — the best detection
// that saw the whole face when any did, since detections that saw the whole
// face sort first — because averaging in those of coarser views moved them
// off the eyes (seen on a face looking down) and a tile that cuts a big face
// guesses them (seen on a portrait). It reorders dets.
func WeightedNMS(dets []Detection, iou float64) []Detection {
	// Groups are led by detections that saw the whole face, best first.
	sort.SliceStable(dets, func(i, j int) bool {
		if dets[i].cut != dets[j].cut {
			return !dets[i].cut
		}
		return dets[i].Score > dets[j].Score
	})
	used := make([]bool, len(dets))
	var out []Detection
	for i := range dets {
		if used[i] {
			continue
		}
		var sw, x, y, w, h float64
		for j := i; j < len(dets); j++ {
			if used[j] || (j != i && dets[i].Box.IoU(dets[j].Box) <= iou) {
				continue
			}
			used[j] = true
			s, b := dets[j].Score, dets[j].Box
			sw += s
			x, y, w, h = x+s*b.X, y+s*b.Y, w+s*b.W, h+s*b.H
		}
		out = append(out, Detection{
			Box:       faceswap.Rect{X: x / sw, Y: y / sw, W: w / sw, H: h / sw},
			Score:     dets[i].Score,
			Keypoints: dets[i].Keypoints,
			cut:       dets[i].cut,
		})
	}
	return out
}

// MouthCenter is the middle of the mouth: BlazeFace's fourth keypoint, or,
// for the five-landmark families (whose Keypoints[5] is unused), the
// midpoint of the two mouth corners.
func (d Detection) MouthCenter() faceswap.Point {
	if d.Keypoints[5] == (faceswap.Point{}) && d.Keypoints[4] != (faceswap.Point{}) {
		return faceswap.Point{X: (d.Keypoints[3].X + d.Keypoints[4].X) / 2, Y: (d.Keypoints[3].Y + d.Keypoints[4].Y) / 2}
	}
	return d.Keypoints[3]
}

// Cut reports whether the model saw the face badly: cut by the edge of the
// tile it was found in, or filling most of it.
func (d Detection) Cut() bool { return d.cut }
