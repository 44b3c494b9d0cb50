package httpapi

import (
	"context"
	"net/http"
	"time"

	"faceswap"
	"faceswap/cpu"
	"faceswap/pipeline"
	"faceswap/selection"
)

// facesFields are the fields of POST /v1/faces.
var facesFields = []fieldSpec{
	{name: "image", kind: imageField},
	{name: "detection_face_order", kind: textField},
	{name: "detect_gender", kind: textField},
}

// handleFaces serves POST /v1/faces: the faces of one image, numbered as a
// swap with the same detection_face_order and gender filter would number
// them, so a client can pick input_faces_index before swapping. It needs
// a valid key and counts against the key's rate limit and the worker pool,
// but costs no credits.
func (a *API) handleFaces(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.opt.Deadline)
	defer cancel()
	fail := func(err error) { a.fail(w, r, ctx, err) }
	if _, err := a.begin(ctx, w, r, true); err != nil {
		fail(err)
		return
	}
	t, ok := a.pool.enter()
	if !ok {
		fail(errOverloaded)
		return
	}
	defer t.leave()
	deadline, _ := ctx.Deadline()
	read := a.paceBody(w, r, deadline)
	f, err := parseForm(w, r, a.opt.MaxBody, a.opt.MaxImageBytes, facesFields)
	read()
	if err != nil {
		fail(err)
		return
	}
	if warn := warning(f.unknown); warn != "" {
		w.Header().Set("Warning", warn)
	}
	if !f.has("image") {
		fail(faceswap.Errorf(http.StatusBadRequest, "image is required: give an http(s) URL, a data URI or the base64 of the image."))
		return
	}
	order, err := selection.ParseOrder(f.values["detection_face_order"].text)
	if err != nil {
		fail(err)
		return
	}
	gender, err := selection.ParseGender("detect_gender", f.values["detect_gender"].text)
	if err != nil {
		fail(err)
		return
	}
	start := time.Now()
	data, err := a.image(ctx, "image", f.values["image"])
	if err != nil {
		fail(err)
		return
	}
	fetched := time.Since(start)

	var out pipeline.FaceList
	err = t.do(ctx, func(*cpu.Core) (err error) {
		out, err = a.detect(data, order, gender)
		return err
	})
	if err != nil {
		fail(err)
		return
	}
	a.metrics.stages.WithLabelValues("fetch").Observe(fetched.Seconds())
	writeJSON(w, http.StatusOK, out)
}

// detect lists the faces of the image in order.
func (a *API) detect(data []byte, order selection.Order, gender selection.GenderFilter) (pipeline.FaceList, error) {
	img, err := a.opt.Pipeline.Decode("image", data)
	if err != nil {
		return pipeline.FaceList{}, err
	}
	faces, err := a.opt.Pipeline.Faces(img, order, gender)
	if err != nil {
		return pipeline.FaceList{}, err
	}
	return pipeline.ListFaces(img, faces, false), nil
}
