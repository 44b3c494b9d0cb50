// Package landmark finds the 468-point face mesh (MediaPipe FaceMesh) of a
// face: the face is cropped square around its box, rotated so the eye line
// is level, run through the model, and the mesh mapped back to the image.
// A second pass re-crops from the first pass's mesh, which centres and
// scales the face the way the model was trained.
package landmark

import (
	"fmt"
	"math"

	"faceswap"
	"faceswap/onnx"
	"faceswap/raster"
	"faceswap/resample"
)

// FaceMesh runs a FaceMesh model: NHWC [N,192,192,3] RGB in 0..1 → 468×3
// coordinates in crop pixels and a face-presence score.
type FaceMesh struct {
	s                *onnx.Session
	size             int
	input            string
	meshOut, flagOut string
	flagIsLogit      bool
}

// NewFaceMesh wraps a loaded FaceMesh session. It accepts the TF.js
// conversion (outputs output_mesh, output_faceflag) and MediaPipe's ONNX
// export (conv2d_20 mesh, conv2d_30 presence logit).
func NewFaceMesh(s *onnx.Session) (*FaceMesh, error) {
	if len(s.Inputs) != 1 || len(s.Inputs[0].Shape) != 4 || s.Inputs[0].Shape[3] != 3 {
		return nil, fmt.Errorf("landmark: %s is not a FaceMesh model (want one NHWC RGB input)", s.Path)
	}
	m := &FaceMesh{s: s, size: int(s.Inputs[0].Shape[1]), input: s.Inputs[0].Name}
	for _, o := range s.Outputs {
		n := int64(1)
		for _, d := range o.Shape[1:] {
			n *= d
		}
		switch {
		case n == faceswap.MeshPoints*3 && m.meshOut == "":
			m.meshOut = o.Name
		case n == 1 && m.flagOut == "":
			m.flagOut = o.Name
			m.flagIsLogit = o.Name != "output_faceflag"
		}
	}
	if m.meshOut == "" || m.flagOut == "" {
		return nil, fmt.Errorf("landmark: %s has no 468×3 mesh output and face-presence output", s.Path)
	}
	return m, nil
}

// Result is the mesh of one face.
type Result struct {
	Mesh  []faceswap.Point3 // image pixels; Z in the same units, smaller is nearer
	Score float64           // face presence 0..1
}

// Crop is a square, rotated face crop: centre and side in image pixels,
// angle of the eye line in radians.
type Crop struct {
	Center faceswap.Point
	Side   float64
	Angle  float64
}

// CropFromEyes returns the crop around box, enlarged by scale, rotated so that
// the line from the image-left eye to the image-right eye is horizontal.
func CropFromEyes(box faceswap.Rect, leftEye, rightEye faceswap.Point, scale float64) Crop {
	return Crop{
		Center: box.Center(),
		Side:   math.Max(box.W, box.H) * scale,
		Angle:  math.Atan2(rightEye.Y-leftEye.Y, rightEye.X-leftEye.X),
	}
}

// CropFromKeypoints is CropFromEyes, except that when the eyes are too
// close together for their line to be trusted (a face in profile, where the
// detector puts both eyes on one spot) the rotation comes from the face's
// vertical axis, from between the eyes to the mouth.
func CropFromKeypoints(box faceswap.Rect, leftEye, rightEye, mouth faceswap.Point, scale float64) Crop {
	c := CropFromEyes(box, leftEye, rightEye, scale)
	if math.Hypot(rightEye.X-leftEye.X, rightEye.Y-leftEye.Y) < 0.25*box.W {
		mid := faceswap.Point{X: (leftEye.X + rightEye.X) / 2, Y: (leftEye.Y + rightEye.Y) / 2}
		c.Angle = math.Atan2(mouth.Y-mid.Y, mouth.X-mid.X) - math.Pi/2
	}
	return c
}

// Run computes the mesh inside each crop, in one batch.
func (m *FaceMesh) Run(p *raster.Pyramid, crops []Crop) ([]Result, error) {
	if len(crops) == 0 {
		return nil, nil
	}
	n := m.size * m.size * 3
	in := onnx.NewTensor(int64(len(crops)), int64(m.size), int64(m.size), 3)
	tfs := make([]raster.Affine, len(crops))
	for i, c := range crops {
		tfs[i] = raster.CropTransform(c.Center, c.Side, c.Angle, m.size)
		p.Sample(in.Data[i*n:(i+1)*n], raster.Crop{W: m.size, H: m.size, M: tfs[i], Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1.0 / 255}})
	}
	out, err := m.s.Run(map[string]onnx.Tensor{m.input: in})
	if err != nil {
		return nil, err
	}
	res := make([]Result, len(crops))
	for i, tf := range tfs {
		raw := out[m.meshOut].Data[i*faceswap.MeshPoints*3:]
		flag := float64(out[m.flagOut].Data[i])
		if m.flagIsLogit {
			flag = 1 / (1 + math.Exp(-flag))
		}
		r := Result{Mesh: make([]faceswap.Point3, faceswap.MeshPoints), Score: flag}
		zs := tf.Scale()
		for k := range r.Mesh {
			// crop coordinates are continuous (0..size); the transform maps
			// pixel-centre indices, hence the half-pixel shifts.
			x, y := tf.Apply(float64(raw[3*k])-0.5, float64(raw[3*k+1])-0.5)
			r.Mesh[k] = faceswap.Point3{X: x + 0.5, Y: y + 0.5, Z: float64(raw[3*k+2]) * zs}
		}
		res[i] = r
	}
	return res, nil
}

// Proposal is where a detector saw a face: its box, the eyes on the
// image's left and right, and the mouth centre.
type Proposal struct {
	Box                      faceswap.Rect
	LeftEye, RightEye, Mouth faceswap.Point
}

// Detect computes the meshes of every proposal in two batched passes: a
// crop from the detector's box and keypoints, then, for proposals the first
// pass did not reject outright, a crop rebuilt from the first mesh.
func (m *FaceMesh) Detect(p *raster.Pyramid, props []Proposal) ([]Result, error) {
	crops := make([]Crop, len(props))
	for i, pr := range props {
		crops[i] = CropFromKeypoints(pr.Box, pr.LeftEye, pr.RightEye, pr.Mouth, 1.5)
	}
	first, err := m.Run(p, crops)
	if err != nil {
		return nil, err
	}
	var again []int
	crops = crops[:0]
	for i, r := range first {
		if r.Score >= 0.1 {
			again = append(again, i)
			crops = append(crops, CropFromMesh(r.Mesh))
		}
	}
	second, err := m.Run(p, crops)
	if err != nil {
		return nil, err
	}
	for k, i := range again {
		first[i] = second[k]
	}
	return first, nil
}

// Mesh indices used to place crops and keypoints.
const (
	RightEyeOuter = 33  // subject's right eye, outer corner (image left)
	RightEyeInner = 133 // subject's right eye, inner corner
	LeftEyeInner  = 362 // subject's left eye, inner corner (image right)
	LeftEyeOuter  = 263 // subject's left eye, outer corner
	NoseTip       = 1
	Forehead      = 10  // top of the face oval, on the midline
	Chin          = 152 // bottom of the chin, on the midline
	MouthRight    = 61  // subject's right mouth corner (image left)
	MouthLeft     = 291 // subject's left mouth corner (image right)
)

// FaceOval is the outline of the face in the mesh (vertex indices, in
// order around it, from the top of the forehead towards the image's right).
var FaceOval = []int{10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
	152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109}

// InsideOval reports whether p lies inside the mesh's face oval (even-odd
// rule on the outline's polygon).
func InsideOval(mesh []faceswap.Point3, p faceswap.Point) bool {
	in := false
	for k, i := range FaceOval {
		a, b := mesh[i], mesh[FaceOval[(k+1)%len(FaceOval)]]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < a.X+(p.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y) {
			in = !in
		}
	}
	return in
}

// Bounds returns the bounding box of a mesh.
func Bounds(mesh []faceswap.Point3) faceswap.Rect {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range mesh {
		x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
		x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
	}
	return faceswap.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}

// EyeCenters returns the centres of the image-left and image-right eyes.
func EyeCenters(mesh []faceswap.Point3) (faceswap.Point, faceswap.Point) {
	mid := func(a, b int) faceswap.Point {
		return faceswap.Point{X: (mesh[a].X + mesh[b].X) / 2, Y: (mesh[a].Y + mesh[b].Y) / 2}
	}
	return mid(RightEyeOuter, RightEyeInner), mid(LeftEyeInner, LeftEyeOuter)
}

// Keypoints returns the five keypoints (eyes, nose tip, mouth corners) of a
// mesh, in faceswap.Face.Keypoints order.
func Keypoints(mesh []faceswap.Point3) [5]faceswap.Point {
	l, r := EyeCenters(mesh)
	pt := func(i int) faceswap.Point { return faceswap.Point{X: mesh[i].X, Y: mesh[i].Y} }
	return [5]faceswap.Point{l, r, pt(NoseTip), pt(MouthRight), pt(MouthLeft)}
}

// CropFromMesh returns the crop a second pass (or an attribute model) uses:
// square around the mesh bounds enlarged 1.5×, rotated by the eye line, or
// for a face in profile (eyes close together in the picture) by its
// vertical axis from forehead to chin.
func CropFromMesh(mesh []faceswap.Point3) Crop {
	l, r := EyeCenters(mesh)
	b := Bounds(mesh)
	c := CropFromEyes(b, l, r, 1.5)
	if math.Hypot(r.X-l.X, r.Y-l.Y) < 0.3*b.W {
		top, chin := mesh[Forehead], mesh[Chin]
		c.Angle = math.Atan2(chin.Y-top.Y, chin.X-top.X) - math.Pi/2
	}
	return c
}
