package pipeline

import (
	"fmt"
	"image"
	"net/http"

	"faceswap"
	"faceswap/analysis"
	"faceswap/detect"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/raster"
	"faceswap/restore"
	"faceswap/restore/onnxrestore"
	"faceswap/swap"
	"faceswap/swap/inswapper"
	"faceswap/swap/mesh"
)

// Open checks the set-up in p, opens ONNX Runtime with oc and loads the
// models of the registry (models.All) that are installed: the analysis
// models, which must be; the built-in mesh engine and, when its files are
// in the models folder, the neural swapper (then "auto" prefers it); every
// restorer face_restore names and every detector facedetection names. The
// runtime is returned so the caller can close it. A missing or damaged
// model file of the set-up, or an installed optional one that does not
// load or fit its role, is an error wrapping models.ErrNotSetUp.
func Open(p models.Paths, oc onnx.Config) (*Pipeline, *onnx.Runtime, error) {
	pl, rt, err := open(p, oc)
	if err != nil && rt != nil {
		rt.Close()
		rt = nil
	}
	return pl, rt, err
}

// open is Open, leaving the runtime open on an error.
func open(p models.Paths, oc onnx.Config) (*Pipeline, *onnx.Runtime, error) {
	m := analysis.Models{Detector: p.ONNX(models.BlazeFace), Mesh: p.ONNX(models.FaceMesh), Attribute: p.ONNX(models.FaceRes), Iris: p.ONNX(models.Iris)}
	if err := p.Require(oc.LibraryPath, m.Detector, m.Mesh, m.Attribute, m.Iris); err != nil {
		return nil, nil, err
	}
	rt, err := onnx.Open(oc)
	if err != nil {
		return nil, nil, err
	}
	an, err := analysis.New(rt, m, analysis.Config{})
	if err != nil {
		return nil, rt, fmt.Errorf("%w: %v: %s", models.ErrNotSetUp, err, models.FixHint)
	}
	builtin := mesh.New()
	pl := &Pipeline{Analyzer: an, Engines: map[string]swap.Engine{builtin.Name(): builtin}, Preferred: []string{builtin.Name()}}
	sw, _ := models.Lookup(models.Inswapper)
	af, _ := models.Lookup(models.ArcFace)
	if p.Require(p.Model(sw), p.Model(af)) == nil {
		e, err := inswapper.New(rt, p.Model(sw), p.Model(af))
		if err != nil {
			return nil, rt, fmt.Errorf("%w: %v", models.ErrNotSetUp, err)
		}
		pl.Engines[e.Name()] = e
		pl.Preferred = []string{e.Name(), builtin.Name()}
	}
	pl.Restoration = map[string]restore.Restorer{}
	for _, rm := range models.Named(models.FieldFaceRestore) {
		path := p.Model(rm)
		if p.Require(path) != nil {
			continue
		}
		r, err := onnxrestore.New(rt, rm.Value, path)
		if err != nil {
			return nil, rt, fmt.Errorf("%w: %v: reinstall it with \"faceswap models pull %s\" or remove it", models.ErrNotSetUp, err, rm.Name)
		}
		pl.Restoration[rm.Value] = r
	}
	pl.Aligners = map[string]Aligner{}
	for _, dm := range models.Named(models.FieldFaceDetection) {
		d, err := detect.OpenNamed(rt, p, dm.Value, detect.Config{})
		switch {
		case faceswap.StatusOf(err) == http.StatusNotFound:
			continue
		case err != nil:
			return nil, rt, fmt.Errorf("%w: %v", models.ErrNotSetUp, err)
		}
		pl.Aligners[dm.Value] = DetectAligner{d}
	}
	return pl, rt, nil
}

// DetectAligner is a facedetection detector as an Aligner: its detections'
// boxes and five alignment points (detect.Detection.Five).
type DetectAligner struct{ Detector detect.Detector }

// Faces runs the detector on img.
func (a DetectAligner) Faces(img *image.NRGBA) ([]faceswap.Face, error) {
	dets, err := a.Detector.Detect(raster.NewPyramid(img))
	if err != nil {
		return nil, err
	}
	faces := make([]faceswap.Face, len(dets))
	for i, d := range dets {
		faces[i] = faceswap.Face{Box: d.Box, Score: d.Score, Keypoints: d.Five()}
	}
	return faces, nil
}

// UseDetector makes the pipeline propose faces for the swap with a
// detector facedetection names (models.Values) from the models folder
// instead of BlazeFace: an operator's setting. A detector
// that is not installed is an error wrapping the 404 that says how to
// install it.
func (pl *Pipeline) UseDetector(rt *onnx.Runtime, p models.Paths, name string) error {
	d, err := detect.OpenNamed(rt, p, name, detect.Config{})
	if err != nil {
		return err
	}
	pl.Analyzer = pl.Analyzer.WithDetector(d)
	return nil
}
