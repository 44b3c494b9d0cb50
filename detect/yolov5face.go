package detect

import (
	"fmt"
	"sort"

	"faceswap"
	"faceswap/onnx"
	"faceswap/raster"
)

// YOLOv5Face runs a YOLOv5-face model (the l, n, n-0.5 … sizes; all decode
// alike) exported without its decoding layer. Input [1,3,S,S] RGB/255,
// the image letterboxed in the middle on grey (114);
// outputs, one per stride 8, 16 and 32: [1,3,S/stride,S/stride,16] raw
// values per anchor and cell: 0-3 box, 4 objectness, 5-14 five landmarks,
// 15 face class. Box and scores pass through a sigmoid: centre
// (σ·2 − 0.5 + cell)·stride, size (σ·2)²·anchor; landmarks do not:
// value·anchor + cell·stride (cell corner, not centre). Score is
// objectness × class.
type YOLOv5Face struct {
	g      grid
	levels []yoloLevel
}

// yoloLevel is one output: its stride and the three anchors (w, h in input
// pixels) of that stride.
type yoloLevel struct {
	name    string
	stride  int
	anchors [3][2]float64
}

// yoloAnchors are YOLOv5-face's anchors (w, h) by stride.
var yoloAnchors = map[int][3][2]float64{
	8:  {{4, 5}, {8, 10}, {13, 16}},
	16: {{23, 29}, {43, 55}, {73, 105}},
	32: {{146, 217}, {231, 300}, {335, 433}},
}

// NewYOLOv5Face wraps a loaded YOLOv5-face session. MinScore defaults to
// 0.5 and IoU to 0.4.
func NewYOLOv5Face(s *onnx.Session, cfg Config) (*YOLOv5Face, error) {
	g, err := newGrid(s, cfg, "a YOLOv5-face model", 0.5, inputNorm{
		Scale:   [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255},
		Pad:     [3]float32{114, 114, 114}, // YOLOv5's letterbox: grey, centred
		Centred: true,
	})
	if err != nil {
		return nil, err
	}
	d := &YOLOv5Face{g: g}
	want := fmt.Sprintf("want three raw outputs [1,3,%d/stride,%d/stride,16] for strides 8, 16, 32 (a model exported with its decoding layer has one [1,N,16] output and is not supported)", g.size, g.size)
	if len(s.Outputs) != 3 {
		return nil, fmt.Errorf("detect: %s is not a YOLOv5-face model: %d outputs, %s", s.Path, len(s.Outputs), want)
	}
	for i, o := range s.Outputs {
		sh := o.Shape
		if len(sh) != 5 || sh[0] > 1 || sh[0] == 0 || sh[1] != 3 || sh[4] != 16 || sh[2] != sh[3] {
			return nil, fmt.Errorf("detect: %s is not a YOLOv5-face model: output %s %v, %s", s.Path, o.Name, sh, want)
		}
		stride := 8 << i // dynamic: in output order
		if sh[2] > 0 {
			if int64(g.size)%sh[2] != 0 {
				return nil, fmt.Errorf("detect: %s: output %s %v does not divide the %d-px input", s.Path, o.Name, sh, g.size)
			}
			stride = g.size / int(sh[2])
		}
		a, ok := yoloAnchors[stride]
		if !ok {
			return nil, fmt.Errorf("detect: %s: output %s %v has stride %d, %s", s.Path, o.Name, sh, stride, want)
		}
		d.levels = append(d.levels, yoloLevel{name: o.Name, stride: stride, anchors: a})
	}
	sort.Slice(d.levels, func(i, j int) bool { return d.levels[i].stride < d.levels[j].stride })
	for i := 1; i < len(d.levels); i++ {
		if d.levels[i].stride == d.levels[i-1].stride {
			return nil, fmt.Errorf("detect: %s: two outputs have stride %d, %s", s.Path, d.levels[i].stride, want)
		}
	}
	return d, nil
}

// Detect finds every face in the image behind p. Keypoints[0..4] are the
// five landmarks (see Detection.Five); Keypoints[5] is zero.
func (d *YOLOv5Face) Detect(p *raster.Pyramid) ([]Detection, error) {
	return d.g.detect(p, d.decode)
}

func (d *YOLOv5Face) decode(out map[string]onnx.Tensor, minScore float64, emit func(raw)) error {
	for _, l := range d.levels {
		cells := d.g.size / l.stride
		v, err := outputLen(out, l.name, 3*cells*cells*16)
		if err != nil {
			return err
		}
		st := float64(l.stride)
		for a, anc := range l.anchors {
			for gy := 0; gy < cells; gy++ {
				for gx := 0; gx < cells; gx++ {
					c := v[((a*cells+gy)*cells+gx)*16:][:16]
					obj := sigmoid(c[4])
					if obj < minScore {
						continue
					}
					score := obj * sigmoid(c[15])
					if score < minScore {
						continue
					}
					cx := (sigmoid(c[0])*2 - 0.5 + float64(gx)) * st
					cy := (sigmoid(c[1])*2 - 0.5 + float64(gy)) * st
					w := sq(sigmoid(c[2])*2) * anc[0]
					h := sq(sigmoid(c[3])*2) * anc[1]
					r := raw{x1: cx - w/2, y1: cy - h/2, x2: cx + w/2, y2: cy + h/2, score: score}
					for k := range r.kps {
						r.kps[k] = faceswap.Point{
							X: float64(c[5+2*k])*anc[0] + float64(gx)*st,
							Y: float64(c[6+2*k])*anc[1] + float64(gy)*st,
						}
					}
					emit(r)
				}
			}
		}
	}
	return nil
}

func sq(x float64) float64 { return x * x }
