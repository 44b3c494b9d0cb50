package tfjs

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faceswap/onnx"
)

// Model.FlexibleSize: a fully convolutional model (FaceRes) converted with
// symbolic height and width runs at other sizes and, at its own size,
// computes exactly what the fixed-size conversion computes; a model that
// reshapes (BlazeFace) is refused.

// faceInput is a deterministic batch of two smooth, face-sized images in
// 0..1 at side×side.
func faceInput(side int) onnx.Tensor {
	in := onnx.NewTensor(2, int64(side), int64(side), 3)
	i := 0
	for b := 0; b < 2; b++ {
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				u, v := float64(x)/float64(side), float64(y)/float64(side)
				for c := 0; c < 3; c++ {
					r := math.Hypot(u-0.5, (v-0.45)*0.8)
					val := 0.55 - 0.6*r + 0.1*math.Sin(float64(7+3*c+5*b)*u)*math.Cos(9*v+float64(b))
					in.Data[i] = float32(math.Max(0, math.Min(1, val)))
					i++
				}
			}
		}
	}
	return in
}

func convertFaceRes(t *testing.T, flexible bool) (*Model, *onnx.Session) {
	t.Helper()
	rt := runtime(t)
	m, err := Load(modelPath(t, "faceres"))
	if err != nil {
		t.Fatal(err)
	}
	m.FlexibleSize = flexible
	data, err := m.ToONNX()
	if err != nil {
		t.Fatalf("ToONNX (flexible %v): %v", flexible, err)
	}
	name := "faceres-fixed"
	if flexible {
		name = "faceres-flexible"
	}
	s, err := rt.LoadBytes(name, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func TestFlexibleSizeFaceRes(t *testing.T) {
	m, flex := convertFaceRes(t, true)
	_, fixed := convertFaceRes(t, false)

	if len(flex.Inputs) != 1 || len(fixed.Inputs) != 1 {
		t.Fatalf("inputs %v and %v, want one each", flex.Inputs, fixed.Inputs)
	}
	if got := flex.Inputs[0].Shape; len(got) != 4 || got[1] != -1 || got[2] != -1 || got[3] != 3 {
		t.Errorf("flexible input shape %v, want [batch -1 -1 3]", got)
	}
	if got := fixed.Inputs[0].Shape; len(got) != 4 || got[1] != 224 || got[2] != 224 || got[3] != 3 {
		t.Errorf("fixed input shape %v, want [batch 224 224 3]", got)
	}
	name := flex.Inputs[0].Name
	if fixed.Inputs[0].Name != name {
		t.Errorf("input names %q and %q differ", name, fixed.Inputs[0].Name)
	}

	in224 := faceInput(224)
	want, err := fixed.Run(map[string]onnx.Tensor{name: in224})
	if err != nil {
		t.Fatal(err)
	}
	got224, err := flex.Run(map[string]onnx.Tensor{name: in224})
	if err != nil {
		t.Fatal(err)
	}
	if len(got224) != len(want) || len(want) != 3 {
		t.Fatalf("%d flexible outputs, %d fixed, want 3", len(got224), len(want))
	}
	for out, w := range want {
		g, ok := got224[out]
		if !ok {
			t.Errorf("flexible model has no output %q", out)
			continue
		}
		if d := maxAbsDiff(t, out, g, w); d > 1e-5 {
			t.Errorf("%s at 224: flexible and fixed differ by %g, want ≤ 1e-5", out, d)
		}
	}

	// At 192 the model runs, with the same output shapes and sane values.
	in192 := faceInput(192)
	got192, err := flex.Run(map[string]onnx.Tensor{name: in192})
	if err != nil {
		t.Fatalf("flexible model at 192×192: %v", err)
	}
	if _, err := fixed.Run(map[string]onnx.Tensor{name: in192}); err == nil {
		t.Error("the fixed-size model ran at 192×192: the test cannot tell the conversions apart")
	}
	for out, w := range want {
		g := got192[out]
		if len(g.Shape) != len(w.Shape) || len(g.Data) != len(w.Data) || g.Shape[0] != 2 {
			t.Errorf("%s at 192: shape %v, at 224 %v", out, g.Shape, w.Shape)
		}
	}
	age, gender := outputNamed(t, got192, "age"), outputNamed(t, got192, "gender")
	for b := 0; b < 2; b++ {
		sum := 0.0
		n := len(age.Data) / 2
		for _, p := range age.Data[b*n : (b+1)*n] {
			sum += float64(p)
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Errorf("image %d: age probabilities at 192 sum to %g", b, sum)
		}
		if g := gender.Data[b]; g < 0 || g > 1 || math.IsNaN(float64(g)) {
			t.Errorf("image %d: gender %g at 192", b, g)
		}
	}
	// The features must depend on the input size a little, not a lot: the
	// same picture at 192 and 224 describes the same face.
	f192, f224 := outputNamed(t, got192, "pooling"), outputNamed(t, want, "pooling")
	if c := cosine(f192.Data[:1024], f224.Data[:1024]); c < 0.8 || c > 0.999999 {
		t.Errorf("feature cosine between 192 and 224 is %g, want close to but not exactly 1", c)
	}

	// TF.js itself, given the 192-px input, computes the same (when the
	// reference runner is installed).
	t.Run("tfjs reference at 192", func(t *testing.T) {
		ins, err := m.Inputs()
		if err != nil {
			t.Fatal(err)
		}
		outs, err := m.Outputs()
		if err != nil {
			t.Fatal(err)
		}
		nodes := make([]string, len(outs))
		for i, o := range outs {
			nodes[i] = o.Node
		}
		referenceRunner(t)
		// TF.js checks the input against the exported shape: give it a
		// copy of the graph whose input size is open, as ours is. TF.js
		// then pads each SAME convolution for the size it is given.
		ref := runReference(t, openSizeCopy(t, modelPath(t, "faceres")), map[string]onnx.Tensor{ins[0].Node: in192}, nodes)
		if len(ref) != len(outs) {
			t.Fatalf("TF.js gave %d outputs, want %d", len(ref), len(outs))
		}
		for i, o := range outs {
			if r := compareOutput(t, o.Name, got192[o.Name], ref[i]); r <= 1 {
				t.Logf("%-24s max error %.3f of the tolerance", o.Name, r)
			}
		}
	})
}

// TestFlexibleSizeRefusesReshape: BlazeFace reshapes its head outputs by
// the exported grid size, so a flexible conversion is refused, naming the
// node that needs the size.
func TestFlexibleSizeRefusesReshape(t *testing.T) {
	path := modelPath(t, "blazeface-back")
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m.FlexibleSize = true
	data, err := m.ToONNX()
	if err == nil {
		t.Fatalf("ToONNX made a flexible BlazeFace (%d bytes)", len(data))
	}
	var node *Node
	for i := range m.Nodes {
		if strings.Contains(err.Error(), `node "`+m.Nodes[i].Name+`"`) {
			node = &m.Nodes[i]
		}
	}
	if node == nil {
		t.Fatalf("error %q names no node of the model", err)
	}
	if !strings.Contains(err.Error(), "("+node.Op+")") || !strings.Contains(err.Error(), "flexible input size") {
		t.Errorf("error %q does not give the op and the reason", err)
	}
	switch node.Op {
	case "Reshape", "Squeeze", "StridedSlice", "Slice", "ConcatV2", "Concat", "ExpandDims":
	default:
		t.Errorf("refused because of a %s node, which does not depend on the size", node.Op)
	}
	// The same model converts without the option.
	m.FlexibleSize = false
	if _, err := m.ToONNX(); err != nil {
		t.Errorf("fixed-size conversion: %v", err)
	}
}

// TestImportDirFlexibleOption: the option applies only to the models it
// names, and a refusal is reported with the file while the other models
// are still written.
func TestImportDirFlexibleOption(t *testing.T) {
	if testing.Short() {
		t.Skip("converts two real models")
	}
	src, dst := t.TempDir(), t.TempDir()
	for _, name := range []string{"faceres", "blazeface-back"} {
		p := modelPath(t, name)
		for _, f := range []string{p, strings.TrimSuffix(p, ".json") + ".bin"} {
			if err := os.Symlink(f, filepath.Join(src, filepath.Base(f))); err != nil {
				t.Fatal(err)
			}
		}
	}
	rt := runtime(t)
	written, err := ImportDirWith(src, dst, nil, Options{FlexibleSize: []string{"faceres", "blazeface-back"}})
	if err == nil || !strings.Contains(err.Error(), "blazeface-back.json") || !strings.Contains(err.Error(), `node "`) {
		t.Errorf("error %v, want the refusal of blazeface-back.json naming a node", err)
	}
	if len(written) != 1 || filepath.Base(written[0]) != "faceres.onnx" {
		t.Fatalf("written %v, want faceres.onnx only", written)
	}
	data, err := os.ReadFile(written[0])
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.LoadBytes("imported faceres", data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if sh := s.Inputs[0].Shape; sh[1] != -1 || sh[2] != -1 {
		t.Errorf("imported faceres input %v, want flexible height and width", sh)
	}
	// Not named: converted at its fixed size.
	written, err = ImportDirWith(src, dst, nil, Options{FlexibleSize: []string{"faceres"}})
	if err != nil || len(written) != 2 {
		t.Errorf("with only faceres flexible: wrote %v, %v", written, err)
	}
}

// openSizeCopy writes a copy of the graph model at path whose Placeholder
// (and signature input) height and width are -1, beside a link to its
// weights, and returns the copy's path.
func openSizeCopy(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	opened := 0
	open := func(shape any) {
		dims, _ := shape.(map[string]any)["dim"].([]any)
		if len(dims) != 4 {
			t.Fatalf("input shape %v is not 4-D", shape)
		}
		for _, k := range []int{1, 2} {
			dims[k].(map[string]any)["size"] = "-1"
		}
		opened++
	}
	for _, n := range doc["modelTopology"].(map[string]any)["node"].([]any) {
		n := n.(map[string]any)
		if n["op"] == "Placeholder" {
			open(n["attr"].(map[string]any)["shape"].(map[string]any)["shape"])
		}
	}
	if sig, ok := doc["signature"].(map[string]any); ok {
		for _, in := range sig["inputs"].(map[string]any) {
			open(in.(map[string]any)["tensorShape"])
		}
	}
	if opened == 0 {
		t.Fatal("no input shape to open")
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, g := range doc["weightsManifest"].([]any) {
		for _, p := range g.(map[string]any)["paths"].([]any) {
			if err := os.Symlink(filepath.Join(filepath.Dir(path), p.(string)), filepath.Join(dir, p.(string))); err != nil {
				t.Fatal(err)
			}
		}
	}
	dst := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func maxAbsDiff(t *testing.T, name string, a, b onnx.Tensor) float64 {
	t.Helper()
	if len(a.Data) != len(b.Data) || len(a.Shape) != len(b.Shape) {
		t.Fatalf("%s: shapes %v and %v", name, a.Shape, b.Shape)
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			t.Fatalf("%s: shapes %v and %v", name, a.Shape, b.Shape)
		}
	}
	d := 0.0
	for i := range a.Data {
		e := math.Abs(float64(a.Data[i]) - float64(b.Data[i]))
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		d = math.Max(d, e)
	}
	return d
}

// outputNamed returns the one output whose name contains part.
func outputNamed(t *testing.T, outs map[string]onnx.Tensor, part string) onnx.Tensor {
	t.Helper()
	var found []string
	var out onnx.Tensor
	for name, o := range outs {
		if strings.Contains(name, part) {
			found = append(found, name)
			out = o
		}
	}
	if len(found) != 1 {
		t.Fatalf("outputs matching %q: %v", part, found)
	}
	return out
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
