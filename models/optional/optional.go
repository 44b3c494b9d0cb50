// Package optional manages the optional models: those the hosted API runs
// that the default set-up does not fetch (MODELS.md, "The optional set"):
// the insightface swapper with its ArcFace and detector, the GFPGAN and
// CodeFormer restorers, and the RetinaFace and YOLOv5-face detectors.
//
// The registry (models.All) names them, with their roles, families and
// files; a manifest in the repository (manifest.json, embedded) adds where
// each comes from (public download location, sha256 where one is
// published, size and licence) and the inputs and outputs each family's
// files have. Users install them on demand into the onnx/ folder of the
// cache folder (models.Paths), beside the default models: Manifest.Pull
// downloads one from its public home, resuming an interrupted download,
// and checks its sha256; Manifest.Import takes a file the user already
// has. Both accept a file only when its inputs, outputs and initializers,
// read with onnxfile (without ONNX Runtime), fit the model's family. Each
// install leaves a small record (onnx/FILE.install.json) with the file's
// size, time and sha256, so List can tell a file installed and checked
// from one put there by hand or changed since, without reading it;
// Verify re-reads the files.
//
// Code that needs an optional model asks Manifest.Path, whose error is a
// 404 naming the model and the command that installs it.
//
// The package is apart from models because it reads ONNX files with
// onnxfile, whose own tests use models through internal/testenv.
package optional

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"faceswap"
	"faceswap/internal/atomicfile"
	"faceswap/models"
)

// Errors the optional-model functions wrap; the errors themselves are
// *faceswap.Error values with a status and a sentence that names the model
// and says what to do.
var (
	// ErrUnknownModel: the name is not an optional model (status 400).
	ErrUnknownModel = errors.New("unknown optional model")
	// ErrNotInstalled: the model's file is missing (status 404).
	ErrNotInstalled = errors.New("optional model not installed")
	// ErrMismatch: a file's inputs, outputs or initializers do not fit the
	// model's role (status 400).
	ErrMismatch = errors.New("model file does not fit its role")
	// ErrDamaged: an installed file no longer matches what was installed,
	// or no longer fits its role (status 404: the model is as good as
	// missing).
	ErrDamaged = errors.New("optional model damaged")
	// ErrChecksum: a download's sha256 differs from the published one.
	ErrChecksum = errors.New("sha256 mismatch")
)

// Model is one optional model: its entry in the registry (name, role,
// family, file) and where its file comes from.
type Model struct {
	models.Model
	Source
}

// Source is what the manifest says of an optional model's file.
type Source struct {
	// URL is what pull downloads; empty when no public download of a file
	// that fits is known (then only import installs it).
	URL string `json:"url"`
	// Home is the model's public home page.
	Home string `json:"home"`
	// SHA256 is the published hex sha256 of the file at URL; empty when
	// none is known (pull then cannot verify the download's integrity).
	SHA256 string `json:"sha256"`
	// Size in bytes: exact when SizeExact, else approximate.
	Size      int64 `json:"size"`
	SizeExact bool  `json:"sizeExact"`
	// License is the model's licence in a few words; NonCommercial is set
	// when it forbids commercial use.
	License       string `json:"license"`
	NonCommercial bool   `json:"nonCommercial"`
	// Notice is printed on pull (besides the licence), e.g. for copyleft.
	Notice string `json:"notice,omitempty"`
	// Note says where the file comes from and anything odd about it.
	Note string `json:"note"`
}

// Tensor is an input or output a family expects.
type Tensor struct {
	// Name as MODELS.md and the common exports call it; files are matched
	// by shape, since exports name their tensors differently.
	Name string `json:"name"`
	// Shape is a pattern: comma-separated dims, each a number (must match)
	// or a letter (binds one value throughout the model); "scalar" is rank
	// 0; "|" separates alternatives. A dim the file leaves open matches.
	Shape string `json:"shape"`
}

// Family is the layout of one family's files.
type Family struct {
	Inputs  []Tensor `json:"inputs"`  // matched in any order
	Outputs []Tensor `json:"outputs"` // matched in order
	// LastInitializer, when set, is the shape the graph's last initializer
	// must have (inswapper's emap).
	LastInitializer string `json:"lastInitializer,omitempty"`
	// About says how the model is fed and read.
	About string `json:"about"`
}

// Manifest is the optional models, in the registry's order, and the
// layouts of their families.
type Manifest struct {
	Families map[models.Family]Family
	Models   []Model
}

// manifestFile is the format of manifest.json: the layouts by family, and
// the source of each model by name; names and families are the registry's.
type manifestFile struct {
	Families map[models.Family]Family `json:"families"`
	Models   []namedSource            `json:"models"`
}

type namedSource struct {
	Name string `json:"name"`
	Source
}

//go:embed manifest.json
var manifestJSON []byte

var (
	builtinOnce sync.Once
	builtin     *Manifest
	builtinErr  error
)

// Default returns a copy of the built-in manifest (manifest.json). It
// panics if the embedded file is bad, which its tests rule out.
func Default() *Manifest {
	builtinOnce.Do(func() { builtin, builtinErr = Parse(manifestJSON) })
	if builtinErr != nil {
		panic(builtinErr)
	}
	return builtin.Clone()
}

// Parse parses and checks a manifest in the format of manifest.json: it
// must give the source of every optional model of the registry and the
// layout of every family they belong to, and nothing else.
func Parse(data []byte) (*Manifest, error) {
	var f manifestFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("optional: manifest: %w", err)
	}
	return build(f)
}

// MarshalJSON writes the manifest in the format of manifest.json.
func (o *Manifest) MarshalJSON() ([]byte, error) {
	f := manifestFile{Families: o.Families, Models: make([]namedSource, len(o.Models))}
	for i, m := range o.Models {
		f.Models[i] = namedSource{m.Name, m.Source}
	}
	return json.Marshal(f)
}

// Clone returns a deep copy, for callers (tests) that change entries.
func (o *Manifest) Clone() *Manifest {
	c := &Manifest{Families: make(map[models.Family]Family, len(o.Families)), Models: slices.Clone(o.Models)}
	for k, f := range o.Families {
		f.Inputs, f.Outputs = slices.Clone(f.Inputs), slices.Clone(f.Outputs)
		c.Families[k] = f
	}
	return c
}

// build checks a parsed manifest against the registry and joins each
// source to its model.
func build(f manifestFile) (*Manifest, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("optional: manifest: "+format, args...)
	}
	sources := map[string]namedSource{}
	for i, s := range f.Models {
		m, ok := models.Lookup(s.Name)
		switch {
		case s.Name == "":
			return nil, bad("model %d has no name", i)
		case !ok || !m.Optional:
			return nil, bad("%q is not an optional model of the registry", s.Name)
		case s.Name != m.Name:
			return nil, bad("model %q is spelt %q in the registry", s.Name, m.Name)
		case sources[m.Name].Name != "":
			return nil, bad("model %s is listed twice", m.Name)
		case s.SHA256 != "" && !isHexSHA256(s.SHA256):
			return nil, bad("model %s: sha256 %q is not 64 hex digits", m.Name, s.SHA256)
		case s.SizeExact && s.Size <= 0:
			return nil, bad("model %s: exact size %d", m.Name, s.Size)
		case s.License == "":
			return nil, bad("model %s has no licence", m.Name)
		}
		sources[m.Name] = s
	}
	o := &Manifest{Families: f.Families}
	used := map[models.Family]bool{}
	for _, m := range models.All() {
		if !m.Optional {
			continue
		}
		s, ok := sources[m.Name]
		if !ok {
			return nil, bad("model %s has no source", m.Name)
		}
		if _, ok := f.Families[m.Family]; !ok {
			return nil, bad("family %s (of model %s) has no layout", m.Family, m.Name)
		}
		used[m.Family] = true
		o.Models = append(o.Models, Model{Model: m, Source: s.Source})
	}
	for name, fam := range f.Families {
		if !used[name] {
			return nil, bad("family %q is not the family of an optional model", name)
		}
		if len(fam.Inputs) == 0 || len(fam.Outputs) == 0 {
			return nil, bad("family %s lists no inputs or no outputs", name)
		}
		for _, t := range append(slices.Clone(fam.Inputs), fam.Outputs...) {
			if _, err := parsePattern(t.Shape); err != nil {
				return nil, bad("family %s, tensor %s: %v", name, t.Name, err)
			}
		}
		if fam.LastInitializer != "" {
			if _, err := parsePattern(fam.LastInitializer); err != nil {
				return nil, bad("family %s, last initializer: %v", name, err)
			}
		}
	}
	return o, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Names returns the model names in manifest order.
func (o *Manifest) Names() []string {
	names := make([]string, len(o.Models))
	for i, m := range o.Models {
		names[i] = m.Name
	}
	return names
}

// Lookup returns the optional model of that name (case-insensitive). The
// error, a 400 wrapping ErrUnknownModel, lists the optional models.
func (o *Manifest) Lookup(name string) (Model, error) {
	for _, m := range o.Models {
		if strings.EqualFold(m.Name, name) {
			return m, nil
		}
	}
	return Model{}, faceswap.Wrap(http.StatusBadRequest, ErrUnknownModel,
		"unknown model %q: the optional models are %s", name, strings.Join(o.Names(), ", "))
}

// Family returns the layout of m.
func (o *Manifest) Family(m Model) Family { return o.Families[m.Family] }

// File returns where m lives in the cache folder p (onnx/FILE).
func File(p models.Paths, m Model) string { return p.Model(m.Model) }

// partFile is where a download of m collects until it is checked.
func partFile(p models.Paths, m Model) string { return File(p, m) + ".part" }

// recordFile is m's install record.
func recordFile(p models.Paths, m Model) string { return File(p, m) + ".install.json" }

// InstallHint says how to install m: the pull command when a download is
// known, else where to get it and the import command.
func (m Model) InstallHint() string {
	if m.URL != "" {
		return fmt.Sprintf("run `faceswap models pull %s` (or `faceswap models import %s FILE` with a file you have)", m.Name, m.Name)
	}
	return fmt.Sprintf("no public download is known: get the file (see %s) and run `faceswap models import %s FILE`", m.Home, m.Name)
}

// Path returns the installed file of the model name. A missing or empty
// file is a 404 wrapping ErrNotInstalled that names the model and the
// command that installs it; an unknown name a 400 wrapping ErrUnknownModel.
func (o *Manifest) Path(p models.Paths, name string) (string, error) {
	m, err := o.Lookup(name)
	if err != nil {
		return "", err
	}
	f := File(p, m)
	fi, err := os.Stat(f)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return "", faceswap.Wrap(http.StatusNotFound, ErrNotInstalled,
			"model %s is not installed: %s", m.Name, m.InstallHint())
	}
	return f, nil
}

// record is what an install leaves beside the file.
type record struct {
	Name   string    `json:"name"`
	File   string    `json:"file"`
	Size   int64     `json:"size"`
	Mtime  time.Time `json:"mtime"`
	SHA256 string    `json:"sha256"`
	// Published is set when SHA256 equals the manifest's.
	Published bool      `json:"published"`
	Source    string    `json:"source"` // the URL pulled, or "import FILE"
	Installed time.Time `json:"installed"`
}

func readRecord(path string) (*record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

func writeRecord(p models.Paths, m Model, r *record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(recordFile(p, m), append(data, '\n'), 0o644)
}

// Status is the state of one optional model in a cache folder.
type Status struct {
	Model
	// Path is where the model's file lives (or would).
	Path string
	// Installed: the file exists. Size is its size in bytes.
	Installed bool
	Size      int64
	// Verified: the file was installed by pull, import or verify, fitted
	// its role then, and has the size and time it had then.
	Verified bool
	// Published: its sha256, when installed, equalled the published one.
	Published bool
	// Partial is the size of an interrupted download that pull resumes.
	Partial int64
	// Source is where the installed file came from (URL or import).
	Source string
	// Problem says why an installed model is not verified, or what verify
	// found wrong.
	Problem string
}

// State is "missing", "installed" (and verified), or "unverified".
func (s Status) State() string {
	switch {
	case !s.Installed:
		return "missing"
	case s.Verified:
		return "installed"
	}
	return "unverified"
}

// List returns the status of every optional model in p, in manifest order.
// It reads no model file: whether a file is verified comes from its install
// record (Verify re-reads the files).
func (o *Manifest) List(p models.Paths) []Status {
	out := make([]Status, 0, len(o.Models))
	for _, m := range o.Models {
		out = append(out, o.status(p, m))
	}
	return out
}

func (o *Manifest) status(p models.Paths, m Model) Status {
	s := Status{Model: m, Path: File(p, m)}
	if fi, err := os.Stat(partFile(p, m)); err == nil && fi.Mode().IsRegular() {
		s.Partial = fi.Size()
	}
	fi, err := os.Stat(s.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s
	case err != nil:
		s.Installed, s.Problem = true, err.Error()
		return s
	case !fi.Mode().IsRegular():
		s.Installed, s.Problem = true, "not a regular file"
		return s
	}
	s.Installed, s.Size = true, fi.Size()
	r, err := readRecord(recordFile(p, m))
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.Problem = "not installed by faceswap: run `faceswap models verify` to check it"
	case err != nil:
		s.Problem = "unreadable install record: " + err.Error()
	case r.Size != fi.Size() || !r.Mtime.Equal(fi.ModTime()):
		s.Problem = fmt.Sprintf("changed since it was installed (%d bytes at %s, now %d bytes at %s): run `faceswap models verify`",
			r.Size, r.Mtime.Format(time.RFC3339), fi.Size(), fi.ModTime().Format(time.RFC3339))
	default:
		s.Verified, s.Published, s.Source = true, r.Published, r.Source
	}
	return s
}

// Remove deletes the model's file, its install record and any partial
// download. It reports whether there was anything to remove.
func (o *Manifest) Remove(p models.Paths, name string) (removed bool, err error) {
	m, err := o.Lookup(name)
	if err != nil {
		return false, err
	}
	for _, f := range []string{File(p, m), recordFile(p, m), partFile(p, m)} {
		switch err := os.Remove(f); {
		case err == nil:
			removed = true
		case !errors.Is(err, os.ErrNotExist):
			return removed, fmt.Errorf("remove model %s: %w", m.Name, err)
		}
	}
	return removed, nil
}
