package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"faceswap"
	"faceswap/models"
	"faceswap/onnx"
)

// Family is a detector architecture: how its model is fed and decoded.
type Family string

// The families of the optional detectors.
const (
	FamilyRetinaFace Family = "RetinaFace"
	FamilyYOLOv5Face Family = "YOLOv5-face"
	FamilySCRFD      Family = "SCRFD"
)

// NamedModel is a detector the API's facedetection field can name.
type NamedModel struct {
	Name   string // as the API spells it
	Family Family
	File   string // in the models folder, slash-separated
}

// Named lists the facedetection values and the model files they need.
// Users install them on demand ("faceswap models pull NAME").
var Named = []NamedModel{
	{"retinaface_resnet50", FamilyRetinaFace, "onnx/retinaface_resnet50.onnx"},
	{"retinaface_mobile0.25", FamilyRetinaFace, "onnx/retinaface_mobile0.25.onnx"},
	{"YOLOv5l", FamilyYOLOv5Face, "onnx/yolov5l-face.onnx"},
	{"YOLOv5n", FamilyYOLOv5Face, "onnx/yolov5n-face.onnx"},
}

// LookupNamed returns the named detector, matching the name without regard
// to case.
func LookupNamed(name string) (NamedModel, bool) {
	for _, m := range Named {
		if strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return NamedModel{}, false
}

// New wraps a loaded session as a detector of the given family.
func New(s *onnx.Session, f Family, cfg Config) (Detector, error) {
	switch f {
	case FamilyRetinaFace:
		return NewRetinaFace(s, cfg)
	case FamilyYOLOv5Face:
		return NewYOLOv5Face(s, cfg)
	case FamilySCRFD:
		return NewSCRFD(s, cfg)
	}
	return nil, fmt.Errorf("detect: unknown detector family %q", f)
}

// OpenNamed loads the detector the API calls name from the models folder.
// An unknown name is a 400, a model that is not installed a 404 that says
// how to install it, and a file that does not load or does not fit the
// family a 500 that says to reinstall it (its cause, for the log, names the
// mismatch).
func OpenNamed(rt *onnx.Runtime, p models.Paths, name string, cfg Config) (Detector, error) {
	m, ok := LookupNamed(name)
	if !ok {
		names := make([]string, len(Named))
		for i, n := range Named {
			names[i] = n.Name
		}
		return nil, faceswap.Errorf(http.StatusBadRequest, "facedetection %q is not one of %s.", name, strings.Join(names, ", "))
	}
	path := p.Path(m.File)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, faceswap.Wrap(http.StatusNotFound, err,
			"facedetection %q is not installed on this server; install it with \"faceswap models pull %s\".", m.Name, m.Name)
	}
	broken := func(err error) error {
		return faceswap.Wrap(http.StatusInternalServerError, err,
			"facedetection %q is installed but its model file is not a usable %s detector; reinstall it with \"faceswap models pull %s\".", m.Name, m.Family, m.Name)
	}
	s, err := rt.Load(path)
	if err != nil {
		return nil, broken(err)
	}
	d, err := New(s, m.Family, cfg)
	if err != nil {
		return nil, broken(err)
	}
	return d, nil
}
