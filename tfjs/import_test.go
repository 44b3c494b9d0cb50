package tfjs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportDir(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "onnx")
	buildSynthetic().write(t, src, "good")
	bad := newSynth(1)
	bad.node("weird", "Erf", []string{bad.placeholder("x", 1, 2)}, nil)
	bad.write(t, src, "bad")
	if err := os.WriteFile(filepath.Join(src, "layers.json"), []byte(`{"format": "layers-model", "modelTopology": {"class_name": "Sequential"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	written, err := ImportDir(src, dst, &log)
	var ue *UnsupportedOpError
	if !errors.As(err, &ue) || ue.Op != "Erf" {
		t.Errorf("error %v, want the unsupported Erf of bad.json", err)
	}
	want := filepath.Join(dst, "good.onnx")
	if len(written) != 1 || written[0] != want {
		t.Fatalf("written %v, want [%s]", written, want)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "bad: FAILED") || !strings.Contains(lines[1], "good -> ") || !strings.Contains(lines[2], "layers: skipped") {
		t.Errorf("log:\n%s", log.String())
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "good.onnx" {
		t.Errorf("destination holds %v, want only good.onnx (no temporary files)", entries)
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := ConvertFile(filepath.Join(src, "good.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(direct) {
		t.Error("ImportDir wrote something else than ConvertFile returns")
	}
	if s := summarize(t, data); s.producer != "faceswap-tfjs" || len(s.outputs) == 0 {
		t.Errorf("summary %+v", s)
	}
}

// TestRealModelStructure checks the interface of each converted human
// model and that activations stay NCHW: a transpose after the input, and
// for BlazeFace one before each of its four reshaped outputs, nothing else.
func TestRealModelStructure(t *testing.T) {
	cases := []struct {
		name, inputs, outputs string
		transposes            int
	}{
		{"blazeface-back", "input", "Identity,Identity_1,Identity_2,Identity_3", 5},
		{"blazeface-front", "input", "Identity,Identity_1,Identity_2,Identity_3", 5},
		{"facemesh", "input_1", "output_contours,output_faceflag,output_mesh", 1},
		{"faceres", "input_1", "age_pred/Softmax:0,gender_pred/Sigmoid:0,global_pooling/Mean", 1},
		{"gear", "input_1", "age_output,gender_output,race_output", 1},
		{"gender", "input_1", "Identity", 1},
		{"mobilefacenet", "img_inputs", "embeddings", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := ConvertFile(modelPath(t, c.name))
			if err != nil {
				t.Fatal(err)
			}
			s := summarize(t, data)
			if got := strings.Join(s.inputs, ","); got != c.inputs {
				t.Errorf("inputs %s, want %s", got, c.inputs)
			}
			if got := strings.Join(s.outputs, ","); got != c.outputs {
				t.Errorf("outputs %s, want %s", got, c.outputs)
			}
			if s.ops["Transpose"] != c.transposes {
				t.Errorf("%d Transpose nodes, want %d (ops %v)", s.ops["Transpose"], c.transposes, s.ops)
			}
			if s.irVersion != 8 || s.opset != 13 {
				t.Errorf("IR %d opset %d", s.irVersion, s.opset)
			}
		})
	}
}
