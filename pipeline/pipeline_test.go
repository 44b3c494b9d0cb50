package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"faceswap"
	"faceswap/analysis"
	"faceswap/imageio"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/selection"
	"faceswap/swap"
	"faceswap/swap/mesh"
)

var (
	plOnce sync.Once
	pl     *Pipeline
)

func pipe(t testing.TB) *Pipeline {
	t.Helper()
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/facemesh.onnx", "onnx/faceres.onnx", "onnx/iris.onnx")
	plOnce.Do(func() {
		an, err := analysis.New(rt, analysis.Models{Detector: p.ONNX("blazeface-back"), Mesh: p.ONNX("facemesh"), Attribute: p.ONNX("faceres"), Iris: p.ONNX("iris")}, analysis.Config{})
		if err != nil {
			t.Fatal(err)
		}
		pl = &Pipeline{Analyzer: an, Engines: map[string]swap.Engine{"mesh": mesh.New()}, Preferred: []string{"mesh"}}
	})
	if pl == nil {
		t.Fatal("pipeline did not load")
	}
	return pl
}

// read returns a shared test photo (skipping without the shared test data).
func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testenv.TestdataDir(t) + "/images/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// demo returns a photo every set-up machine has (testenv.Photos: made from
// face-api's demo photos, women only).
func demo(t testing.TB, name string) []byte {
	t.Helper()
	return testenv.PhotoBytes(t, name)
}

// TestFieldErrors: every bad field is refused before any image is decoded
// (the images here are garbage, so reaching decode would give another error).
func TestFieldErrors(t *testing.T) {
	p := &Pipeline{Engines: map[string]swap.Engine{"mesh": mesh.New()}, Preferred: []string{"mesh"}}
	for _, c := range []struct {
		r      Request
		status int
		msg    string
	}{
		{Request{InputFacesIndex: "0,x"}, 400, `input_faces_index "0,x" must be`},
		{Request{SourceFacesIndex: "-1"}, 400, `source_faces_index "-1" must be`},
		{Request{InputFacesIndex: "0,1,2", SourceFacesIndex: "0,1"}, 400, "source_faces_index has 2 indices and input_faces_index has 3"},
		{Request{DetectionFaceOrder: "diagonal"}, 400, `detection_face_order "diagonal" is not one of`},
		{Request{DetectGenderInput: "other"}, 400, `detect_gender_input "other" is not one of no, female, male.`},
		{Request{DetectGenderSource: "x"}, 400, `detect_gender_source "x"`},
		{Request{Interpolation: "cubic"}, 400, `interpolation "cubic" is not one of Nearest, Bilinear, Bicubic, Lanczos.`},
		{Request{ImageFormat: "bmp"}, 400, `image_format "bmp"`},
		{Request{ImageQuality: 5}, 400, "image_quality 5 is outside 10-100."},
		{Request{ImageQuality: 101}, 400, "image_quality 101 is outside 10-100."},
		{Request{FaceRestoreWeight: 1.5}, 400, "face_restore_weight 1.5 is outside 0-1."},
		{Request{FaceDetection: "mtcnn"}, 400, `facedetection "mtcnn" is not one of`},
		{Request{FaceRestore: "magic"}, 400, `face_restore "magic" is not one of`},
		{Request{FaceRestore: "gfpganv1.4.pth"}, 404, `face_restore "GFPGANv1.4.pth" is not installed on this server; install it with "faceswap models pull GFPGANv1.4"`},
		{Request{SwapModel: "inswapper_128"}, 404, `swap_model "inswapper_128" is not installed on this server; install it with "faceswap models pull inswapper_128"`},
	} {
		r := c.r
		r.Source, r.Target = []byte("garbage"), []byte("garbage")
		_, err := p.Run(context.Background(), &r)
		var fe *faceswap.Error
		if !errors.As(err, &fe) || fe.Status != c.status || !strings.Contains(fe.Message, c.msg) {
			t.Errorf("%+v: got %v, want %d %q", c.r, err, c.status, c.msg)
		}
	}
	// enums are case-insensitive and defaults apply
	ok := Request{DetectionFaceOrder: "LEFT-RIGHT", DetectGenderInput: "Female", Interpolation: "lanczos", ImageFormat: "PNG", FaceRestore: "DISABLE", FaceDetection: "Retinaface_resnet50", SwapModel: "AUTO"}
	if _, err := p.check(&ok); err != nil {
		t.Errorf("case-insensitive enums refused: %v", err)
	}
}

// TestImageErrors: undecodable inputs say which field.
func TestImageErrors(t *testing.T) {
	p := &Pipeline{Engines: map[string]swap.Engine{"mesh": mesh.New()}, Preferred: []string{"mesh"}}
	_, err := p.Run(context.Background(), &Request{Source: []byte("garbage"), Target: []byte("garbage")})
	if faceswap.StatusOf(err) != 400 || !strings.HasPrefix(faceswap.PublicMessage(err), "source_img: ") {
		t.Errorf("garbage source: %v", err)
	}
	_, err = p.Run(context.Background(), &Request{Source: demo(t, testenv.Group3), Target: nil})
	if faceswap.StatusOf(err) != 400 || !strings.HasPrefix(faceswap.PublicMessage(err), "target_img: ") {
		t.Errorf("empty target: %v", err)
	}
}

// TestRun: a full request gives an image of the target's size in the
// requested format with the faces swapped, and a 422 for no face.
func TestRun(t *testing.T) {
	p := pipe(t)
	res, err := p.Run(context.Background(), &Request{
		Source: demo(t, testenv.Group3), Target: demo(t, testenv.Group5),
		InputFacesIndex: "0,1,2", SourceFacesIndex: "0,1,2", DetectionFaceOrder: "left-right", ImageFormat: "webp", ImageQuality: 80,
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := imageio.DecodeConfig(res.Image, imageio.DefaultLimits)
	if err != nil || info.Format != "webp" || info.Width != 1280 || info.Height != 932 || res.ContentType != "image/webp" {
		t.Errorf("result %+v %q, %v", info, res.ContentType, err)
	}
	if res.FacesSwapped != 3 || len(res.Regions) != 3 {
		t.Errorf("%d faces swapped, %d regions", res.FacesSwapped, len(res.Regions))
	}
	var names []string
	for _, s := range res.Stages {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "decode,detect,select,swap,encode" {
		t.Errorf("stages %v", names)
	}
	// Each swapped face is judged, in request order, numbered as the
	// request numbers it: the second source woman, turned to the image's
	// left with her mouth closed, into the office's second woman, turned
	// to its right and laughing, is beyond the engine; the others are not.
	var judged []string
	for _, f := range res.Faces {
		judged = append(judged, fmt.Sprintf("%d<-%d:%v", f.TargetIndex, f.SourceIndex, f.Estimate.Reasons()))
		if f.Estimate.Poor() != (f.Estimate.Score < 0.5) {
			t.Errorf("face %d: score %.2f, poor %v", f.TargetIndex, f.Estimate.Score, f.Estimate.Poor())
		}
	}
	if want := "0<-0:[] 1<-1:[pose-gap expression-gap] 2<-2:[]"; strings.Join(judged, " ") != want {
		t.Errorf("faces judged %s, want %s", strings.Join(judged, " "), want)
	}
	_, err = p.Run(context.Background(), &Request{Source: demo(t, testenv.NoFace), Target: demo(t, testenv.Group5)})
	if faceswap.StatusOf(err) != 422 || faceswap.PublicMessage(err) != "No face was found in source_img." {
		t.Errorf("no face: %v", err)
	}
}

// TestGenderFilterOffice: with detect_gender_input the indices count only
// faces of that gender, on the shared office photo (three women, two men:
// the demo photos show only women).
func TestGenderFilterOffice(t *testing.T) {
	p := pipe(t)
	office := read(t, "group5_office_meeting.jpg")
	img, _, err := imageio.Decode(office, imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	all, err := p.Analyzer.Analyze(img, analysis.Options{Attributes: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []selection.GenderFilter{selection.OnlyFemale, selection.OnlyMale} {
		want := selection.Select(all, g, selection.LeftRight)
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("the analyser finds %d %s faces of %d", len(want), g, len(all))
		}
		idx := make([]string, len(want))
		for i := range want {
			idx[i] = string(rune('0' + i))
		}
		res, err := p.Run(context.Background(), &Request{
			Source: read(t, "portrait_woman_frontal_astronaut_collins.png"), Target: office,
			InputFacesIndex: strings.Join(idx, ","), DetectGenderInput: string(g), DetectionFaceOrder: "left-right", ImageFormat: "png",
		})
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		// exactly the faces of that gender were swapped, in left-right order
		if len(res.Regions) != len(want) {
			t.Fatalf("%s: %d regions, want %d", g, len(res.Regions), len(want))
		}
		for i, r := range res.Regions {
			b := want[i].Box
			c := faceswap.Point{X: b.X + b.W/2, Y: b.Y + b.H/2}
			if c.X < float64(r.Bounds.Min.X) || c.X > float64(r.Bounds.Max.X) || c.Y < float64(r.Bounds.Min.Y) || c.Y > float64(r.Bounds.Max.Y) {
				t.Errorf("%s: region %d %v is not on face %v", g, i, r.Bounds, b)
			}
		}
		// one index past them is out of range, with the filtered count
		_, err = p.Run(context.Background(), &Request{
			Source: read(t, "portrait_woman_frontal_astronaut_collins.png"), Target: office,
			InputFacesIndex: string(rune('0' + len(want))), DetectGenderInput: string(g),
		})
		wantMsg := `input_faces_index ` + string(rune('0'+len(want))) + ` is out of range: target_img has`
		if faceswap.StatusOf(err) != 422 || !strings.Contains(faceswap.PublicMessage(err), wantMsg) || !strings.Contains(faceswap.PublicMessage(err), `after gender filter "`+string(g)+`"`) {
			t.Errorf("%s out of range: %v", g, err)
		}
	}
}

// TestUseDetector: an operator's named detector (here the real RetinaFace
// MobileNet-0.25 test model, installed in a temporary models folder)
// proposes the faces for the swap; the mesh still confirms them. A detector
// that is not installed is the 404 that says how to install it.
func TestUseDetector(t *testing.T) {
	p := pipe(t)
	rt := testenv.Runtime(t)
	home := t.TempDir()
	if err := os.MkdirAll(home+"/onnx", 0o755); err != nil {
		t.Fatal(err)
	}
	src := testenv.TestdataDir(t) + "/models/retinaface_mobilenet0.25_640.onnx"
	if err := os.Symlink(src, home+"/onnx/retinaface_mobile0.25.onnx"); err != nil {
		t.Fatal(err)
	}
	q := *p
	if err := q.UseDetector(rt, models.Paths{Home: home}, "RetinaFace_Mobile0.25"); err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(read(t, "group5_office_meeting.jpg"), imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	faces, err := q.Analyzer.Analyze(img, analysis.Options{})
	if err != nil || len(faces) != 5 {
		t.Fatalf("%d faces with RetinaFace proposals, want 5: %v", len(faces), err)
	}
	err = q.UseDetector(rt, models.Paths{Home: home}, "YOLOv5l")
	if faceswap.StatusOf(err) != 404 || !strings.Contains(faceswap.PublicMessage(err), `faceswap models pull YOLOv5l`) {
		t.Errorf("missing detector: %v", err)
	}
}

// TestIrisesOfPairs: before the swap, every face the pairs use gets its
// irises (the engine compares how much of each eye shows), a source given
// to several targets the same ones in every pair, the same whether the
// source's run beside the target's or not.
func TestIrisesOfPairs(t *testing.T) {
	p := pipe(t)
	src := testenv.Load(t, testenv.Photo(t, testenv.Portrait))
	dst := testenv.Load(t, testenv.Photo(t, testenv.Group5))
	sf, err := p.Analyzer.Analyze(src, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	df, err := p.Analyzer.Analyze(dst, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := selection.Pairs(sf, df, selection.Request{TargetIndices: []int{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range pairs {
		if pr.Source.Irises != ([2]faceswap.Circle{}) || pr.Target.Irises != ([2]faceswap.Circle{}) {
			t.Fatal("analysis gave irises before the pairs were chosen")
		}
	}
	beside := append([]selection.Pair(nil), pairs...)
	if err := p.irises(src, dst, pairs, false); err != nil {
		t.Fatal(err)
	}
	if err := p.irises(src, dst, beside, true); err != nil {
		t.Fatal(err)
	}
	for i := range pairs {
		if pairs[i].Source.Irises != beside[i].Source.Irises || pairs[i].Target.Irises != beside[i].Target.Irises {
			t.Errorf("pair %d: irises %+v / %+v serially, %+v / %+v side by side", i, pairs[i].Source.Irises, pairs[i].Target.Irises, beside[i].Source.Irises, beside[i].Target.Irises)
		}
	}
	for i, pr := range pairs {
		for _, f := range []faceswap.Face{pr.Source, pr.Target} {
			for e, c := range f.Irises {
				if b := f.Box; c.R <= 0 || c.X < b.X || c.X > b.X+b.W || c.Y < b.Y || c.Y > b.Y+b.H {
					t.Errorf("pair %d: iris %d %+v, want one inside the face box %+v", i, e, c, f.Box)
				}
			}
		}
		if pr.Source.Irises != pairs[0].Source.Irises {
			t.Errorf("pair %d: the source's irises %+v, pair 0's %+v", i, pr.Source.Irises, pairs[0].Source.Irises)
		}
	}
}
