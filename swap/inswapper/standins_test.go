package inswapper

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"faceswap"
	"faceswap/analysis"
	"faceswap/internal/testenv"
	"faceswap/onnxfile"
)

// Stand-in models: no inswapper_128 or w600k_r50 weights exist here, so
// the engine's plumbing is tested with small generated ONNX models that
// have the real models' input and output names, shapes and value ranges.

// swapperSpec describes a stand-in swapper.
type swapperSpec struct {
	target, source, output   string  // names
	targetDims, sourceDims   []int64 // declared input shapes
	constant                 float32 // output value when constant is set
	isConstant               bool
	meanOutput               bool      // output the channel mean [1,1,H,W] (a wrong output shape)
	emap                     []float32 // last initializer; nil: none
	emapDims                 []int64
	extraInitializerAfterMap bool // put another initializer after the emap
}

// realSwapper is the interface of the released inswapper_128.onnx.
func realSwapper(emap []float32) swapperSpec {
	return swapperSpec{
		target: "target", source: "source", output: "output",
		targetDims: []int64{1, 3, 128, 128}, sourceDims: []int64{1, 512},
		emap: emap, emapDims: []int64{512, 512},
	}
}

// model builds the stand-in: output = target (identity), or a constant,
// plus 0·ReduceSum(source) so that the graph takes the latent as the real
// one does.
func (s swapperSpec) model() *onnxfile.Model {
	f := onnxfile.Float
	nodes := []*onnxfile.Node{
		{Name: "sum", Op: "ReduceSum", Inputs: []string{s.source}, Outputs: []string{"ssum"}, Attrs: []onnxfile.Attribute{onnxfile.IntAttr("keepdims", 1)}},
		{Name: "zs", Op: "Mul", Inputs: []string{"ssum", "zero"}, Outputs: []string{"szero"}},
	}
	outDims := append([]int64(nil), s.targetDims...)
	switch {
	case s.meanOutput:
		nodes = append(nodes,
			&onnxfile.Node{Name: "mean", Op: "ReduceMean", Inputs: []string{s.target}, Outputs: []string{"tm"}, Attrs: []onnxfile.Attribute{onnxfile.IntsAttr("axes", 1), onnxfile.IntAttr("keepdims", 1)}},
			&onnxfile.Node{Name: "out", Op: "Add", Inputs: []string{"tm", "szero"}, Outputs: []string{s.output}})
		outDims[1] = 1
	case s.isConstant:
		nodes = append(nodes,
			&onnxfile.Node{Name: "zt", Op: "Mul", Inputs: []string{s.target, "zero"}, Outputs: []string{"tzero"}},
			&onnxfile.Node{Name: "z", Op: "Add", Inputs: []string{"tzero", "szero"}, Outputs: []string{"z"}},
			&onnxfile.Node{Name: "out", Op: "Add", Inputs: []string{"z", "c"}, Outputs: []string{s.output}})
	default:
		nodes = append(nodes, &onnxfile.Node{Name: "out", Op: "Add", Inputs: []string{s.target, "szero"}, Outputs: []string{s.output}})
	}
	inits := []*onnxfile.Tensor{
		{Name: "zero", Type: f, Floats: []float32{0}},
		{Name: "c", Type: f, Floats: []float32{s.constant}},
	}
	if s.emap != nil {
		inits = append(inits, &onnxfile.Tensor{Name: "emap", Dims: s.emapDims, Type: f, Floats: s.emap})
	}
	if s.extraInitializerAfterMap {
		inits = append(inits, &onnxfile.Tensor{Name: "late", Dims: []int64{2}, Type: f, Floats: []float32{1, 2}})
	}
	return &onnxfile.Model{
		IRVersion: 8, Producer: "inswapper-standin", Opsets: []onnxfile.Opset{{Version: 13}},
		Graph: onnxfile.Graph{
			Name:         "inswapper_standin",
			Nodes:        nodes,
			Initializers: inits,
			Inputs: []onnxfile.ValueInfo{
				{Name: s.target, Type: f, Dims: s.targetDims},
				{Name: s.source, Type: f, Dims: s.sourceDims},
			},
			Outputs: []onnxfile.ValueInfo{{Name: s.output, Type: f, Dims: outDims}},
		},
	}
}

// arcSpec describes a stand-in ArcFace: a fixed random linear projection
// of the input average-pooled 8×8 (112 px → 14×14×3 = 588 values).
type arcSpec struct {
	size int // input side (112 for the real model)
	out  int // embedding length (512)
	w    []float32
}

const pool = 8

func newArcSpec(size, out int, seed uint64) arcSpec {
	n := 3 * (size / pool) * (size / pool)
	r := rand.New(rand.NewPCG(seed, 7))
	w := make([]float32, n*out)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	return arcSpec{size: size, out: out, w: w}
}

func (a arcSpec) inputs() int { return 3 * (a.size / pool) * (a.size / pool) }

// model is the ONNX stand-in, named like w600k_r50 ("input.1" → "683").
func (a arcSpec) model() *onnxfile.Model {
	f := onnxfile.Float
	return &onnxfile.Model{
		IRVersion: 8, Producer: "arcface-standin", Opsets: []onnxfile.Opset{{Version: 13}},
		Graph: onnxfile.Graph{
			Name: "arcface_standin",
			Nodes: []*onnxfile.Node{
				{Name: "pool", Op: "AveragePool", Inputs: []string{"input.1"}, Outputs: []string{"pooled"},
					Attrs: []onnxfile.Attribute{onnxfile.IntsAttr("kernel_shape", pool, pool), onnxfile.IntsAttr("strides", pool, pool)}},
				{Name: "flat", Op: "Reshape", Inputs: []string{"pooled", "shape"}, Outputs: []string{"flat"}},
				{Name: "proj", Op: "MatMul", Inputs: []string{"flat", "w"}, Outputs: []string{"683"}},
			},
			Initializers: []*onnxfile.Tensor{
				{Name: "shape", Dims: []int64{2}, Type: onnxfile.Int64, Int64s: []int64{1, int64(a.inputs())}},
				{Name: "w", Dims: []int64{int64(a.inputs()), int64(a.out)}, Type: f, Floats: a.w},
			},
			Inputs:  []onnxfile.ValueInfo{{Name: "input.1", Type: f, Dims: []int64{-1, 3, int64(a.size), int64(a.size)}, DimParams: []string{"None"}}},
			Outputs: []onnxfile.ValueInfo{{Name: "683", Type: f, Dims: []int64{1, int64(a.out)}}},
		},
	}
}

// embed computes the stand-in in Go from an NCHW crop.
func (a arcSpec) embed(crop []float32) []float32 {
	g := a.size / pool
	flat := make([]float64, a.inputs())
	for c := 0; c < 3; c++ {
		for i := 0; i < g; i++ {
			for j := 0; j < g; j++ {
				var s float64
				for y := 0; y < pool; y++ {
					for x := 0; x < pool; x++ {
						s += float64(crop[c*a.size*a.size+(i*pool+y)*a.size+j*pool+x])
					}
				}
				flat[c*g*g+i*g+j] = s / (pool * pool)
			}
		}
	}
	out := make([]float32, a.out)
	for k := range out {
		var s float64
		for i, v := range flat {
			s += v * float64(a.w[i*a.out+k])
		}
		out[k] = float32(s)
	}
	return out
}

// randomEmap is a fixed random 512×512 matrix of unit-variance rows.
func randomEmap(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	m := make([]float32, emapEntries)
	for i := range m {
		m[i] = float32(r.NormFloat64() / math.Sqrt(latentSize))
	}
	return m
}

func writeModel(t testing.TB, dir, name string, m *onnxfile.Model) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixture is an engine built on stand-ins, with what built it.
type fixture struct {
	e    *Engine
	arc  arcSpec
	emap []float32
}

func newFixture(t testing.TB, spec swapperSpec) fixture {
	t.Helper()
	rt := testenv.Runtime(t)
	dir := t.TempDir()
	arc := newArcSpec(arcSize, latentSize, 1)
	if spec.emap == nil {
		spec.emap, spec.emapDims = randomEmap(2), []int64{512, 512}
	}
	e, err := New(rt, writeModel(t, dir, "inswapper_128.onnx", spec.model()), writeModel(t, dir, "w600k_r50.onnx", arc.model()))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{e: e, arc: arc, emap: spec.emap}
}

func identitySpec() swapperSpec { return realSwapper(nil) }

func constantSpec(v float32) swapperSpec {
	s := realSwapper(nil)
	s.isConstant, s.constant = true, v
	return s
}

// photo is a test photo with its analysed faces.
type photo struct {
	img   *image.NRGBA
	faces []faceswap.Face
}

var (
	photoMu    sync.Mutex
	photoCache = map[string]photo{}
)

// loadPhoto decodes a test photo and analyses it (cached): a derived one
// (testenv.Group3 …), which every machine has, by its name, any other from
// the shared folder (skipping t when that is missing).
func loadPhoto(t testing.TB, file string) photo {
	t.Helper()
	photoMu.Lock()
	defer photoMu.Unlock()
	if p, ok := photoCache[file]; ok {
		return p
	}
	ph := analysed(t, testenv.Load(t, testenv.PhotoPath(t, file)))
	photoCache[file] = ph
	return ph
}

// analysed is img with the faces the default analyser finds in it.
func analysed(t testing.TB, img *image.NRGBA) photo {
	t.Helper()
	p := testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/facemesh.onnx", "onnx/faceres.onnx")
	a, err := analysis.New(testenv.Runtime(t), analysis.Models{Detector: p.ONNX("blazeface-back"), Mesh: p.ONNX("facemesh"), Attribute: p.ONNX("faceres")}, analysis.Config{})
	if err != nil {
		t.Fatal(err)
	}
	faces, err := a.Analyze(img, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return photo{img: img, faces: faces}
}

// clone copies an image.
func clone(img *image.NRGBA) *image.NRGBA {
	c := image.NewNRGBA(img.Rect)
	copy(c.Pix, img.Pix)
	return c
}
