package onnxfile

import (
	"math"
	"testing"

	"faceswap/internal/testenv"
	"faceswap/onnx"
)

// runnableModel is y = Relu(Reshape(x, [-1, 4])·w + b) over ops ONNX
// Runtime has, with the bias from a Constant node.
func runnableModel() *Model {
	w := make([]float32, 4*3)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	return &Model{
		IRVersion: 8,
		Producer:  "onnxfile-test",
		Opsets:    []Opset{{Version: 13}},
		Graph: Graph{
			Name: "runnable",
			Nodes: []*Node{
				{Name: "reshape", Op: "Reshape", Inputs: []string{"x", "shape"}, Outputs: []string{"x2"}},
				{Name: "mm", Op: "MatMul", Inputs: []string{"x2", "w"}, Outputs: []string{"xw"}},
				{Name: "bias", Op: "Constant", Outputs: []string{"b"}, Attrs: []Attribute{
					TensorAttr("value", &Tensor{Dims: []int64{3}, Type: Float, Floats: []float32{0.5, -100, 1}}),
				}},
				{Name: "add", Op: "Add", Inputs: []string{"xw", "b"}, Outputs: []string{"s"}},
				{Name: "relu", Op: "Relu", Inputs: []string{"s"}, Outputs: []string{"r"}},
				{Name: "sum", Op: "ReduceSum", Inputs: []string{"r", "axes"}, Outputs: []string{"y"}, Attrs: []Attribute{IntAttr("keepdims", 1)}},
			},
			Initializers: []*Tensor{
				{Name: "shape", Dims: []int64{2}, Type: Int64, Int64s: []int64{-1, 4}},
				{Name: "w", Dims: []int64{4, 3}, Type: Float, Floats: w},
				{Name: "axes", Dims: []int64{1}, Type: Int64, Int64s: []int64{0}},
			},
			Inputs:  []ValueInfo{{Name: "x", Type: Float, Dims: []int64{-1, 2, 2}, DimParams: []string{"n"}}},
			Outputs: []ValueInfo{{Name: "y", Type: Float, Dims: []int64{1, 3}}},
		},
	}
}

// TestRunsInONNXRuntime checks that ONNX Runtime accepts what the writer
// writes and computes the expected values.
func TestRunsInONNXRuntime(t *testing.T) {
	rt := testenv.Runtime(t)
	m := runnableModel()
	s, err := rt.LoadBytes("runnable", m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Inputs) != 1 || s.Inputs[0].Name != "x" || len(s.Outputs) != 1 || s.Outputs[0].Name != "y" {
		t.Fatalf("inputs %+v outputs %+v", s.Inputs, s.Outputs)
	}
	x := onnx.Tensor{Shape: []int64{2, 2, 2}, Data: []float32{1, 2, 3, 4, -1, 0.5, 2, -3}}
	out, err := s.Run(map[string]onnx.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	w := m.Graph.Initializers[1].Floats
	b := []float32{0.5, -100, 1}
	want := make([]float64, 3)
	for r := 0; r < 2; r++ {
		for j := 0; j < 3; j++ {
			v := float64(b[j])
			for k := 0; k < 4; k++ {
				v += float64(x.Data[4*r+k]) * float64(w[3*k+j])
			}
			want[j] += math.Max(v, 0)
		}
	}
	got := out["y"]
	if len(got.Data) != 3 {
		t.Fatalf("y = %+v", got)
	}
	for j := range want {
		if math.Abs(float64(got.Data[j])-want[j]) > 1e-5 {
			t.Errorf("y[%d] = %g, want %g", j, got.Data[j], want[j])
		}
	}
}
