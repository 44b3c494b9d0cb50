package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"faceswap/onnx"
	"faceswap/onnxfile"
)

// Test environment: everything outside the repo that the tests use is
// found here, and a missing piece skips the tests that need it with a
// message naming `make setup`.

// faceswapHome is $FACESWAP_HOME, by default ~/.cache/faceswap.
func faceswapHome() string {
	if h := os.Getenv("FACESWAP_HOME"); h != "" {
		return h
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".cache", "faceswap")
	}
	return ""
}

// modelPath returns $FACESWAP_HOME/tfjs/NAME.json or skips.
func modelPath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(faceswapHome(), "tfjs", name+".json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("TF.js model %s not found (%v): run `make setup` or set FACESWAP_HOME", name, err)
	}
	return p
}

var (
	ortOnce sync.Once
	ortRT   *onnx.Runtime
	ortErr  error
)

// runtime opens ONNX Runtime (single-threaded) once, or skips.
func runtime(t testing.TB) *onnx.Runtime {
	t.Helper()
	lib := os.Getenv("FACESWAP_ORT_LIB")
	if lib == "" {
		lib = filepath.Join(faceswapHome(), "lib", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%v): run `make setup` or set FACESWAP_ORT_LIB", err)
	}
	ortOnce.Do(func() {
		ortRT, ortErr = onnx.Open(onnx.Config{LibraryPath: lib, IntraOpThreads: 1, InterOpThreads: 1})
	})
	if ortErr != nil {
		t.Fatalf("open ONNX Runtime: %v", ortErr)
	}
	return ortRT
}

// referenceRunner returns the path of tools/tfjs-reference/reference.js
// when node and the runner's node_modules are there, or skips.
func referenceRunner(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: the TF.js reference needs Node.js (run `make setup`)")
	}
	dir, err := filepath.Abs(filepath.Join("..", "tools", "tfjs-reference"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@tensorflow", "tfjs-converter")); err != nil {
		t.Skipf("the TF.js reference runner is not installed (%v): run `make setup` (npm ci --prefix tools/tfjs-reference)", err)
	}
	return filepath.Join(dir, "reference.js")
}

// refOutput is one output written by reference.js.
type refOutput struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
	File  string  `json:"file"`
	Data  []float32
}

// runReference runs the TF.js reference for the model at modelJSON on the
// given inputs (fed by name) and fetches the named outputs.
func runReference(t testing.TB, modelJSON string, inputs map[string]onnx.Tensor, outputs []string) []refOutput {
	t.Helper()
	script := referenceRunner(t)
	dir := t.TempDir()
	args := []string{script, "--model", modelJSON, "--out-dir", filepath.Join(dir, "out")}
	i := 0
	for name, in := range inputs {
		file := filepath.Join(dir, fmt.Sprintf("in%d.f32", i))
		i++
		if err := os.WriteFile(file, float32Bytes(in.Data), 0o644); err != nil {
			t.Fatal(err)
		}
		dims := make([]string, len(in.Shape))
		for k, d := range in.Shape {
			dims[k] = fmt.Sprint(d)
		}
		args = append(args, "--input", name+"="+file+":"+strings.Join(dims, ","))
	}
	for _, o := range outputs {
		args = append(args, "--output", o)
	}
	cmd := exec.Command("node", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("TF.js reference failed: %v\n%s", err, out)
	}
	var meta struct {
		Backend string      `json:"backend"`
		Outputs []refOutput `json:"outputs"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "out", "outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Backend != "cpu" {
		t.Fatalf("TF.js ran on backend %q, want cpu", meta.Backend)
	}
	for i := range meta.Outputs {
		raw, err := os.ReadFile(filepath.Join(dir, "out", meta.Outputs[i].File))
		if err != nil {
			t.Fatal(err)
		}
		meta.Outputs[i].Data = bytesFloat32(raw)
	}
	return meta.Outputs
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func bytesFloat32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// Tolerance: for each output, max|ort − tfjs| ≤ relTol · max(1, max|tfjs|).
//
// The outputs differ in scale by orders of magnitude (probabilities in
// 0..1, BlazeFace box regressors and FaceMesh coordinates in pixels up to a
// few hundred, descriptors of arbitrary scale), so the error is measured
// against the output's own largest magnitude; the floor of 1 keeps outputs
// that are all near zero from demanding precision below float32 rounding.
// The two runtimes sum in different orders in float32 (TF.js's CPU backend
// partly in float64), which moves results by about 1e-6 relative; a wrong
// layout, padding or weight decoding moves them by far more than 1e-3.
const relTol = 1e-3

// compareOutput checks one output and returns the error ratio
// max|diff| / (relTol·scale) (≤ 1 passes).
func compareOutput(t testing.TB, name string, got onnx.Tensor, want refOutput) float64 {
	t.Helper()
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		t.Errorf("%s: ONNX shape %v, TF.js shape %v", name, got.Shape, want.Shape)
		return math.Inf(1)
	}
	if len(got.Data) != len(want.Data) {
		t.Errorf("%s: ONNX has %d values, TF.js %d", name, len(got.Data), len(want.Data))
		return math.Inf(1)
	}
	scale := 1.0
	for _, v := range want.Data {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	worst, at := 0.0, 0
	for i := range got.Data {
		d := math.Abs(float64(got.Data[i]) - float64(want.Data[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > worst {
			worst, at = d, i
		}
	}
	ratio := worst / (relTol * scale)
	if ratio > 1 {
		t.Errorf("%s: max |ort-tfjs| = %.3g at %d (ort %g, tfjs %g), allowed %.3g (scale %.3g)",
			name, worst, at, got.Data[at], want.Data[at], relTol*scale, scale)
	}
	return ratio
}

// onnxSummary is what the structure tests look at in a converted model.
type onnxSummary struct {
	irVersion, opset int64
	producer         string
	ops              map[string]int
	inputs, outputs  []string
	inits            int
}

// summarize reads a converted model back with onnxfile.Read.
func summarize(t testing.TB, model []byte) onnxSummary {
	t.Helper()
	m, err := onnxfile.Read(model)
	if err != nil {
		t.Fatal(err)
	}
	s := onnxSummary{irVersion: m.IRVersion, producer: m.Producer, ops: map[string]int{}, inits: len(m.Graph.Initializers)}
	for _, o := range m.Opsets {
		if o.Domain == "" {
			s.opset = o.Version
		}
	}
	for _, n := range m.Graph.Nodes {
		s.ops[n.Op]++
	}
	for _, v := range m.Graph.Inputs {
		s.inputs = append(s.inputs, v.Name)
	}
	for _, v := range m.Graph.Outputs {
		s.outputs = append(s.outputs, v.Name)
	}
	return s
}
