// Package optional manages the optional models: those the hosted API runs
// that the default set-up does not fetch (MODELS.md, "The optional set"):
// the insightface swapper with its ArcFace and detector, the GFPGAN and
// CodeFormer restorers, and the RetinaFace and YOLOv5-face detectors.
//
// A manifest in the repository (manifest.json, embedded) lists each with
// its role, file name, public download location, sha256 where one is
// published, size and licence, and the inputs and outputs its role
// expects. Users install them on demand into the onnx/ folder of the cache
// folder (models.Paths), beside the default models: Manifest.Pull
// downloads one from its public home, resuming an interrupted download,
// and checks its sha256; Manifest.Import takes a file the user already
// has. Both accept a file only when its inputs, outputs and initializers,
// read with onnxfile (without ONNX Runtime), fit the model's role. Each
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
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"faceswap"
	"faceswap/internal/atomicfile"
	"faceswap/models"
)

// Roles of the optional models.
const (
	RoleSwapper  = "swapper"  // the neural swapper (inswapper_128)
	RoleArcFace  = "arcface"  // the identity embedding the swapper takes
	RoleDetector = "detector" // face detectors (facedetection, det_10g)
	RoleRestorer = "restorer" // face restoration (face_restore)
)

// Errors the optional-model functions wrap; the errors themselves are
// *faceswap.Error values with a status and a sentence that names the model
// and says what to do.
var (
	// ErrUnknownModel: the name is not in the manifest (status 400).
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

// Model is one optional model of the manifest.
type Model struct {
	// Name as the API and the CLI name it, e.g. "GFPGANv1.4".
	Name string `json:"name"`
	// Family names the input/output layout (Manifest.Families), e.g.
	// "gfpgan"; the family gives the role.
	Family string `json:"family"`
	// File is the file name in the onnx/ folder, e.g. "GFPGANv1.4.onnx".
	File string `json:"file"`
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
	// Role is the family's role, filled in when the manifest is loaded.
	Role string `json:"-"`
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

// Family is the layout of one kind of model.
type Family struct {
	Role    string   `json:"role"`
	Inputs  []Tensor `json:"inputs"`  // matched in any order
	Outputs []Tensor `json:"outputs"` // matched in order
	// LastInitializer, when set, is the shape the graph's last initializer
	// must have (inswapper's emap).
	LastInitializer string `json:"lastInitializer,omitempty"`
	// About says how the model is fed and read.
	About string `json:"about"`
}

// Manifest lists optional models and the layouts of their families.
type Manifest struct {
	Families map[string]Family `json:"families"`
	Models   []Model           `json:"models"`
}

//go:embed manifest.json
var manifestJSON []byte

var (
	builtinOnce sync.Once
	builtin     *Manifest
	builtinErr  error
)

// Default returns a copy of the built-in manifest (manifest.json), in its
// order. It panics if the embedded file is bad, which its tests rule out.
func Default() *Manifest {
	builtinOnce.Do(func() { builtin, builtinErr = Parse(manifestJSON) })
	if builtinErr != nil {
		panic(builtinErr)
	}
	return builtin.Clone()
}

// Parse parses and checks a manifest in the format of manifest.json.
func Parse(data []byte) (*Manifest, error) {
	var o Manifest
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("optional: manifest: %w", err)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return &o, nil
}

// Clone returns a deep copy, for callers (tests) that change entries.
func (o *Manifest) Clone() *Manifest {
	c := &Manifest{Families: make(map[string]Family, len(o.Families)), Models: slices.Clone(o.Models)}
	for k, f := range o.Families {
		f.Inputs, f.Outputs = slices.Clone(f.Inputs), slices.Clone(f.Outputs)
		c.Families[k] = f
	}
	return c
}

// check validates the manifest and fills in each model's Role.
func (o *Manifest) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("optional: manifest: "+format, args...)
	}
	for name, f := range o.Families {
		switch f.Role {
		case RoleSwapper, RoleArcFace, RoleDetector, RoleRestorer:
		default:
			return bad("family %s has the unknown role %q", name, f.Role)
		}
		if len(f.Inputs) == 0 || len(f.Outputs) == 0 {
			return bad("family %s lists no inputs or no outputs", name)
		}
		for _, t := range append(slices.Clone(f.Inputs), f.Outputs...) {
			if _, err := parsePattern(t.Shape); err != nil {
				return bad("family %s, tensor %s: %v", name, t.Name, err)
			}
		}
		if f.LastInitializer != "" {
			if _, err := parsePattern(f.LastInitializer); err != nil {
				return bad("family %s, last initializer: %v", name, err)
			}
		}
	}
	seen := map[string]bool{}
	for i := range o.Models {
		m := &o.Models[i]
		f, ok := o.Families[m.Family]
		switch {
		case m.Name == "":
			return bad("model %d has no name", i)
		case seen[strings.ToLower(m.Name)]:
			return bad("model %s is listed twice", m.Name)
		case !ok:
			return bad("model %s has the unknown family %q", m.Name, m.Family)
		case m.File == "" || m.File != filepath.Base(m.File) || !strings.HasSuffix(m.File, ".onnx"):
			return bad("model %s: file %q must be a plain NAME.onnx", m.Name, m.File)
		case m.SHA256 != "" && !isHexSHA256(m.SHA256):
			return bad("model %s: sha256 %q is not 64 hex digits", m.Name, m.SHA256)
		case m.SizeExact && m.Size <= 0:
			return bad("model %s: exact size %d", m.Name, m.Size)
		case m.License == "":
			return bad("model %s has no licence", m.Name)
		}
		seen[strings.ToLower(m.Name)] = true
		m.Role = f.Role
	}
	return nil
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

// Lookup returns the model of that name (case-insensitive). The error, a
// 400 wrapping ErrUnknownModel, lists the known names.
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
func File(p models.Paths, m Model) string { return p.Path("onnx/" + m.File) }

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
