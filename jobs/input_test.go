package jobs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"faceswap/pipeline"
)

// want is the request of testdata/input-v0.json, every field set.
var want = pipeline.Request{
	Source: []byte("source image bytes"), Target: []byte("target image bytes"),
	InputFacesIndex: "0,2", SourceFacesIndex: "1", DetectionFaceOrder: "left-right",
	DetectGenderInput: "female", DetectGenderSource: "no", FaceRestore: "GFPGANv1.4.pth",
	FaceRestoreWeight: 0.5, FaceDetection: "YOLOv5n", Interpolation: "Lanczos", ImageFormat: "png",
	ImageQuality: 80, SwapModel: "mesh",
}

// TestDecodeInputBeforeVersions: a job queued by a server of the release
// before stored inputs had versions (testdata/input-v0.json, written by that
// code: pipeline.Request with its Go field names) still runs after a
// rolling deploy.
func TestDecodeInputBeforeVersions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "input-v0.json"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := DecodeInput(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Request.Pipeline(); !reflect.DeepEqual(got, want) {
		t.Errorf("request\n%+v\nwant\n%+v", got, want)
	}
	if in.Version != 0 || !in.Base64 || in.FetchMS != 12.5 {
		t.Errorf("version %d, base64 %v, fetch %v", in.Version, in.Base64, in.FetchMS)
	}
}

// TestInputRoundTrip: what this code stores it reads back, under the API's
// field names and the current version.
func TestInputRoundTrip(t *testing.T) {
	b, err := json.Marshal(NewInput(want, false, 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`"version":1`, `"source_img"`, `"input_faces_index":"0,2"`, `"face_restore_weight":0.5`, `"swap_model":"mesh"`} {
		if !strings.Contains(string(b), name) {
			t.Errorf("stored input lacks %s: %s", name, b)
		}
	}
	in, err := DecodeInput(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Request.Pipeline(); !reflect.DeepEqual(got, want) || in.Version != InputVersion || in.Base64 || in.FetchMS != 3 {
		t.Errorf("read back %+v", in)
	}
}

// TestDecodeInputRefuses a newer version and what is not JSON.
func TestDecodeInputRefuses(t *testing.T) {
	if _, err := DecodeInput([]byte(`{"version":2,"request":{}}`)); !errors.Is(err, ErrNewerInput) {
		t.Errorf("version 2: %v, want ErrNewerInput", err)
	}
	for _, b := range []string{`not json`, `{"version":"1"}`} {
		if _, err := DecodeInput([]byte(b)); err == nil || errors.Is(err, ErrNewerInput) {
			t.Errorf("%s: %v", b, err)
		}
	}
}
