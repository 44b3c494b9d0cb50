package tfjs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyManifest is a valid graph model: input x [-1,2,2,1] → Relu → Mul by
// a float16 constant.
const tinyManifest = `{
 "format": "graph-model",
 "generatedBy": "test",
 "convertedBy": "test",
 "modelTopology": {"node": [
  {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
    "shape": {"shape": {"dim": [{"size": "-1"}, {"size": "2"}, {"size": "2"}, {"size": "1"}]}}}},
  {"name": "k", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
  {"name": "r", "op": "Relu", "input": ["x"]},
  {"name": "y", "op": "Mul", "input": ["r", "k"]}
 ]},
 "weightsManifest": [{"paths": ["tiny.bin"], "weights": [
  {"name": "k", "shape": [1], "dtype": "float32", "quantization": {"dtype": "float16", "original_dtype": "float32"}}
 ]}]
}`

func ExampleParseManifest() {
	m, err := ParseManifest([]byte(tinyManifest))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range m.Nodes {
		fmt.Println(n.Op, n.Name, n.Inputs)
	}
	ins, _ := m.Inputs()
	outs, _ := m.Outputs()
	fmt.Println("inputs:", ins, "outputs:", outs, "weight bytes:", m.WeightBytes())

	// The weight data: one float16 value, 2.0.
	if err := m.SetWeights([]byte{0x00, 0x40}); err != nil {
		fmt.Println(err)
		return
	}
	model, err := m.ToONNX()
	fmt.Println(len(model) > 0, err)
	// Output:
	// Placeholder x []
	// Const k []
	// Relu r [x]
	// Mul y [r k]
	// inputs: [{x x}] outputs: [{y y}] weight bytes: 2
	// true <nil>
}

func TestParseManifestErrors(t *testing.T) {
	valid := tinyManifest
	cases := []struct {
		name, json, want string
	}{
		{"truncated", valid[:len(valid)/2], "unexpected end"},
		{"not json", "\x00\xff", "invalid character"},
		{"wrong type", `{"format": "graph-model", "modelTopology": {"node": 3}}`, "cannot unmarshal"},
		{"no name", `{"modelTopology": {"node": [{"op": "Relu"}]}}`, "no name"},
		{"no op", `{"modelTopology": {"node": [{"name": "a"}]}}`, "no op"},
		{"duplicate node", `{"modelTopology": {"node": [{"name": "a", "op": "Relu"}, {"name": "a", "op": "Relu"}]}}`, "two nodes"},
		{"bad int", `{"modelTopology": {"node": [{"name": "a", "op": "X", "attr": {"n": {"i": "1.5"}}}]}}`, "bad integer"},
		{"bad base64", `{"modelTopology": {"node": [{"name": "a", "op": "X", "attr": {"p": {"s": "!!"}}}]}}`, "base64"},
		{"negative dim", weightsJSON(`{"name": "w", "shape": [-2, 3], "dtype": "float32"}`), "negative"},
		{"overflow", weightsJSON(`{"name": "w", "shape": [4294967296, 4294967296, 4294967296], "dtype": "float32"}`), "more than"},
		{"huge", weightsJSON(`{"name": "w", "shape": [1073741824], "dtype": "float32"}, {"name": "v", "shape": [1073741824], "dtype": "float32"}`), "more than"},
		{"string dtype", weightsJSON(`{"name": "w", "shape": [2], "dtype": "string"}`), "not supported"},
		{"bad quantization", weightsJSON(`{"name": "w", "shape": [2], "dtype": "float32", "quantization": {"dtype": "int4"}}`), "quantization dtype"},
		{"uint8 without min", weightsJSON(`{"name": "w", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 1}}`), "min and scale"},
		{"float16 int32", weightsJSON(`{"name": "w", "shape": [2], "dtype": "int32", "quantization": {"dtype": "float16"}}`), "float16"},
		{"path traversal", `{"modelTopology": {"node": []}, "weightsManifest": [{"paths": ["../x.bin"], "weights": []}]}`, "plain relative"},
		{"absolute path", `{"modelTopology": {"node": []}, "weightsManifest": [{"paths": ["/etc/passwd"], "weights": []}]}`, "plain relative"},
		{"no paths", `{"modelTopology": {"node": []}, "weightsManifest": [{"weights": [{"name": "w", "shape": [1], "dtype": "float32"}]}]}`, "no paths"},
		{"rank", weightsJSON(`{"name": "w", "shape": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], "dtype": "float32"}`), "rank"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	for _, js := range []string{`{"format": "layers-model", "modelTopology": {}}`, `{"name": "pkg", "version": "1.0.0"}`, `{"modelTopology": {"class_name": "Sequential"}}`} {
		if _, err := ParseManifest([]byte(js)); !errors.Is(err, ErrNotGraphModel) {
			t.Errorf("%s: error %v, want ErrNotGraphModel", js, err)
		}
	}
}

func weightsJSON(weights string) string {
	return `{"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": [{"paths": ["w.bin"], "weights": [` + weights + `]}]}`
}

func TestParseManifestAttributes(t *testing.T) {
	m, err := ParseManifest([]byte(`{"modelTopology": {"node": [{"name": "c", "op": "Conv2D", "input": ["x", "^ctl"], "attr": {
		"strides": {"list": {"i": ["1", 2, "2", "1"]}},
		"padding": {"s": "U0FNRQ=="},
		"epsilon": {"f": "NaN"},
		"alpha": {"f": 0.25},
		"use_cudnn_on_gpu": {"b": true},
		"fused_ops": {"list": {"s": ["Qmlhc0FkZA==", "UmVsdQ=="]}},
		"T": {"type": "DT_FLOAT"},
		"shape": {"shape": {"dim": [{"size": "-1"}, {"size": 3}], "unknownRank": false}}
	}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	n := &m.Nodes[0]
	if got := n.attrInts("strides"); fmt.Sprint(got) != "[1 2 2 1]" {
		t.Errorf("strides %v", got)
	}
	if n.attrString("padding", "") != "SAME" || !math.IsNaN(n.attrFloat("epsilon", 0)) || n.attrFloat("alpha", 0) != 0.25 {
		t.Errorf("padding %q epsilon %v alpha %v", n.attrString("padding", ""), n.attrFloat("epsilon", 0), n.attrFloat("alpha", 0))
	}
	if !n.attrBool("use_cudnn_on_gpu", false) || fmt.Sprint(n.attrStrings("fused_ops")) != "[BiasAdd Relu]" {
		t.Errorf("bool or strings wrong: %v", n.attrStrings("fused_ops"))
	}
	if n.Attr["T"].Type != "DT_FLOAT" || fmt.Sprint(n.Attr["shape"].Shape.Dims) != "[-1 3]" {
		t.Errorf("type %q shape %v", n.Attr["T"].Type, n.Attr["shape"].Shape)
	}
	if fmt.Sprint(dataInputs(n)) != "[x]" {
		t.Errorf("data inputs %v", dataInputs(n))
	}
}

func TestPorts(t *testing.T) {
	base := `"modelTopology": {"node": [
		{"name": "in", "op": "Placeholder"},
		{"name": "a", "op": "Relu", "input": ["in"]},
		{"name": "b", "op": "Sigmoid", "input": ["a"]},
		{"name": "Identity_1", "op": "Identity", "input": ["b"]},
		{"name": "Identity", "op": "Identity", "input": ["a:0"]},
		{"name": "unused", "op": "Const"}
	]}`
	m, err := ParseManifest([]byte(`{` + base + `}`))
	if err != nil {
		t.Fatal(err)
	}
	ins, err1 := m.Inputs()
	outs, err2 := m.Outputs()
	if err1 != nil || err2 != nil || fmt.Sprint(ins) != "[{in in}]" || fmt.Sprint(outs) != "[{Identity Identity} {Identity_1 Identity_1}]" {
		t.Errorf("no signature: inputs %v (%v) outputs %v (%v)", ins, err1, outs, err2)
	}
	m, err = ParseManifest([]byte(`{` + base + `, "signature": {
		"inputs": {"image": {"name": "in:0"}},
		"outputs": {"score": {"name": "Identity_1:0"}, "feat": {"name": "a"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	ins, err1 = m.Inputs()
	outs, err2 = m.Outputs()
	if err1 != nil || err2 != nil || fmt.Sprint(ins) != "[{image in}]" || fmt.Sprint(outs) != "[{feat a} {score Identity_1}]" {
		t.Errorf("signature: inputs %v (%v) outputs %v (%v)", ins, err1, outs, err2)
	}
	for _, sig := range []string{
		`{"inputs": {"image": {"name": "a:0"}}}`,
		`{"outputs": {"o": {"name": "nowhere:0"}}}`,
		`{"outputs": {"o": {"name": "a:1"}}}`,
	} {
		m, err := ParseManifest([]byte(`{` + base + `, "signature": ` + sig + `}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err1 := m.Inputs()
		_, err2 := m.Outputs()
		if err1 == nil && err2 == nil {
			t.Errorf("signature %s: no error", sig)
		}
	}
}

func TestDecodeQuantized(t *testing.T) {
	w := &WeightSpec{Name: "w", Shape: []int64{4}, DType: "float32", Quantization: &Quantization{DType: "uint8", Min: -1, Scale: 0.5}}
	tt, err := decodeSpec(w, []byte{0, 1, 2, 255})
	if err != nil || fmt.Sprint(tt.f) != "[-1 -0.5 0 126.5]" {
		t.Errorf("uint8: %v %v", tt, err)
	}
	w = &WeightSpec{Name: "w", Shape: []int64{2}, DType: "float32", Quantization: &Quantization{DType: "uint16", Min: 0.5, Scale: 0.25}}
	tt, err = decodeSpec(w, []byte{4, 0, 0, 1})
	if err != nil || fmt.Sprint(tt.f) != "[1.5 64.5]" {
		t.Errorf("uint16: %v %v", tt, err)
	}
	// int32 from uint8: Math.round, halves up.
	w = &WeightSpec{Name: "w", Shape: []int64{3}, DType: "int32", Quantization: &Quantization{DType: "uint8", Min: -2.5, Scale: 1}}
	tt, err = decodeSpec(w, []byte{0, 1, 5})
	if err != nil || fmt.Sprint(tt.i) != "[-2 -1 3]" {
		t.Errorf("int32: %v %v", tt, err)
	}
	if _, err := decodeSpec(&WeightSpec{Name: "w", Shape: []int64{2}, DType: "float32"}, []byte{1, 2, 3}); err == nil {
		t.Error("short float32 data decoded")
	}
}

func TestLoadChecksShards(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tiny.json")
	if err := os.WriteFile(p, []byte(tinyManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "tiny.bin") {
		t.Errorf("missing shard: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tiny.bin"), []byte{0}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "needs 2") {
		t.Errorf("short shard: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tiny.bin"), []byte{0, 0x40}, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	k, err := m.decodeWeight("k")
	if err != nil || fmt.Sprint(k.f) != "[2]" {
		t.Errorf("k = %v, %v", k, err)
	}
	m2, _ := ParseManifest([]byte(tinyManifest))
	if _, err := m2.ToONNX(); err == nil {
		t.Error("converted without weights")
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(tinyManifest))
	f.Add([]byte(tinyManifest[:200]))
	f.Add([]byte(`{"modelTopology": {"node": [{"name": "a", "op": 7}]}}`))
	f.Add([]byte(`{"modelTopology": {"node": [{"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "99999999999"}]}}}}, {"name": "y", "op": "Relu", "input": ["x"]}]}}`))
	f.Add([]byte(weightsJSON(`{"name": "w", "shape": [4294967296, 4294967296], "dtype": "float32"}`)))
	f.Add([]byte(weightsJSON(`{"name": "w", "shape": ["2", "x"], "dtype": "float32"}`)))
	f.Add([]byte(`{"format": "graph-model", "modelTopology": {"node": [
		{"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "1"}, {"size": "5"}, {"size": "5"}, {"size": "2"}]}}}},
		{"name": "w", "op": "Const"}, {"name": "s", "op": "Const"},
		{"name": "c", "op": "Conv2D", "input": ["x", "w"], "attr": {"padding": {"s": "U0FNRQ=="}, "strides": {"list": {"i": ["1", "2", "2", "1"]}}}},
		{"name": "r", "op": "Reshape", "input": ["c", "s"]}]},
		"weightsManifest": [{"paths": ["a.bin"], "weights": [
		{"name": "w", "shape": [3, 3, 2, 4], "dtype": "float32", "quantization": {"dtype": "uint8", "min": -1, "scale": 0.01}},
		{"name": "s", "shape": [2], "dtype": "int32"}]}]}`))
	elementwise, _ := buildElementwise()
	f.Add(elementwise.manifest())
	f.Add(buildSynthetic().manifest())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		// Conversion must not panic either, whatever the graph: run it
		// with zero weights when they are small.
		if m.WeightBytes() > 1<<16 {
			return
		}
		if err := m.SetWeights(make([]byte, m.WeightBytes())); err != nil {
			t.Fatal(err)
		}
		m.ToONNX()
	})
}
