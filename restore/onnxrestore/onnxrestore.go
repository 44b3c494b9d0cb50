// Package onnxrestore runs the face restoration models face_restore
// names — GFPGAN v1.3 and v1.4, and CodeFormer v0.1.0 — from their ONNX
// exports, as restore.Restorer.
//
// For each face, in order:
//
//  1. The face is aligned to the FFHQ 512-px five-point template
//     (similarity transform on the face's keypoints, align.FFHQ512) and
//     its 512×512 crop sampled with the request's interpolation kernel,
//     from a half-size pyramid level when the face is larger than the
//     crop (raster.SampleImage), black outside the picture.
//  2. The crop goes to the model as RGB (x/255 − 0.5)/0.5, NCHW; for
//     CodeFormer with face_restore_weight as its fidelity weight w (0
//     favours quality, 1 fidelity to the input).
//  3. The model's output, in the same range, is clamped to 0..255 and
//     pasted back with the inverse transform, the request's kernel, and
//     the soft mask of the swap's paste-back (paste.Back: the warped crop
//     eroded and blurred), scaled by face_restore_weight: inside the mask
//     out = orig + weight·alpha·(restored − orig). Weight 0 changes
//     nothing (the model is not even run).
//
// Face Boost: the swap engines paste their own output (inswapper's is a
// 128-px crop), so restoration is what brings a large swapped face to
// 512-px detail. The pipeline runs the restorer right after the swap on
// the swapped faces only, giving the swap's regions as Options.Within:
// the restored 512-px crop then replaces the swapped face under the
// swap's own mask, both warps (crop and paste-back) with the request's
// interpolation. A 128-px swap output upscaled into a 400-px face is thus
// re-rendered at 512 px by the restorer before it reaches the result,
// instead of staying a blurry enlargement of 128 px.
package onnxrestore

import (
	"errors"
	"fmt"
	"image"
	"net/http"
	"strings"

	"faceswap"
	"faceswap/align"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/paste"
	"faceswap/raster"
	"faceswap/resample"
	"faceswap/restore"
	"faceswap/swap"
)

// Size is the side of the FFHQ-aligned crop the models restore.
const Size = 512

var imageShape = []int64{1, 3, Size, Size}

// Restorer is a loaded restoration model. It is safe for concurrent use.
type Restorer struct {
	name     string
	fidelity bool // CodeFormer: the model takes the weight as input
	s        *onnx.Session
	in, out  string
	weightIn string
	wShape   []int64
}

var _ restore.Restorer = (*Restorer)(nil)

// New loads the model file at path through rt as the restorer the API
// calls name (a face_restore value such as "GFPGANv1.4.pth", of a model in
// the registry) and checks its interface: one float32 image input
// [1,3,512,512] (dynamic dimensions accepted) and a float32 output of that
// shape; a model of the CodeFormer family also takes the fidelity weight,
// a float32 or float64 input holding one value (a scalar, or any rank-1 or
// rank-2 shape of one value), found by the names "w", "weight" or
// "fidelity", or as the one other input. A file that does not fit is an
// error that names what is wrong.
func New(rt *onnx.Runtime, name, path string) (*Restorer, error) {
	m, ok := models.ByValue(models.FieldFaceRestore, name)
	if !ok {
		return nil, fmt.Errorf("restore: %q is not a face_restore model", name)
	}
	s, err := rt.Load(path)
	if err != nil {
		return nil, fmt.Errorf("restore: %s: %w", name, err)
	}
	r := &Restorer{name: m.Value, fidelity: m.Family == models.FamilyCodeFormer, s: s}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// Name is the face_restore value.
func (r *Restorer) Name() string { return r.name }

// Fidelity reports whether the model takes a fidelity weight (CodeFormer).
func (r *Restorer) Fidelity() bool { return r.fidelity }

func (r *Restorer) check() error {
	s := r.s
	bad := func(format string, args ...any) error {
		return fmt.Errorf("restore: %s model %s: %s (%s)", r.name, s.Path, fmt.Sprintf(format, args...), s.Signature())
	}
	want := 1
	if r.fidelity {
		want = 2
	}
	if len(s.Inputs) != want {
		if r.fidelity {
			return bad("has %d inputs, want 2: the image [1 3 512 512] and the fidelity weight w [1]", len(s.Inputs))
		}
		return bad("has %d inputs, want 1: the image [1 3 512 512]", len(s.Inputs))
	}
	for _, in := range s.Inputs {
		if len(in.Shape) == 4 {
			r.in = in.Name
		}
	}
	if r.fidelity {
		for _, in := range s.Inputs {
			switch strings.ToLower(in.Name) {
			case "w", "weight", "fidelity":
				r.weightIn = in.Name
			}
		}
		if r.weightIn == "" {
			for _, in := range s.Inputs {
				if in.Name != r.in {
					r.weightIn = in.Name
				}
			}
		}
	}
	if r.in == "" || r.in == r.weightIn {
		return bad("no 4-D image input")
	}
	for _, in := range s.Inputs {
		if in.Name == r.in {
			if !in.Fits("float32", imageShape) {
				return bad("input %q is %s%v, want float32%v", in.Name, in.Type, in.Shape, imageShape)
			}
			continue
		}
		// the fidelity weight: float32 or float64 (the onnx package
		// converts), a scalar or one value of rank 1 or 2
		if in.Type != "float32" && in.Type != "float64" {
			return bad("the fidelity input %q is %s; want float32 or float64", in.Name, in.Type)
		}
		if len(in.Shape) > 2 {
			return bad("the fidelity input %q has shape %v; want one value", in.Name, in.Shape)
		}
		r.wShape = make([]int64, len(in.Shape))
		for i, d := range in.Shape {
			if d > 1 {
				return bad("the fidelity input %q has shape %v; want one value of shape [1]", in.Name, in.Shape)
			}
			r.wShape[i] = 1
		}
	}
	if r.out = onnx.FindFit(s.Outputs, "float32", imageShape); r.out == "" {
		return bad("no float32 output of shape [1 3 512 512]")
	}
	return nil
}

// Restore implements restore.Restorer: each face is restored in turn (a
// later face's crop sees the earlier ones restored). Face coordinates are
// relative to dst.Rect.Min, region bounds in dst's coordinates. Pixels
// outside the returned regions, and inside them where alpha is 0, are
// untouched. A face whose keypoints cannot be aligned is a 422; on an
// error, dst holds the faces restored before the failing one.
func (r *Restorer) Restore(dst *image.NRGBA, faces []faceswap.Face, opt restore.Options) ([]swap.Region, error) {
	if dst == nil {
		return nil, errors.New("restore: nil image")
	}
	if opt.Interpolation < resample.Nearest || opt.Interpolation > resample.Lanczos {
		return nil, faceswap.Errorf(http.StatusBadRequest, "interpolation %v is not supported.", opt.Interpolation)
	}
	if !(opt.Weight >= 0 && opt.Weight <= 1) {
		return nil, faceswap.Errorf(http.StatusBadRequest, "face_restore_weight %g is outside 0-1.", opt.Weight)
	}
	if opt.Within != nil && len(opt.Within) != len(faces) {
		return nil, fmt.Errorf("restore: %d regions for %d faces", len(opt.Within), len(faces))
	}
	regions := make([]swap.Region, len(faces))
	if opt.Weight == 0 {
		return regions, nil
	}
	for i, f := range faces {
		m, err := align.Crop(f.Keypoints, align.FFHQ512)
		if err != nil {
			return nil, faceswap.Wrap(http.StatusUnprocessableEntity, err, "swapped face %d's keypoints cannot be aligned for restoration", i)
		}
		if s := m.Scale(); !(s > 1e-3 && s < 1e4) {
			return nil, faceswap.Errorf(http.StatusUnprocessableEntity, "swapped face %d's keypoints span an implausible size for restoration (%.3g px per crop pixel)", i, s)
		}
		var within *swap.Region
		if opt.Within != nil {
			if opt.Within[i].Bounds.Empty() {
				continue // the swap changed nothing here
			}
			within = &opt.Within[i]
		}
		face, err := r.run(dst, m, opt)
		if err != nil {
			return nil, fmt.Errorf("face %d: %w", i, err)
		}
		regions[i] = paste.Back(dst, face, m, opt.Interpolation, paste.Blend{Opacity: opt.Weight, Within: within})
	}
	return regions, nil
}

// run samples the crop m maps, runs the model and returns its output as
// a 512-px image of 0..255 samples.
func (r *Restorer) run(dst *image.NRGBA, m raster.Affine, opt restore.Options) (*resample.Image, error) {
	in := onnx.NewTensor(imageShape...)
	raster.SampleImage(in.Data, dst, raster.Crop{W: Size, H: Size, M: m, Kernel: opt.Interpolation, Norm: raster.Norm{Scale: 1 / 127.5, Offset: -1}, Layout: raster.NCHW})
	inputs := map[string]onnx.Tensor{r.in: in}
	if r.fidelity {
		inputs[r.weightIn] = onnx.Tensor{Shape: r.wShape, Data: []float32{float32(opt.Weight)}}
	}
	out, err := r.s.Run(inputs)
	if err != nil {
		return nil, fmt.Errorf("restore: %s: %w", r.name, err)
	}
	data := out[r.out].Data
	const plane = Size * Size
	if len(data) != 3*plane {
		return nil, fmt.Errorf("restore: %s returned %d values, want %d", r.name, len(data), 3*plane)
	}
	// NCHW −1..1 → interleaved 0..255
	img := resample.New(Size, Size)
	for i := 0; i < plane; i++ {
		for c := 0; c < 3; c++ {
			img.Pix[3*i+c] = min(max((data[c*plane+i]+1)*127.5, 0), 255)
		}
	}
	return img, nil
}
