package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/onnx"
)

// cli runs the command in-process and returns its exit code, what it wrote
// and the error main would print.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string, err error) {
	t.Helper()
	var out, errw bytes.Buffer
	err = run(context.Background(), args, &out, &errw)
	code = 0
	if err != nil {
		code = exitCode(err)
	}
	return code, out.String(), errw.String(), err
}

// emptyHome points FACESWAP_HOME at an empty folder and clears
// FACESWAP_ORT_LIB, so nothing is set up.
func emptyHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv(models.EnvHome, home)
	t.Setenv(models.EnvORTLib, "")
	return home
}

// writeImage writes a small decodable picture (no faces) and returns its path.
func writeImage(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plain.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   []string
		errParts []string
	}{
		{"no args", nil, 2, nil, []string{"Usage:", "faceswap detect IMAGE", "FACESWAP_HOME"}, []string{"usage"}},
		{"unknown command", []string{"teleport"}, 2, nil, []string{"Usage:"}, []string{`unknown command "teleport"`}},
		{"detect without image", []string{"detect"}, 2, nil, []string{"Usage: faceswap detect IMAGE", "-order"}, []string{"detect takes 1 argument(s), got 0"}},
		{"detect with two images", []string{"detect", "a.jpg", "b.jpg"}, 2, nil, []string{"Usage: faceswap detect IMAGE"}, []string{"got 2: a.jpg b.jpg"}},
		{"detect -h", []string{"detect", "-h"}, 2, nil, []string{"Usage: faceswap detect IMAGE", "-order", "-gender", "-annotate", "left-right"}, nil},
		{"help", []string{"help"}, 0, []string{"Usage:", "faceswap detect IMAGE", "faceswap models import-tfjs DIR", "FACESWAP_ORT_LIB"}, nil, nil},
		{"-h", []string{"-h"}, 0, []string{"Usage:", "faceswap setup"}, nil, nil},
		{"--help", []string{"--help"}, 0, []string{"Usage:", "faceswap version"}, nil, nil},
		{"models without subcommand", []string{"models"}, 2, nil, []string{"Usage: faceswap models import-tfjs DIR"}, []string{"import-tfjs"}},
		{"models unknown subcommand", []string{"models", "export"}, 2, nil, []string{"Usage: faceswap models import-tfjs DIR"}, nil},
		{"import-tfjs without DIR", []string{"models", "import-tfjs"}, 2, nil, []string{"Usage: faceswap models import-tfjs DIR", "-out"}, []string{"takes 1 argument(s), got 0"}},
		{"setup with an argument", []string{"setup", "now"}, 2, nil, []string{"Usage: faceswap setup"}, []string{"setup takes 0 argument(s), got 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr, err := cli(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (err %v)", code, tc.code, err)
			}
			if tc.code == 0 && err != nil {
				t.Fatalf("err %v, want nil", err)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if tc.stdout == nil && stdout != "" {
				t.Errorf("unexpected stdout:\n%s", stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tc.stderr == nil && stderr != "" {
				t.Errorf("unexpected stderr:\n%s", stderr)
			}
			for _, s := range tc.errParts {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v lacks %q", err, s)
				}
			}
		})
	}
}

func TestHelpIsErrHelp(t *testing.T) {
	_, _, _, err := cli(t, "detect", "--help")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("detect --help returned %v, want flag.ErrHelp (main prints nothing more for it)", err)
	}
}

func TestUnknownFlagIsUsage(t *testing.T) {
	code, _, stderr, err := cli(t, "detect", "--bogus", "x.jpg")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (err %v)", code, err)
	}
	if !strings.Contains(stderr, "-bogus") {
		t.Errorf("stderr does not name the flag:\n%s", stderr)
	}
}

func TestDetectBadFlagValues(t *testing.T) {
	emptyHome(t) // the values are checked before anything is loaded
	code, _, _, err := cli(t, "detect", "--order", "diagonal", "x.jpg")
	if code != 3 {
		t.Fatalf("--order diagonal: exit %d, want 3 (err %v)", code, err)
	}
	for _, s := range []string{`"diagonal"`, "large-small", "left-right", "top-bottom"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("--order error %q lacks %q", err, s)
		}
	}
	code, _, _, err = cli(t, "detect", "x.jpg", "--gender", "other")
	if code != 3 {
		t.Fatalf("--gender other: exit %d, want 3 (err %v)", code, err)
	}
	if !strings.Contains(err.Error(), `--gender "other"`) {
		t.Errorf("--gender error %q does not name the flag and value", err)
	}
}

func TestDetectUndecodableImage(t *testing.T) {
	// The image is decoded before any model is needed, so this holds
	// without a set-up.
	dir := emptyHome(t)
	noise := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	img := image.NewRGBA(image.Rect(0, 0, 200, 150))
	for i := range img.Pix {
		img.Pix[i] = byte(r.UintN(256))
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"random bytes", noise, "could not be decoded"},
		{"truncated JPEG", jpg.Bytes()[:jpg.Len()/3], "could not be decoded"},
		{"empty file", nil, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jpg")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, _, err := cli(t, "detect", path)
			if code != 3 {
				t.Fatalf("exit %d, want 3 (err %v)", code, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %s", stdout)
			}
		})
	}
}

func TestDetectMissingFile(t *testing.T) {
	dir := emptyHome(t)
	path := filepath.Join(dir, "nope.jpg")
	code, _, _, err := cli(t, "detect", path)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (err %v)", code, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %q does not wrap os.ErrNotExist", err)
	}
}

func TestDetectNotSetUp(t *testing.T) {
	home := emptyHome(t)
	img := writeImage(t, t.TempDir())
	code, stdout, _, err := cli(t, "detect", img)
	if code != 5 {
		t.Fatalf("exit %d, want 5 (err %v)", code, err)
	}
	if !errors.Is(err, models.ErrNotSetUp) {
		t.Errorf("error %q does not wrap models.ErrNotSetUp", err)
	}
	// The ONNX Runtime library is the first thing checked.
	missing := models.Paths{Home: home}.ORTLibrary()
	for _, s := range []string{missing, "is missing", "make setup", models.EnvORTLib} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %s", stdout)
	}
}

func TestVersionNotSetUp(t *testing.T) {
	emptyHome(t)
	code, stdout, _, err := cli(t, "version")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (err %v)", code, err)
	}
	for _, s := range []string{"faceswap (tfjs importer", "ONNX Runtime: not set up", "make setup"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	testenv.Models(t)
	code, stdout, _, err := cli(t, "version")
	if code != 0 {
		t.Fatalf("exit %d (err %v)", code, err)
	}
	if !strings.Contains(stdout, "ONNX Runtime 1.30.0 (") {
		t.Errorf("version does not report ONNX Runtime 1.30.0:\n%s", stdout)
	}
	if !strings.Contains(stdout, "provider cpu") {
		t.Errorf("version does not report the provider:\n%s", stdout)
	}
}

// analysisModels are the files detect and swap need besides ONNX Runtime.
var analysisModels = []string{"onnx/blazeface-back.onnx", "onnx/facemesh.onnx", "onnx/faceres.onnx", "onnx/iris.onnx"}

// output is the documented JSON of detect, decoded strictly.
type output struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Faces  []struct {
		Index       int          `json:"index"`
		Box         [4]float64   `json:"box"`
		Score       float64      `json:"score"`
		Gender      string       `json:"gender"`
		GenderScore float64      `json:"gender_score"`
		Age         float64      `json:"age"`
		Keypoints   [][2]float64 `json:"keypoints"`
	} `json:"faces"`
}

// detect runs detect with args and decodes its output.
func detect(t *testing.T, args ...string) (output, string) {
	t.Helper()
	code, stdout, _, err := cli(t, append([]string{"detect"}, args...)...)
	if code != 0 {
		t.Fatalf("detect %v: exit %d: %v", args, code, err)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var o output
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("detect %v: output is not the documented JSON: %v\n%s", args, err, stdout)
	}
	if dec.More() {
		t.Fatalf("detect %v: more than one JSON value:\n%s", args, stdout)
	}
	return o, stdout
}

// photo returns the shared test photo file, skipping without models or
// without the shared test data.
func photo(t *testing.T, file string) testenv.Image {
	t.Helper()
	testenv.Models(t, analysisModels...)
	for _, im := range testenv.Manifest(t) {
		if im.File == file {
			return im
		}
	}
	t.Fatalf("%s is not in the test photo manifest", file)
	return testenv.Image{}
}

// demoPhoto returns one of the photos every set-up machine has (made from
// face-api's demo photos, see testenv.Photos) with its size and face
// count, skipping without models. All their faces are women's.
func demoPhoto(t *testing.T, name string) testenv.Image {
	t.Helper()
	testenv.Models(t, analysisModels...)
	path := testenv.Photo(t, name)
	img := testenv.Load(t, path)
	return testenv.Image{File: name, Path: path, Width: img.Rect.Dx(), Height: img.Rect.Dy(), Faces: testenv.PhotoFaces[name]}
}

func TestDetectJSONShape(t *testing.T) {
	im := demoPhoto(t, testenv.Group5)
	o, raw := detect(t, im.Path)

	// Every documented key and no other, at both levels.
	var generic struct {
		Top   map[string]json.RawMessage
		Faces []map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(raw), &generic.Top); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(generic.Top["faces"], &generic.Faces); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var k []string
		for s := range m {
			k = append(k, s)
		}
		sort.Strings(k)
		return k
	}
	if got, want := keys(generic.Top), []string{"faces", "height", "width"}; !reflect.DeepEqual(got, want) {
		t.Errorf("top-level keys %v, want %v", got, want)
	}
	for i, f := range generic.Faces {
		if got, want := keys(f), []string{"age", "box", "gender", "gender_score", "index", "keypoints", "score"}; !reflect.DeepEqual(got, want) {
			t.Errorf("face %d keys %v, want %v", i, got, want)
		}
	}

	if o.Width != im.Width || o.Height != im.Height {
		t.Errorf("size %dx%d, want %dx%d", o.Width, o.Height, im.Width, im.Height)
	}
	if len(o.Faces) != im.Faces {
		t.Fatalf("%d faces, want %d", len(o.Faces), im.Faces)
	}
	for i, f := range o.Faces {
		if f.Index != i {
			t.Errorf("face %d has index %d", i, f.Index)
		}
		x, y, w, h := f.Box[0], f.Box[1], f.Box[2], f.Box[3]
		if w <= 0 || h <= 0 || x+w <= 0 || y+h <= 0 || x >= float64(o.Width) || y >= float64(o.Height) {
			t.Errorf("face %d box %v is empty or off the image", i, f.Box)
		}
		if f.Score <= 0 || f.Score > 1 {
			t.Errorf("face %d score %g outside (0,1]", i, f.Score)
		}
		if f.Gender != "female" && f.Gender != "male" {
			t.Errorf("face %d gender %q", i, f.Gender)
		}
		if f.GenderScore < 0.5 || f.GenderScore > 1 {
			t.Errorf("face %d gender_score %g outside [0.5,1]", i, f.GenderScore)
		}
		if f.Age <= 0 || f.Age > 100 {
			t.Errorf("face %d age %g", i, f.Age)
		}
		if len(f.Keypoints) != 5 {
			t.Fatalf("face %d has %d keypoints, want 5", i, len(f.Keypoints))
		}
		// Keypoints come from the mesh whose bounds are the box.
		for k, p := range f.Keypoints {
			if p[0] < x-0.5 || p[0] > x+w+0.5 || p[1] < y-0.5 || p[1] > y+h+0.5 {
				t.Errorf("face %d keypoint %d %v outside box %v", i, k, p, f.Box)
			}
		}
		// left eye left of right eye
		if f.Keypoints[0][0] >= f.Keypoints[1][0] {
			t.Errorf("face %d: left eye %v not left of right eye %v", i, f.Keypoints[0], f.Keypoints[1])
		}
		// values are rounded as documented
		for _, v := range append(f.Box[:], f.Age) {
			if math.Abs(v*10-math.Round(v*10)) > 1e-6 {
				t.Errorf("face %d: %v not rounded to one decimal", i, v)
			}
		}
	}
}

func TestDetectNoFaceIsEmptyList(t *testing.T) {
	im := demoPhoto(t, testenv.NoFace)
	o, raw := detect(t, im.Path)
	if len(o.Faces) != 0 {
		t.Fatalf("%d faces on a photo without faces", len(o.Faces))
	}
	if !strings.Contains(raw, `"faces":[]`) {
		t.Errorf("no faces should print an empty list, not null:\n%s", raw)
	}
}

func boxes(o output) [][4]float64 {
	var b [][4]float64
	for _, f := range o.Faces {
		b = append(b, f.Box)
	}
	return b
}

// sameFaces reports whether a and b hold the same boxes in any order.
func sameFaces(a, b output) bool {
	x, y := boxes(a), boxes(b)
	less := func(s [][4]float64) func(i, j int) bool {
		return func(i, j int) bool {
			for k := range 4 {
				if s[i][k] != s[j][k] {
					return s[i][k] < s[j][k]
				}
			}
			return false
		}
	}
	sort.Slice(x, less(x))
	sort.Slice(y, less(y))
	return reflect.DeepEqual(x, y)
}

func TestDetectOrders(t *testing.T) {
	im := demoPhoto(t, testenv.Group5)
	def, _ := detect(t, im.Path)
	if len(def.Faces) != im.Faces {
		t.Fatalf("%d faces, want %d", len(def.Faces), im.Faces)
	}
	area := func(b [4]float64) float64 { return b[2] * b[3] }
	for i := 1; i < len(def.Faces); i++ {
		if a, b := area(def.Faces[i-1].Box), area(def.Faces[i].Box); a < b {
			t.Errorf("default order: face %d area %.0f < face %d area %.0f", i-1, a, i, b)
		}
	}
	for _, tc := range []struct {
		order string
		key   func(b [4]float64) float64
	}{
		{"left-right", func(b [4]float64) float64 { return b[0] }},
		{"right-left", func(b [4]float64) float64 { return -b[0] }},
		{"top-bottom", func(b [4]float64) float64 { return b[1] }},
		{"small-large", area},
	} {
		t.Run(tc.order, func(t *testing.T) {
			o, _ := detect(t, "--order", tc.order, im.Path)
			if !sameFaces(o, def) {
				t.Fatalf("--order %s found other faces:\n%v\nwant\n%v", tc.order, boxes(o), boxes(def))
			}
			for i, f := range o.Faces {
				if f.Index != i {
					t.Errorf("face %d has index %d", i, f.Index)
				}
				if i > 0 && tc.key(o.Faces[i-1].Box) > tc.key(f.Box) {
					t.Errorf("faces %d and %d out of order: %v then %v", i-1, i, o.Faces[i-1].Box, f.Box)
				}
			}
		})
	}
}

func TestDetectFlagsBeforeOrAfterImage(t *testing.T) {
	im := demoPhoto(t, testenv.Group5)
	_, plain := detect(t, im.Path)
	// The photo shows only women, so each flag shows in the output once:
	// with female, left-right is not the default order (largest first);
	// with male, no face is left.
	for _, gender := range []string{"female", "male"} {
		_, before := detect(t, "--order", "left-right", "--gender="+gender, im.Path)
		_, after := detect(t, im.Path, "--order", "left-right", "--gender="+gender)
		_, mixed := detect(t, "--order=left-right", im.Path, "--gender", gender)
		if before != after || before != mixed {
			t.Fatalf("--gender %s: flag position changes the output:\nbefore %s\nafter  %s\nmixed  %s", gender, before, after, mixed)
		}
		if before == plain {
			t.Fatalf("--gender %s: the flags had no effect", gender)
		}
	}
}

// TestDetectGenderFilter needs a photo of women and men together: the
// shared office photo (the demo photos show only women).
func TestDetectGenderFilter(t *testing.T) {
	im := photo(t, "group5_office_meeting.jpg")
	all, _ := detect(t, im.Path)
	female, _ := detect(t, "--gender", "female", im.Path)
	male, _ := detect(t, im.Path, "--gender", "male")
	if len(female.Faces)+len(male.Faces) != len(all.Faces) {
		t.Fatalf("%d female + %d male faces, want %d in all", len(female.Faces), len(male.Faces), len(all.Faces))
	}
	if len(female.Faces) == 0 || len(male.Faces) == 0 {
		t.Fatalf("the photo has women and men, got %d female and %d male", len(female.Faces), len(male.Faces))
	}
	for name, o := range map[string]output{"female": female, "male": male} {
		for i, f := range o.Faces {
			if f.Gender != name {
				t.Errorf("--gender %s: face %d is %s", name, i, f.Gender)
			}
			if f.Index != i {
				t.Errorf("--gender %s: face %d has index %d (indices number the kept faces)", name, i, f.Index)
			}
		}
	}
	var merged output
	merged.Faces = append(append(merged.Faces, female.Faces...), male.Faces...)
	if !sameFaces(merged, all) {
		t.Errorf("female and male faces together are not all faces:\n%v\nwant\n%v", boxes(merged), boxes(all))
	}
}

func TestDetectAnnotate(t *testing.T) {
	im := demoPhoto(t, testenv.Group5)
	out := filepath.Join(t.TempDir(), "annotated.png")
	o, _ := detect(t, im.Path, "--annotate", out)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, format, err := image.Decode(f)
	if err != nil {
		t.Fatalf("annotated file: %v", err)
	}
	if format != "png" {
		t.Errorf("annotated file is %s, want png", format)
	}
	if b := got.Bounds(); b.Dx() != im.Width || b.Dy() != im.Height {
		t.Fatalf("annotated image is %v, want %dx%d", b, im.Width, im.Height)
	}
	in := testenv.Load(t, im.Path)
	differs := func(x, y int) bool {
		return color.NRGBAModel.Convert(got.At(x, y)) != in.NRGBAAt(x, y)
	}
	// Inside every face box the drawing changed pixels.
	inAnyBox := func(x, y int, margin float64) bool {
		for _, f := range o.Faces {
			b := f.Box
			if float64(x) >= b[0]-margin && float64(x) <= b[0]+b[2]+margin &&
				float64(y) >= b[1]-margin && float64(y) <= b[1]+b[3]+margin {
				return true
			}
		}
		return false
	}
	for i, f := range o.Faces {
		b := image.Rect(int(f.Box[0]), int(f.Box[1]), int(f.Box[0]+f.Box[2])+1, int(f.Box[1]+f.Box[3])+1).Intersect(in.Rect)
		n := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if differs(x, y) {
					n++
				}
			}
		}
		if n < (b.Dx()+b.Dy())/2 {
			t.Errorf("face %d: only %d pixels drawn inside box %v", i, n, f.Box)
		}
	}
	// Away from the faces nothing changed.
	changed := 0
	for y := 0; y < im.Height; y++ {
		for x := 0; x < im.Width; x++ {
			if !inAnyBox(x, y, 8) && differs(x, y) {
				changed++
			}
		}
	}
	if changed > 0 {
		t.Errorf("%d pixels changed away from the faces", changed)
	}
}

func TestDetectDamagedModel(t *testing.T) {
	p := testenv.Models(t, analysisModels...)
	im := demoPhoto(t, testenv.Portrait)
	// ONNX Runtime is loaded once per process: keep its path.
	t.Setenv(models.EnvORTLib, p.ORTLibrary())
	orig, err := os.ReadFile(p.ONNX("facemesh"))
	if err != nil {
		t.Fatal(err)
	}

	// home builds a cache folder of links into p, with a garbage facemesh
	// of size bytes, and with or without the set-up stamp.
	home := func(t *testing.T, size int, stamp bool) string {
		h := t.TempDir()
		link := func(dir string) {
			entries, err := os.ReadDir(filepath.Join(p.Home, dir))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() == "onnx" && dir == "" {
					continue
				}
				if e.Name() == "setup.json" && !stamp {
					continue
				}
				if e.Name() == "facemesh.onnx" {
					continue
				}
				if err := os.Symlink(filepath.Join(p.Home, dir, e.Name()), filepath.Join(h, dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		link("")
		if err := os.Mkdir(filepath.Join(h, "onnx"), 0o755); err != nil {
			t.Fatal(err)
		}
		link("onnx")
		garbage := make([]byte, size)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range garbage {
			garbage[i] = byte(r.UintN(256))
		}
		if err := os.WriteFile(filepath.Join(h, "onnx", "facemesh.onnx"), garbage, 0o644); err != nil {
			t.Fatal(err)
		}
		return h
	}

	for _, tc := range []struct {
		name  string
		size  int
		stamp bool
		want  []string
	}{
		// Without the stamp the file's size cannot be checked: loading it fails.
		{"same size, no stamp", len(orig), false, []string{"facemesh.onnx", "make setup"}},
		// With the stamp the size check catches a truncated file first.
		{"truncated, with stamp", 5000, true, []string{"facemesh.onnx", "damaged", "make setup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(models.EnvHome, home(t, tc.size, tc.stamp))
			code, stdout, _, err := cli(t, "detect", im.Path)
			if code != 5 {
				t.Fatalf("exit %d, want 5 (err %v)", code, err)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %s", stdout)
			}
		})
	}
}

func TestModelsImportTFJS(t *testing.T) {
	p := models.Default()
	src := []string{p.TFJS("gender"), filepath.Join(p.TFJSDir(), "gender.bin")}
	if err := p.Require(src...); err != nil {
		t.Skipf("skipping: %v", err)
	}
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "new", "onnx")
	for _, f := range src {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, _, err := cli(t, "models", "import-tfjs", in, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	dst := filepath.Join(out, "gender.onnx")
	if !strings.Contains(stdout, "gender -> "+dst) {
		t.Errorf("log does not report %s:\n%s", dst, stdout)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "gender.onnx" {
		t.Fatalf("out holds %v, want only gender.onnx", entries)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 1000 {
		t.Fatalf("gender.onnx has only %d bytes", fi.Size())
	}
	// With ONNX Runtime at hand, the result must load.
	if p.Require(p.ORTLibrary()) != nil {
		return
	}
	rt, err := onnx.Open(ortConfig(p))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.Load(dst)
	if err != nil {
		t.Fatalf("converted gender.onnx does not load: %v", err)
	}
	if len(s.Inputs) != 1 || len(s.Outputs) == 0 {
		t.Errorf("gender.onnx has inputs %v, outputs %v", s.Inputs, s.Outputs)
	}
}

func TestModelsImportTFJSMissingDir(t *testing.T) {
	dir := t.TempDir()
	code, _, _, err := cli(t, "models", "import-tfjs", filepath.Join(dir, "nope"), "--out", filepath.Join(dir, "out"))
	if code == 0 {
		t.Fatal("importing a missing folder succeeded")
	}
	if !strings.Contains(err.Error(), "nope") {
		t.Errorf("error %q does not name the folder", err)
	}
}
