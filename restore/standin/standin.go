// Package standin builds small ONNX models with the interfaces of the
// restoration models (GFPGAN v1.3/v1.4, CodeFormer v0.1.0), for tests: no
// real weights can be downloaded where the project is built, so the
// restoration code paths run on these. They have the real models' input
// and output names, shapes and value range: an RGB image [1,3,512,512] in
// −1..1 ((x/255 − 0.5)/0.5) in and out, and for CodeFormer a fidelity
// weight input "w" of shape [1].
//
//	data := standin.GFPGAN(standin.Identity, 0).Marshal()
//	os.WriteFile(filepath.Join(home, "onnx", "GFPGANv1.4.onnx"), data, 0o644)
package standin

import "faceswap/onnxfile"

// Size is the side of the restoration models' square crop.
const Size = 512

// Mode is what a stand-in computes.
type Mode int

const (
	// Identity returns its input.
	Identity Mode = iota
	// Constant returns Value everywhere.
	Constant
	// FromWeight returns 2w − 1 everywhere (a picture of value 255·w),
	// so a test sees the fidelity weight the model was given (CodeFormer
	// only).
	FromWeight
	// Grey returns the channel mean, [1,1,512,512]: a model with the
	// wrong output, for tests that it is refused.
	Grey
)

// Spec describes a stand-in restorer.
type Spec struct {
	Mode  Mode
	Value float32 // Constant's output, in −1..1
	// Fidelity adds CodeFormer's fidelity weight input.
	Fidelity bool
	// Names of the image input, the output and the fidelity input.
	Input, Output, Weight string
	// InputDims and OutputDims default to [1 3 512 512] (Grey's output
	// to [1 1 512 512]); WeightDims to [1] (a non-nil empty slice is a
	// rank-0 scalar).
	InputDims, OutputDims, WeightDims []int64
}

// GFPGAN is a stand-in with GFPGAN's interface ("input" → "output").
func GFPGAN(mode Mode, value float32) Spec {
	return Spec{Mode: mode, Value: value, Input: "input", Output: "output"}
}

// CodeFormer is a stand-in with CodeFormer's interface ("input" and the
// fidelity weight "w" → "output").
func CodeFormer(mode Mode, value float32) Spec {
	return Spec{Mode: mode, Value: value, Fidelity: true, Input: "input", Output: "output", Weight: "w"}
}

// Model returns the stand-in's graph.
func (s Spec) Model() *onnxfile.Model {
	f := onnxfile.Float
	image := []int64{1, 3, Size, Size}
	in, out, wd := s.InputDims, s.OutputDims, s.WeightDims
	if in == nil {
		in = image
	}
	if out == nil {
		out = image
	}
	if wd == nil {
		wd = []int64{1}
	}
	var nodes []*onnxfile.Node
	node := func(op string, outName string, ins ...string) {
		nodes = append(nodes, &onnxfile.Node{Name: outName, Op: op, Inputs: ins, Outputs: []string{outName}})
	}
	// body computes the image before the fidelity input is added in
	body := "body"
	switch s.Mode {
	case Identity:
		node("Identity", body, s.Input)
	case Constant:
		node("Mul", "zeroed", s.Input, "zero")
		node("Add", body, "zeroed", "value")
	case Grey:
		nodes = append(nodes, &onnxfile.Node{Name: body, Op: "ReduceMean", Inputs: []string{s.Input}, Outputs: []string{body},
			Attrs: []onnxfile.Attribute{onnxfile.IntsAttr("axes", 1), onnxfile.IntAttr("keepdims", 1)}})
		if s.OutputDims == nil {
			out = []int64{1, 1, Size, Size}
		}
	case FromWeight:
		node("Mul", "zeroed", s.Input, "zero")
		node("Mul", "w2", s.Weight, "two")
		node("Sub", "w21", "w2", "one")
		node("Add", body, "zeroed", "w21")
	}
	inputs := []onnxfile.ValueInfo{{Name: s.Input, Type: f, Dims: in}}
	if s.Fidelity {
		inputs = append(inputs, onnxfile.ValueInfo{Name: s.Weight, Type: f, Dims: wd})
		if s.Mode != FromWeight {
			// the graph consumes w, as the real one does: + 0·w
			node("Mul", "wzero", s.Weight, "zero")
			node("Add", "withw", body, "wzero")
			body = "withw"
		}
	}
	node("Identity", s.Output, body)
	return &onnxfile.Model{
		IRVersion: 8, Producer: "restore-standin", Opsets: []onnxfile.Opset{{Version: 13}},
		Graph: onnxfile.Graph{
			Name:  "restore_standin",
			Nodes: nodes,
			Initializers: []*onnxfile.Tensor{
				{Name: "zero", Type: f, Floats: []float32{0}},
				{Name: "one", Type: f, Floats: []float32{1}},
				{Name: "two", Type: f, Floats: []float32{2}},
				{Name: "value", Type: f, Floats: []float32{s.Value}},
			},
			Inputs:  inputs,
			Outputs: []onnxfile.ValueInfo{{Name: s.Output, Type: f, Dims: out}},
		},
	}
}

// Marshal returns the contents of the stand-in's .onnx file.
func (s Spec) Marshal() []byte { return s.Model().Marshal() }
