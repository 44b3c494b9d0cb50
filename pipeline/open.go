package pipeline

import (
	"fmt"
	"image"
	"net/http"
	"strings"

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

// Model files a pipeline loads from the cache folder, by name.
const (
	DetectorModel  = "blazeface-back"
	MeshModel      = "facemesh"
	AttributeModel = "faceres"
	InswapperModel = "inswapper_128" // optional, with ArcfaceModel
	ArcfaceModel   = "w600k_r50"
)

// RestorerModel returns the model name of a face_restore value: the name
// "faceswap models pull" takes, and the file onnx/NAME.onnx in the models
// folder ("GFPGANv1.4.pth" → "GFPGANv1.4").
func RestorerModel(faceRestore string) string { return strings.TrimSuffix(faceRestore, ".pth") }

// Open checks the set-up in p, opens ONNX Runtime with oc and loads
// the analysis models and every installed swap engine: mesh always,
// inswapper_128 when its two model files are in the models folder (then
// "auto" prefers it); and every restorer whose model file is installed
// (onnx/GFPGANv1.4.onnx, onnx/GFPGANv1.3.onnx,
// onnx/codeformer-v0.1.0.onnx) and every facedetection detector whose
// model file is installed (detect.Named). The runtime is returned so the caller can
// close it. A missing or damaged model file of the set-up, or an installed
// optional one that does not load or fit its role, is an error wrapping
// models.ErrNotSetUp.
func Open(p models.Paths, oc onnx.Config) (*Pipeline, *onnx.Runtime, error) {
	m := analysis.Models{Detector: p.ONNX(DetectorModel), Mesh: p.ONNX(MeshModel), Attribute: p.ONNX(AttributeModel)}
	if err := p.Require(oc.LibraryPath, m.Detector, m.Mesh, m.Attribute); err != nil {
		return nil, nil, err
	}
	rt, err := onnx.Open(oc)
	if err != nil {
		return nil, nil, err
	}
	an, err := analysis.New(rt, m, analysis.Config{})
	if err != nil {
		rt.Close()
		return nil, nil, fmt.Errorf("%w: %v: %s", models.ErrNotSetUp, err, models.FixHint)
	}
	pl := &Pipeline{Analyzer: an, Engines: map[string]swap.Engine{"mesh": mesh.New()}, Preferred: []string{"mesh"}}
	sw, af := p.ONNX(InswapperModel), p.ONNX(ArcfaceModel)
	if p.Require(sw, af) == nil {
		e, err := inswapper.New(rt, sw, af)
		if err != nil {
			rt.Close()
			return nil, nil, fmt.Errorf("%w: %v", models.ErrNotSetUp, err)
		}
		pl.Engines[inswapper.Name] = e
		pl.Preferred = []string{inswapper.Name, "mesh"}
	}
	pl.Restoration = map[string]restore.Restorer{}
	for _, name := range Restorers {
		if name == "disable" {
			continue
		}
		model := RestorerModel(name)
		path := p.ONNX(model)
		if p.Require(path) != nil {
			continue
		}
		r, err := onnxrestore.New(rt, name, path)
		if err != nil {
			rt.Close()
			return nil, nil, fmt.Errorf("%w: %v: reinstall it with \"faceswap models pull %s\" or remove it", models.ErrNotSetUp, err, model)
		}
		pl.Restoration[name] = r
	}
	pl.Aligners = map[string]Aligner{}
	for _, n := range detect.Named {
		d, err := detect.OpenNamed(rt, p, n.Name, detect.Config{})
		switch {
		case faceswap.StatusOf(err) == http.StatusNotFound:
			continue
		case err != nil:
			rt.Close()
			return nil, nil, fmt.Errorf("%w: %v", models.ErrNotSetUp, err)
		}
		pl.Aligners[n.Name] = DetectAligner{d}
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

// UseDetector makes the pipeline propose faces for the swap with the named
// detector from the models folder (retinaface_resnet50, retinaface_mobile0.25,
// YOLOv5l, YOLOv5n) instead of BlazeFace: an operator's setting. A detector
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
