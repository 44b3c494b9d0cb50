package detect

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/raster"
)

func statusOf(t *testing.T, err error) *faceswap.Error {
	t.Helper()
	var fe *faceswap.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *faceswap.Error", err, err)
	}
	return fe
}

// TestOpenNamedMissing: a name the API knows whose file is not installed is
// a 404 that says how to install it; an unknown name is a 400. Neither
// needs ONNX Runtime.
func TestOpenNamedMissing(t *testing.T) {
	p := models.Paths{Home: t.TempDir()}
	for _, name := range []string{"retinaface_resnet50", "retinaface_mobile0.25", "YOLOv5l", "yolov5n"} {
		_, err := OpenNamed(nil, p, name, Config{})
		fe := statusOf(t, err)
		m, _ := models.ByValue(models.FieldFaceDetection, name)
		want := `facedetection "` + m.Value + `" is not installed on this server; install it with "faceswap models pull ` + m.Name + `".`
		if fe.Status != http.StatusNotFound || fe.Message != want {
			t.Errorf("%s: %d %q, want 404 %q", name, fe.Status, fe.Message, want)
		}
	}
	fe := statusOf(t, func() error { _, err := OpenNamed(nil, p, "mtcnn", Config{}); return err }())
	if fe.Status != http.StatusBadRequest || !strings.Contains(fe.Message, `"mtcnn"`) || !strings.Contains(fe.Message, "YOLOv5n") {
		t.Errorf("unknown name: %d %q", fe.Status, fe.Message)
	}
}

// install links a model file into the models folder under a named
// detector's file name.
func install(t *testing.T, p models.Paths, name, path string) {
	t.Helper()
	m, _ := models.ByValue(models.FieldFaceDetection, name)
	if err := os.MkdirAll(p.Path("onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(path, p.Model(m)); err != nil {
		t.Fatal(err)
	}
}

// checkRefused: opening name is a 500 that says to reinstall it, with a
// cause that says cause.
func checkRefused(t *testing.T, rt *onnx.Runtime, p models.Paths, name, cause string) {
	t.Helper()
	_, err := OpenNamed(rt, p, name, Config{})
	fe := statusOf(t, err)
	want := `facedetection "` + name + `" is installed but its model file is not a usable`
	if fe.Status != http.StatusInternalServerError || !strings.HasPrefix(fe.Message, want) || !strings.Contains(fe.Message, `"faceswap models pull `+name+`"`) {
		t.Errorf("%s: %d %q", name, fe.Status, fe.Message)
	}
	if fe.Err == nil || !strings.Contains(fe.Err.Error(), cause) {
		t.Errorf("%s: cause %v does not say %q", name, fe.Err, cause)
	}
}

// TestOpenNamed: installed models of the right family (test models of the
// shared test data) open and detect; a detector of another family, or a
// face mesh, is refused.
func TestOpenNamed(t *testing.T) {
	rt := testenv.Runtime(t)
	p := models.Paths{Home: t.TempDir()}
	install(t, p, "retinaface_mobile0.25", testModelPath(t, "retinaface_mobilenet0.25_640.onnx"))
	install(t, p, "YOLOv5n", testModelPath(t, "yolov5n-0.5-face.onnx"))
	install(t, p, "YOLOv5l", testModelPath(t, "mediapipe_face_landmark.onnx"))    // FaceMesh
	install(t, p, "retinaface_resnet50", testModelPath(t, "scrfd_500m_kps.onnx")) // another family
	pyr := raster.NewPyramid(testenv.Load(t, testenv.Photo(t, testenv.Group3)))
	for _, name := range []string{"RETINAFACE_MOBILE0.25", "yolov5n"} {
		d, err := OpenNamed(rt, p, name, Config{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dets, err := d.Detect(pyr)
		if want := testenv.PhotoFaces[testenv.Group3]; err != nil || len(dets) != want {
			t.Errorf("%s on %s: %d faces, %v; want %d", name, testenv.Group3, len(dets), err, want)
		}
	}
	checkRefused(t, rt, p, "YOLOv5l", "is not a YOLOv5-face model")
	checkRefused(t, rt, p, "retinaface_resnet50", "is not a RetinaFace model")
	// a bad config is an error too, not a detector
	if _, err := OpenNamed(rt, p, "YOLOv5n", Config{IoU: 1.5}); err == nil {
		t.Error("OpenNamed accepted IoU 1.5")
	}
}

// TestOpenNamedRefusesOtherKinds: models of other kinds that every machine
// has (the face mesh, BlazeFace) installed under a detector's name, and a
// file that is not ONNX at all, are refused with a 500 that says to
// reinstall and a cause that names the mismatch.
func TestOpenNamedRefusesOtherKinds(t *testing.T) {
	rt := testenv.Runtime(t)
	cache := testenv.Models(t, "onnx/facemesh.onnx", "onnx/blazeface-back.onnx")
	p := models.Paths{Home: t.TempDir()}
	install(t, p, "YOLOv5l", cache.ONNX("facemesh"))
	install(t, p, "retinaface_resnet50", cache.ONNX("blazeface-back"))
	checkRefused(t, rt, p, "YOLOv5l", "is not a YOLOv5-face model")
	checkRefused(t, rt, p, "retinaface_resnet50", "is not a RetinaFace model")

	q := models.Paths{Home: t.TempDir()}
	os.MkdirAll(q.Path("onnx"), 0o755)
	if err := os.WriteFile(q.Path("onnx/yolov5l-face.onnx"), []byte("<html>not found</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	fe := statusOf(t, func() error { _, err := OpenNamed(rt, q, "YOLOv5l", Config{}); return err }())
	if fe.Status != http.StatusInternalServerError || fe.Err == nil || !strings.Contains(fe.Err.Error(), "not a valid ONNX model") {
		t.Errorf("garbage file: %d %q (%v)", fe.Status, fe.Message, fe.Err)
	}
}

// TestConstructorsReject: each family refuses the others' models and
// models of other kinds (test models of the shared test data), naming the
// file and what it expected.
func TestConstructorsReject(t *testing.T) {
	files := []string{
		"retinaface_mobilenet0.25_640.onnx",
		"yolov5n-0.5-face.onnx",
		"scrfd_500m_kps.onnx",
		"mediapipe_face_landmark.onnx",             // FaceMesh: NHWC, two outputs
		"mediapipe_face_detection_full_range.onnx", // BlazeFace
		"skin_clothes_hair_pan_mnv3s.onnx",         // [1,3,512,512] in, one map out
	}
	own := map[models.Family]string{
		models.FamilyRetinaFace: "retinaface_mobilenet0.25_640.onnx",
		models.FamilyYOLOv5Face: "yolov5n-0.5-face.onnx",
		models.FamilySCRFD:      "scrfd_500m_kps.onnx",
	}
	for _, f := range []models.Family{models.FamilyRetinaFace, models.FamilyYOLOv5Face, models.FamilySCRFD} {
		for _, file := range files {
			s := testModel(t, file)
			_, err := New(s, f, Config{})
			if file == own[f] {
				if err != nil {
					t.Errorf("%s on its own model: %v", f, err)
				}
				if _, err := New(s, f, Config{MinScore: -1}); err == nil || !strings.Contains(err.Error(), "min score -1") {
					t.Errorf("%s with MinScore -1: %v", f, err)
				}
				continue
			}
			checkRejects(t, f, file, err)
		}
	}
}

// TestConstructorsRejectOtherKinds: each family refuses the models of other
// kinds every machine has, naming the file and what it expected; an unknown
// family is refused whatever the model.
func TestConstructorsRejectOtherKinds(t *testing.T) {
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/facemesh.onnx", "onnx/blazeface-back.onnx", "onnx/faceres.onnx")
	for _, name := range []string{"facemesh", "blazeface-back", "faceres"} {
		s, err := rt.Load(p.ONNX(name))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []models.Family{models.FamilyRetinaFace, models.FamilyYOLOv5Face, models.FamilySCRFD} {
			_, err := New(s, f, Config{})
			checkRejects(t, f, name+".onnx", err)
		}
		if _, err := New(s, "MTCNN", Config{}); err == nil || !strings.Contains(err.Error(), `"MTCNN"`) {
			t.Errorf("New with an unknown family on %s: %v", name, err)
		}
	}
}

// checkRejects: err refuses file for family f, naming the file and what was
// wanted.
func checkRejects(t *testing.T, f models.Family, file string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s accepted %s", f, file)
		return
	}
	if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "want") {
		t.Errorf("%s on %s: error %q does not name the file and what was wanted", f, file, err)
	}
}
