// Package pipeline runs one swap request through every stage: check the
// fields, decode both images, analyse their faces, select and pair them,
// swap, restore the swapped faces (when face_restore asks), and encode the
// result, timing each stage. Each pair is also judged before it is swapped
// (swap/assess: pose, sizes, visibility and expression of the two faces),
// and the result says which faces are beyond the engine; they are swapped
// all the same. The CLI and the HTTP API both call it, so a request means
// the same thing everywhere. A run computes on a core of the process's CPU
// scheduler (package cpu, Pipeline.CPU), shared by the synchronous and the
// asynchronous requests; when the scheduler has a second core idle, the run
// borrows it to decode and analyse the source image beside the target and
// to swap faces apart side by side, which cuts the latency of a request
// that has the server to itself. The answer is the same either way.
//
// Restoration and Face Boost: the swap engines paste their own output, so
// restoration runs right after the swap, on the swapped target faces only
// (each once, however many pairs swapped it): each is aligned to the FFHQ
// 512-px template — with the five landmarks of the facedetection detector
// run on the swapped picture (matched to the swapped faces by box overlap;
// a face it does not find keeps its own keypoints), or with the faces' own
// keypoints when the request leaves facedetection out and the default
// detector is not installed —
// restored at 512 px, and pasted back with the request's interpolation
// under the swap's own mask (restore.Options.Within). The restored 512-px
// crop is thus what ends up in the swapped face, so a large face gets
// 512-px detail rather than an enlarged 128-px swap: that is what Face
// Boost means here.
package pipeline

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"strings"
	"time"

	"faceswap"
	"faceswap/analysis"
	"faceswap/cpu"
	"faceswap/imageio"
	"faceswap/models"
	"faceswap/resample"
	"faceswap/restore"
	"faceswap/selection"
	"faceswap/swap"
	"faceswap/swap/assess"
)

// Request is a swap request with the API's fields (SPEC §2). Zero values
// take the API's defaults, except FaceRestoreWeight's, which is a weight
// like any other: NewRequest has its default. Images are the raw bytes of
// the files.
type Request struct {
	Source, Target     []byte
	InputFacesIndex    string  // default "0"
	SourceFacesIndex   string  // default "0"
	DetectionFaceOrder string  // default large-small
	DetectGenderInput  string  // default no
	DetectGenderSource string  // default no
	FaceRestore        string  // default disable
	FaceRestoreWeight  float64 // default DefaultRestoreWeight (NewRequest)
	FaceDetection      string  // default retinaface_resnet50
	Interpolation      string  // default Bilinear
	ImageFormat        string  // default jpeg
	ImageQuality       int     // default imageio.DefaultQuality (95); 0 means the default
	SwapModel          string  // default auto
}

// DefaultRestoreWeight is face_restore_weight's default.
const DefaultRestoreWeight = 0.75

// NewRequest returns a request with every field at its default: the one a
// caller (the API, the CLI) fills in from what it was given.
func NewRequest() Request {
	return Request{FaceRestoreWeight: DefaultRestoreWeight, ImageQuality: imageio.DefaultQuality}
}

// Stage is one timed step.
type Stage struct {
	Name     string
	Duration time.Duration
}

// Result is a finished swap.
type Result struct {
	Image        []byte // encoded
	Format       string // jpeg, png or webp
	ContentType  string
	Width        int
	Height       int
	FacesSwapped int
	Regions      []swap.Region
	Stages       []Stage
	// Queued is how long Run waited for a core before the first stage.
	Queued time.Duration
	// Faces are the swapped faces in the request's order (one per
	// input_faces_index entry), each with the estimate of how well the
	// engine could swap it. A poor pair is swapped all the same.
	Faces []FaceOutcome
}

// FaceOutcome is one swapped face and how well its pair suits the engine.
type FaceOutcome struct {
	// TargetIndex and SourceIndex are the faces' indices as the request
	// gives them (after the gender filter, in detection_face_order).
	TargetIndex, SourceIndex int
	Estimate                 assess.Estimate
}

// Pipeline holds what requests share. It is safe for concurrent use.
type Pipeline struct {
	Analyzer  *analysis.Analyzer
	Engines   map[string]swap.Engine // by swap_model name
	Preferred []string               // the order "auto" tries engines in
	Limits    imageio.Limits
	// Restoration holds the installed restorers by face_restore value
	// (e.g. "GFPGANv1.4.pth"); a request naming another is a 404.
	Restoration map[string]restore.Restorer
	// CPU is the scheduler whose cores runs compute on (Run takes one, and
	// borrows a second when one is idle); nil runs each request on its
	// caller's goroutine alone, with no bound on how many run at once.
	CPU *cpu.Scheduler
	// Aligners holds the installed facedetection detectors by name. The
	// one a request names finds the landmarks that align the swapped
	// faces for restoration. With restoration on, a facedetection the
	// request names that is not installed is a 404; when the request
	// leaves it out and the default (retinaface_resnet50) is not
	// installed, the faces' own keypoints (from the face mesh) align them.
	Aligners map[string]Aligner
}

// Aligner finds faces with their box and five landmarks (Box and
// Keypoints of faceswap.Face) in a picture: a facedetection detector.
type Aligner interface {
	Faces(img *image.NRGBA) ([]faceswap.Face, error)
}

// checked is a request whose fields have been parsed.
type checked struct {
	targetIdx, sourceIdx []int
	order                selection.Order
	genderIn, genderSrc  selection.GenderFilter
	kernel               resample.Kernel
	format               string
	quality              int
	engine               swap.Engine
	restorer             restore.Restorer // nil: face_restore disable
	detector             string           // facedetection
	weight               float64          // face_restore_weight
}

func oneOf(field, v string, allowed []string, def string) (string, error) {
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, nil
		}
	}
	return "", faceswap.Errorf(http.StatusBadRequest, "%s %q is not one of %s.", field, v, strings.Join(allowed, ", "))
}

// Check validates every field of r without touching the images, so a bad
// request fails before any work (or any fetching of its images).
func (p *Pipeline) Check(r *Request) error {
	_, err := p.check(r)
	return err
}

// check parses and validates every field.
func (p *Pipeline) check(r *Request) (*checked, error) {
	c := &checked{}
	var err error
	if c.targetIdx, err = selection.ParseIndices("input_faces_index", r.InputFacesIndex); err != nil {
		return nil, err
	}
	if c.sourceIdx, err = selection.ParseIndices("source_faces_index", r.SourceFacesIndex); err != nil {
		return nil, err
	}
	if len(c.sourceIdx) != 1 && len(c.sourceIdx) != len(c.targetIdx) {
		return nil, faceswap.Errorf(http.StatusBadRequest,
			"source_faces_index has %d indices and input_faces_index has %d; give one source index, or as many as target indices.",
			len(c.sourceIdx), len(c.targetIdx))
	}
	if c.order, err = selection.ParseOrder(r.DetectionFaceOrder); err != nil {
		return nil, err
	}
	if c.genderIn, err = selection.ParseGender("detect_gender_input", r.DetectGenderInput); err != nil {
		return nil, err
	}
	if c.genderSrc, err = selection.ParseGender("detect_gender_source", r.DetectGenderSource); err != nil {
		return nil, err
	}
	if c.kernel, err = resample.Parse(r.Interpolation); err != nil {
		return nil, err
	}
	q := r.ImageQuality
	if q == 0 {
		q = imageio.DefaultQuality
	}
	format := r.ImageFormat
	if format == "" {
		format = "jpeg"
	}
	if c.format, err = imageio.ParseOutput(format, q); err != nil {
		return nil, err
	}
	c.quality = q
	if r.FaceRestoreWeight < 0 || r.FaceRestoreWeight > 1 {
		return nil, faceswap.Errorf(http.StatusBadRequest, "face_restore_weight %g is outside 0-1.", r.FaceRestoreWeight)
	}
	detectors := models.Values(models.FieldFaceDetection)
	if c.detector, err = oneOf(models.FieldFaceDetection, r.FaceDetection, detectors, detectors[0]); err != nil {
		return nil, err
	}
	fr, err := oneOf(models.FieldFaceRestore, r.FaceRestore, models.Values(models.FieldFaceRestore), models.NoRestore)
	if err != nil {
		return nil, err
	}
	if fr != models.NoRestore {
		if c.restorer = p.Restoration[fr]; c.restorer == nil {
			m, _ := models.ByValue(models.FieldFaceRestore, fr)
			return nil, faceswap.Errorf(http.StatusNotFound,
				"face_restore %q is not installed on this server; install it with \"faceswap models pull %s\" or use \"disable\".", fr, m.Name)
		}
		c.weight = r.FaceRestoreWeight
		// A facedetection the request names must be installed; left out,
		// the default one aligns when installed, else the face mesh.
		if r.FaceDetection != "" && p.Aligners[c.detector] == nil {
			m, _ := models.ByValue(models.FieldFaceDetection, c.detector)
			return nil, faceswap.Errorf(http.StatusNotFound,
				"facedetection %q is not installed on this server; install it with \"faceswap models pull %s\" or leave facedetection out.", c.detector, m.Name)
		}
	}
	if c.engine, err = swap.Pick(r.SwapModel, p.Engines, p.Preferred); err != nil {
		return nil, err
	}
	return c, nil
}

// Run performs the request on a core of p.CPU, waiting its turn for one
// after the fields are checked (Result.Queued says how long it waited).
func (p *Pipeline) Run(ctx context.Context, r *Request) (*Result, error) {
	// a request with bad fields fails at once, without waiting
	c, err := p.check(r)
	if err != nil {
		return nil, err
	}
	if p.CPU == nil {
		return p.run(ctx, nil, r, c)
	}
	start := time.Now()
	core, err := p.CPU.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer core.Release()
	queued := time.Since(start)
	res, err := p.run(ctx, core, r, c)
	if err != nil {
		return nil, err
	}
	res.Queued = queued
	return res, nil
}

// RunOn performs the request on core, a core of a cpu.Scheduler the caller
// holds (the HTTP API's pool takes it, as it queues and meters its
// requests itself); when the scheduler has another core idle, the run
// borrows it for work beside its own. A nil core runs the request on the
// caller's goroutine alone.
func (p *Pipeline) RunOn(ctx context.Context, core *cpu.Core, r *Request) (*Result, error) {
	c, err := p.check(r)
	if err != nil {
		return nil, err
	}
	return p.run(ctx, core, r, c)
}

// run is RunOn with the request's fields checked (c).
func (p *Pipeline) run(ctx context.Context, core *cpu.Core, r *Request, c *checked) (*Result, error) {
	res := &Result{}
	t := time.Now()
	stage := func(name string) {
		now := time.Now()
		res.Stages = append(res.Stages, Stage{name, now.Sub(t)})
		t = now
	}
	var err error
	// With a second core (an idle one lent by the scheduler), the source
	// image is decoded and analysed beside the target, and faces apart are
	// swapped side by side; alone, one after the other.
	var (
		src, dst           *image.NRGBA
		srcFaces, dstFaces []faceswap.Face
		release            func()
	)
	if core != nil {
		if r, ok := core.Borrow(); ok {
			release = r
			defer release() // on the error paths; a no-op after the swap
		}
	}
	so := analysis.Options{Attributes: c.genderSrc != selection.AnyGender}
	do := analysis.Options{Attributes: c.genderIn != selection.AnyGender}
	if release != nil {
		if src, dst, err = p.decodeBoth(r); err != nil {
			return nil, err
		}
	} else {
		if src, err = p.Decode("source_img", r.Source); err != nil {
			return nil, err
		}
		if dst, err = p.Decode("target_img", r.Target); err != nil {
			return nil, err
		}
	}
	stage("decode")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if release != nil {
		if srcFaces, dstFaces, err = p.analyzeBoth(src, dst, so, do); err != nil {
			return nil, err
		}
	} else {
		if srcFaces, err = p.Analyzer.Analyze(src, so); err != nil {
			return nil, err
		}
		if dstFaces, err = p.Analyzer.Analyze(dst, do); err != nil {
			return nil, err
		}
	}
	stage("detect")
	pairs, err := selection.Pairs(srcFaces, dstFaces, selection.Request{
		SourceIndices: c.sourceIdx, TargetIndices: c.targetIdx,
		SourceGender: c.genderSrc, TargetGender: c.genderIn, Order: c.order,
	})
	if err != nil {
		return nil, err
	}
	if err := p.irises(src, dst, pairs, release != nil); err != nil {
		return nil, err
	}
	sp := make([]swap.Pair, len(pairs))
	res.Faces = make([]FaceOutcome, len(pairs))
	sources := map[int]assess.Measures{} // one source face may go into many
	for i, pr := range pairs {
		sp[i] = swap.Pair{Source: pr.Source, Target: pr.Target}
		sm, ok := sources[pr.SourceIndex]
		if !ok {
			sm = assess.MeasureIn(pr.Source, src)
			sources[pr.SourceIndex] = sm
		}
		res.Faces[i] = FaceOutcome{TargetIndex: pr.TargetIndex, SourceIndex: pr.SourceIndex,
			Estimate: assess.Judge(sm, assess.MeasureIn(pr.Target, dst))}
	}
	stage("select")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opt := swap.Options{Interpolation: c.kernel}
	if release != nil {
		// several faces apart are swapped side by side; one large face
		// has its full-resolution warp made beside the rest (swap/mesh)
		opt.Beside = besideSwap
	}
	if res.Regions, err = c.engine.Swap(dst, src, sp, opt); err != nil {
		return nil, err
	}
	// what the engine saw while swapping joins each face's estimate
	for i, r := range res.Regions[:min(len(res.Regions), len(res.Faces))] {
		for _, f := range r.Findings {
			res.Faces[i].Estimate.Fold(f)
		}
	}
	if release != nil {
		release()
	}
	res.FacesSwapped = len(sp)
	stage("swap")
	if c.restorer != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := p.restore(dst, sp, res.Regions, c); err != nil {
			return nil, err
		}
		stage("restore")
	}
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, dst, c.format, c.quality); err != nil {
		return nil, err
	}
	stage("encode")
	res.Image, res.Format, res.ContentType = buf.Bytes(), c.format, imageio.ContentType(c.format)
	res.Width, res.Height = dst.Rect.Dx(), dst.Rect.Dy()
	return res, nil
}

// restore runs the request's restorer on the swapped target faces, once
// each, limited to the regions their swaps changed; the facedetection
// detector, when installed, gives the landmarks that align them.
func (p *Pipeline) restore(dst *image.NRGBA, pairs []swap.Pair, regions []swap.Region, c *checked) error {
	targets := make([]faceswap.Face, len(pairs))
	for i, pr := range pairs {
		targets[i] = pr.Target
	}
	faces, within := restore.Swapped(targets, regions)
	if al := p.Aligners[c.detector]; al != nil {
		dets, err := al.Faces(dst)
		if err != nil {
			return err
		}
		faces, _ = restore.Realign(faces, dets)
	}
	_, err := c.restorer.Restore(dst, faces, restore.Options{Weight: c.weight, Interpolation: c.kernel, Within: within})
	return err
}

// Faces returns the faces of img with gender and age, numbered as a swap
// with the same detection_face_order and gender filter numbers them: face
// i of the answer is the one input_faces_index (or source_faces_index) i
// swaps. POST /v1/faces and the detect command answer with it.
func (p *Pipeline) Faces(img *image.NRGBA, order selection.Order, gender selection.GenderFilter) ([]faceswap.Face, error) {
	faces, err := p.Analyzer.Analyze(img, analysis.Options{Attributes: true})
	if err != nil {
		return nil, err
	}
	return selection.Select(faces, gender, order), nil
}

func (p *Pipeline) limits() imageio.Limits {
	if p.Limits == (imageio.Limits{}) {
		return imageio.DefaultLimits
	}
	return p.Limits
}

// Decode decodes the image of a request field within the pipeline's
// limits; an error names the field.
func (p *Pipeline) Decode(field string, data []byte) (*image.NRGBA, error) {
	img, _, err := imageio.Decode(data, p.limits())
	if err != nil {
		return nil, faceswap.InField(field, err)
	}
	return img, nil
}

// CheckImages checks both images' headers as decoding would (format,
// dimensions, limits) without decoding their pixels, so a request queued
// for later can be refused at once.
func (p *Pipeline) CheckImages(r *Request) error {
	for _, in := range []struct {
		field string
		data  []byte
	}{{"source_img", r.Source}, {"target_img", r.Target}} {
		if _, err := imageio.DecodeConfig(in.data, p.limits()); err != nil {
			return faceswap.InField(in.field, err)
		}
	}
	return nil
}

// irises finds the irises of the faces the pairs use, each face once (a
// source given to several targets is one face), so the engine can compare
// how much of each eye shows. With the helper granted, the source's run
// beside the target's.
func (p *Pipeline) irises(src, dst *image.NRGBA, pairs []selection.Pair, helper bool) error {
	first := map[int]int{} // a source face's index → the first pair that has it
	var srcFaces []*faceswap.Face
	dstFaces := make([]*faceswap.Face, len(pairs))
	for i := range pairs {
		dstFaces[i] = &pairs[i].Target
		if _, ok := first[pairs[i].SourceIndex]; !ok {
			first[pairs[i].SourceIndex] = i
			srcFaces = append(srcFaces, &pairs[i].Source)
		}
	}
	srcRun := func() error { return p.Analyzer.Irises(src, srcFaces) }
	var wait func() error
	if helper {
		wait = beside(srcRun)
	} else {
		err := srcRun()
		wait = func() error { return err }
	}
	derr := p.Analyzer.Irises(dst, dstFaces)
	if err := wait(); err != nil {
		return err
	}
	if derr != nil {
		return derr
	}
	for i := range pairs {
		pairs[i].Source.Irises = pairs[first[pairs[i].SourceIndex]].Source.Irises
	}
	return nil
}
