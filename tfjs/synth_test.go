package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"faceswap/onnx"
)

// synth builds a small TF.js graph model in memory: nodes, a weights
// manifest and the weight bytes, with weights stored as float32, float16
// or uint8-affine.
type synth struct {
	nodes   []map[string]any
	weights []map[string]any
	bin     []byte
	rng     *rand.Rand
	sig     map[string]any
}

func newSynth(seed int64) *synth { return &synth{rng: rand.New(rand.NewSource(seed))} }

func (s *synth) node(name, op string, inputs []string, attr map[string]any) string {
	n := map[string]any{"name": name, "op": op}
	if inputs != nil {
		n["input"] = inputs
	}
	if attr != nil {
		n["attr"] = attr
	}
	s.nodes = append(s.nodes, n)
	return name
}

func ints(vs []int64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.FormatInt(v, 10)
	}
	return out
}

func aInts(vs ...int64) map[string]any { return map[string]any{"list": map[string]any{"i": ints(vs)}} }
func aStr(s string) map[string]any {
	return map[string]any{"s": base64.StdEncoding.EncodeToString([]byte(s))}
}
func aInt(v int64) map[string]any     { return map[string]any{"i": strconv.FormatInt(v, 10)} }
func aBool(v bool) map[string]any     { return map[string]any{"b": v} }
func aFloat(v float64) map[string]any { return map[string]any{"f": v} }
func aType(t string) map[string]any   { return map[string]any{"type": t} }
func aStrs(ss ...string) map[string]any {
	enc := make([]string, len(ss))
	for i, s := range ss {
		enc[i] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	return map[string]any{"list": map[string]any{"s": enc}}
}

func (s *synth) placeholder(name string, dims ...int64) string {
	var dj []map[string]any
	for _, d := range dims {
		dj = append(dj, map[string]any{"size": strconv.FormatInt(d, 10)})
	}
	return s.node(name, "Placeholder", nil, map[string]any{
		"dtype": aType("DT_FLOAT"),
		"shape": map[string]any{"shape": map[string]any{"dim": dj}},
	})
}

// constF adds a random float32 constant stored as enc: "float32",
// "float16" (random half-precision values of magnitude 2^-6..2^-1) or
// "uint8" (affine, min -0.5, scale 1/255).
func (s *synth) constF(name string, enc string, shape ...int64) string {
	n := int(elements(shape))
	w := map[string]any{"name": name, "shape": shape, "dtype": "float32"}
	switch enc {
	case "float32":
		for i := 0; i < n; i++ {
			s.bin = binary.LittleEndian.AppendUint32(s.bin, math.Float32bits(float32(s.rng.NormFloat64()*0.3)))
		}
	case "float16":
		for i := 0; i < n; i++ {
			h := uint16(s.rng.Intn(2))<<15 | uint16(9+s.rng.Intn(5))<<10 | uint16(s.rng.Intn(1024))
			s.bin = binary.LittleEndian.AppendUint16(s.bin, h)
		}
		w["quantization"] = map[string]any{"dtype": "float16", "original_dtype": "float32"}
	case "uint8":
		for i := 0; i < n; i++ {
			s.bin = append(s.bin, byte(s.rng.Intn(256)))
		}
		w["quantization"] = map[string]any{"dtype": "uint8", "min": -0.5, "scale": 1.0 / 255, "original_dtype": "float32"}
	default:
		panic(enc)
	}
	s.weights = append(s.weights, w)
	return s.node(name, "Const", nil, map[string]any{"dtype": aType("DT_FLOAT")})
}

// constScalar adds a float32 scalar constant.
func (s *synth) constScalar(name string, v float32) string {
	s.bin = binary.LittleEndian.AppendUint32(s.bin, math.Float32bits(v))
	s.weights = append(s.weights, map[string]any{"name": name, "shape": []int64{}, "dtype": "float32"})
	return s.node(name, "Const", nil, map[string]any{"dtype": aType("DT_FLOAT")})
}

// constI adds an int32 constant, stored as uint8 (scale 1, min -3) when
// quantized.
func (s *synth) constI(name string, quantized bool, shape []int64, vals ...int32) string {
	w := map[string]any{"name": name, "shape": shape, "dtype": "int32"}
	for _, v := range vals {
		if quantized {
			s.bin = append(s.bin, byte(v+3))
		} else {
			s.bin = binary.LittleEndian.AppendUint32(s.bin, uint32(v))
		}
	}
	if quantized {
		w["quantization"] = map[string]any{"dtype": "uint8", "min": -3, "scale": 1, "original_dtype": "int32"}
	}
	s.weights = append(s.weights, w)
	return s.node(name, "Const", nil, map[string]any{"dtype": aType("DT_INT32")})
}

// manifest returns the model.json of the model, its shard named
// synthetic.bin.
func (s *synth) manifest() []byte { return s.manifestNamed("synthetic") }

func (s *synth) manifestNamed(name string) []byte {
	mj := map[string]any{
		"format":      "graph-model",
		"generatedBy": "faceswap tfjs tests",
		"convertedBy": "faceswap tfjs tests",
		"modelTopology": map[string]any{
			"node": s.nodes, "library": map[string]any{}, "versions": map[string]any{},
		},
		"weightsManifest": []any{map[string]any{"paths": []string{name + ".bin"}, "weights": s.weights}},
	}
	if s.sig != nil {
		mj["signature"] = s.sig
	}
	b, err := json.MarshalIndent(mj, "", " ")
	if err != nil {
		panic(err)
	}
	return b
}

// write stores the model as dir/name.json + dir/name.bin and returns the
// JSON's path.
func (s *synth) write(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, s.manifestNamed(name), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".bin"), s.bin, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func conv2dAttrs(strides []int64, padding string, fused ...string) map[string]any {
	a := map[string]any{
		"T":           aType("DT_FLOAT"),
		"strides":     aInts(strides...),
		"padding":     aStr(padding),
		"dilations":   aInts(1, 1, 1, 1),
		"data_format": aStr("NHWC"),
	}
	if len(fused) > 0 {
		a["fused_ops"] = aStrs(fused...)
		args := int64(1)
		if fused[len(fused)-1] == "Prelu" {
			args++
		}
		a["num_args"] = aInt(args)
		a["epsilon"] = aFloat(0)
	}
	return a
}

// buildSynthetic is a model touching every supported op family, with odd
// sizes (SAME padding with an extra pixel at the end), stride 2,
// dilation 2, explicit padding, uint8 weights (float32 and int32) and
// float16 weights. Input x [-1,17,17,3]; outputs max_c1, probs, sig,
// tap_conv, tap_pool, tap_tr, tot.
func buildSynthetic() *synth {
	s := newSynth(7)
	x := s.placeholder("x", -1, 17, 17, 3)
	c1 := s.node("c1", "_FusedConv2D", []string{x, s.constF("w1", "uint8", 3, 3, 3, 8), s.constF("b1", "float16", 8)},
		conv2dAttrs([]int64{1, 2, 2, 1}, "SAME", "BiasAdd", "Relu6")) // [N,9,9,8]
	da := conv2dAttrs([]int64{1, 1, 1, 1}, "SAME")
	da["dilations"] = aInts(1, 2, 2, 1)
	d1 := s.node("d1", "DepthwiseConv2dNative", []string{c1, s.constF("dw1", "float16", 3, 3, 8, 2)}, da) // [N,9,9,16]
	p1 := s.node("p1", "Prelu", []string{d1, s.constF("a1", "float32", 1, 1, 16)}, nil)
	d2 := s.node("d2", "FusedDepthwiseConv2dNative",
		[]string{p1, s.constF("dw2", "uint8", 3, 3, 16, 1), s.constF("b2", "float32", 16), s.constF("a2", "float16", 16)},
		conv2dAttrs([]int64{1, 2, 2, 1}, "VALID", "BiasAdd", "Prelu")) // [N,4,4,16]
	ea := conv2dAttrs([]int64{1, 1, 1, 1}, "EXPLICIT")
	ea["explicit_paddings"] = aInts(0, 0, 1, 2, 2, 1, 0, 0)
	c2 := s.node("c2", "Conv2D", []string{d2, s.constF("w2", "float16", 2, 2, 16, 4)}, ea) // [N,6,6,4]
	el := s.node("el", "Elu", []string{c2}, nil)
	r6 := s.node("r6", "Relu6", []string{el}, nil)
	ap := s.node("ap", "AvgPool", []string{r6}, map[string]any{
		"ksize": aInts(1, 3, 3, 1), "strides": aInts(1, 2, 2, 1), "padding": aStr("SAME"), "data_format": aStr("NHWC")}) // [N,3,3,4]
	mp := s.node("mp", "MaxPool", []string{ap}, map[string]any{
		"ksize": aInts(1, 2, 2, 1), "strides": aInts(1, 1, 1, 1), "padding": aStr("SAME"), "data_format": aStr("NHWC")}) // [N,3,3,4]
	a := s.node("a", "AddV2", []string{mp, s.constF("k4", "uint8", 4)}, nil)
	m := s.node("m", "Mul", []string{a, s.constF("k114", "float16", 1, 1, 4)}, nil)
	th := s.node("th", "Tanh", []string{m}, nil)
	lr := s.node("lr", "LeakyRelu", []string{th}, map[string]any{"alpha": aFloat(0.1)})
	sb := s.node("sb", "Sub", []string{lr, s.constScalar("s0", 0.25)}, nil)
	sq := s.node("sq", "Square", []string{sb}, nil)
	ad := s.node("ad", "AddV2", []string{sq, s.constScalar("one", 1)}, nil)
	rs := s.node("rs", "Rsqrt", []string{ad}, nil)
	mx := s.node("mx", "Maximum", []string{rs, s.constScalar("lo", 0.85)}, nil)
	mn := s.node("mn", "Minimum", []string{mx, s.constScalar("hi", 0.97)}, nil)
	pd := s.node("pd", "Pad", []string{mn, s.constI("pads", true, []int64{4, 2}, 0, 0, 1, 0, 0, 1, 0, 2)}, nil) // [N,4,4,6]
	ng := s.node("ng", "Neg", []string{pd}, nil)
	cc := s.node("cc", "ConcatV2", []string{pd, ng, s.constI("axis", false, []int64{}, -1)}, map[string]any{"N": aInt(2)})                 // [N,4,4,12]
	tr := s.node("tr", "Transpose", []string{cc, s.constI("perm", false, []int64{4}, 0, 2, 3, 1)}, nil)                                    // [N,4,12,4]
	mean := s.node("mean", "Mean", []string{tr, s.constI("mean_axes", false, []int64{2}, 1, 2)}, map[string]any{"keep_dims": aBool(true)}) // [N,1,1,4]
	sqz := s.node("sqz", "Squeeze", []string{mean}, map[string]any{"squeeze_dims": aInts(1, 2)})                                           // [N,4]
	rsh := s.node("rsh", "Reshape", []string{tr, s.constI("shape", false, []int64{2}, -1, 192)}, nil)                                      // [N,192]
	fm := s.node("fm", "_FusedMatMul", []string{rsh, s.constF("wm", "uint8", 192, 5), s.constF("bm", "float16", 5)}, map[string]any{
		"transpose_a": aBool(false), "transpose_b": aBool(false), "fused_ops": aStrs("BiasAdd", "Relu"), "num_args": aInt(1), "epsilon": aFloat(0)})
	mm := s.node("mm", "MatMul", []string{sqz, s.constF("wm2", "float32", 5, 4)}, map[string]any{
		"transpose_a": aBool(false), "transpose_b": aBool(true)})
	sum := s.node("sum", "AddV2", []string{fm, mm}, nil)
	s.node("probs", "Softmax", []string{sum}, nil)
	s.node("sig", "Sigmoid", []string{sqz}, nil)
	s.node("tot", "Sum", []string{sqz, s.constI("sum_axes", false, []int64{1}, 1)}, map[string]any{"keep_dims": aBool(true)})
	s.node("max_c1", "Max", []string{c1, s.constI("max_axes", false, []int64{2}, 1, 2)}, map[string]any{"keep_dims": aBool(false)})
	// Taps on intermediate tensors, so that an error early in the chain
	// is not squashed by the saturating ops after it.
	s.node("tap_conv", "Identity", []string{c2}, nil)
	s.node("tap_pool", "Identity", []string{mp}, nil)
	s.node("tap_tr", "Identity", []string{tr}, nil)
	return s
}

func randomInput(seed int64, shape ...int64) onnx.Tensor {
	rng := rand.New(rand.NewSource(seed))
	t := onnx.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.Float64()*2 - 1)
	}
	return t
}

// TestSyntheticQuantized converts the synthetic model (uint8 and float16
// weights) and compares ONNX Runtime with TF.js on a batch of two.
func TestSyntheticQuantized(t *testing.T) {
	rt := runtime(t)
	referenceRunner(t)
	path := buildSynthetic().write(t, t.TempDir(), "synthetic")
	data, err := ConvertFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.LoadBytes("synthetic", data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := randomInput(1, 2, 17, 17, 3)
	got, err := s.Run(map[string]onnx.Tensor{"x": in})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"max_c1", "probs", "sig", "tap_conv", "tap_pool", "tap_tr", "tot"}
	if len(s.Outputs) != len(names) {
		t.Fatalf("outputs %v, want %v", s.Outputs, names)
	}
	want := runReference(t, path, map[string]onnx.Tensor{"x": in}, names)
	for i, name := range names {
		if s.Outputs[i].Name != name {
			t.Errorf("output %d is %q, want %q", i, s.Outputs[i].Name, name)
		}
		r := compareOutput(t, name, got[name], want[i])
		t.Logf("%-9s shape %v: max error %.4f of the tolerance", name, got[name].Shape, r)
	}
}

// TestSyntheticStructure checks, without ONNX Runtime, that the synthetic
// model converts to the expected interface and that the NCHW layout is
// kept through the convolution chain.
func TestSyntheticStructure(t *testing.T) {
	path := buildSynthetic().write(t, t.TempDir(), "synthetic")
	data, err := ConvertFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(t, data)
	if s.irVersion != 8 || s.opset != 13 || s.producer != "faceswap-tfjs" {
		t.Errorf("ir %d opset %d producer %q", s.irVersion, s.opset, s.producer)
	}
	if strings.Join(s.inputs, ",") != "x" || strings.Join(s.outputs, ",") != "max_c1,probs,sig,tap_conv,tap_pool,tap_tr,tot" {
		t.Errorf("inputs %v outputs %v", s.inputs, s.outputs)
	}
	// One transpose to NCHW after the input; one back to the TF layout
	// for the Reshape (and tap) after the graph's own Transpose, which
	// itself costs nothing; one each for the two 4-D taps.
	if s.ops["Transpose"] != 4 {
		t.Errorf("%d Transpose nodes, want 4 (ops %v)", s.ops["Transpose"], s.ops)
	}
	if s.ops["Conv"] != 4 || s.ops["Gemm"] != 2 || s.ops["Identity"] != 1 {
		t.Errorf("ops %v", s.ops)
	}
}

// TestUnsupportedOp checks that an op the converter does not know fails
// the import with an *UnsupportedOpError naming the op and the node.
func TestUnsupportedOp(t *testing.T) {
	s := newSynth(1)
	x := s.placeholder("x", 1, 4, 4, 3)
	r := s.node("r", "Relu", []string{x}, nil)
	s.node("weird", "Erf", []string{r}, nil)
	path := s.write(t, t.TempDir(), "bad")
	_, err := ConvertFile(path)
	var ue *UnsupportedOpError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v, want an *UnsupportedOpError", err)
	}
	if ue.Op != "Erf" || ue.Node != "weird" {
		t.Errorf("error names op %q node %q, want Erf, weird", ue.Op, ue.Node)
	}
	if !strings.Contains(err.Error(), "Erf") || !strings.Contains(err.Error(), "weird") {
		t.Errorf("message %q does not name the op and the node", err)
	}

	// A known op with attributes the converter does not handle.
	s = newSynth(1)
	x = s.placeholder("x", 1, 4, 4, 3)
	s.node("bn", "_FusedConv2D", []string{x, s.constF("w", "float32", 1, 1, 3, 2), s.constF("b", "float32", 2)},
		conv2dAttrs([]int64{1, 1, 1, 1}, "SAME", "FusedBatchNorm"))
	_, err = ConvertFile(s.write(t, t.TempDir(), "bn"))
	if !errors.As(err, &ue) || ue.Op != "_FusedConv2D" || ue.Node != "bn" || !strings.Contains(err.Error(), "FusedBatchNorm") {
		t.Errorf("error %v, want an *UnsupportedOpError for _FusedConv2D bn naming FusedBatchNorm", err)
	}
}

// constVals adds a float32 constant with the given values.
func (s *synth) constVals(name string, shape []int64, vals ...float32) string {
	for _, v := range vals {
		s.bin = binary.LittleEndian.AppendUint32(s.bin, math.Float32bits(v))
	}
	s.weights = append(s.weights, map[string]any{"name": name, "shape": shape, "dtype": "float32"})
	return s.node(name, "Const", nil, map[string]any{"dtype": aType("DT_FLOAT")})
}

// buildElementwise is a model whose outputs each apply one elementwise or
// reduction op (those the real models do not use) to an NCHW activation,
// with constants of lower rank where the op takes two operands.
func buildElementwise() (*synth, []string) {
	s := newSynth(11)
	x := s.placeholder("x", -1, 6, 6, 3)
	y := s.node("y", "_FusedConv2D", []string{x, s.constF("w", "float32", 1, 1, 3, 4), s.constF("b", "float32", 4)},
		conv2dAttrs([]int64{1, 1, 1, 1}, "VALID", "BiasAdd")) // [N,6,6,4]
	k4 := s.constVals("k4", []int64{4}, 0.5, 1.5, -2, 3)
	k114 := s.constVals("k114", []int64{1, 1, 4}, 2, -0.75, 1.25, 0.5)
	abs := s.node("abs", "Abs", []string{y}, nil)
	ap1 := s.node("ap1", "AddV2", []string{abs, s.constScalar("one", 1)}, nil)
	y3 := s.node("y3", "Mul", []string{y, s.constScalar("three", 3)}, nil)
	s.node("o_exp", "Exp", []string{y}, nil)
	s.node("o_log", "Log", []string{ap1}, nil)
	s.node("o_sqrt", "Sqrt", []string{abs}, nil)
	s.node("o_softplus", "Softplus", []string{y}, nil)
	s.node("o_recip", "Reciprocal", []string{ap1}, nil)
	s.node("o_floor", "Floor", []string{y3}, nil)
	s.node("o_ceil", "Ceil", []string{y3}, nil)
	s.node("o_realdiv", "RealDiv", []string{y, k4}, nil)
	s.node("o_div", "Div", []string{y, k114}, nil)
	s.node("o_pow", "Pow", []string{ap1, s.constScalar("p", 1.5)}, nil)
	s.node("o_sqdiff", "SquaredDifference", []string{y, k4}, nil)
	s.node("o_addn", "AddN", []string{y, abs, y3}, map[string]any{"N": aInt(3)})
	s.node("o_biasadd", "BiasAdd", []string{y, k4}, map[string]any{"data_format": aStr("NHWC")})
	s.node("o_logsoftmax", "LogSoftmax", []string{y}, nil)
	s.node("o_prod", "Prod", []string{ap1, s.constI("prod_axes", false, []int64{1}, 2)}, map[string]any{"keep_dims": aBool(false)})
	s.node("o_min", "Min", []string{y, s.constI("min_axes", false, []int64{1}, -1)}, map[string]any{"keep_dims": aBool(true)})
	s.node("o_padv2", "PadV2", []string{y, s.constI("pads", false, []int64{4, 2}, 0, 0, 1, 1, 0, 2, 0, 0), s.constScalar("cv", 0.5)}, nil)
	var outs []string
	for _, n := range s.nodes {
		if name := n["name"].(string); strings.HasPrefix(name, "o_") {
			outs = append(outs, name)
		}
	}
	sort.Strings(outs)
	return s, outs
}

func TestSyntheticElementwise(t *testing.T) {
	rt := runtime(t)
	referenceRunner(t)
	syn, names := buildElementwise()
	path := syn.write(t, t.TempDir(), "elementwise")
	data, err := ConvertFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.LoadBytes("elementwise", data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := randomInput(2, 2, 6, 6, 3)
	got, err := s.Run(map[string]onnx.Tensor{"x": in})
	if err != nil {
		t.Fatal(err)
	}
	want := runReference(t, path, map[string]onnx.Tensor{"x": in}, names)
	for i, name := range names {
		r := compareOutput(t, name, got[name], want[i])
		t.Logf("%-13s shape %v: max error %.4f of the tolerance", name, got[name].Shape, r)
	}
}
