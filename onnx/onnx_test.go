package onnx_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"faceswap/internal/testenv"
	"faceswap/onnx"
)

// The tests that need ONNX Runtime use the library and models that set-up
// places in $FACESWAP_HOME and skip when they are missing. The runtime is
// process-global: every Open here uses the same library path as testenv.

func TestValidateReportsEveryProblem(t *testing.T) {
	cases := []struct {
		name string
		cfg  onnx.Config
		want []string
	}{
		{
			name: "empty library, negative threads, unknown provider",
			cfg:  onnx.Config{IntraOpThreads: -1, Provider: "DirectML"},
			want: []string{
				"library path is empty",
				"intra-op threads -1 is out of range",
				`execution provider "directml" is not one of cpu, cuda, tensorrt, coreml`,
			},
		},
		{
			name: "missing library, both thread counts bad",
			cfg:  onnx.Config{LibraryPath: filepath.Join(t.TempDir(), "nope.so"), IntraOpThreads: 2000, InterOpThreads: -3, Provider: "rocm"},
			want: []string{
				"nope.so is missing",
				"intra-op threads 2000 is out of range",
				"inter-op threads -3 is out of range",
				`"rocm"`,
			},
		},
		{
			name: "library is a directory",
			cfg:  onnx.Config{LibraryPath: t.TempDir()},
			want: []string{"is missing", "make setup", "FACESWAP_ORT_LIB"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if err == nil {
				t.Fatal("Validate accepted a bad config")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// Open refuses the same config with the same report, before
			// touching the runtime.
			if _, oerr := onnx.Open(c.cfg); oerr == nil || oerr.Error() != err.Error() {
				t.Errorf("Open: %v, want %v", oerr, err)
			}
		})
	}
	// The number of lines is the number of problems.
	err := onnx.Config{IntraOpThreads: -1, InterOpThreads: -1, Provider: "x"}.Validate()
	if n := len(strings.Split(err.Error(), "\n")); n != 4 {
		t.Errorf("want 4 problems, got %d: %v", n, err)
	}
}

func TestValidateAcceptsGoodConfigs(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(lib, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []onnx.Config{
		{LibraryPath: lib},
		{LibraryPath: lib, IntraOpThreads: 4, InterOpThreads: 2, Provider: "CPU"},
		{LibraryPath: lib, IntraOpThreads: 1024, InterOpThreads: 1024, Provider: "cuda"},
		{LibraryPath: lib, Provider: "tensorrt"},
		{LibraryPath: lib, Provider: "coreml"},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestOpenDefaultsAndVersion(t *testing.T) {
	testenv.Runtime(t)
	lib := testenv.Models(t).ORTLibrary()
	rt, err := onnx.Open(onnx.Config{LibraryPath: lib, Provider: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rt.Config()
	if cfg.IntraOpThreads != 1 || cfg.InterOpThreads != 1 || cfg.Provider != "cpu" || cfg.LibraryPath != lib {
		t.Errorf("Config() = %+v, want 1 thread each, provider cpu, library %s", cfg, lib)
	}
	if v := rt.Version(); !strings.HasPrefix(v, "1.") {
		t.Errorf("Version() = %q, want 1.x", v)
	}
}

func TestOpenSecondLibraryFails(t *testing.T) {
	testenv.Runtime(t) // the process's runtime is now loaded from the set-up's library
	other := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(other, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := onnx.Open(onnx.Config{LibraryPath: other})
	if err == nil || !strings.Contains(err.Error(), "already loaded") || !strings.Contains(err.Error(), other) {
		t.Fatalf("Open with a second library: %v, want an 'already loaded' error naming %s", err, other)
	}
}

// TestOpenAcceleratorOnCPULibrary: the library set-up installs is CPU-only,
// so asking for an accelerator must fail at Open (not at the first run)
// with an error that names the provider and says what to do.
func TestOpenAcceleratorOnCPULibrary(t *testing.T) {
	testenv.Runtime(t)
	lib := testenv.Models(t).ORTLibrary()
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(lib), "libonnxruntime_providers_*")); len(m) > 0 {
		t.Skipf("the library in %s ships accelerator providers %v", filepath.Dir(lib), m)
	}
	providers := []string{"cuda", "tensorrt"}
	if runtime.GOOS != "darwin" {
		providers = append(providers, "coreml")
	}
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			rt, err := onnx.Open(onnx.Config{LibraryPath: lib, Provider: p})
			if err == nil {
				t.Fatalf("Open with provider %s on a CPU-only library succeeded (%v)", p, rt.Config())
			}
			msg := err.Error()
			for _, w := range []string{`"` + p + `"`, "FACESWAP_ORT_LIB", "provider cpu", lib} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if p == "coreml" && !strings.Contains(msg, "macOS") {
				t.Errorf("coreml error %q does not say it needs macOS", msg)
			}
		})
	}
}

func model(t *testing.T, name string) string {
	t.Helper()
	return testenv.Models(t, "onnx/"+name+".onnx").ONNX(name)
}

func TestLoadCachesByPath(t *testing.T) {
	rt := testenv.Runtime(t)
	path := model(t, "blazeface-front")
	a, err := rt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("Load of the same path returned two sessions")
	}
	if a.Path != path {
		t.Errorf("Path = %q, want %q", a.Path, path)
	}
	in := []onnx.IO{{Name: "input", Shape: []int64{1, 128, 128, 3}, Type: "float32"}}
	if len(a.Inputs) != 1 || a.Inputs[0].Name != in[0].Name || a.Inputs[0].Type != "float32" || !equalShape(a.Inputs[0].Shape, in[0].Shape) {
		t.Errorf("Inputs = %+v, want %+v", a.Inputs, in)
	}
	if len(a.Outputs) != 4 {
		t.Errorf("Outputs = %+v, want 4", a.Outputs)
	}
	// LoadBytes never caches: a second session of the same model.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.LoadBytes(path, data)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c == a {
		t.Error("LoadBytes returned the cached session")
	}
	if _, err := rt.Load(filepath.Join(t.TempDir(), "missing.onnx")); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestLoadBytesRejectsGarbage(t *testing.T) {
	rt := testenv.Runtime(t)
	for _, data := range [][]byte{nil, []byte("definitely not a protobuf"), {0xff, 0xff, 0xff, 0xff, 0x0f}} {
		s, err := rt.LoadBytes("garbage-model", data)
		if err == nil {
			s.Close()
			t.Fatalf("LoadBytes(%q) succeeded", data)
		}
		if !strings.Contains(err.Error(), "garbage-model") {
			t.Errorf("error %q does not name the model", err)
		}
	}
	// A truncated real model is garbage too.
	data, err := os.ReadFile(model(t, "blazeface-front"))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := rt.LoadBytes("truncated", data[:len(data)/2]); err == nil {
		s.Close()
		t.Error("LoadBytes of half a model succeeded")
	} else if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("error %q does not name the model", err)
	}
}

func TestRunInputErrors(t *testing.T) {
	rt := testenv.Runtime(t)
	s, err := rt.Load(model(t, "blazeface-front"))
	if err != nil {
		t.Fatal(err)
	}
	in := onnx.NewTensor(1, 128, 128, 3)
	if len(in.Data) != 128*128*3 {
		t.Fatalf("NewTensor made %d values", len(in.Data))
	}
	runs0, _ := s.Stats()
	_, err = s.Run(map[string]onnx.Tensor{"image": in})
	if err == nil || !strings.Contains(err.Error(), `input "input" not given`) {
		t.Errorf("Run with a misnamed input: %v", err)
	}
	_, err = s.Run(nil)
	if err == nil || !strings.Contains(err.Error(), `"input"`) {
		t.Errorf("Run with no input: %v", err)
	}
	_, err = s.Run(map[string]onnx.Tensor{"input": in, "extra": in})
	if err == nil || !strings.Contains(err.Error(), "2 inputs given, the model has 1") {
		t.Errorf("Run with an extra input: %v", err)
	}
	// A tensor whose data does not fill its shape.
	_, err = s.Run(map[string]onnx.Tensor{"input": {Shape: []int64{1, 128, 128, 3}, Data: make([]float32, 10)}})
	if err == nil {
		t.Error("Run with too little data succeeded")
	}
	// A shape the model does not take fails inside the run.
	bad := onnx.NewTensor(1, 64, 64, 3)
	if _, err = s.Run(map[string]onnx.Tensor{"input": bad}); err == nil {
		t.Error("Run with a 64×64 input on a 128×128 model succeeded")
	}
	out, err := s.Run(map[string]onnx.Tensor{"input": in})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["Identity_3"].Shape; !equalShape(got, []int64{1, 384, 16}) {
		t.Errorf("Identity_3 shape %v", got)
	}
	if len(out) != 4 {
		t.Errorf("%d outputs, want 4", len(out))
	}
	runs1, _ := s.Stats()
	// Input errors are caught before the model runs; the failed run and the
	// good one count.
	if runs1-runs0 != 2 {
		t.Errorf("Stats counted %d runs, want 2", runs1-runs0)
	}
}

func TestStatsCountRuns(t *testing.T) {
	rt := testenv.Runtime(t)
	data, err := os.ReadFile(model(t, "blazeface-front"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := rt.LoadBytes("fresh", data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, d := s.Stats(); n != 0 || d != 0 {
		t.Fatalf("new session: Stats = %d, %v", n, d)
	}
	if s.LoadTime <= 0 {
		t.Errorf("LoadTime = %v", s.LoadTime)
	}
	in := onnx.NewTensor(1, 128, 128, 3)
	for i := 0; i < 5; i++ {
		if _, err := s.Run(map[string]onnx.Tensor{"input": in}); err != nil {
			t.Fatal(err)
		}
	}
	if n, d := s.Stats(); n != 5 || d <= 0 {
		t.Errorf("after 5 runs: Stats = %d, %v", n, d)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestConcurrentRunsMatchSerial runs one session from 8 goroutines, 20
// runs each on distinct random inputs, and checks every output against a
// serial run of the same input. Run it with -race too.
func TestConcurrentRunsMatchSerial(t *testing.T) {
	rt := testenv.Runtime(t)
	s, err := rt.Load(model(t, "blazeface-front"))
	if err != nil {
		t.Fatal(err)
	}
	const workers, runs = 8, 20
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := make([]onnx.Tensor, workers*runs)
	for i := range inputs {
		inputs[i] = onnx.NewTensor(1, 128, 128, 3)
		for k := range inputs[i].Data {
			inputs[i].Data[k] = rng.Float32()*2 - 1
		}
	}
	serial := make([]map[string]onnx.Tensor, len(inputs))
	for i, in := range inputs {
		if serial[i], err = s.Run(map[string]onnx.Tensor{"input": in}); err != nil {
			t.Fatal(err)
		}
	}
	// Distinct inputs must give distinct outputs, or the comparison below
	// could not tell runs apart.
	if equalOutputs(serial[0], serial[1]) {
		t.Fatal("two different inputs gave the same outputs")
	}
	runs0, _ := s.Stats()
	parallel := make([]map[string]onnx.Tensor, len(inputs))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Interleave: worker w takes inputs w, w+8, w+16, ...
			for i := w; i < len(inputs); i += workers {
				out, err := s.Run(map[string]onnx.Tensor{"input": inputs[i]})
				if err != nil {
					errs[w] = err
					return
				}
				parallel[i] = out
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range inputs {
		if !equalOutputs(serial[i], parallel[i]) {
			t.Errorf("input %d: concurrent outputs differ from serial ones", i)
		}
	}
	if runs1, _ := s.Stats(); runs1-runs0 != workers*runs {
		t.Errorf("Stats counted %d concurrent runs, want %d", runs1-runs0, workers*runs)
	}
}

func equalShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalOutputs(a, b map[string]onnx.Tensor) bool {
	if len(a) != len(b) {
		return false
	}
	for name, ta := range a {
		tb, ok := b[name]
		if !ok || !equalShape(ta.Shape, tb.Shape) || len(ta.Data) != len(tb.Data) {
			return false
		}
		for i := range ta.Data {
			if math.Float32bits(ta.Data[i]) != math.Float32bits(tb.Data[i]) {
				return false
			}
		}
	}
	return true
}

// TestObserveSeesRuns: a runtime opened with Observe shows it every run
// of its sessions, with the session and the very inputs, before the run,
// so replaying a copy of them gives the same outputs; a runtime without it
// runs as ever.
func TestObserveSeesRuns(t *testing.T) {
	path := model(t, "blazeface-front")
	type run struct {
		s  *onnx.Session
		in map[string]onnx.Tensor
	}
	var (
		mu  sync.Mutex
		got []run
	)
	rt, err := onnx.Open(onnx.Config{LibraryPath: testenv.Models(t).ORTLibrary(), Observe: func(s *onnx.Session, in map[string]onnx.Tensor) {
		cp := map[string]onnx.Tensor{}
		for k, v := range in {
			cp[k] = onnx.Tensor{Shape: append([]int64(nil), v.Shape...), Data: append([]float32(nil), v.Data...)}
		}
		if runs, _ := s.Stats(); runs != int64(len(got)) {
			t.Errorf("observed after %d runs, want before run %d", runs, len(got)+1)
		}
		mu.Lock()
		got = append(got, run{s, cp})
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	s, err := rt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []map[string]onnx.Tensor
	in := onnx.NewTensor(1, 128, 128, 3)
	for i := range 2 {
		for k := range in.Data {
			in.Data[k] = float32((k*7+i*13)%255)/127.5 - 1
		}
		out, err := s.Run(map[string]onnx.Tensor{"input": in})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, out)
	}
	if len(got) != 2 {
		t.Fatalf("the observer saw %d runs, want 2", len(got))
	}
	plain, err := testenv.Runtime(t).Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if r.s != s {
			t.Errorf("run %d: session %v", i, r.s.Path)
		}
		out, err := plain.Run(r.in) // not observed: got stays at 2
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range want[i] {
			if !reflect.DeepEqual(out[name].Data, w.Data) {
				t.Errorf("run %d: replaying gives another %s", i, name)
			}
		}
	}
	if len(got) != 2 {
		t.Errorf("a runtime without Observe reported runs: %d", len(got))
	}
}

func TestIOFits(t *testing.T) {
	want := []int64{1, 3, 128, 128}
	for _, c := range []struct {
		io   onnx.IO
		fits bool
	}{
		{onnx.IO{Type: "float32", Shape: []int64{1, 3, 128, 128}}, true},
		{onnx.IO{Type: "float32", Shape: []int64{-1, 3, 0, -1}}, true},
		{onnx.IO{Type: "float64", Shape: []int64{1, 3, 128, 128}}, false},
		{onnx.IO{Type: "float32", Shape: []int64{1, 3, 256, 128}}, false},
		{onnx.IO{Type: "float32", Shape: []int64{3, 128, 128}}, false},
		{onnx.IO{Type: "float32"}, false},
	} {
		if got := c.io.Fits("float32", want); got != c.fits {
			t.Errorf("%s%v fits float32%v: %v, want %v", c.io.Type, c.io.Shape, want, got, c.fits)
		}
	}
	ios := []onnx.IO{
		{Name: "latent", Type: "float32", Shape: []int64{1, 512}},
		{Name: "half", Type: "float16", Shape: []int64{1, 3, 128, 128}},
		{Name: "face", Type: "float32", Shape: []int64{-1, 3, 128, 128}},
		{Name: "second", Type: "float32", Shape: []int64{1, 3, 128, 128}},
	}
	if got := onnx.FindFit(ios, "float32", want); got != "face" {
		t.Errorf("FindFit = %q, want face", got)
	}
	if got := onnx.FindFit(ios, "float32", []int64{1, 256}); got != "" {
		t.Errorf("FindFit of a missing shape = %q, want \"\"", got)
	}
	s := &onnx.Session{Inputs: ios[:1], Outputs: ios[2:]}
	if got, want := s.Signature(), "inputs: latent float32[1 512]; outputs: face float32[-1 3 128 128], second float32[1 3 128 128]"; got != want {
		t.Errorf("Signature = %q, want %q", got, want)
	}
}
