package models_test

import (
	"fmt"
	"path/filepath"

	"faceswap/models"
)

// Paths gives where the set-up puts everything; Require says what is
// missing and how to get it.
func ExamplePaths() {
	p := models.Paths{Home: filepath.FromSlash("/srv/faceswap")}
	fmt.Println(filepath.ToSlash(p.TFJS("facemesh")))
	fmt.Println(filepath.ToSlash(p.ONNX("face_detection_front_128x128_barracuda")))
	fmt.Println(filepath.ToSlash(p.Sample(3)))
	fmt.Println(filepath.ToSlash(p.Stamp()))
	fmt.Println(p.Require("tfjs/facemesh.json") != nil)
	// Output:
	// /srv/faceswap/tfjs/facemesh.json
	// /srv/faceswap/onnx/face_detection_front_128x128_barracuda.onnx
	// /srv/faceswap/samples/face-api/sample3.jpg
	// /srv/faceswap/setup.json
	// true
}
