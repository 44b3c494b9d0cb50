package models

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Environment variables that move things.
const (
	// EnvHome names the cache folder (default ~/.cache/faceswap).
	EnvHome = "FACESWAP_HOME"
	// EnvORTLib names an ONNX Runtime shared library to use instead of the
	// one the set-up places in lib/.
	EnvORTLib = "FACESWAP_ORT_LIB"
)

// FixHint is the command that (re)creates the cache folder's content.
const FixHint = `run "make setup" (or "faceswap setup")`

// ErrNotSetUp is wrapped by the errors Require and Verify return, so
// callers can tell "the models are not there" from other failures.
var ErrNotSetUp = errors.New("models not set up")

// Home returns the cache folder: $FACESWAP_HOME when set, else
// ~/.cache/faceswap. Without a home directory it falls back to the user
// cache directory, and last to the system temporary directory.
func Home() string {
	if h := os.Getenv(EnvHome); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".cache", "faceswap")
	}
	if c, err := os.UserCacheDir(); err == nil && c != "" {
		return filepath.Join(c, "faceswap")
	}
	return filepath.Join(os.TempDir(), "faceswap-cache")
}

// Paths gives the layout of a cache folder:
//
//	lib/libonnxruntime.so.1      ONNX Runtime (name depends on the platform)
//	tfjs/NAME.json, NAME.bin     TensorFlow.js graph models
//	onnx/NAME.onnx               ONNX models (imported, and ready-made ones)
//	samples/face-api/sampleN.jpg demo photos
//	licenses/                    the licence of every package unpacked
//	setup.json                   the stamp written by Setup
type Paths struct{ Home string }

// Default returns the Paths of Home().
func Default() Paths { return Paths{Home: Home()} }

// Path returns the path of rel, a slash-separated path inside the folder.
func (p Paths) Path(rel string) string { return filepath.Join(p.Home, filepath.FromSlash(rel)) }

// ORTLibrary returns the ONNX Runtime shared library: $FACESWAP_ORT_LIB
// when set, else the file the set-up places in lib/ for this platform
// (libonnxruntime.so.1 on Linux, libonnxruntime.1.dylib on macOS,
// onnxruntime.dll on Windows).
func (p Paths) ORTLibrary() string {
	if l := os.Getenv(EnvORTLib); l != "" {
		return l
	}
	name, _ := ortLibName(runtime.GOOS, runtime.GOARCH)
	return p.Path("lib/" + name)
}

// TFJS returns the graph file of the TensorFlow.js model name
// (tfjs/NAME.json; its weights sit beside it).
func (p Paths) TFJS(name string) string { return p.Path("tfjs/" + name + ".json") }

// TFJSDir returns the folder of the TensorFlow.js models.
func (p Paths) TFJSDir() string { return p.Path("tfjs") }

// ONNX returns the ONNX model name (onnx/NAME.onnx).
func (p Paths) ONNX(name string) string { return p.Path("onnx/" + name + ".onnx") }

// ONNXDir returns the folder of the ONNX models.
func (p Paths) ONNXDir() string { return p.Path("onnx") }

// Sample returns face-api's demo photo i (1 … SampleCount).
func (p Paths) Sample(i int) string { return p.Path(fmt.Sprintf("samples/face-api/sample%d.jpg", i)) }

// Database is the embedded store's SQLite file: $FACESWAP_DB, or
// faceswap.db in the cache folder.
func (p Paths) Database() string {
	if db := os.Getenv("FACESWAP_DB"); db != "" {
		return db
	}
	return p.Path("faceswap.db")
}

// Stamp returns the stamp file Setup writes when it has finished.
func (p Paths) Stamp() string { return p.Path("setup.json") }

// Require checks that every file exists, is not empty and, when the stamp
// lists it, has the size the set-up gave it. Relative names are taken
// inside the folder. The error names the first bad file and the command
// that fixes it, and wraps ErrNotSetUp.
func (p Paths) Require(files ...string) error {
	var sizes map[string]int64
	if st, err := readStamp(p.Stamp()); err == nil {
		sizes = st.sizes(p)
	}
	for _, f := range files {
		if !filepath.IsAbs(f) {
			f = p.Path(f)
		}
		fix := FixHint
		if f == p.ORTLibrary() {
			fix = FixHint + " or point " + EnvORTLib + " at an ONNX Runtime library"
		}
		fi, err := os.Stat(f)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%w: %s is missing: %s", ErrNotSetUp, f, fix)
		case err != nil:
			return fmt.Errorf("%w: %v: %s", ErrNotSetUp, err, fix)
		case fi.IsDir():
			return fmt.Errorf("%w: %s is a directory, not a file: %s", ErrNotSetUp, f, fix)
		case fi.Size() == 0:
			return fmt.Errorf("%w: %s is empty: %s", ErrNotSetUp, f, fix)
		}
		if want, ok := sizes[filepath.Clean(f)]; ok && want != fi.Size() {
			return fmt.Errorf("%w: %s has %d bytes, the set-up wrote %d (damaged?): %s", ErrNotSetUp, f, fi.Size(), want, fix)
		}
	}
	return nil
}

// Verify re-checks every file the stamp lists against the size the set-up
// recorded. It reads no file contents, so it is cheap. Without a stamp it
// reports that the set-up has not run.
func (p Paths) Verify() error {
	st, err := readStamp(p.Stamp())
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: no set-up in %s (%s missing): %s", ErrNotSetUp, p.Home, p.Stamp(), FixHint)
	}
	if err != nil {
		return fmt.Errorf("%w: %v: %s", ErrNotSetUp, err, FixHint)
	}
	var bad []string
	for _, f := range st.allFiles() {
		if msg := checkSize(p.Path(f.Path), f.Size); msg != "" {
			bad = append(bad, msg)
		}
	}
	switch len(bad) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s: %s", ErrNotSetUp, bad[0], FixHint)
	}
	return fmt.Errorf("%w: %d files damaged or missing, first %s: %s", ErrNotSetUp, len(bad), bad[0], FixHint)
}

// checkSize returns "" when path is a regular file of size bytes, else what
// is wrong with it.
func checkSize(path string, size int64) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return path + " is missing"
	case err != nil:
		return err.Error()
	case !fi.Mode().IsRegular():
		return path + " is not a regular file"
	case fi.Size() != size:
		return fmt.Sprintf("%s has %d bytes, the set-up wrote %d", path, fi.Size(), size)
	}
	return ""
}
