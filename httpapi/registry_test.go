package httpapi

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/pipeline"
	"faceswap/restore"
	"faceswap/swap"
)

// The model registry (models.Values) is the one list of the values of
// face_restore, facedetection and swap_model: openapi.json and
// docs/api.md are written by hand, so this test holds them to it, and
// holds the pipeline to accepting exactly those values.

// apiField returns a property of SwapRequest in openapi.json.
func apiField(t *testing.T, name string) map[string]any {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	p, ok := doc.Components.Schemas["SwapRequest"].Properties[name]
	if !ok {
		t.Fatalf("openapi.json: SwapRequest has no %s", name)
	}
	return p
}

// docRow returns the cells of the row of field in docs/api.md's request
// table of the synchronous swap.
func docRow(t *testing.T, field string) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `"+field+"` |") {
			return strings.Split(strings.Trim(line, "| "), " | ")
		}
	}
	t.Fatalf("docs/api.md has no row for %s", field)
	return nil
}

var backticked = regexp.MustCompile("`([^`]*)`")

func codeSpans(s string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestModelValuesOpenAPIAndDocs(t *testing.T) {
	for _, field := range []string{models.FieldFaceRestore, models.FieldFaceDetection} {
		want := models.Values(field)
		p := apiField(t, field)
		var enum []string
		for _, v := range p["enum"].([]any) {
			enum = append(enum, v.(string))
		}
		if !slices.Equal(enum, want) {
			t.Errorf("openapi.json: %s's enum is %q; the registry's values are %q", field, enum, want)
		}
		if p["default"] != want[0] {
			t.Errorf("openapi.json: %s's default is %v, the registry's %q", field, p["default"], want[0])
		}
		row := docRow(t, field)
		if got := codeSpans(row[3]); !slices.Equal(got, want) {
			t.Errorf("docs/api.md: %s allows %q; the registry's values are %q", field, got, want)
		}
		if got := codeSpans(row[2]); !slices.Equal(got, want[:1]) {
			t.Errorf("docs/api.md: %s's default is %q, the registry's %q", field, got, want[0])
		}
	}
	// swap_model is no enum (the engines are what is installed): its
	// description and its row name every swapper the registry has.
	desc, _ := apiField(t, models.FieldSwapModel)["description"].(string)
	row := docRow(t, models.FieldSwapModel)
	for _, v := range models.Values(models.FieldSwapModel) {
		if !strings.Contains(desc, v) {
			t.Errorf("openapi.json: swap_model's description %q does not name %s", desc, v)
		}
		if !slices.Contains(codeSpans(row[3]), v) {
			t.Errorf("docs/api.md: swap_model's row %q does not name %s", row[3], v)
		}
	}
}

type nopEngine struct{}

func (nopEngine) Name() string { return "mesh" }
func (nopEngine) Swap(dst, src *image.NRGBA, pairs []swap.Pair, opt swap.Options) ([]swap.Region, error) {
	return nil, nil
}

type nopRestorer string

func (r nopRestorer) Name() string { return string(r) }
func (nopRestorer) Restore(*image.NRGBA, []faceswap.Face, restore.Options) ([]swap.Region, error) {
	return nil, nil
}

type nopAligner struct{}

func (nopAligner) Faces(*image.NRGBA) ([]faceswap.Face, error) { return nil, nil }

// TestModelValuesPipeline: the pipeline takes exactly the registry's
// values, in any case; a value whose model is not installed is a 404 that
// names the model to pull, and once installed it is accepted.
func TestModelValuesPipeline(t *testing.T) {
	bare := func() *pipeline.Pipeline {
		return &pipeline.Pipeline{Engines: map[string]swap.Engine{"mesh": nopEngine{}}, Preferred: []string{"mesh"},
			Restoration: map[string]restore.Restorer{}, Aligners: map[string]pipeline.Aligner{}}
	}
	check := func(p *pipeline.Pipeline, change func(r *pipeline.Request)) error {
		r := pipeline.NewRequest()
		change(&r)
		return p.Check(&r)
	}
	wantMissing := func(err error, field, value string) {
		t.Helper()
		m, _ := models.ByValue(field, value)
		if faceswap.StatusOf(err) != 404 || !strings.Contains(faceswap.PublicMessage(err), "models pull "+m.Name) {
			t.Errorf("%s %q not installed: %v; want a 404 naming \"models pull %s\"", field, value, err, m.Name)
		}
	}
	wantUnknown := func(err error, field string) {
		t.Helper()
		msg := faceswap.PublicMessage(err)
		if faceswap.StatusOf(err) != 400 || !strings.Contains(msg, strings.Join(models.Values(field), ", ")) {
			t.Errorf("%s unknown: %v; want a 400 listing the registry's values", field, err)
		}
	}
	gfpgan := models.Values(models.FieldFaceRestore)[2]
	for _, v := range models.Values(models.FieldFaceRestore) {
		for _, spelt := range []string{v, strings.ToUpper(v)} {
			err := check(bare(), func(r *pipeline.Request) { r.FaceRestore = spelt })
			if v == models.NoRestore {
				if err != nil {
					t.Errorf("face_restore %q: %v", spelt, err)
				}
				continue
			}
			wantMissing(err, models.FieldFaceRestore, v)
			p := bare()
			p.Restoration[v] = nopRestorer(v)
			if err := check(p, func(r *pipeline.Request) { r.FaceRestore = spelt }); err != nil {
				t.Errorf("face_restore %q installed: %v", spelt, err)
			}
		}
	}
	wantUnknown(check(bare(), func(r *pipeline.Request) { r.FaceRestore = "GFPGANv1.2.pth" }), models.FieldFaceRestore)
	for _, v := range models.Values(models.FieldFaceDetection) {
		for _, spelt := range []string{v, strings.ToLower(v)} {
			p := bare()
			p.Restoration[gfpgan] = nopRestorer(gfpgan)
			with := func(r *pipeline.Request) { r.FaceRestore, r.FaceDetection = gfpgan, spelt }
			wantMissing(check(p, with), models.FieldFaceDetection, v)
			p.Aligners[v] = nopAligner{}
			if err := check(p, with); err != nil {
				t.Errorf("facedetection %q installed: %v", spelt, err)
			}
		}
	}
	wantUnknown(check(bare(), func(r *pipeline.Request) { r.FaceDetection = "mtcnn" }), models.FieldFaceDetection)
	for _, v := range models.Values(models.FieldSwapModel) {
		wantMissing(check(bare(), func(r *pipeline.Request) { r.SwapModel = v }), models.FieldSwapModel, v)
	}
}
