package httpapi

import (
	"context"
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"faceswap"
	"faceswap/cpu"
	"faceswap/fetch"
	"faceswap/jobs"
	"faceswap/pipeline"
	"faceswap/selection"
)

// swapFields are the fields of POST /v1/faceswap-v3-multifaceswap (SPEC §2)
// and our swap_model extension.
var swapFields = []fieldSpec{
	{name: "source_img", kind: imageField},
	{name: "target_img", kind: imageField},
	{name: "input_faces_index", kind: indexField},
	{name: "source_faces_index", kind: indexField},
	{name: "detection_face_order", kind: textField},
	{name: "detect_gender_input", kind: textField},
	{name: "detect_gender_source", kind: textField},
	{name: "face_restore", kind: textField},
	{name: "face_restore_weight", kind: numberField, min: 0, max: 1},
	{name: "facedetection", kind: textField},
	{name: "interpolation", kind: textField},
	{name: "image_format", kind: textField},
	{name: "image_quality", kind: intField, min: 10, max: 100},
	{name: "base64", kind: boolField},
	{name: "swap_model", kind: textField},
}

// swapRequest is a parsed swap request: the pipeline's fields, the two
// images still to resolve, and the output choice.
type swapRequest struct {
	req            pipeline.Request
	source, target value
	base64         bool
}

// parseSwap turns a form into a swap request, checking the required fields.
// Enum values stay as given: the pipeline matches them case-insensitively.
func parseSwap(f *form) (*swapRequest, error) {
	for _, name := range []string{"source_img", "target_img"} {
		if !f.has(name) {
			return nil, faceswap.Errorf(http.StatusBadRequest, "%s is required: give an http(s) URL, a data URI or the base64 of the image.", name)
		}
	}
	v := f.values
	s := &swapRequest{source: v["source_img"], target: v["target_img"], base64: v["base64"].bool}
	s.req = pipeline.NewRequest()
	s.req.InputFacesIndex = v["input_faces_index"].text
	s.req.SourceFacesIndex = v["source_faces_index"].text
	s.req.DetectionFaceOrder = v["detection_face_order"].text
	s.req.DetectGenderInput = v["detect_gender_input"].text
	s.req.DetectGenderSource = v["detect_gender_source"].text
	s.req.FaceRestore = v["face_restore"].text
	s.req.FaceDetection = v["facedetection"].text
	s.req.Interpolation = v["interpolation"].text
	s.req.ImageFormat = v["image_format"].text
	s.req.SwapModel = v["swap_model"].text
	if f.has("face_restore_weight") {
		s.req.FaceRestoreWeight = v["face_restore_weight"].num
	}
	if f.has("image_quality") {
		s.req.ImageQuality = int(v["image_quality"].num)
	}
	return s, nil
}

// timings collects the stages of one request in order.
type timings []pipeline.Stage

func (t *timings) add(name string, d time.Duration) {
	*t = append(*t, pipeline.Stage{Name: name, Duration: d})
}

// header renders Server-Timing: "fetch;dur=3.1, queue;dur=0, decode;dur=12.4, ...".
func (t timings) header() string {
	parts := make([]string, len(t))
	for i, s := range t {
		parts[i] = s.Name + ";dur=" + strconv.FormatFloat(ms(s.Duration), 'f', -1, 64)
	}
	return strings.Join(parts, ", ")
}

func (t timings) millis() map[string]float64 {
	m := make(map[string]float64, len(t))
	for _, s := range t {
		m[s.Name] = ms(s.Duration)
	}
	return m
}

// ms rounds d to milliseconds with one decimal.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e5) / 10 }

// handleSwap serves POST /v1/faceswap-v3-multifaceswap: authenticate, rate
// limit, check the balance, admit (or 503), parse, fetch the images, run
// the pipeline on a worker, charge, answer. Only the 200 is charged, and
// the charge happens after the image is ready and before it is written;
// if a concurrent request spent the credits meanwhile, the image is dropped
// and the answer is 406.
func (a *API) handleSwap(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.opt.Deadline)
	defer cancel()
	fail := func(err error) { a.fail(w, r, ctx, err) }

	key, balance, err := a.beginSwap(ctx, w, r)
	if err != nil {
		fail(err)
		return
	}
	t, ok := a.pool.enter()
	if !ok {
		fail(errOverloaded)
		return
	}
	defer t.leave()

	sr, _, err := a.readSwap(ctx, w, r, swapFields, balance)
	if err != nil {
		fail(err)
		return
	}

	var tm timings
	start := time.Now()
	if sr.req.Source, sr.req.Target, err = a.images(ctx, "source_img", sr.source, "target_img", sr.target); err != nil {
		fail(err)
		return
	}
	tm.add("fetch", time.Since(start))

	var res *pipeline.Result
	queued := time.Now()
	err = t.do(ctx, func(core *cpu.Core) (err error) {
		tm.add("queue", time.Since(queued))
		res, err = a.opt.Pipeline.RunOn(ctx, core, &sr.req)
		return err
	})
	if err != nil {
		fail(err)
		return
	}
	tm = append(tm, res.Stages...)

	cost := a.opt.Price.Of(res.FacesSwapped)
	remaining := balance
	if cost > 0 {
		if remaining, err = a.opt.Accounts.Charge(ctx, key.ID, cost, stateOf(r).id); err != nil {
			fail(err)
			return
		}
		a.metrics.charged.Add(float64(cost))
	}

	for _, s := range tm {
		a.metrics.stages.WithLabelValues(s.Name).Observe(s.Duration.Seconds())
	}
	a.metrics.faces.Observe(float64(res.FacesSwapped))
	h := w.Header()
	h.Set("X-Remaining-Credits", strconv.FormatInt(remaining, 10))
	h.Set("X-Faces-Swapped", strconv.Itoa(res.FacesSwapped))
	h.Set("Server-Timing", tm.header())
	faces := jobs.FacesQuality(res.Faces)
	setQuality(h, faces)
	if sr.base64 {
		writeJSON(w, http.StatusOK, jobs.ImageJSON{
			Image:        base64.StdEncoding.EncodeToString(res.Image),
			FacesSwapped: res.FacesSwapped,
			TimingsMS:    tm.millis(),
			FacesQuality: faces,
		})
		return
	}
	h.Set("Content-Type", res.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(res.Image)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(res.Image)
}

// readSwap reads and checks a swap request's body, for the sync and the
// async call alike: the body at a minimum pace, the fields (unknown ones
// listed in a Warning header), the pipeline's own checks before any image
// is fetched, and, when the cost is per face, the balance against the
// faces asked for.
func (a *API) readSwap(ctx context.Context, w http.ResponseWriter, r *http.Request, fields []fieldSpec, balance int64) (*swapRequest, *form, error) {
	deadline, _ := ctx.Deadline()
	read := a.paceBody(w, r, deadline)
	f, err := parseForm(w, r, a.opt.MaxBody, a.opt.MaxImageBytes, fields)
	read()
	if err != nil {
		return nil, nil, err
	}
	if warn := warning(f.unknown); warn != "" {
		w.Header().Set("Warning", warn)
	}
	sr, err := parseSwap(f)
	if err != nil {
		return nil, nil, err
	}
	// the fields are checked before any image is fetched
	if err := a.opt.Pipeline.Check(&sr.req); err != nil {
		return nil, nil, err
	}
	if a.opt.Price.PerFace {
		idx, err := selection.ParseIndices("input_faces_index", sr.req.InputFacesIndex)
		if err != nil {
			return nil, nil, err
		}
		if balance < a.opt.Price.Of(len(idx)) {
			return nil, nil, faceswap.ErrInsufficientCredits
		}
	}
	return sr, f, nil
}

// images resolves two image fields at once (a URL is fetched, a data URI
// or base64 decoded, a file part taken as is) and returns the first error.
func (a *API) images(ctx context.Context, f1 string, v1 value, f2 string, v2 value) ([]byte, []byte, error) {
	type result struct {
		data []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		d, err := a.image(ctx, f1, v1)
		ch <- result{d, err}
	}()
	d2, err2 := a.image(ctx, f2, v2)
	r1 := <-ch
	if r1.err != nil {
		return nil, nil, r1.err
	}
	if err2 != nil {
		return nil, nil, err2
	}
	return r1.data, d2, nil
}

// image resolves one image field.
func (a *API) image(ctx context.Context, field string, v value) ([]byte, error) {
	if v.file {
		if int64(len(v.data)) > a.opt.MaxImageBytes {
			return nil, faceswap.Errorf(http.StatusRequestEntityTooLarge, "%s is over the server's limit of %s per image.", field, faceswap.FormatBytes(a.opt.MaxImageBytes))
		}
		return v.data, nil
	}
	data, err := fetch.Resolve(ctx, a.opt.Fetcher, field, v.text, a.opt.MaxImageBytes)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, faceswap.Errorf(http.StatusBadRequest, "%s is empty.", field)
	}
	return data, nil
}
