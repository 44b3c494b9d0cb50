package detect

import (
	"fmt"
	"sort"

	"faceswap"
	"faceswap/onnx"
	"faceswap/raster"
)

// SCRFD runs an InsightFace SCRFD model with keypoints (500m, 2.5g, 10g =
// buffalo_l's det_10g, …). Input [1,3,S,S] RGB (v − 127.5)/128; nine
// outputs, told apart by their last dimension and, within each kind, by
// their length (finest stride first; in file order when dynamic): scores
// [N,1] (already sigmoided), box distances [N,4] and keypoint offsets
// [N,10] for strides 8, 16 and 32, with or without a leading batch
// dimension. Each cell of a stride's grid holds A anchors (2 in the
// published models) centred on the cell's top-left corner; distances and
// offsets are in strides.
type SCRFD struct {
	g       grid
	levels  []scrfdLevel
	anchors int
}

// scrfdLevel names the three outputs of one stride.
type scrfdLevel struct {
	stride           int
	score, box, kpss string
}

// NewSCRFD wraps a loaded SCRFD session. MinScore defaults to 0.4 and IoU
// to 0.4. (InsightFace uses 0.5; scrfd_2.5g_kps scores the face cut by the
// top edge of the office test photo 0.47, while the highest score it and
// scrfd_500m_kps give anything but a face in the test photos is 0.32.)
func NewSCRFD(s *onnx.Session, cfg Config) (*SCRFD, error) {
	g, err := newGrid(s, cfg, "an SCRFD model", 0.4, inputNorm{
		Mean:  [3]float32{127.5, 127.5, 127.5},
		Scale: [3]float32{1.0 / 128, 1.0 / 128, 1.0 / 128},
	})
	if err != nil {
		return nil, err
	}
	want := "want nine outputs: scores [N,1], boxes [N,4] and keypoints [N,10] for strides 8, 16 and 32 (models without keypoints are not supported)"
	if len(s.Outputs) != 9 {
		return nil, fmt.Errorf("detect: %s is not an SCRFD model: %d outputs, %s", s.Path, len(s.Outputs), want)
	}
	type out struct {
		name string
		n    int64
		pos  int
	}
	kinds := map[int64][]out{}
	for i, o := range s.Outputs {
		sh := o.Shape
		if len(sh) < 2 || len(sh) > 3 || len(sh) == 3 && sh[0] > 1 {
			return nil, fmt.Errorf("detect: %s is not an SCRFD model: output %s %v, %s", s.Path, o.Name, sh, want)
		}
		k := sh[len(sh)-1]
		if k != 1 && k != 4 && k != 10 {
			return nil, fmt.Errorf("detect: %s is not an SCRFD model: output %s %v, %s", s.Path, o.Name, sh, want)
		}
		kinds[k] = append(kinds[k], out{o.Name, sh[len(sh)-2], i})
	}
	d := &SCRFD{g: g, anchors: 2}
	strides := []int{8, 16, 32}
	for _, k := range []int64{1, 4, 10} {
		outs := kinds[k]
		if len(outs) != 3 {
			return nil, fmt.Errorf("detect: %s is not an SCRFD model: %d outputs end in %d, %s", s.Path, len(outs), k, want)
		}
		sort.SliceStable(outs, func(i, j int) bool {
			if outs[i].n >= 0 && outs[j].n >= 0 {
				return outs[i].n > outs[j].n
			}
			return outs[i].pos < outs[j].pos
		})
		for i, o := range outs {
			if o.n >= 0 {
				cells := int64(g.size / strides[i] * (g.size / strides[i]))
				if o.n%cells != 0 || o.n/cells < 1 || o.n/cells > 2 {
					return nil, fmt.Errorf("detect: %s: output %s has %d anchors, not 1 or 2 per cell of the stride-%d grid of a %d-px input", s.Path, o.name, o.n, strides[i], g.size)
				}
				d.anchors = int(o.n / cells)
			}
		}
		kinds[k] = outs
	}
	for i, st := range strides {
		d.levels = append(d.levels, scrfdLevel{stride: st, score: kinds[1][i].name, box: kinds[4][i].name, kpss: kinds[10][i].name})
	}
	// all outputs must agree on the anchors per cell
	for _, k := range []int64{1, 4, 10} {
		for i, o := range kinds[k] {
			if cells := int64(g.size / strides[i] * (g.size / strides[i])); o.n >= 0 && o.n != cells*int64(d.anchors) {
				return nil, fmt.Errorf("detect: %s: output %s has %d anchors, the others %d per cell", s.Path, o.name, o.n, d.anchors)
			}
		}
	}
	return d, nil
}

// Detect finds every face in the image behind p. Keypoints[0..4] are the
// five keypoints (see Detection.Five); Keypoints[5] is zero.
func (d *SCRFD) Detect(p *raster.Pyramid) ([]Detection, error) {
	return d.g.detect(p, d.decode)
}

func (d *SCRFD) decode(out map[string]onnx.Tensor, minScore float64, emit func(raw)) error {
	for _, l := range d.levels {
		cells := d.g.size / l.stride
		n := cells * cells * d.anchors
		sc, err := outputLen(out, l.score, n)
		if err != nil {
			return err
		}
		bx, err := outputLen(out, l.box, 4*n)
		if err != nil {
			return err
		}
		kp, err := outputLen(out, l.kpss, 10*n)
		if err != nil {
			return err
		}
		st := float64(l.stride)
		for i, s := range sc {
			if float64(s) < minScore {
				continue
			}
			cell := i / d.anchors
			cx, cy := float64(cell%cells)*st, float64(cell/cells)*st
			b := bx[4*i : 4*i+4]
			r := raw{
				x1: cx - float64(b[0])*st, y1: cy - float64(b[1])*st,
				x2: cx + float64(b[2])*st, y2: cy + float64(b[3])*st,
				score: float64(s),
			}
			k := kp[10*i : 10*i+10]
			for j := range r.kps {
				r.kps[j] = faceswap.Point{X: cx + float64(k[2*j])*st, Y: cy + float64(k[2*j+1])*st}
			}
			emit(r)
		}
	}
	return nil
}
