package detect

import (
	"fmt"
	"math"

	"faceswap"
	"faceswap/onnx"
	"faceswap/raster"
)

// RetinaFace runs a RetinaFace model (the ResNet-50 or MobileNet-0.25
// backbone; both decode alike). Input [1,3,S,S] BGR minus the means
// (104,117,123); outputs, told apart by their last dimension: box offsets
// [1,N,4], class scores [1,N,2] (softmaxed: column 1 is "face") and five
// landmarks [1,N,10], over N priors: for strides 8, 16 and 32, every cell
// of the S/stride grid holds priors of sizes {16,32}, {64,128} and
// {256,512} input pixels. Offsets are scaled by the variances 0.1 (centre,
// landmarks) and 0.2 (log size).
type RetinaFace struct {
	g                  grid
	loc, conf, landmks string
	priors             []prior
}

// prior is an anchor box in input pixels.
type prior struct{ cx, cy, w, h float64 }

// retinaPriors lists the priors of a size×size input in the model's order:
// stride by stride, row by row, cell by cell, small size first.
func retinaPriors(size int) []prior {
	var ps []prior
	for _, l := range []struct {
		step  int
		sizes [2]float64
	}{{8, [2]float64{16, 32}}, {16, [2]float64{64, 128}}, {32, [2]float64{256, 512}}} {
		n := (size + l.step - 1) / l.step
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				for _, s := range l.sizes {
					ps = append(ps, prior{cx: (float64(j) + 0.5) * float64(l.step), cy: (float64(i) + 0.5) * float64(l.step), w: s, h: s})
				}
			}
		}
	}
	return ps
}

// NewRetinaFace wraps a loaded RetinaFace session. MinScore defaults to
// 0.8, as RetinaFace's usual wrappers have it (the MobileNet model scores
// a texture in the class photo, seen at 14-28 px in tiled mosaics, up to
// 0.62; its lowest score for a face of the test photos is 0.87), and IoU
// to 0.4.
func NewRetinaFace(s *onnx.Session, cfg Config) (*RetinaFace, error) {
	g, err := newGrid(s, cfg, "a RetinaFace model", 0.8, inputNorm{
		BGR:   true,
		Mean:  [3]float32{104, 117, 123},
		Scale: [3]float32{1, 1, 1},
		Pad:   [3]float32{123, 117, 104}, // the mean: zero after normalisation
	})
	if err != nil {
		return nil, err
	}
	d := &RetinaFace{g: g, priors: retinaPriors(g.size)}
	n := int64(len(d.priors))
	for _, o := range s.Outputs {
		if len(o.Shape) < 2 || len(o.Shape) > 3 || (o.Shape[len(o.Shape)-2] >= 0 && o.Shape[len(o.Shape)-2] != n) {
			return nil, fmt.Errorf("detect: %s is not a RetinaFace model: output %s %v, want [1,%d,4|2|10]", s.Path, o.Name, o.Shape, n)
		}
		last := o.Shape[len(o.Shape)-1]
		var slot *string
		switch last {
		case 4:
			slot = &d.loc
		case 2:
			slot = &d.conf
		case 10:
			slot = &d.landmks
		default:
			return nil, fmt.Errorf("detect: %s is not a RetinaFace model: output %s %v, want [1,%d,4|2|10]", s.Path, o.Name, o.Shape, n)
		}
		if *slot != "" {
			return nil, fmt.Errorf("detect: %s is not a RetinaFace model: outputs %s and %s have the same shape", s.Path, *slot, o.Name)
		}
		*slot = o.Name
	}
	if d.loc == "" || d.conf == "" || d.landmks == "" || len(s.Outputs) != 3 {
		return nil, fmt.Errorf("detect: %s is not a RetinaFace model: want three outputs (boxes [1,N,4], scores [1,N,2], landmarks [1,N,10])", s.Path)
	}
	return d, nil
}

// Detect finds every face in the image behind p. Keypoints[0..4] are the
// five landmarks (see Detection.Five); Keypoints[5] is zero.
func (d *RetinaFace) Detect(p *raster.Pyramid) ([]Detection, error) {
	return d.g.detect(p, d.decode)
}

func (d *RetinaFace) decode(out map[string]onnx.Tensor, minScore float64, emit func(raw)) error {
	n := len(d.priors)
	loc, err := outputLen(out, d.loc, 4*n)
	if err != nil {
		return err
	}
	conf, err := outputLen(out, d.conf, 2*n)
	if err != nil {
		return err
	}
	lm, err := outputLen(out, d.landmks, 10*n)
	if err != nil {
		return err
	}
	for i, p := range d.priors {
		score := float64(conf[2*i+1])
		if score < minScore {
			continue
		}
		l := loc[4*i : 4*i+4]
		cx := p.cx + float64(l[0])*0.1*p.w
		cy := p.cy + float64(l[1])*0.1*p.h
		w := p.w * math.Exp(math.Min(20, float64(l[2])*0.2))
		h := p.h * math.Exp(math.Min(20, float64(l[3])*0.2))
		r := raw{x1: cx - w/2, y1: cy - h/2, x2: cx + w/2, y2: cy + h/2, score: score}
		k := lm[10*i : 10*i+10]
		for j := range r.kps {
			r.kps[j] = faceswap.Point{X: p.cx + float64(k[2*j])*0.1*p.w, Y: p.cy + float64(k[2*j+1])*0.1*p.h}
		}
		emit(r)
	}
	return nil
}
