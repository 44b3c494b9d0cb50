package tfjs

import (
	"faceswap/internal/atomicfile"

	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Options tune ImportDirWith.
type Options struct {
	// FlexibleSize names models (by file name without .json) whose 4-D
	// inputs get symbolic height and width, so they can run at another
	// size than the one they were exported with (see Model.FlexibleSize).
	FlexibleSize []string
}

// ConvertFile loads the graph model at modelJSONPath and returns it
// converted to ONNX.
func ConvertFile(modelJSONPath string) ([]byte, error) {
	return convertFile(modelJSONPath, false)
}

func convertFile(modelJSONPath string, flexible bool) ([]byte, error) {
	m, err := Load(modelJSONPath)
	if err != nil {
		return nil, err
	}
	m.FlexibleSize = flexible
	data, err := m.ToONNX()
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, modelJSONPath)
	}
	return data, nil
}

// ImportDir converts every TF.js graph model (*.json) in srcDir to
// dstDir/NAME.onnx, NAME being the JSON file's name without ".json". JSON
// files that are not graph models are skipped. Each file is written to a
// temporary file in dstDir and renamed into place, so a reader never sees
// a partial model. One line per model goes to log (which may be nil). It
// returns the paths written; on errors it goes on with the other models
// and returns every error joined.
func ImportDir(srcDir, dstDir string, log io.Writer) ([]string, error) {
	return ImportDirWith(srcDir, dstDir, log, Options{})
}

// ImportDirWith is ImportDir with options.
func ImportDirWith(srcDir, dstDir string, log io.Writer, opt Options) ([]string, error) {
	if log == nil {
		log = io.Discard
	}
	matches, err := filepath.Glob(filepath.Join(srcDir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	sort.Strings(matches)
	if len(matches) == 0 {
		if _, err := os.Stat(srcDir); err != nil {
			return nil, fmt.Errorf("tfjs: %w", err)
		}
		return nil, fmt.Errorf("tfjs: %s holds no TensorFlow.js model (*.json)", srcDir)
	}
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	var written []string
	var errs []error
	for _, src := range matches {
		name := strings.TrimSuffix(filepath.Base(src), ".json")
		start := time.Now()
		data, err := convertFile(src, slices.Contains(opt.FlexibleSize, name))
		if errors.Is(err, ErrNotGraphModel) {
			fmt.Fprintf(log, "tfjs: %s: skipped, not a graph model\n", name)
			continue
		}
		if err != nil {
			fmt.Fprintf(log, "tfjs: %s: FAILED: %v\n", name, err)
			errs = append(errs, err)
			continue
		}
		dst := filepath.Join(dstDir, name+".onnx")
		if err := atomicfile.Write(dst, data, 0o644); err != nil {
			err = fmt.Errorf("tfjs: write %s: %w", dst, err)
			fmt.Fprintf(log, "tfjs: %s: FAILED: %v\n", name, err)
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(log, "tfjs: %s -> %s (%.1f MB, %s)\n", name, dst, float64(len(data))/1e6, time.Since(start).Round(time.Millisecond))
		written = append(written, dst)
	}
	return written, errors.Join(errs...)
}
