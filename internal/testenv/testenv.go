// Package testenv finds what tests need outside the repository: the shared
// test photos and detector models, the model cache folder that set-up
// fills, and an ONNX Runtime. Each lookup skips the test with a message that
// says what is missing and how to get it — except under CI (CI=true), where
// set-up has run and the shared folder is beside the clone, so a missing
// piece fails the test instead of silently skipping it.
package testenv

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"faceswap/imageio"
	"faceswap/models"
	"faceswap/onnx"
)

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TestdataDir returns the shared test data folder: $FACESWAP_TESTDATA, or
// ../shared/testdata beside the repository. When it is missing the test is
// skipped with one line saying so; under CI it fails instead, unless
// FACESWAP_NO_SHARED=1 says the folder is hidden on purpose (.ci/run's
// second pass, which proves that nothing else needs it).
//
// Call it (and every lookup here) from the test's own goroutine, before
// starting others: a skip from another goroutine ends only that goroutine.
func TestdataDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FACESWAP_TESTDATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "testdata")
	}
	if _, err := os.Stat(filepath.Join(dir, "images", "manifest.json")); err != nil {
		if os.Getenv("FACESWAP_NO_SHARED") == "1" {
			t.Skipf("needs the shared test data (%s is hidden: FACESWAP_NO_SHARED=1)", dir)
		}
		skip(t, "needs the shared test data, not found at %s (set FACESWAP_TESTDATA to the folder holding images/manifest.json)", dir)
	}
	return dir
}

// HardDir returns the shared folder of hard cases (testdata/hard), skipping
// t as TestdataDir does when it is missing.
func HardDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(TestdataDir(t), "hard")
}

// Image is one entry of images/manifest.json.
type Image struct {
	File    string         `json:"file"`
	Width   int            `json:"width"`
	Height  int            `json:"height"`
	Faces   int            `json:"faces"`
	Genders map[string]int `json:"genders"`
	YuNet   [][]float64    `json:"yunet_n_dynamic"`
	SCRFD   [][]float64    `json:"scrfd_500m_kps"`
	Path    string         `json:"-"`
}

// Manifest returns the shared test photos with their documented faces.
func Manifest(t testing.TB) []Image {
	t.Helper()
	dir := filepath.Join(TestdataDir(t), "images")
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var imgs []Image
	if err := json.Unmarshal(data, &imgs); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	for i := range imgs {
		imgs[i].Path = filepath.Join(dir, imgs[i].File)
	}
	return imgs
}

// Load decodes an image file with the product's decoder.
func Load(t testing.TB, path string) *image.NRGBA {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Models returns the cache folder set-up filled, skipping t unless every
// named file is there.
func Models(t testing.TB, files ...string) models.Paths {
	t.Helper()
	p := models.Default()
	if err := p.Require(append([]string{p.ORTLibrary()}, files...)...); err != nil {
		skip(t, "%v", err)
	}
	return p
}

var (
	rtOnce sync.Once
	rt     *onnx.Runtime
	rtErr  error
)

// Runtime returns the process's ONNX Runtime (one thread per run), skipping
// t when set-up has not placed the library.
func Runtime(t testing.TB) *onnx.Runtime {
	t.Helper()
	p := Models(t)
	rtOnce.Do(func() { rt, rtErr = onnx.Open(onnx.Config{LibraryPath: p.ORTLibrary()}) })
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	return rt
}

// skip skips t, or fails it under CI.
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
