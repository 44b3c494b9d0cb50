// Package inswapper is the neural swap engine inswapper_128 (insightface's
// one-shot face swapper), used when its weights and the w600k_r50 ArcFace
// model of buffalo_l are installed.
//
// For each pair, in order:
//
//  1. The source face is aligned to ArcFace's 112-px five-point template
//     (similarity transform on the face's keypoints), given to ArcFace as
//     RGB (x−127.5)/127.5 NCHW, and its 512-d embedding is L2-normalised.
//  2. The latent is normalize(embedding · emap), emap being the 512×512
//     matrix stored as the swapper model's last graph initializer.
//  3. The target face is aligned to the 128-px template (ArcFace's shifted
//     8 px right), given as RGB 0..1 NCHW with the latent to the swapper,
//     which returns the swapped 128-px face (RGB 0..1).
//  4. The face is pasted back (package paste) as the reference
//     implementation does: the
//     face and a white 128-px mask are warped back with the inverse
//     transform (the face with the request's interpolation kernel, the
//     mask bilinearly), mask values above 20 become 255, the mask is
//     eroded by a k×k square, k = max(s/10, 10), and blurred by a Gaussian
//     of size 2·max(s/20, 5)+1 (σ as OpenCV derives it from the size),
//     s = √(h·w) of the box of the full-mask pixels; the result is the
//     alpha of the blend.
//
// Differences from the reference: the blend rounds instead of truncating;
// crops are sampled from a half-size pyramid, so large faces are
// low-passed before they are reduced to 112 or 128 px (the reference
// samples bilinearly without it); and for large faces (σ ≥ 6, a mask of
// about 400 px and more) the Gaussian runs at 1/⌊σ/3⌋ of the resolution,
// with σ corrected for the box reduction and bilinear expansion, which
// changes alpha by less than 1 level of 255 (0.6 measured for a 1000-px
// crop, see TestReducedBlur). Erosion runs at full resolution as a van
// Herk/Gil-Werman running minimum, whose cost does not depend on k. Around
// the models, a 441-px face takes about 14 ms and a 1323-px face about
// 110 ms on one core here (BenchmarkSwap).
package inswapper

import (
	"errors"
	"fmt"
	"image"
	"math"
	"net/http"
	"os"

	"faceswap"
	"faceswap/align"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/onnxfile"
	"faceswap/paste"
	"faceswap/raster"
	"faceswap/resample"
	"faceswap/swap"
)

// Name is the engine's swap_model name: its swapper model's registry name.
const Name = models.Inswapper

// Sizes of the models' tensors.
const (
	faceSize    = 128 // swapper crop
	arcSize     = 112 // ArcFace crop
	latentSize  = 512
	emapEntries = latentSize * latentSize
)

// Engine is the inswapper_128 engine. It is safe for concurrent use.
type Engine struct {
	swapper, arcface          *onnx.Session
	targetIn, sourceIn, faceO string
	arcIn, arcOut             string
	emap                      []float32 // latentSize×latentSize, row-major

	// onLatent, when set (by tests), sees each latent given to the swapper.
	onLatent func(pair int, latent []float32)
}

// New loads the swapper (inswapper_128.onnx) and the ArcFace model
// (w600k_r50.onnx) through rt and checks their interfaces: the swapper
// takes a [1,3,128,128] image and a [1,512] latent (named "target" and
// "source" in the released model; other names are told apart by shape)
// and returns a [1,3,128,128] image, and its last initializer is the
// 512×512 emap; ArcFace takes [1,3,112,112] and returns [1,512].
// Dimensions the files leave dynamic are accepted.
func New(rt *onnx.Runtime, swapperPath, arcfacePath string) (*Engine, error) {
	e := &Engine{}
	var err error
	if e.emap, err = readEmap(swapperPath); err != nil {
		return nil, err
	}
	if e.swapper, err = rt.Load(swapperPath); err != nil {
		return nil, fmt.Errorf("inswapper: swapper: %w", err)
	}
	if err := e.checkSwapper(); err != nil {
		return nil, err
	}
	if e.arcface, err = rt.Load(arcfacePath); err != nil {
		return nil, fmt.Errorf("inswapper: ArcFace: %w", err)
	}
	if err := e.checkArcFace(); err != nil {
		return nil, err
	}
	return e, nil
}

// Name is "inswapper_128".
func (*Engine) Name() string { return Name }

// readEmap takes the swapper file's last initializer, which must be a
// 512×512 float matrix.
func readEmap(path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inswapper: swapper: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("inswapper: swapper: %w", err)
	}
	inits, err := onnxfile.ReadInitializers(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("inswapper: swapper %s: %w", path, err)
	}
	if len(inits) == 0 {
		return nil, fmt.Errorf("inswapper: swapper %s has no initializers; its last one must be the 512×512 emap", path)
	}
	last := &inits[len(inits)-1]
	if len(last.Dims) != 2 || last.Dims[0] != latentSize || last.Dims[1] != latentSize {
		return nil, fmt.Errorf("inswapper: swapper %s: the last initializer %q has dims %v, want the emap's [512 512]", path, last.Name, last.Dims)
	}
	emap, err := last.Float32s()
	if err != nil {
		return nil, fmt.Errorf("inswapper: swapper %s: emap: %w", path, err)
	}
	return emap, nil
}

var (
	imageShape  = []int64{1, 3, faceSize, faceSize}
	latentShape = []int64{1, latentSize}
	arcShape    = []int64{1, 3, arcSize, arcSize}
)

func (e *Engine) checkSwapper() error {
	s := e.swapper
	bad := func(format string, args ...any) error {
		return fmt.Errorf("inswapper: swapper %s: %s (%s)", s.Path, fmt.Sprintf(format, args...), s.Signature())
	}
	if len(s.Inputs) != 2 {
		return bad("has %d inputs, want 2: target [1 3 128 128] and source [1 512]", len(s.Inputs))
	}
	// By name first, then by shape.
	for _, in := range s.Inputs {
		switch in.Name {
		case "target":
			e.targetIn = in.Name
		case "source":
			e.sourceIn = in.Name
		}
	}
	if e.targetIn == "" || e.sourceIn == "" {
		e.targetIn, e.sourceIn = "", ""
		for _, in := range s.Inputs {
			switch len(in.Shape) {
			case 4:
				e.targetIn = in.Name
			case 2:
				e.sourceIn = in.Name
			}
		}
		if e.targetIn == "" || e.sourceIn == "" {
			return bad("cannot tell the target image input (4-D) from the source latent input (2-D)")
		}
	}
	for _, in := range s.Inputs {
		want := latentShape
		if in.Name == e.targetIn {
			want = imageShape
		}
		if !in.Fits("float32", want) {
			return bad("input %q is %s%v, want float32%v", in.Name, in.Type, in.Shape, want)
		}
	}
	if e.faceO = onnx.FindFit(s.Outputs, "float32", imageShape); e.faceO == "" {
		return bad("no float32 output of shape [1 3 128 128]")
	}
	return nil
}

func (e *Engine) checkArcFace() error {
	s := e.arcface
	bad := func(format string, args ...any) error {
		return fmt.Errorf("inswapper: ArcFace %s: %s (%s)", s.Path, fmt.Sprintf(format, args...), s.Signature())
	}
	if len(s.Inputs) != 1 || !s.Inputs[0].Fits("float32", arcShape) {
		return bad("want one float32 input of shape [1 3 112 112]")
	}
	e.arcIn = s.Inputs[0].Name
	if e.arcOut = onnx.FindFit(s.Outputs, "float32", latentShape); e.arcOut == "" {
		return bad("no float32 output of shape [1 512]")
	}
	return nil
}

// Swap implements swap.Engine: the pairs are applied to dst in order
// (later pairs see earlier results; src may be dst). Region bounds are in
// dst's coordinates; face coordinates are relative to dst.Rect.Min and
// src.Rect.Min. On an error, dst holds the swaps of the pairs before the
// failing one; a face whose keypoints cannot be aligned is a 422.
func (e *Engine) Swap(dst, src *image.NRGBA, pairs []swap.Pair, opt swap.Options) ([]swap.Region, error) {
	if dst == nil || src == nil {
		return nil, errors.New("inswapper: nil image")
	}
	if opt.Interpolation < resample.Nearest || opt.Interpolation > resample.Lanczos {
		return nil, faceswap.Errorf(http.StatusBadRequest, "interpolation %v is not supported.", opt.Interpolation)
	}
	// Latents are cached per source face, unless earlier pairs may have
	// changed the source (src shares dst's pixels).
	shared := len(src.Pix) > 0 && len(dst.Pix) > 0 && &src.Pix[0] == &dst.Pix[0]
	type cached struct {
		kps    [5]faceswap.Point
		latent []float32
	}
	var cache []cached
	regions := make([]swap.Region, 0, len(pairs))
	for i, p := range pairs {
		var latent []float32
		if !shared {
			for _, c := range cache {
				if c.kps == p.Source.Keypoints {
					latent = c.latent
				}
			}
		}
		if latent == nil {
			var err error
			if latent, err = e.latent(src, p.Source); err != nil {
				return nil, fmt.Errorf("pair %d: %w", i, err)
			}
			cache = append(cache, cached{p.Source.Keypoints, latent})
		}
		if e.onLatent != nil {
			e.onLatent(i, latent)
		}
		r, err := e.swapOne(dst, p.Target, latent, opt.Interpolation)
		if err != nil {
			return nil, fmt.Errorf("pair %d: %w", i, err)
		}
		regions = append(regions, r)
	}
	return regions, nil
}

// cropOf returns the crop-to-image transform of a face for a template, in
// pixel indices relative to the image's Rect.Min.
func cropOf(f faceswap.Face, template [5]faceswap.Point, what string) (raster.Affine, error) {
	m, err := align.Crop(f.Keypoints, template)
	if err != nil {
		return m, faceswap.Wrap(http.StatusUnprocessableEntity, err, "the %s face's keypoints cannot be aligned", what)
	}
	if s := m.Scale(); !(s > 1e-3 && s < 1e4) {
		return m, faceswap.Errorf(http.StatusUnprocessableEntity, "the %s face's keypoints span an implausible size (%.3g px per crop pixel)", what, s)
	}
	return m, nil
}

// latent computes normalize(normalize(ArcFace(aligned source)) · emap).
func (e *Engine) latent(src *image.NRGBA, f faceswap.Face) ([]float32, error) {
	m, err := cropOf(f, align.ArcFace112, "source")
	if err != nil {
		return nil, err
	}
	in := onnx.NewTensor(arcShape...)
	raster.SampleImage(in.Data, src, raster.Crop{W: arcSize, H: arcSize, M: m, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1 / 127.5, Offset: -1}, Layout: raster.NCHW})
	out, err := e.arcface.Run(map[string]onnx.Tensor{e.arcIn: in})
	if err != nil {
		return nil, fmt.Errorf("inswapper: ArcFace: %w", err)
	}
	emb := out[e.arcOut].Data
	if len(emb) != latentSize {
		return nil, fmt.Errorf("inswapper: ArcFace returned %d values, want %d", len(emb), latentSize)
	}
	return Latent(emb, e.emap)
}

// Latent returns the swapper's source latent for an ArcFace embedding:
// normalize(normalize(emb) · emap), emap being 512×512 row-major (the
// embedding is a row vector).
func Latent(emb, emap []float32) ([]float32, error) {
	if len(emb) != latentSize || len(emap) != emapEntries {
		return nil, fmt.Errorf("inswapper: embedding of %d values and emap of %d, want %d and %d", len(emb), len(emap), latentSize, emapEntries)
	}
	n := norm(emb)
	if !(n > 0) || math.IsInf(n, 0) {
		return nil, fmt.Errorf("inswapper: the ArcFace embedding has norm %g", n)
	}
	acc := make([]float64, latentSize)
	for i, v := range emb {
		w := float64(v) / n
		row := emap[i*latentSize : (i+1)*latentSize]
		for j, m := range row {
			acc[j] += w * float64(m)
		}
	}
	var s float64
	for _, v := range acc {
		s += v * v
	}
	s = math.Sqrt(s)
	if !(s > 0) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("inswapper: the latent has norm %g", s)
	}
	out := make([]float32, latentSize)
	for j, v := range acc {
		out[j] = float32(v / s)
	}
	return out, nil
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// swapOne runs the swapper on one target face and pastes the result.
func (e *Engine) swapOne(dst *image.NRGBA, f faceswap.Face, latent []float32, k resample.Kernel) (swap.Region, error) {
	m, err := cropOf(f, align.Inswapper128, "target")
	if err != nil {
		return swap.Region{}, err
	}
	target := onnx.NewTensor(imageShape...)
	raster.SampleImage(target.Data, dst, raster.Crop{W: faceSize, H: faceSize, M: m, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1.0 / 255}, Layout: raster.NCHW})
	out, err := e.swapper.Run(map[string]onnx.Tensor{
		e.targetIn: target,
		e.sourceIn: {Shape: latentShape, Data: latent},
	})
	if err != nil {
		return swap.Region{}, fmt.Errorf("inswapper: swapper: %w", err)
	}
	face := out[e.faceO].Data
	if len(face) != 3*faceSize*faceSize {
		return swap.Region{}, fmt.Errorf("inswapper: the swapper returned %d values, want %d", len(face), 3*faceSize*faceSize)
	}
	// NCHW 0..1 → interleaved 0..255
	img := resample.New(faceSize, faceSize)
	const plane = faceSize * faceSize
	for i := 0; i < plane; i++ {
		for c := 0; c < 3; c++ {
			img.Pix[3*i+c] = min(max(face[c*plane+i]*255, 0), 255)
		}
	}
	return paste.Back(dst, img, m, k, paste.Blend{Opacity: 1}), nil
}
