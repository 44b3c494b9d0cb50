package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"faceswap/models"
	"faceswap/models/optional"
	"faceswap/onnxfile"
)

// listLine returns the line of `models list` output for name.
func listLine(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return l
		}
	}
	t.Fatalf("list has no line for %s:\n%s", name, out)
	return ""
}

func standInFile(t *testing.T, name string) string {
	t.Helper()
	data, err := optional.Default().StandIn(name)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "export.onnx")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestModelsListFresh(t *testing.T) {
	home := emptyHome(t)
	code, stdout, stderr, err := cli(t, "models", "list")
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, stderr)
	}
	if !strings.HasPrefix(stdout, "NAME") || !strings.Contains(stdout, "LICENCE") {
		t.Errorf("no table header:\n%s", stdout)
	}
	for _, m := range optional.Default().Models {
		l := listLine(t, stdout, m.Name)
		for _, s := range []string{" " + string(m.Role) + " ", " missing ", m.License} {
			if !strings.Contains(l, s) {
				t.Errorf("%s: line lacks %q: %s", m.Name, s, l)
			}
		}
	}
	if !strings.Contains(stdout, filepath.Join(home, "onnx")) {
		t.Errorf("list does not name the folder:\n%s", stdout)
	}
}

func TestModelsImportListVerifyRemove(t *testing.T) {
	emptyHome(t)
	code, stdout, _, err := cli(t, "models", "import", "GFPGANv1.4", standInFile(t, "GFPGANv1.4"))
	if code != 0 {
		t.Fatalf("import: exit %d: %v", code, err)
	}
	for _, s := range []string{"GFPGANv1.4: installed", "it fits a restorer", "not the published file", "licence: Apache-2.0"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("import output lacks %q:\n%s", s, stdout)
		}
	}
	_, stdout, _, _ = cli(t, "models", "list")
	if l := listLine(t, stdout, "GFPGANv1.4"); !strings.Contains(l, " installed ") {
		t.Errorf("after import: %s", l)
	}
	if l := listLine(t, stdout, "GFPGANv1.3"); !strings.Contains(l, " missing ") {
		t.Errorf("another model after import: %s", l)
	}
	if !strings.Contains(stdout, "GFPGANv1.4: not the published file") {
		t.Errorf("list does not note the own export:\n%s", stdout)
	}
	code, stdout, _, err = cli(t, "models", "verify")
	if code != 0 || !strings.Contains(stdout, "GFPGANv1.4: ok") {
		t.Fatalf("verify: exit %d, %v:\n%s", code, err, stdout)
	}
	// Damage it: verify fails with exit 5 and says what to do.
	path := optional.File(models.Default(), mustLookup(t, "GFPGANv1.4"))
	if err := os.WriteFile(path, []byte("not a model any more"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _, err = cli(t, "models", "verify")
	if code != 5 || !strings.Contains(stdout, "GFPGANv1.4: DAMAGED") || !strings.Contains(err.Error(), "faceswap models pull GFPGANv1.4") {
		t.Errorf("verify of a damaged file: exit %d, %v:\n%s", code, err, stdout)
	}
	_, stdout, _, _ = cli(t, "models", "list")
	if l := listLine(t, stdout, "GFPGANv1.4"); !strings.Contains(l, " unverified ") {
		t.Errorf("list after damage: %s", l)
	}
	code, stdout, _, err = cli(t, "models", "rm", "GFPGANv1.4")
	if code != 0 || !strings.Contains(stdout, "removed GFPGANv1.4") {
		t.Errorf("rm: exit %d, %v: %s", code, err, stdout)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rm left %s", path)
	}
	_, stdout, _, _ = cli(t, "models", "rm", "GFPGANv1.4")
	if !strings.Contains(stdout, "GFPGANv1.4 was not installed") {
		t.Errorf("second rm: %s", stdout)
	}
	_, stdout, _, _ = cli(t, "models", "verify")
	if !strings.Contains(stdout, "no optional model is installed") {
		t.Errorf("verify with nothing installed: %s", stdout)
	}
}

func mustLookup(t *testing.T, name string) optional.Model {
	t.Helper()
	m, err := optional.Default().Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestModelsImportMisfit(t *testing.T) {
	emptyHome(t)
	bad := &onnxfile.Model{IRVersion: 8, Opsets: []onnxfile.Opset{{Version: 13}}, Graph: onnxfile.Graph{Name: "g",
		Inputs:  []onnxfile.ValueInfo{{Name: "input", Type: onnxfile.Float, Dims: []int64{1, 3, 256, 256}}},
		Outputs: []onnxfile.ValueInfo{{Name: "output", Type: onnxfile.Float, Dims: []int64{1, 3, 256, 256}}}}}
	f := filepath.Join(t.TempDir(), "small.onnx")
	if err := os.WriteFile(f, bad.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, _, err := cli(t, "models", "import", "codeformer-v0.1.0", f)
	if code != 3 || !strings.Contains(err.Error(), "does not fit model codeformer-v0.1.0") {
		t.Fatalf("import of a misfit: exit %d, %v", code, err)
	}
	_, stdout, _, _ := cli(t, "models", "list")
	if l := listLine(t, stdout, "codeformer-v0.1.0"); !strings.Contains(l, " missing ") {
		t.Errorf("a refused import is listed: %s", l)
	}
}

func TestModelsPull(t *testing.T) {
	emptyHome(t)
	// codeformer has no published sha256: a loopback server can stand in
	// for its home.
	data, err := optional.Default().StandIn("codeformer-v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "m.onnx", time.Unix(0, 0), bytes.NewReader(data))
	}))
	defer srv.Close()
	code, stdout, stderr, err := cli(t, "models", "pull", "codeformer-v0.1.0", "--url", srv.URL+"/codeformer.onnx")
	if code != 0 {
		t.Fatalf("pull: exit %d, %v\n%s", code, err, stderr)
	}
	for _, s := range []string{"licence: S-Lab", "NOTICE: codeformer-v0.1.0 may be used for non-commercial purposes only", "no published sha256", "installed"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("pull output lacks %q:\n%s", s, stdout)
		}
	}
	if !strings.Contains(stderr, "100%") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
	_, stdout, _, _ = cli(t, "models", "list")
	if l := listLine(t, stdout, "codeformer-v0.1.0"); !strings.Contains(l, " installed ") {
		t.Errorf("after pull: %s", l)
	}
	// A model with a published sha256 refuses the stand-in: exit 1.
	code, _, _, err = cli(t, "models", "pull", "GFPGANv1.4", "--url", srv.URL+"/gfpgan.onnx")
	if code != 1 || !errors.Is(err, optional.ErrChecksum) {
		t.Errorf("pull with a wrong checksum: exit %d, %v", code, err)
	}
	// No known download: exit 3, pointing at import.
	code, _, _, err = cli(t, "models", "pull", "YOLOv5l")
	if code != 3 || !strings.Contains(err.Error(), "faceswap models import YOLOv5l FILE") {
		t.Errorf("pull without a download: exit %d, %v", code, err)
	}
}

func TestModelsErrors(t *testing.T) {
	emptyHome(t)
	for _, tc := range []struct {
		args []string
		code int
		want []string // in the error
	}{
		{[]string{"models", "pull", "gfpgan"}, 3, []string{`unknown model "gfpgan"`, "inswapper_128", "GFPGANv1.4", "YOLOv5n"}},
		{[]string{"models", "import", "gfpgan", "x.onnx"}, 3, []string{`unknown model "gfpgan"`}},
		{[]string{"models", "rm", "gfpgan"}, 3, []string{`unknown model "gfpgan"`}},
		{[]string{"models", "pull"}, 2, []string{"takes 1 argument(s), got 0"}},
		{[]string{"models", "import", "GFPGANv1.4"}, 2, []string{"takes 2 argument(s), got 1"}},
		{[]string{"models", "list", "all"}, 2, []string{"takes 0 argument(s), got 1"}},
		{[]string{"models", "verify", "--fast"}, 2, nil},
		{[]string{"models", "teleport"}, 2, []string{`unknown models subcommand "teleport"`}},
		{[]string{"models", "import", "GFPGANv1.4", "/nonexistent/x.onnx"}, 3, []string{"/nonexistent/x.onnx", "GFPGANv1.4"}},
	} {
		code, _, _, err := cli(t, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (%v)", tc.args, code, tc.code, err)
		}
		for _, s := range tc.want {
			if err == nil || !strings.Contains(err.Error(), s) {
				t.Errorf("%v: error %v lacks %q", tc.args, err, s)
			}
		}
	}
	// Usage lists the subcommands and the model names.
	code, stdout, _, _ := cli(t, "models", "help")
	for _, s := range []string{"faceswap models pull NAME", "faceswap models import NAME FILE", "faceswap models verify", "faceswap models rm NAME", "import-tfjs", "codeformer-v0.1.0"} {
		if code != 0 || !strings.Contains(stdout, s) {
			t.Errorf("models help lacks %q (exit %d):\n%s", s, code, stdout)
		}
	}
}
