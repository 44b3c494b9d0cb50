// Package analysis finds every face of an image with everything the
// pipeline needs about it: the detector proposes candidates over several
// scales, the face mesh confirms each (its face-presence score rejects
// false boxes) and places 468 points, duplicates are merged on the mesh
// boxes, and the attribute model adds gender and age. The iris model finds
// the irises of the faces a swap uses (Irises), on those alone.
package analysis

import (
	"errors"
	"fmt"
	"image"
	"sort"
	"time"

	"faceswap"
	"faceswap/attribute"
	"faceswap/detect"
	"faceswap/landmark"
	"faceswap/onnx"
	"faceswap/raster"
)

// Config tunes analysis. Zero values take the defaults.
type Config struct {
	Detect detect.Config
	// MinPresence is the lowest face-presence score of the mesh model that
	// confirms a candidate (default 0.7). On the test photos real faces
	// score 0.98 and above, except a full profile (0.785); false proposals
	// score 0.54 at most.
	MinPresence float64
	// DedupIoU is the mesh-box overlap above which two faces are one
	// (default 0.5).
	DedupIoU float64
}

func (c Config) withDefaults() Config {
	if c.MinPresence == 0 {
		c.MinPresence = 0.7
	}
	if c.DedupIoU == 0 {
		c.DedupIoU = 0.5
	}
	return c
}

// Validate reports every bad setting at once.
func (c Config) Validate() error {
	var errs []error
	if err := c.Detect.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MinPresence < 0 || c.MinPresence > 1 {
		errs = append(errs, fmt.Errorf("analysis: min presence %g is outside [0,1]", c.MinPresence))
	}
	if c.DedupIoU < 0 || c.DedupIoU > 1 {
		errs = append(errs, fmt.Errorf("analysis: dedup IoU %g is outside [0,1]", c.DedupIoU))
	}
	return errors.Join(errs...)
}

// Models are the model files analysis runs.
type Models struct {
	Detector  string // BlazeFace (blazeface-back.onnx)
	Mesh      string // FaceMesh (facemesh.onnx)
	Attribute string // FaceRes (faceres.onnx); empty: no gender or age
	Iris      string // iris landmarks (iris.onnx); empty: no iris centres
}

// Analyzer runs analysis. It is safe for concurrent use.
type Analyzer struct {
	cfg  Config
	det  detect.Detector
	mesh *landmark.FaceMesh
	attr *attribute.FaceRes
	iris *landmark.Iris
	// sessions are the loaded models, for run-time statistics.
	sessions []*onnx.Session
}

// New loads the models through rt.
func New(rt *onnx.Runtime, m Models, cfg Config) (*Analyzer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Analyzer{cfg: cfg}
	s, err := rt.Load(m.Detector)
	if err != nil {
		return nil, err
	}
	a.sessions = append(a.sessions, s)
	if a.det, err = detect.NewBlazeFace(s, cfg.Detect); err != nil {
		return nil, err
	}
	if s, err = rt.Load(m.Mesh); err != nil {
		return nil, err
	}
	a.sessions = append(a.sessions, s)
	if a.mesh, err = landmark.NewFaceMesh(s); err != nil {
		return nil, err
	}
	if m.Attribute != "" {
		if s, err = rt.Load(m.Attribute); err != nil {
			return nil, err
		}
		a.sessions = append(a.sessions, s)
		if a.attr, err = attribute.NewFaceRes(s); err != nil {
			return nil, err
		}
	}
	if m.Iris != "" {
		if s, err = rt.Load(m.Iris); err != nil {
			return nil, err
		}
		a.sessions = append(a.sessions, s)
		if a.iris, err = landmark.NewIris(s); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// WithDetector returns a copy of a that proposes faces with d (any
// detect.Detector, e.g. a named RetinaFace or YOLOv5-face model) instead of
// BlazeFace; the mesh still confirms and places every face.
func (a *Analyzer) WithDetector(d detect.Detector) *Analyzer {
	c := *a
	c.det = d
	return &c
}

// ortTime is the time all of the analyzer's sessions spent in ONNX Runtime.
func (a *Analyzer) ortTime() time.Duration {
	var t time.Duration
	for _, s := range a.sessions {
		_, d := s.Stats()
		t += d
	}
	return t
}

// Options says how much to compute.
type Options struct {
	// Attributes adds gender and age (needs the attribute model).
	Attributes bool
}

// Analyze returns the faces of img by descending detector score.
func (a *Analyzer) Analyze(img *image.NRGBA, opt Options) ([]faceswap.Face, error) {
	found, err := a.analyze(img, opt)
	faces := make([]faceswap.Face, len(found))
	for i, f := range found {
		faces[i] = f.face
	}
	return faces, err
}

// found is a confirmed face with the detector proposal it came from.
type found struct {
	face     faceswap.Face
	proposal detect.Detection
}

func (a *Analyzer) analyze(img *image.NRGBA, opt Options) ([]found, error) {
	p := raster.NewPyramid(img)
	cands, err := a.det.Detect(p)
	if err != nil {
		return nil, err
	}
	props := make([]landmark.Proposal, len(cands))
	for i, c := range cands {
		props[i] = landmark.Proposal{Box: c.Box, LeftEye: c.Keypoints[0], RightEye: c.Keypoints[1], Mouth: c.MouthCenter()}
	}
	meshes, err := a.mesh.Detect(p, props)
	if err != nil {
		return nil, err
	}
	var faces []found
	for i, c := range cands {
		r := meshes[i]
		if r.Score < a.cfg.MinPresence {
			continue
		}
		faces = append(faces, found{face: faceswap.Face{
			Box:       landmark.Bounds(r.Mesh),
			Score:     c.Score,
			Keypoints: landmark.Keypoints(r.Mesh),
			Mesh:      r.Mesh,
			MeshScore: r.Score,
		}, proposal: c})
	}
	faces = dedup(faces, a.cfg.DedupIoU)
	if opt.Attributes && a.attr != nil && len(faces) > 0 {
		crops := make([]landmark.Crop, len(faces))
		for i, f := range faces {
			crops[i] = landmark.CropFromMesh(f.face.Mesh)
		}
		res, err := a.attr.Run(p, crops)
		if err != nil {
			return nil, err
		}
		for i, r := range res {
			f := &faces[i].face
			f.Gender, f.GenderScore, f.Age = r.Gender, r.GenderScore, r.Age
		}
	}
	return faces, nil
}

// Irises finds the irises of faces of img (their Irises), in one batch. It
// does nothing when the analyzer has no iris model: each 64-px eye crop
// costs about 2.3 ms on one core, so it runs on the faces a swap uses
// rather than on every face found.
func (a *Analyzer) Irises(img *image.NRGBA, faces []*faceswap.Face) error {
	if a.iris == nil || len(faces) == 0 {
		return nil
	}
	meshes := make([][]faceswap.Point3, len(faces))
	for i, f := range faces {
		meshes[i] = f.Mesh
	}
	irises, err := a.iris.Run(raster.NewPyramid(img), meshes)
	if err != nil {
		return err
	}
	for i, f := range faces {
		f.Irises = irises[i]
	}
	return nil
}

// dedup keeps, of faces whose mesh boxes overlap by more than iou, where
// most of the smaller box lies inside the larger, where one face's eyes
// both lie inside the other's oval, or where an unsure one overlaps another
// at all (unsureScore), the one the detector was surest of:
// proposals covering part of a large face converge on (most of) the same
// mesh, or place a second pair of eyes on its chin or cheek, while two real
// faces never cover each other that much, and a face whose eyes another
// face covers is not seen.
func dedup(faces []found, iou float64) []found {
	conf := func(f found) float64 { return f.face.Score * f.face.MeshScore }
	sort.SliceStable(faces, func(i, j int) bool { return conf(faces[i]) > conf(faces[j]) })
	var out []found
next:
	for _, f := range faces {
		for _, o := range out {
			ov := overlapOfSmaller(f.face.Box, o.face.Box)
			if f.face.Box.IoU(o.face.Box) > iou || ov > 0.6 || ov > unsureOverlap && f.face.Score < unsureScore ||
				eyesInside(f.face, o.face) || eyesInside(o.face, f.face) {
				continue next
			}
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].face.Score > out[j].face.Score })
	return out
}

// A proposal the detector is unsure of (score under unsureScore) whose box
// overlaps a surer face's by more than unsureOverlap of the smaller box is
// not a face: beside a small face in a crowd the detector proposed boxes
// on the background half over it (score 0.32, 17% over a 38-px face) that
// the mesh still took for faces. No two real faces of the test photos
// overlap by even 5%.
const (
	unsureScore   = 0.4
	unsureOverlap = 0.1
)

// eyesInside reports whether both of a's eyes lie inside b's face oval.
func eyesInside(a, b faceswap.Face) bool {
	if len(a.Mesh) != faceswap.MeshPoints || len(b.Mesh) != faceswap.MeshPoints {
		return false
	}
	return landmark.InsideOval(b.Mesh, a.Keypoints[0]) && landmark.InsideOval(b.Mesh, a.Keypoints[1])
}

// overlapOfSmaller is the intersection of a and b over the smaller area.
func overlapOfSmaller(a, b faceswap.Rect) float64 {
	x0, y0 := max(a.X, b.X), max(a.Y, b.Y)
	x1, y1 := min(a.X+a.W, b.X+b.W), min(a.Y+a.H, b.Y+b.H)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	return (x1 - x0) * (y1 - y0) / min(a.Area(), b.Area())
}
