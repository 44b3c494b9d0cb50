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

// New wraps a loaded session as a detector of the given family (one of
// the registry's optional detectors').
func New(s *onnx.Session, f models.Family, cfg Config) (Detector, error) {
	switch f {
	case models.FamilyRetinaFace:
		return NewRetinaFace(s, cfg)
	case models.FamilyYOLOv5Face:
		return NewYOLOv5Face(s, cfg)
	case models.FamilySCRFD:
		return NewSCRFD(s, cfg)
	}
	return nil, fmt.Errorf("detect: no decoder for the detector family %q", f)
}

// OpenNamed loads the detector the API's facedetection field calls name
// (models.Named) from the models folder. An unknown name is a 400, a model
// that is not installed a 404 that says how to install it, and a file that
// does not load or does not fit the family a 500 that says to reinstall it
// (its cause, for the log, names the mismatch).
func OpenNamed(rt *onnx.Runtime, p models.Paths, name string, cfg Config) (Detector, error) {
	m, ok := models.ByValue(models.FieldFaceDetection, name)
	if !ok {
		return nil, faceswap.Errorf(http.StatusBadRequest, "facedetection %q is not one of %s.",
			name, strings.Join(models.Values(models.FieldFaceDetection), ", "))
	}
	path := p.Model(m)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, faceswap.Wrap(http.StatusNotFound, err,
			"facedetection %q is not installed on this server; install it with \"faceswap models pull %s\".", m.Value, m.Name)
	}
	broken := func(err error) error {
		return faceswap.Wrap(http.StatusInternalServerError, err,
			"facedetection %q is installed but its model file is not a usable %s detector; reinstall it with \"faceswap models pull %s\".", m.Value, m.Family, m.Name)
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
