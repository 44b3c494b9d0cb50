package jobs

import (
	"encoding/json"
	"errors"
	"fmt"

	"faceswap/pipeline"
)

// InputVersion is the version of Input this code writes. Jobs are stored
// by one server and run by another, possibly of another release (a rolling
// deploy), so the stored form is this package's own, with fixed JSON names
// and a version, and not a Go type of another package marshalled as it
// happens to be.
const InputVersion = 1

// Input is a job's request as stored: the request's fields with both
// images already fetched or decoded (so a bad URL is refused at submission,
// and workers need not reach the client's hosts), and the answer's form.
type Input struct {
	Version int     `json:"version"`
	Request Request `json:"request"`
	Base64  bool    `json:"base64"`
	// FetchMS is how long resolving the images took at submission, shown
	// with the pipeline's timings.
	FetchMS float64 `json:"fetch_ms"`
}

// Request is a swap request as stored, named as the API names its fields.
type Request struct {
	Source             []byte  `json:"source_img"`
	Target             []byte  `json:"target_img"`
	InputFacesIndex    string  `json:"input_faces_index"`
	SourceFacesIndex   string  `json:"source_faces_index"`
	DetectionFaceOrder string  `json:"detection_face_order"`
	DetectGenderInput  string  `json:"detect_gender_input"`
	DetectGenderSource string  `json:"detect_gender_source"`
	FaceRestore        string  `json:"face_restore"`
	FaceRestoreWeight  float64 `json:"face_restore_weight"`
	FaceDetection      string  `json:"facedetection"`
	Interpolation      string  `json:"interpolation"`
	ImageFormat        string  `json:"image_format"`
	ImageQuality       int     `json:"image_quality"`
	SwapModel          string  `json:"swap_model"`
}

// NewInput is the stored form of a pipeline request. (Request and
// pipeline.Request convert into each other while their fields agree; when
// they part, these two functions copy field by field, and the stored names
// stay.)
func NewInput(r pipeline.Request, base64 bool, fetchMS float64) Input {
	return Input{Version: InputVersion, Request: Request(r), Base64: base64, FetchMS: fetchMS}
}

// Pipeline is the request for the pipeline.
func (r Request) Pipeline() pipeline.Request { return pipeline.Request(r) }

// legacyInput is the form jobs were stored in before versions (version 0):
// pipeline.Request marshalled with its Go field names.
type legacyInput struct {
	Request struct {
		Source, Target     []byte
		InputFacesIndex    string
		SourceFacesIndex   string
		DetectionFaceOrder string
		DetectGenderInput  string
		DetectGenderSource string
		FaceRestore        string
		FaceRestoreWeight  float64
		FaceDetection      string
		Interpolation      string
		ImageFormat        string
		ImageQuality       int
		SwapModel          string
	} `json:"request"`
	Base64  bool    `json:"base64"`
	FetchMS float64 `json:"fetch_ms"`
}

// ErrNewerInput is DecodeInput's error for a job stored by a newer release.
var ErrNewerInput = errors.New("jobs: the stored input is newer than this server")

// DecodeInput reads a stored Input of any version this code knows; a later
// version is ErrNewerInput.
func DecodeInput(b []byte) (Input, error) {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return Input{}, err
	}
	switch v.Version {
	case 0:
		var l legacyInput
		if err := json.Unmarshal(b, &l); err != nil {
			return Input{}, err
		}
		in := NewInput(pipeline.Request(l.Request), l.Base64, l.FetchMS)
		in.Version = 0
		return in, nil
	case InputVersion:
		var in Input
		if err := json.Unmarshal(b, &in); err != nil {
			return Input{}, err
		}
		return in, nil
	default:
		return Input{}, fmt.Errorf("%w: version %d, this server reads up to %d", ErrNewerInput, v.Version, InputVersion)
	}
}
