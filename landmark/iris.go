package landmark

import (
	"fmt"
	"math"

	"faceswap"
	"faceswap/onnx"
	"faceswap/raster"
	"faceswap/resample"
)

// Iris runs MediaPipe's iris landmark model (human-models' iris): an NHWC
// [N,64,64,3] RGB crop in 0..1 around one eye, the subject's right eye as
// it appears in the image (outer corner on the crop's left), gives 76
// points of 3 values in crop pixels: 71 of the lids and brow, then the
// iris centre and four points on its rim. The subject's left eye is
// mirrored into that orientation and its points mirrored back.
type Iris struct {
	s      *onnx.Session
	size   int
	input  string
	output string
}

// irisPoints is how many points the iris model gives per eye, and
// irisCentre the index of the iris centre among them.
const (
	irisPoints = 76
	irisCentre = 71
	// irisEnlarge is the crop's side over the distance between the eye's
	// corners (the model's training crop).
	irisEnlarge = 2.3
)

// The eye corners of the mesh the crops are taken around: the subject's
// right eye (image left) and left eye.
var eyeCorners = [2][2]int{{33, 133}, {263, 362}}

// NewIris wraps a loaded iris session.
func NewIris(s *onnx.Session) (*Iris, error) {
	if len(s.Inputs) != 1 || len(s.Inputs[0].Shape) != 4 || s.Inputs[0].Shape[3] != 3 || len(s.Outputs) != 1 {
		return nil, fmt.Errorf("landmark: %s is not an iris model (want one NHWC RGB input and one output)", s.Path)
	}
	n := int64(1)
	for _, d := range s.Outputs[0].Shape[1:] {
		n *= d
	}
	if n != irisPoints*3 {
		return nil, fmt.Errorf("landmark: %s is not an iris model (output holds %d values, want %d)", s.Path, n, irisPoints*3)
	}
	size := int(s.Inputs[0].Shape[1])
	if size <= 0 {
		size = 64
	}
	return &Iris{s: s, size: size, input: s.Inputs[0].Name, output: s.Outputs[0].Name}, nil
}

// Run returns the irises (centre and radius) of every mesh's two eyes (the subject's
// right eye, then its left) in image pixels, in one batch.
func (ir *Iris) Run(p *raster.Pyramid, meshes [][]faceswap.Point3) ([][2]faceswap.Circle, error) {
	if len(meshes) == 0 {
		return nil, nil
	}
	n := ir.size * ir.size * 3
	in := onnx.NewTensor(int64(2*len(meshes)), int64(ir.size), int64(ir.size), 3)
	tfs := make([]raster.Affine, 2*len(meshes))
	for i, m := range meshes {
		if len(m) != faceswap.MeshPoints {
			return nil, fmt.Errorf("landmark: iris needs a %d-point mesh, face %d has %d", faceswap.MeshPoints, i, len(m))
		}
		for e, c := range eyeCorners {
			outer, inner := m[c[0]], m[c[1]]
			side := irisEnlarge * math.Hypot(inner.X-outer.X, inner.Y-outer.Y)
			centre := faceswap.Point{X: (outer.X + inner.X) / 2, Y: (outer.Y + inner.Y) / 2}
			// the eye line, outer corner to inner for the right eye; the
			// left eye's runs the other way so its crop comes out mirrored
			var angle float64
			if e == 0 {
				angle = math.Atan2(inner.Y-outer.Y, inner.X-outer.X)
			} else {
				angle = math.Atan2(outer.Y-inner.Y, outer.X-inner.X)
			}
			tf := raster.CropTransform(centre, side, angle, ir.size)
			if e == 1 {
				tf = mirrored(tf, ir.size)
			}
			k := 2*i + e
			tfs[k] = tf
			p.Sample(in.Data[k*n:(k+1)*n], raster.Crop{W: ir.size, H: ir.size, M: tf, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1.0 / 255}})
		}
	}
	out, err := ir.s.Run(map[string]onnx.Tensor{ir.input: in})
	if err != nil {
		return nil, err
	}
	res := make([][2]faceswap.Circle, len(meshes))
	for k, tf := range tfs {
		raw := out[ir.output].Data[k*irisPoints*3:]
		x, y := tf.Apply(float64(raw[3*irisCentre])-0.5, float64(raw[3*irisCentre+1])-0.5)
		var r float64
		for j := irisCentre + 1; j < irisPoints; j++ {
			u, v := tf.Apply(float64(raw[3*j])-0.5, float64(raw[3*j+1])-0.5)
			r += math.Hypot(u-x, v-y) / float64(irisPoints-irisCentre-1)
		}
		res[k/2][k%2] = faceswap.Circle{X: x + 0.5, Y: y + 0.5, R: r}
	}
	return res, nil
}

// mirrored returns the transform of the crop tf samples, flipped left to
// right: crop pixel (u, v) takes what tf maps (size−1−u, v) to.
func mirrored(tf raster.Affine, size int) raster.Affine {
	w := float64(size - 1)
	return raster.Affine{-tf[0], tf[1], tf[2] + w*tf[0], -tf[3], tf[4], tf[5] + w*tf[3]}
}
