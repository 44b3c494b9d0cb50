package pipeline

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"faceswap"
	"faceswap/analysis"
	"faceswap/imageio"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/restore"
	"faceswap/restore/onnxrestore"
	"faceswap/restore/standin"
	"faceswap/swap"
)

// Restoration runs on stand-in models (package standin) with the real
// models' interfaces.

func standinRestorer(t testing.TB, name string, spec standin.Spec) restore.Restorer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, spec.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := onnxrestore.New(testenv.Runtime(t), name, path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// withRestorers returns a copy of the test pipeline with these restorers.
func withRestorers(t testing.TB, rs ...restore.Restorer) *Pipeline {
	q := *pipe(t)
	q.Restoration = map[string]restore.Restorer{}
	for _, r := range rs {
		q.Restoration[r.Name()] = r
	}
	return &q
}

func stageNames(res *Result) string {
	var names []string
	for _, s := range res.Stages {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

func decodePNG(t testing.TB, data []byte) *image.NRGBA {
	t.Helper()
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// A face_restore model that is not installed is the documented 404, also
// when other restorers are.
func TestRestoreNotInstalled(t *testing.T) {
	p := &Pipeline{Engines: map[string]swap.Engine{}, Restoration: map[string]restore.Restorer{"GFPGANv1.3.pth": &recorder{name: "GFPGANv1.3.pth"}}}
	for _, c := range []struct{ v, msg string }{
		{"GFPGANv1.4.pth", `face_restore "GFPGANv1.4.pth" is not installed on this server; install it with "faceswap models pull GFPGANv1.4" or use "disable".`},
		{"CodeFormer-v0.1.0.pth", `face_restore "codeformer-v0.1.0.pth" is not installed on this server; install it with "faceswap models pull codeformer-v0.1.0" or use "disable".`},
	} {
		_, err := p.Run(context.Background(), &Request{FaceRestore: c.v, Source: []byte("x"), Target: []byte("x")})
		if faceswap.StatusOf(err) != 404 || faceswap.PublicMessage(err) != c.msg {
			t.Errorf("%s: %v, want 404 %q", c.v, err, c.msg)
		}
	}
}

// groupRequest swaps 2 of the group photo's 5 faces (left-right order
// 1 and 3) with the mesh engine, as PNG so the pixels can be compared.
func groupRequest(t testing.TB, restorer string, weight float64) *Request {
	return &Request{
		Source: demo(t, testenv.Portrait), Target: demo(t, testenv.Group5),
		InputFacesIndex: "1,3", DetectionFaceOrder: "left-right", ImageFormat: "png", SwapModel: "mesh",
		FaceRestore: restorer, FaceRestoreWeight: weight,
	}
}

var (
	groupOnce  sync.Once
	groupFaces []faceswap.Face
)

// group returns the decoded group photo of groupRequest and its faces
// in left-right order.
func group(t testing.TB) (*image.NRGBA, []faceswap.Face) {
	img := decodePNG(t, demo(t, testenv.Group5))
	groupOnce.Do(func() {
		faces, err := pipe(t).Analyzer.Analyze(img, analysis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		groupFaces = faces
	})
	var out []faceswap.Face
	for _, f := range groupFaces {
		i := 0
		for i < len(out) && out[i].Box.X <= f.Box.X {
			i++
		}
		out = append(out[:i], append([]faceswap.Face{f}, out[i:]...)...)
	}
	return img, out
}

func inRegions(regions []swap.Region, x, y int) bool {
	for _, r := range regions {
		if (image.Point{x, y}).In(r.Bounds) && r.Alpha[(y-r.Bounds.Min.Y)*r.Bounds.Dx()+x-r.Bounds.Min.X] > 0 {
			return true
		}
	}
	return false
}

// A constant restorer through the pipeline, on the group photo with 2 of
// its 5 faces swapped: the restore stage runs; against the same request
// without restoration, only pixels inside the swapped faces' regions
// change, the swapped faces' centres take the restorer's constant, and the
// other 3 faces stay byte-identical to the input. Weight 0 gives exactly
// the unrestored result.
func TestRestoreSwappedFacesOnly(t *testing.T) {
	grey := standinRestorer(t, "GFPGANv1.4.pth", standin.GFPGAN(standin.Constant, 0.2)) // 153
	p := withRestorers(t, grey)
	plain, err := p.Run(context.Background(), groupRequest(t, "disable", 0.75))
	if err != nil {
		t.Fatal(err)
	}
	if got := stageNames(plain); got != "decode,detect,select,swap,encode" {
		t.Errorf("without restoration, stages %s", got)
	}
	res, err := p.Run(context.Background(), groupRequest(t, "GFPGANv1.4.pth", 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := stageNames(res); got != "decode,detect,select,swap,restore,encode" {
		t.Errorf("with restoration, stages %s", got)
	}
	if res.FacesSwapped != 2 || len(res.Regions) != 2 {
		t.Fatalf("%d faces swapped, %d regions", res.FacesSwapped, len(res.Regions))
	}
	orig, faces := group(t)
	if len(faces) != 5 {
		t.Fatalf("%d faces in the group photo, want 5", len(faces))
	}
	a, b := decodePNG(t, plain.Image), decodePNG(t, res.Image)
	changed := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			o := a.PixOffset(x, y)
			if string(a.Pix[o:o+4]) == string(b.Pix[o:o+4]) {
				continue
			}
			changed++
			if !inRegions(res.Regions, x, y) {
				t.Fatalf("(%d,%d) restored outside the swapped faces' regions", x, y)
			}
		}
	}
	t.Logf("restoration changed %d pixels", changed)
	for _, i := range []int{1, 3} {
		c := faces[i].Box.Center()
		px := b.Pix[b.PixOffset(int(c.X), int(c.Y)):]
		if px[0] != 153 || px[1] != 153 || px[2] != 153 {
			t.Errorf("swapped face %d: centre %v is %v, want the restorer's 153", i, c, px[:3])
		}
	}
	for _, i := range []int{0, 2, 4} {
		bx := faces[i].Box
		r := image.Rect(int(bx.X), int(bx.Y), int(bx.X+bx.W)+1, int(bx.Y+bx.H)+1).Intersect(orig.Rect)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			o := orig.PixOffset(r.Min.X, y)
			if string(orig.Pix[o:o+4*r.Dx()]) != string(b.Pix[o:o+4*r.Dx()]) {
				t.Fatalf("face %d (not swapped) changed in row %d of its box %v", i, y, r)
			}
		}
	}
	zero, err := p.Run(context.Background(), groupRequest(t, "GFPGANv1.4.pth", 0))
	if err != nil {
		t.Fatal(err)
	}
	if string(decodePNG(t, zero.Image).Pix) != string(a.Pix) {
		t.Error("face_restore_weight 0 changed the result")
	}
	if got := stageNames(zero); got != "decode,detect,select,swap,restore,encode" {
		t.Errorf("weight 0: stages %s", got)
	}
}

// recorder is a restorer that records what it is given.
type recorder struct {
	name  string
	faces []faceswap.Face
	opt   restore.Options
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Restore(dst *image.NRGBA, faces []faceswap.Face, opt restore.Options) ([]swap.Region, error) {
	r.faces, r.opt = faces, opt
	return make([]swap.Region, len(faces)), nil
}

// fakeAligner returns fixed detections.
type fakeAligner struct {
	dets  []faceswap.Face
	calls int
}

func (a *fakeAligner) Faces(*image.NRGBA) ([]faceswap.Face, error) {
	a.calls++
	return a.dets, nil
}

// The restorer gets each swapped face once, with the swap's region, the
// request's weight and kernel; the facedetection detector named by the
// request, when installed, gives the landmarks of the faces it finds,
// and the others keep their own.
func TestRestoreFacesAndLandmarks(t *testing.T) {
	rec := &recorder{name: "codeformer-v0.1.0.pth"}
	p := withRestorers(t, rec)
	_, faces := group(t)
	moved := faces[1]
	moved.Box.X += 3
	for i := range moved.Keypoints {
		moved.Keypoints[i].X += 2
	}
	yolo := &fakeAligner{dets: []faceswap.Face{faces[0], moved}}
	p.Aligners = map[string]Aligner{"YOLOv5n": yolo}
	req := groupRequest(t, "CODEFORMER-v0.1.0.pth", 0.3)
	req.InputFacesIndex = "1,3,1" // face 1 twice
	req.Interpolation = "lanczos"
	res, err := p.Run(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.faces) != 2 || len(rec.opt.Within) != 2 || rec.opt.Weight != 0.3 || rec.opt.Interpolation.String() != "Lanczos" {
		t.Fatalf("restorer got %d faces, %d regions, %+v", len(rec.faces), len(rec.opt.Within), rec.opt)
	}
	if yolo.calls != 0 {
		t.Error("a detector the request did not name ran")
	}
	// without the named detector: the faces' own keypoints
	if rec.faces[0].Keypoints != faces[1].Keypoints || rec.faces[1].Keypoints != faces[3].Keypoints {
		t.Errorf("keypoints %v, want the swapped faces' own", rec.faces)
	}
	// the merged region of face 1 covers both of its swaps
	if !res.Regions[0].Bounds.Union(res.Regions[2].Bounds).Eq(rec.opt.Within[0].Bounds) {
		t.Errorf("face 1's region %v, swaps %v and %v", rec.opt.Within[0].Bounds, res.Regions[0].Bounds, res.Regions[2].Bounds)
	}
	req.FaceDetection = "yolov5n"
	if _, err := p.Run(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if yolo.calls != 1 {
		t.Fatalf("the named detector ran %d times", yolo.calls)
	}
	if rec.faces[0].Keypoints != moved.Keypoints || rec.faces[1].Keypoints != faces[3].Keypoints {
		t.Errorf("keypoints %v; want the detection's for face 1 and face 3's own", rec.faces)
	}
	// a facedetection the request names that is not installed is a 404
	// when restoring, and does not matter otherwise
	req.FaceDetection = "Retinaface_resnet50"
	_, err = p.Run(context.Background(), req)
	want := `facedetection "retinaface_resnet50" is not installed on this server; install it with "faceswap models pull retinaface_resnet50" or leave facedetection out.`
	if faceswap.StatusOf(err) != 404 || faceswap.PublicMessage(err) != want {
		t.Errorf("missing facedetection: %v", err)
	}
	req.FaceRestore = "disable"
	if _, err := p.Run(context.Background(), req); err != nil {
		t.Errorf("missing facedetection without restoration: %v", err)
	}
}

// tempHome is a models folder with the set-up's analysis models (links to
// the real ones) and nothing optional.
func tempHome(t *testing.T) (models.Paths, onnx.Config) {
	set := testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/facemesh.onnx", "onnx/faceres.onnx", "onnx/iris.onnx")
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{models.BlazeFace, models.FaceMesh, models.FaceRes, models.Iris} {
		if err := os.Symlink(set.ONNX(m), filepath.Join(home, "onnx", m+".onnx")); err != nil {
			t.Fatal(err)
		}
	}
	return models.Paths{Home: home}, onnx.Config{LibraryPath: set.ORTLibrary()}
}

// With a real facedetection model installed (the RetinaFace MobileNet-0.25
// test weights), Open loads it, and its landmarks align the swapped faces
// for restoration: each face gets the detector's five points, which lie
// near the face mesh's.
func TestOpenDetectorAligns(t *testing.T) {
	p, oc := tempHome(t)
	src := filepath.Join(testenv.TestdataDir(t), "models", "retinaface_mobilenet0.25_640.onnx")
	if err := os.Symlink(src, p.ONNX("retinaface_mobile0.25")); err != nil {
		t.Fatal(err)
	}
	pl, rt, err := Open(p, oc)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if len(pl.Aligners) != 1 || pl.Aligners["retinaface_mobile0.25"] == nil {
		t.Fatalf("aligners %v", pl.Aligners)
	}
	rec := &recorder{name: "GFPGANv1.4.pth"}
	pl.Restoration = map[string]restore.Restorer{rec.name: rec}
	req := groupRequest(t, "GFPGANv1.4.pth", 0.8)
	req.FaceDetection = "retinaface_mobile0.25"
	if _, err := pl.Run(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	_, faces := group(t)
	if len(rec.faces) != 2 {
		t.Fatalf("restorer got %d faces", len(rec.faces))
	}
	for i, f := range []faceswap.Face{faces[1], faces[3]} {
		got := rec.faces[i].Keypoints
		if got == f.Keypoints {
			t.Errorf("face %d kept the mesh's keypoints", i)
		}
		var worst float64
		for k := range got {
			worst = max(worst, math.Hypot(got[k].X-f.Keypoints[k].X, got[k].Y-f.Keypoints[k].Y))
		}
		t.Logf("face %d (box %.0f px): the detector's points are within %.1f px of the mesh's", i, f.Box.W, worst)
		if worst > 0.15*f.Box.W {
			t.Errorf("face %d: a detector point is %.1f px from the mesh's (box %.0f px)", i, worst, f.Box.W)
		}
	}
	// the other detectors are not installed
	req.FaceDetection = "YOLOv5n"
	if _, err := pl.Run(context.Background(), req); faceswap.StatusOf(err) != 404 {
		t.Errorf("YOLOv5n (not installed): %v", err)
	}
	// a file that is not a RetinaFace is a start-up error
	if err := os.Remove(p.ONNX("retinaface_mobile0.25")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.ONNX("retinaface_mobile0.25"), standin.GFPGAN(standin.Identity, 0).Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(p, oc); !errors.Is(err, models.ErrNotSetUp) || !strings.Contains(err.Error(), "faceswap models pull retinaface_mobile0.25") {
		t.Errorf("a broken detector file: %v", err)
	}
}

// Open loads the restorers installed in the models folder and leaves the
// others out; a restorer file that does not fit its role is a start-up
// error that says how to reinstall it.
func TestOpenRestorers(t *testing.T) {
	p, oc := tempHome(t)
	write := func(name string, data []byte) {
		if err := os.WriteFile(p.ONNX(name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("GFPGANv1.4", standin.GFPGAN(standin.Identity, 0).Marshal())
	write("codeformer-v0.1.0", standin.CodeFormer(standin.Identity, 0).Marshal())
	pl, rt, err := Open(p, oc)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if len(pl.Restoration) != 2 || pl.Restoration["GFPGANv1.4.pth"] == nil || pl.Restoration["codeformer-v0.1.0.pth"] == nil {
		t.Fatalf("restorers %v", pl.Restoration)
	}
	res, err := pl.Run(context.Background(), &Request{
		Source: demo(t, testenv.Portrait), Target: demo(t, testenv.Group3),
		FaceRestore: "GFPGANv1.4.pth", FaceRestoreWeight: 0.75,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stageNames(res); got != "decode,detect,select,swap,restore,encode" {
		t.Errorf("stages %s", got)
	}
	_, err = pl.Run(context.Background(), &Request{FaceRestore: "GFPGANv1.3.pth", Source: []byte("x"), Target: []byte("x")})
	if faceswap.StatusOf(err) != 404 {
		t.Errorf("GFPGANv1.3 (not installed): %v", err)
	}
	// a CodeFormer file where GFPGAN v1.3 belongs
	write("GFPGANv1.3", standin.CodeFormer(standin.Identity, 0).Marshal())
	_, _, err = Open(p, oc)
	if !errors.Is(err, models.ErrNotSetUp) || !strings.Contains(err.Error(), `has 2 inputs, want 1`) || !strings.Contains(err.Error(), `faceswap models pull GFPGANv1.3`) {
		t.Errorf("mismatched file: %v", err)
	}
}
