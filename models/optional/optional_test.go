package optional_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"faceswap/internal/testenv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"faceswap"
	"faceswap/models"
	"faceswap/models/optional"
	"faceswap/onnxfile"
)

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// standIn returns a manifest whose entry name publishes the sha256 and
// exact size of a generated stand-in, and the stand-in's bytes.
func standIn(t *testing.T, name string) (*optional.Manifest, []byte) {
	t.Helper()
	o := optional.Default()
	data, err := o.StandIn(name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range o.Models {
		if o.Models[i].Name == name {
			o.Models[i].SHA256 = hexSHA(data)
			o.Models[i].Size, o.Models[i].SizeExact = int64(len(data)), true
		}
	}
	return o, data
}

func home(t *testing.T) models.Paths { return models.Paths{Home: t.TempDir()} }

func statusOf(t *testing.T, o *optional.Manifest, p models.Paths, name string) optional.Status {
	t.Helper()
	for _, s := range o.List(p) {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("List has no %s", name)
	return optional.Status{}
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v), want it absent", path, err)
	}
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s has %d bytes (sha256 %s), want %d (%s)", path, len(got), hexSHA(got), len(want), hexSHA(want))
	}
}

// The manifest lists every optional model of MODELS.md with the file name,
// role and licence the product uses.
func TestManifest(t *testing.T) {
	o := optional.Default()
	want := []struct {
		name, file    string
		role          models.Role
		nonCommercial bool
	}{
		{"inswapper_128", "inswapper_128.onnx", models.RoleSwapper, true},
		{"w600k_r50", "w600k_r50.onnx", models.RoleArcFace, true},
		{"det_10g", "det_10g.onnx", models.RoleDetector, true},
		{"GFPGANv1.4", "GFPGANv1.4.onnx", models.RoleRestorer, false},
		{"GFPGANv1.3", "GFPGANv1.3.onnx", models.RoleRestorer, false},
		{"codeformer-v0.1.0", "codeformer-v0.1.0.onnx", models.RoleRestorer, true},
		{"retinaface_resnet50", "retinaface_resnet50.onnx", models.RoleDetector, false},
		{"retinaface_mobile0.25", "retinaface_mobile0.25.onnx", models.RoleDetector, false},
		{"YOLOv5l", "yolov5l-face.onnx", models.RoleDetector, false},
		{"YOLOv5n", "yolov5n-face.onnx", models.RoleDetector, false},
	}
	if len(o.Models) != len(want) {
		t.Errorf("manifest has %d models, want %d: %v", len(o.Models), len(want), o.Names())
	}
	for _, w := range want {
		m, err := o.Lookup(w.name)
		if err != nil {
			t.Errorf("%s: %v", w.name, err)
			continue
		}
		if m.Name != w.name || m.File != w.file || m.Role != w.role || m.NonCommercial != w.nonCommercial {
			t.Errorf("%s: got name %s file %s role %s non-commercial %v, want %+v", w.name, m.Name, m.File, m.Role, m.NonCommercial, w)
		}
		if m.License == "" || m.Home == "" || m.Note == "" || m.Size <= 0 {
			t.Errorf("%s: licence %q, home %q, note %q, size %d: all must be given", m.Name, m.License, m.Home, m.Note, m.Size)
		}
		if m.URL != "" && !strings.HasPrefix(m.URL, "https://") {
			t.Errorf("%s: url %q is not https", m.Name, m.URL)
		}
		if m.URL == "" && !strings.Contains(m.InstallHint(), "models import "+m.Name) {
			t.Errorf("%s: without a url the hint %q must name import", m.Name, m.InstallHint())
		}
		if m.SizeExact && m.SHA256 == "" {
			t.Errorf("%s: an exact size without a sha256", m.Name)
		}
	}
	// Lookup ignores case, as users type names.
	if m, err := o.Lookup("gfpganv1.4"); err != nil || m.Name != "GFPGANv1.4" {
		t.Errorf("Lookup(gfpganv1.4) = %s, %v", m.Name, err)
	}
	// Manifest returns copies.
	o.Models[0].URL = "http://changed"
	if optional.Default().Models[0].URL == "http://changed" {
		t.Error("Manifest shares its entries")
	}
}

// TestParseManifestRejects: a manifest gives the source of every optional
// model of the registry and the layout of every family they belong to,
// valid, and nothing else.
func TestParseManifestRejects(t *testing.T) {
	good := optional.Default()
	edit := func(change func(o *optional.Manifest)) string {
		o := good.Clone()
		change(o)
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if _, err := optional.Parse([]byte(edit(func(*optional.Manifest) {}))); err != nil {
		t.Fatalf("the built-in manifest does not read back: %v", err)
	}
	swap := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("%q is not in the manifest", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	whole := edit(func(*optional.Manifest) {})
	for name, doc := range map[string]string{
		"bad json":        `{`,
		"unknown model":   swap(whole, `"name":"det_10g"`, `"name":"mtcnn"`),
		"a set-up model":  swap(whole, `"name":"det_10g"`, `"name":"facemesh"`),
		"other spelling":  swap(whole, `"name":"det_10g"`, `"name":"DET_10G"`),
		"duplicate names": swap(whole, `"name":"det_10g"`, `"name":"w600k_r50"`),
		"model missing":   edit(func(o *optional.Manifest) { o.Models = o.Models[1:] }),
		"family missing":  edit(func(o *optional.Manifest) { delete(o.Families, models.FamilySCRFD) }),
		"unknown family":  edit(func(o *optional.Manifest) { o.Families["MTCNN"] = o.Families[models.FamilySCRFD] }),
		"set-up family":   edit(func(o *optional.Manifest) { o.Families[models.FamilyFaceMesh] = o.Families[models.FamilySCRFD] }),
		"no inputs": edit(func(o *optional.Manifest) {
			f := o.Families[models.FamilySCRFD]
			f.Inputs = nil
			o.Families[models.FamilySCRFD] = f
		}),
		"bad shape":       edit(func(o *optional.Manifest) { o.Families[models.FamilySCRFD].Inputs[0].Shape = "1,x" }),
		"bad sha256":      edit(func(o *optional.Manifest) { o.Models[0].SHA256 = "abc" }),
		"no licence":      edit(func(o *optional.Manifest) { o.Models[0].License = "" }),
		"exact size of 0": edit(func(o *optional.Manifest) { o.Models[0].Size = 0 }),
		"unnamed model":   swap(whole, `"name":"det_10g"`, `"name":""`),
	} {
		if _, err := optional.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestListFresh(t *testing.T) {
	o, p := optional.Default(), home(t)
	list := o.List(p)
	if len(list) != len(o.Models) {
		t.Fatalf("List has %d entries, want %d", len(list), len(o.Models))
	}
	for _, s := range list {
		if s.Installed || s.Verified || s.State() != "missing" || s.License == "" {
			t.Errorf("%s: state %s, installed %v, licence %q on a fresh folder", s.Name, s.State(), s.Installed, s.License)
		}
		if s.Path != filepath.Join(p.Home, "onnx", s.File) {
			t.Errorf("%s: path %s", s.Name, s.Path)
		}
	}
}

func TestLookupAndPathErrors(t *testing.T) {
	o, p := optional.Default(), home(t)
	_, err := o.Lookup("GFPGANv9")
	if !errors.Is(err, optional.ErrUnknownModel) || faceswap.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("unknown name: %v (status %d)", err, faceswap.StatusOf(err))
	}
	for _, n := range o.Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("the unknown-model error does not list %s: %v", n, err)
		}
	}
	_, err = o.Path(p, "GFPGANv1.4")
	if !errors.Is(err, optional.ErrNotInstalled) || faceswap.StatusOf(err) != http.StatusNotFound ||
		!strings.Contains(err.Error(), "faceswap models pull GFPGANv1.4") {
		t.Errorf("missing model: %v (status %d)", err, faceswap.StatusOf(err))
	}
	_, err = o.Path(p, "YOLOv5l")
	if !errors.Is(err, optional.ErrNotInstalled) || !strings.Contains(err.Error(), "faceswap models import YOLOv5l FILE") {
		t.Errorf("missing model without a download: %v", err)
	}
}

// server serves data at /model, with ranges (http.ServeContent); handler,
// when set, answers instead. It records the Range header of each request.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	ranges  []string
	handler func(w http.ResponseWriter, r *http.Request, n int) bool // n: request number; true when it answered
}

func newServer(t *testing.T, data []byte) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		n := len(s.ranges)
		s.mu.Unlock()
		if s.handler != nil && s.handler(w, r, n) {
			return
		}
		http.ServeContent(w, r, "model.onnx", time.Unix(0, 0), bytes.NewReader(data))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) Ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

func (s *server) opts(log, progress *bytes.Buffer) optional.PullOptions {
	o := optional.PullOptions{Client: s.Client(), URL: s.URL + "/model"}
	if log != nil {
		o.Log = log
	}
	if progress != nil {
		o.Progress = progress
	}
	return o
}

// dropAfter answers with the full length but sends only n bytes, then cuts
// the connection.
func dropAfter(w http.ResponseWriter, data []byte, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data[:n])
	w.(http.Flusher).Flush()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	buf.Flush()
	conn.Close()
}

func TestPull(t *testing.T) {
	const name = "inswapper_128" // non-commercial: pull must say so
	o, data := standIn(t, name)
	p := home(t)
	srv := newServer(t, data)
	var log, progress bytes.Buffer
	st, err := o.Pull(context.Background(), p, name, srv.opts(&log, &progress))
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, optional.File(p, st.Model), data)
	mustNotExist(t, optional.File(p, st.Model)+".part")
	if !st.Installed || !st.Verified || !st.Published || st.State() != "installed" || st.Size != int64(len(data)) {
		t.Errorf("status after pull: %+v", st)
	}
	if ls := statusOf(t, o, p, name); !ls.Verified || !ls.Published || ls.Source != srv.URL+"/model" {
		t.Errorf("List after pull: state %s, published %v, source %q, problem %q", ls.State(), ls.Published, ls.Source, ls.Problem)
	}
	for _, s := range []string{"licence: InsightFace", "NOTICE: inswapper_128 may be used for non-commercial purposes only", "installed", "sha256 matches"} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, log.String())
		}
	}
	if pr := progress.String(); !strings.Contains(pr, "downloading inswapper_128:") || !strings.HasSuffix(pr, " 100%\n") {
		t.Errorf("progress on a non-terminal: %q", pr)
	}
	if r := srv.Ranges(); len(r) != 1 || r[0] != "" {
		t.Errorf("requests' Range headers %q, want one request without", r)
	}
	// Pulling again from a given URL replaces the file the same way.
	if _, err := o.Pull(context.Background(), p, name, srv.opts(nil, nil)); err != nil {
		t.Fatal(err)
	}
	sameFile(t, optional.File(p, st.Model), data)
	// From the manifest's own URL, a verified published file is kept.
	for i := range o.Models {
		if o.Models[i].Name == name {
			o.Models[i].URL = srv.URL + "/model"
		}
	}
	log.Reset()
	if _, err := o.Pull(context.Background(), p, name, optional.PullOptions{Client: srv.Client(), Log: &log}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Ranges()); n != 2 || !strings.Contains(log.String(), "already installed and verified") {
		t.Errorf("a pull of an installed model made %d requests in all (want 2), log %q", n, log.String())
	}
}

func TestPullResumesAfterADroppedConnection(t *testing.T) {
	const name = "GFPGANv1.4"
	o, data := standIn(t, name)
	// A restorer stand-in is tiny; pad it with a doc string so there is
	// something to cut in half.
	m := mustRead(t, data)
	m.Doc = strings.Repeat("stand-in ", 20000)
	data = m.Marshal()
	setPublished(o, name, data)
	p := home(t)
	srv := newServer(t, data)
	half := len(data) / 2
	srv.handler = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			dropAfter(w, data, half)
			return true
		}
		return false
	}
	mod, _ := o.Lookup(name)
	part := optional.File(p, mod) + ".part"
	var log, progress bytes.Buffer
	_, err := o.Pull(context.Background(), p, name, srv.opts(&log, &progress))
	if err == nil || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("first pull: %v, want an interrupted download", err)
	}
	mustNotExist(t, optional.File(p, mod))
	fi, err := os.Stat(part)
	if err != nil {
		t.Fatalf("the partial download was not kept: %v", err)
	}
	if fi.Size() != int64(half) || !bytes.Equal(mustReadFile(t, part), data[:half]) {
		t.Fatalf(".part has %d bytes, want the first %d", fi.Size(), half)
	}
	if st := statusOf(t, o, p, name); st.Installed || st.Partial != int64(half) {
		t.Errorf("List during an interrupted download: installed %v, partial %d", st.Installed, st.Partial)
	}
	if !strings.Contains(progress.String(), "interrupted") {
		t.Errorf("progress does not say interrupted: %q", progress.String())
	}
	progress.Reset()
	st, err := o.Pull(context.Background(), p, name, srv.opts(&log, &progress))
	if err != nil {
		t.Fatalf("second pull: %v", err)
	}
	if r := srv.Ranges(); len(r) != 2 || r[1] != fmt.Sprintf("bytes=%d-", half) {
		t.Errorf("Range headers %q, want the second request to ask for bytes=%d-", r, half)
	}
	if !strings.Contains(progress.String(), fmt.Sprintf("resuming at %d bytes", half)) {
		t.Errorf("progress does not say it resumes: %q", progress.String())
	}
	sameFile(t, optional.File(p, mod), data)
	mustNotExist(t, part)
	if !st.Verified || !st.Published {
		t.Errorf("status after the resumed pull: %+v", st)
	}
}

func mustRead(t *testing.T, data []byte) *onnxfile.Model {
	t.Helper()
	m, err := onnxfile.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setPublished(o *optional.Manifest, name string, data []byte) {
	for i := range o.Models {
		if o.Models[i].Name == name {
			o.Models[i].SHA256, o.Models[i].Size, o.Models[i].SizeExact = hexSHA(data), int64(len(data)), true
		}
	}
}

func TestPullTruncatedDownload(t *testing.T) {
	const name = "det_10g"
	o, data := standIn(t, name)
	p := home(t)
	srv := newServer(t, data)
	srv.handler = func(w http.ResponseWriter, r *http.Request, n int) bool {
		// Content-Length says more than is sent; the handler just returns.
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data[:len(data)-100])
		return true
	}
	_, err := o.Pull(context.Background(), p, name, srv.opts(nil, nil))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("stopped after %d of %d bytes", len(data)-100, len(data))) {
		t.Fatalf("truncated download: %v", err)
	}
	m, _ := o.Lookup(name)
	mustNotExist(t, optional.File(p, m))
	if st := statusOf(t, o, p, name); st.Installed {
		t.Errorf("a truncated download shows as installed: %+v", st)
	}
}

func TestPullWrongChecksum(t *testing.T) {
	const name = "w600k_r50"
	o, data := standIn(t, name)
	for i := range o.Models {
		if o.Models[i].Name == name {
			o.Models[i].SHA256 = strings.Repeat("ab", 32)
		}
	}
	p := home(t)
	srv := newServer(t, data)
	_, err := o.Pull(context.Background(), p, name, srv.opts(nil, nil))
	if !errors.Is(err, optional.ErrChecksum) || !strings.Contains(err.Error(), hexSHA(data)) || !strings.Contains(err.Error(), name) {
		t.Fatalf("wrong checksum: %v", err)
	}
	m, _ := o.Lookup(name)
	mustNotExist(t, optional.File(p, m))
	mustNotExist(t, optional.File(p, m)+".part")
}

func TestPullRestartsWhenTheServerIgnoresRanges(t *testing.T) {
	const name = "retinaface_mobile0.25"
	o, data := standIn(t, name)
	p := home(t)
	m, _ := o.Lookup(name)
	if err := os.MkdirAll(p.ONNXDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	// A stale partial download that does not even match the file.
	if err := os.WriteFile(optional.File(p, m)+".part", []byte("stale bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, data)
	srv.handler = func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Write(data) // 200 with the whole file, whatever the Range
		return true
	}
	if _, err := o.Pull(context.Background(), p, name, srv.opts(nil, nil)); err != nil {
		t.Fatal(err)
	}
	if r := srv.Ranges(); len(r) != 1 || r[0] != "bytes=11-" {
		t.Errorf("Range headers %q", r)
	}
	sameFile(t, optional.File(p, m), data)
}

func TestPullCompletePartAndHTTPErrors(t *testing.T) {
	const name = "YOLOv5n"
	o, data := standIn(t, name)
	p := home(t)
	m, _ := o.Lookup(name)
	// No download location: pull says to import.
	_, err := o.Pull(context.Background(), p, name, optional.PullOptions{})
	if faceswap.StatusOf(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "faceswap models import YOLOv5n FILE") {
		t.Errorf("pull without a url: %v", err)
	}
	srv := newServer(t, data)
	srv.handler = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			http.NotFound(w, r)
			return true
		}
		return false
	}
	_, err = o.Pull(context.Background(), p, name, srv.opts(nil, nil))
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("pull from a 404: %v", err)
	}
	mustNotExist(t, optional.File(p, m))
	// A part that already holds the whole file: the server answers 416 and
	// the pull completes from what it has.
	if err := os.WriteFile(optional.File(p, m)+".part", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Pull(context.Background(), p, name, srv.opts(nil, nil)); err != nil {
		t.Fatal(err)
	}
	sameFile(t, optional.File(p, m), data)
	if _, err := o.Pull(context.Background(), p, name, optional.PullOptions{URL: "ftp://example/x"}); err == nil {
		t.Error("an ftp URL was accepted")
	}
}

// A download with the right checksum that does not fit the role (the
// manifest points at the wrong kind of file) is not installed.
func TestPullMisfit(t *testing.T) {
	o := optional.Default()
	other, err := o.StandIn("GFPGANv1.4")
	if err != nil {
		t.Fatal(err)
	}
	setPublished(o, "retinaface_resnet50", other)
	p := home(t)
	srv := newServer(t, other)
	_, err = o.Pull(context.Background(), p, "retinaface_resnet50", srv.opts(nil, nil))
	if !errors.Is(err, optional.ErrMismatch) {
		t.Fatalf("pull of a misfit: %v", err)
	}
	m, _ := o.Lookup("retinaface_resnet50")
	mustNotExist(t, optional.File(p, m))
	mustNotExist(t, optional.File(p, m)+".part")
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestImport(t *testing.T) {
	o, p := optional.Default(), home(t)
	for _, name := range o.Names() {
		data, err := o.StandIn(name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := o.Import(p, name, writeTemp(t, "my-export.onnx", data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameFile(t, st.Path, data)
		// A stand-in is not the published file: installed and verified
		// (fits, recorded), not published.
		if !st.Verified || st.Published || st.State() != "installed" || !strings.HasPrefix(st.Source, "import ") {
			t.Errorf("%s: status after import %+v", name, st)
		}
		if path, err := o.Path(p, name); err != nil || path != st.Path {
			t.Errorf("%s: Path = %s, %v", name, path, err)
		}
	}
	for _, s := range o.List(p) {
		if s.State() != "installed" {
			t.Errorf("%s: %s after import (%s)", s.Name, s.State(), s.Problem)
		}
	}
	// Importing the installed file itself re-records it.
	st, err := o.Import(p, "GFPGANv1.3", statusOf(t, o, p, "GFPGANv1.3").Path)
	if err != nil || !st.Verified {
		t.Errorf("importing the installed file: %+v, %v", st, err)
	}
	// An import of the published file is marked published.
	o2, data := standIn(t, "GFPGANv1.3")
	if st, err := o2.Import(p, "GFPGANv1.3", writeTemp(t, "x.onnx", data)); err != nil || !st.Published {
		t.Errorf("import of the published file: %+v, %v", st, err)
	}
}

// restorer builds a restorer-like model with the given shapes.
func restorer(in, out []int64, extra ...onnxfile.ValueInfo) []byte {
	m := &onnxfile.Model{IRVersion: 8, Opsets: []onnxfile.Opset{{Version: 13}}, Graph: onnxfile.Graph{
		Name:    "g",
		Inputs:  append([]onnxfile.ValueInfo{{Name: "input", Type: onnxfile.Float, Dims: in}}, extra...),
		Outputs: []onnxfile.ValueInfo{{Name: "output", Type: onnxfile.Float, Dims: out}},
	}}
	return m.Marshal()
}

func TestImportRefusesMisfits(t *testing.T) {
	o, p := optional.Default(), home(t)
	swapper, err := o.StandIn("inswapper_128")
	if err != nil {
		t.Fatal(err)
	}
	sm := mustRead(t, swapper)
	sm.Graph.Initializers[0] = &onnxfile.Tensor{Name: "emap", Dims: []int64{512, 256}, Type: onnxfile.Float, Floats: make([]float32, 512*256)}
	wrongEmap := sm.Marshal()
	// Older exports list weights among the inputs: those are not fed.
	weightsAsInputs := restorer([]int64{1, 3, 512, 512}, []int64{1, 3, 512, 512}, onnxfile.ValueInfo{Name: "w0", Type: onnxfile.Float, Dims: []int64{8}})
	wm := mustRead(t, weightsAsInputs)
	wm.Graph.Initializers = []*onnxfile.Tensor{{Name: "w0", Dims: []int64{8}, Type: onnxfile.Float, Floats: make([]float32, 8)}}
	weightsAsInputs = wm.Marshal()
	for _, tc := range []struct {
		name, model string
		data        []byte
		want        []string // substrings of the error
	}{
		{"output too small", "GFPGANv1.4", restorer([]int64{1, 3, 512, 512}, []int64{1, 3, 256, 256}), []string{"GFPGANv1.4", "output 0", "[1,3,256,256]", "want [1,3,512,512]"}},
		{"input too small", "GFPGANv1.4", restorer([]int64{1, 3, 256, 256}, []int64{1, 3, 512, 512}), []string{"inputs", "[1,3,256,256]"}},
		{"codeformer without w", "codeformer-v0.1.0", restorer([]int64{1, 3, 512, 512}, []int64{1, 3, 512, 512}), []string{"1 fed input(s)", "want 2"}},
		{"swapper with a wrong emap", "inswapper_128", wrongEmap, []string{"last initializer", "[512,256]", "is not [512,512]"}},
		{"restorer as a detector", "retinaface_resnet50", restorer([]int64{1, 3, 512, 512}, []int64{1, 3, 512, 512}), []string{"1 output(s)", "want 3"}},
		{"not onnx", "w600k_r50", []byte("this is not a model"), []string{"not a readable ONNX model"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := o.Import(p, tc.model, writeTemp(t, "bad.onnx", tc.data))
			if !errors.Is(err, optional.ErrMismatch) || faceswap.StatusOf(err) != http.StatusBadRequest {
				t.Fatalf("import: %v, want a 400 ErrMismatch", err)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if st := statusOf(t, o, p, tc.model); st.Installed {
				t.Errorf("a refused file got installed: %+v", st)
			}
		})
	}
	if _, err := o.Import(p, "GFPGANv1.4", writeTemp(t, "w.onnx", weightsAsInputs)); err != nil {
		t.Errorf("weights listed as inputs: %v", err)
	}
	if _, err := o.Import(p, "GFPGANv1.4", filepath.Join(t.TempDir(), "missing.onnx")); faceswap.StatusOf(err) != http.StatusBadRequest || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("import of a missing file: %v", err)
	}
	if _, err := o.Import(p, "nope", writeTemp(t, "x.onnx", weightsAsInputs)); !errors.Is(err, optional.ErrUnknownModel) {
		t.Errorf("import as an unknown model: %v", err)
	}
}

// Every truncation of a model is refused without a panic.
func TestImportTruncated(t *testing.T) {
	o, p := optional.Default(), home(t)
	data, err := o.StandIn("det_10g")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 10, len(data) / 3, len(data) / 2, len(data) - 1} {
		if _, err := o.Import(p, "det_10g", writeTemp(t, "t.onnx", data[:n])); !errors.Is(err, optional.ErrMismatch) {
			t.Errorf("%d of %d bytes: %v", n, len(data), err)
		}
	}
}

func TestVerify(t *testing.T) {
	o, p := optional.Default(), home(t)
	for _, name := range []string{"inswapper_128", "GFPGANv1.4"} {
		data, _ := o.StandIn(name)
		if _, err := o.Import(p, name, writeTemp(t, "x.onnx", data)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := o.Verify(p)
	if err != nil {
		t.Fatalf("verify of good files: %v", err)
	}
	for _, s := range list {
		want := "missing"
		if s.Name == "inswapper_128" || s.Name == "GFPGANv1.4" {
			want = "installed"
		}
		if s.State() != want {
			t.Errorf("%s: %s after verify, want %s (%s)", s.Name, s.State(), want, s.Problem)
		}
	}
	// Damage the swapper inside its emap: it still fits, but it is not
	// the file that was installed.
	path := statusOf(t, o, p, "inswapper_128").Path
	b := mustReadFile(t, path)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	list, err = o.Verify(p)
	if !errors.Is(err, optional.ErrDamaged) || faceswap.StatusOf(err) != http.StatusNotFound ||
		!strings.Contains(err.Error(), "inswapper_128") || !strings.Contains(err.Error(), "the file changed") ||
		!strings.Contains(err.Error(), "faceswap models pull inswapper_128") {
		t.Fatalf("verify of a damaged file: %v", err)
	}
	for _, s := range list {
		if s.Name == "inswapper_128" && (s.Verified || !strings.Contains(s.Problem, "sha256")) {
			t.Errorf("damaged swapper: %+v", s)
		}
		if s.Name == "GFPGANv1.4" && !s.Verified {
			t.Errorf("the undamaged restorer is reported: %+v", s)
		}
	}
	// Verify keeps reporting it (the record is not overwritten).
	if _, err := o.Verify(p); !errors.Is(err, optional.ErrDamaged) {
		t.Errorf("second verify: %v", err)
	}
	// A pull or import repairs it.
	data, _ := o.StandIn("inswapper_128")
	if _, err := o.Import(p, "inswapper_128", writeTemp(t, "x.onnx", data)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Verify(p); err != nil {
		t.Errorf("verify after re-import: %v", err)
	}
}

// A file put into the folder by hand is unverified until verify checks it;
// one that does not fit stays damaged.
func TestVerifyAdoptsFilesPutThereByHand(t *testing.T) {
	o, p := optional.Default(), home(t)
	good, _ := o.StandIn("YOLOv5l")
	if err := os.MkdirAll(p.ONNXDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	yolo, _ := o.Lookup("YOLOv5l")
	gfp, _ := o.Lookup("GFPGANv1.3")
	if err := os.WriteFile(optional.File(p, yolo), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(optional.File(p, gfp), good, 0o644); err != nil { // a detector named as a restorer
		t.Fatal(err)
	}
	if st := statusOf(t, o, p, "YOLOv5l"); st.State() != "unverified" || !strings.Contains(st.Problem, "faceswap models verify") {
		t.Errorf("a hand-placed file: %s (%s)", st.State(), st.Problem)
	}
	_, err := o.Verify(p)
	if !errors.Is(err, optional.ErrDamaged) || !strings.Contains(err.Error(), "GFPGANv1.3") || strings.Contains(err.Error(), "YOLOv5l") {
		t.Errorf("verify: %v, want GFPGANv1.3 (only) damaged", err)
	}
	if st := statusOf(t, o, p, "YOLOv5l"); st.State() != "installed" || st.Source != "found in the models folder" {
		t.Errorf("after verify: %s (%s), source %q", st.State(), st.Problem, st.Source)
	}
	if st := statusOf(t, o, p, "GFPGANv1.3"); st.State() != "unverified" {
		t.Errorf("a misfit after verify: %s", st.State())
	}
}

func TestRemove(t *testing.T) {
	o, p := optional.Default(), home(t)
	data, _ := o.StandIn("codeformer-v0.1.0")
	st, err := o.Import(p, "codeformer-v0.1.0", writeTemp(t, "x.onnx", data))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Path+".part", []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := o.Remove(p, "codeformer-v0.1.0")
	if err != nil || !removed {
		t.Fatalf("Remove = %v, %v", removed, err)
	}
	ents, _ := os.ReadDir(p.ONNXDir())
	if len(ents) != 0 {
		t.Errorf("left in onnx/: %v", ents)
	}
	if s := statusOf(t, o, p, "codeformer-v0.1.0"); s.State() != "missing" {
		t.Errorf("after rm: %s", s.State())
	}
	if removed, err := o.Remove(p, "codeformer-v0.1.0"); err != nil || removed {
		t.Errorf("second Remove = %v, %v", removed, err)
	}
	if _, err := o.Remove(p, "codeformer"); !errors.Is(err, optional.ErrUnknownModel) {
		t.Errorf("Remove of an unknown name: %v", err)
	}
}

// testdata returns the shared test detector models, or skips.
func testdata(t *testing.T) string {
	t.Helper()
	return filepath.Join(testenv.TestdataDir(t), "models")
}

// The real detectors of the test data fit their families (and only them).
func TestFitRealDetectors(t *testing.T) {
	dir := testdata(t)
	o := optional.Default()
	files := map[string]string{
		"retinaface_mobile0.25": "retinaface_mobilenet0.25_640.onnx",
		"YOLOv5n":               "yolov5n-0.5-face.onnx",
		"det_10g":               "scrfd_2.5g_kps.onnx",
	}
	for model, file := range files {
		for other := range files {
			err := o.Fit(other, filepath.Join(dir, file))
			if (other == model) != (err == nil) {
				t.Errorf("Fit(%s, %s) = %v", other, file, err)
			}
		}
	}
	if err := o.Fit("det_10g", filepath.Join(dir, "scrfd_500m_kps.onnx")); err != nil {
		t.Error(err)
	}
	for _, f := range []string{"yunet_n_dynamic.onnx", "mediapipe_face_landmark.onnx"} {
		if err := o.Fit("GFPGANv1.4", filepath.Join(dir, f)); !errors.Is(err, optional.ErrMismatch) {
			t.Errorf("Fit(GFPGANv1.4, %s) = %v, want a mismatch", f, err)
		}
	}
	// (A check by shape cannot tell every model apart: the skin/hair
	// segmenter maps [1,3,512,512] to [1,3,512,512] like GFPGAN.)
	for _, f := range []string{"yunet_n_dynamic.onnx", "mediapipe_face_landmark.onnx", "skin_clothes_hair_pan_mnv3s.onnx"} {
		for _, m := range []string{"retinaface_resnet50", "YOLOv5l", "det_10g", "inswapper_128", "w600k_r50", "codeformer-v0.1.0"} {
			if err := o.Fit(m, filepath.Join(dir, f)); !errors.Is(err, optional.ErrMismatch) {
				t.Errorf("Fit(%s, %s) = %v, want a mismatch", m, f, err)
			}
		}
	}
}

// The models every machine has (set-up's cache) fit no optional model:
// they are other kinds of network (NHWC face mesh, detector and attribute
// models), which the shapes tell apart.
func TestFitRefusesCacheModels(t *testing.T) {
	files := []string{"onnx/facemesh.onnx", "onnx/blazeface-back.onnx", "onnx/faceres.onnx", "onnx/iris.onnx"}
	p := testenv.Models(t, files...)
	o := optional.Default()
	for _, f := range files {
		for _, m := range o.Models {
			if err := o.Fit(m.Name, p.Path(f)); !errors.Is(err, optional.ErrMismatch) {
				t.Errorf("Fit(%s, %s) = %v, want a mismatch", m.Name, f, err)
			}
		}
	}
}

// The progress line counts in tens on a non-terminal.
func TestProgressLine(t *testing.T) {
	o, data := standIn(t, "inswapper_128")
	srv := newServer(t, data)
	var progress bytes.Buffer
	if _, err := o.Pull(context.Background(), home(t), "inswapper_128", srv.opts(nil, &progress)); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(&progress).ReadString('\n')
	want := "downloading inswapper_128: 0% 10% 20% 30% 40% 50% 60% 70% 80% 90% 100%\n"
	if line != want {
		t.Errorf("progress %q, want %q", line, want)
	}
}
