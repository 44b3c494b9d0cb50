package models

import (
	"faceswap/internal/atomicfile"

	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const stampFormat = 1

// stamp is the JSON record Setup leaves in the folder: which package
// versions were unpacked, which files came out of each and their sizes, and
// what the importer made.
type stamp struct {
	Format   int            `json:"format"`
	Packages []stampPackage `json:"packages"`
	Import   *stampImport   `json:"import,omitempty"` // nil: the importer has not run on these files
}

type stampPackage struct {
	Package string      `json:"package"` // NAME@VERSION
	SHA256  string      `json:"sha256"`  // of the tarball
	Files   []stampFile `json:"files"`
}

type stampImport struct {
	Version string      `json:"version"`
	Files   []stampFile `json:"files"`
}

type stampFile struct {
	Path string `json:"path"` // slash-separated, relative to the folder
	Size int64  `json:"size"`
}

func readStamp(name string) (*stamp, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var st stamp
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if st.Format != stampFormat {
		return nil, fmt.Errorf("%s: stamp format %d, want %d", name, st.Format, stampFormat)
	}
	return &st, nil
}

// writeStamp replaces the stamp atomically (temp file + rename).
func writeStamp(name string, st *stamp) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(name, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("faceswap setup: writing the stamp: %w", err)
	}
	return nil
}

// find returns the entry recording pkg (same name, version, tarball sha256
// and list of destinations), or nil.
func (st *stamp) find(pkg Package) *stampPackage {
	for i := range st.Packages {
		e := &st.Packages[i]
		if e.Package != pkg.Spec() || e.SHA256 != pkg.SHA256 || len(e.Files) != len(pkg.Files) {
			continue
		}
		for j, f := range pkg.Files {
			if e.Files[j].Path != f.To {
				return nil
			}
		}
		return e
	}
	return nil
}

// put records e, dropping any entry of the same package name, and keeps
// the entries in the order of pkgs.
func (st *stamp) put(e stampPackage, pkgs []Package) {
	name := e.Package[:strings.LastIndex(e.Package, "@")]
	kept := st.Packages[:0]
	for _, old := range st.Packages {
		if i := strings.LastIndex(old.Package, "@"); i < 0 || old.Package[:i] != name {
			kept = append(kept, old)
		}
	}
	kept = append(kept, e)
	order := map[string]int{}
	for i, p := range pkgs {
		order[p.Spec()] = i
	}
	// Insertion sort: a handful of entries.
	for i := 1; i < len(kept); i++ {
		for j := i; j > 0 && order[kept[j].Package] < order[kept[j-1].Package]; j-- {
			kept[j], kept[j-1] = kept[j-1], kept[j]
		}
	}
	st.Packages = kept
}

// intact reports whether every file of e is there with its recorded size.
func (e *stampPackage) intact(p Paths) bool { return filesIntact(p, e.Files) }

func filesIntact(p Paths, files []stampFile) bool {
	for _, f := range files {
		if checkSize(p.Path(f.Path), f.Size) != "" {
			return false
		}
	}
	return true
}

// allFiles lists every file the stamp records.
func (st *stamp) allFiles() []stampFile {
	var all []stampFile
	for _, e := range st.Packages {
		all = append(all, e.Files...)
	}
	if st.Import != nil {
		all = append(all, st.Import.Files...)
	}
	return all
}

// sizes maps the absolute path of every recorded file to its size.
func (st *stamp) sizes(p Paths) map[string]int64 {
	m := map[string]int64{}
	for _, f := range st.allFiles() {
		m[filepath.Clean(p.Path(f.Path))] = f.Size
	}
	return m
}

// summary says how many packages and models the stamp records; models are
// the TensorFlow.js graphs and the ONNX files.
func (st *stamp) summary() string {
	models := 0
	for _, f := range st.allFiles() {
		if (strings.HasPrefix(f.Path, "tfjs/") && strings.HasSuffix(f.Path, ".json")) ||
			(strings.HasPrefix(f.Path, "onnx/") && strings.HasSuffix(f.Path, ".onnx")) {
			models++
		}
	}
	return fmt.Sprintf("%d packages, %d models", len(st.Packages), models)
}
