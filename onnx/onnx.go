// Package onnx runs ONNX models with ONNX Runtime. It is the only package of
// the project that uses cgo; everything else builds with CGO_ENABLED=0.
//
// A Runtime is opened once per process from a Config (library path, threads,
// execution provider). Sessions are loaded through it, cached by path, and
// are safe for concurrent use: ONNX Runtime's Run is thread-safe and every
// call gets its own input and output values.
//
//	rt, err := onnx.Open(onnx.Config{LibraryPath: lib})
//	s, err := rt.Load("facemesh.onnx")
//	out, err := s.Run(map[string]onnx.Tensor{"input_1": in})
package onnx

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// Providers are the execution providers a Config may name.
var Providers = []string{"cpu", "cuda", "tensorrt", "coreml"}

// Config says where ONNX Runtime is and how it runs.
type Config struct {
	// LibraryPath is the absolute path of the ONNX Runtime shared library
	// (libonnxruntime.so.1 from set-up, or FACESWAP_ORT_LIB).
	LibraryPath string
	// IntraOpThreads is the number of threads one operator may use (default 1).
	IntraOpThreads int
	// InterOpThreads is the number of threads running independent operators
	// in parallel (default 1).
	InterOpThreads int
	// Provider is the execution provider: cpu (default), cuda, tensorrt or coreml.
	Provider string
	// Observe, when set, is called with the session and the inputs of
	// every run of the runtime's sessions, on the caller's goroutine,
	// just before ONNX Runtime runs them. The inputs stay the caller's:
	// an observer copies what it keeps. It is for measuring (tools/bench
	// records the runs a request makes and replays them to time ONNX
	// Runtime alone); the server leaves it nil.
	Observe func(s *Session, inputs map[string]Tensor)
}

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if c.IntraOpThreads == 0 {
		c.IntraOpThreads = 1
	}
	if c.InterOpThreads == 0 {
		c.InterOpThreads = 1
	}
	if c.Provider == "" {
		c.Provider = "cpu"
	}
	c.Provider = strings.ToLower(c.Provider)
	return c
}

// Validate reports every bad setting of c at once.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.LibraryPath == "" {
		errs = append(errs, errors.New("onnx: the ONNX Runtime library path is empty (run `make setup` or set FACESWAP_ORT_LIB)"))
	} else if st, err := os.Stat(c.LibraryPath); err != nil || st.IsDir() {
		errs = append(errs, fmt.Errorf("onnx: the ONNX Runtime library %s is missing (run `make setup` or set FACESWAP_ORT_LIB)", c.LibraryPath))
	}
	if c.IntraOpThreads < 0 || c.IntraOpThreads > 1024 {
		errs = append(errs, fmt.Errorf("onnx: intra-op threads %d is out of range 0-1024", c.IntraOpThreads))
	}
	if c.InterOpThreads < 0 || c.InterOpThreads > 1024 {
		errs = append(errs, fmt.Errorf("onnx: inter-op threads %d is out of range 0-1024", c.InterOpThreads))
	}
	known := false
	for _, p := range Providers {
		known = known || p == c.Provider
	}
	if !known {
		errs = append(errs, fmt.Errorf("onnx: execution provider %q is not one of %s", c.Provider, strings.Join(Providers, ", ")))
	}
	return errors.Join(errs...)
}

// The ONNX Runtime environment is process-global: it is initialised once,
// with the library of the first Open.
var (
	envMu   sync.Mutex
	envLib  string
	envErr  error
	envOpen bool
)

func initEnv(lib string) error {
	envMu.Lock()
	defer envMu.Unlock()
	if envOpen {
		if lib != envLib {
			return fmt.Errorf("onnx: ONNX Runtime is already loaded from %s; cannot load %s in the same process", envLib, lib)
		}
		return envErr
	}
	envOpen, envLib = true, lib
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		envErr = fmt.Errorf("onnx: cannot load ONNX Runtime from %s: %w", lib, err)
	}
	return envErr
}

// Runtime loads and caches sessions. It is safe for concurrent use.
type Runtime struct {
	cfg      Config
	mu       sync.Mutex
	sessions map[string]*Session
}

// Open checks cfg, loads the ONNX Runtime library (once per process) and
// checks that the execution provider can be created.
func Open(cfg Config) (*Runtime, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := initEnv(cfg.LibraryPath); err != nil {
		return nil, err
	}
	rt := &Runtime{cfg: cfg, sessions: map[string]*Session{}}
	opts, err := rt.sessionOptions()
	if err != nil {
		return nil, err
	}
	opts.Destroy()
	return rt, nil
}

// Config returns the configuration the runtime runs with.
func (r *Runtime) Config() Config { return r.cfg }

// Version returns the ONNX Runtime library version.
func (r *Runtime) Version() string { return ort.GetVersion() }

func (r *Runtime) sessionOptions() (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx: session options: %w", err)
	}
	fail := func(err error) (*ort.SessionOptions, error) {
		opts.Destroy()
		return nil, err
	}
	if err := opts.SetIntraOpNumThreads(r.cfg.IntraOpThreads); err != nil {
		return fail(fmt.Errorf("onnx: intra-op threads: %w", err))
	}
	if err := opts.SetInterOpNumThreads(r.cfg.InterOpThreads); err != nil {
		return fail(fmt.Errorf("onnx: inter-op threads: %w", err))
	}
	if r.cfg.InterOpThreads > 1 {
		if err := opts.SetExecutionMode(ort.ExecutionModeParallel); err != nil {
			return fail(fmt.Errorf("onnx: execution mode: %w", err))
		}
	}
	if err := r.appendProvider(opts); err != nil {
		return fail(err)
	}
	return opts, nil
}

func (r *Runtime) appendProvider(opts *ort.SessionOptions) error {
	hint := func(err error) error {
		return fmt.Errorf("onnx: execution provider %q cannot load with %s: %w; the bundled library is CPU-only: install an ONNX Runtime build with %s support and point FACESWAP_ORT_LIB at it, or use provider cpu",
			r.cfg.Provider, r.cfg.LibraryPath, err, r.cfg.Provider)
	}
	switch r.cfg.Provider {
	case "cpu":
		return nil
	case "cuda":
		if err := appendWith(ort.NewCUDAProviderOptions, opts.AppendExecutionProviderCUDA); err != nil {
			return hint(err)
		}
	case "tensorrt":
		if err := appendWith(ort.NewTensorRTProviderOptions, opts.AppendExecutionProviderTensorRT); err != nil {
			return hint(err)
		}
	case "coreml":
		if runtime.GOOS != "darwin" {
			return hint(fmt.Errorf("CoreML exists only on macOS, not %s", runtime.GOOS))
		}
		if err := opts.AppendExecutionProviderCoreMLV2(map[string]string{}); err != nil {
			return hint(err)
		}
	}
	return nil
}

// appendWith makes an execution provider's default options with newOpts,
// appends the provider to session options with add, and frees the options.
func appendWith[P interface{ Destroy() error }](newOpts func() (P, error), add func(P) error) error {
	po, err := newOpts()
	if err != nil {
		return err
	}
	defer po.Destroy()
	return add(po)
}

// IO describes one input or output of a model.
type IO struct {
	Name  string
	Shape []int64 // -1 for a dynamic dimension
	Type  string  // element type, e.g. "float32"
}

// Fits reports whether io holds elements of type typ in a shape that accepts
// want: the same rank, each declared dimension equal to want's or dynamic
// (-1 or 0).
func (io IO) Fits(typ string, want []int64) bool {
	if io.Type != typ || len(io.Shape) != len(want) {
		return false
	}
	for i, d := range io.Shape {
		if d > 0 && d != want[i] {
			return false
		}
	}
	return true
}

// FindFit returns the name of the first of ios that Fits typ and want, or
// "" when none does.
func FindFit(ios []IO, typ string, want []int64) string {
	for _, io := range ios {
		if io.Fits(typ, want) {
			return io.Name
		}
	}
	return ""
}

// Session is one loaded model. It is safe for concurrent use.
type Session struct {
	Path     string
	Inputs   []IO
	Outputs  []IO
	LoadTime time.Duration
	s        *ort.DynamicAdvancedSession
	inNames  []string
	outNames []string
	runs     atomic.Int64
	runNanos atomic.Int64
	observe  func(*Session, map[string]Tensor) // Config.Observe
}

// Signature describes the session's inputs and outputs for an error
// message, as "inputs: NAME TYPE[DIMS], ...; outputs: ...".
func (s *Session) Signature() string {
	list := func(ios []IO) string {
		parts := make([]string, len(ios))
		for i, io := range ios {
			parts[i] = fmt.Sprintf("%s %s%v", io.Name, io.Type, io.Shape)
		}
		return strings.Join(parts, ", ")
	}
	return "inputs: " + list(s.Inputs) + "; outputs: " + list(s.Outputs)
}

// Stats returns how many times the session ran and the total time spent
// inside ONNX Runtime.
func (s *Session) Stats() (runs int64, total time.Duration) {
	return s.runs.Load(), time.Duration(s.runNanos.Load())
}

// Load returns the session of the model file at path, loading it on first use.
func (r *Runtime) Load(path string) (*Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sessions[path]; ok {
		return s, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: read model: %w", err)
	}
	s, err := r.load(path, data)
	if err != nil {
		return nil, err
	}
	r.sessions[path] = s
	return s, nil
}

// LoadBytes loads a model held in memory. name labels it in errors; the
// session is not cached.
func (r *Runtime) LoadBytes(name string, data []byte) (*Session, error) {
	return r.load(name, data)
}

func (r *Runtime) load(name string, data []byte) (*Session, error) {
	start := time.Now()
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s is not a valid ONNX model: %w", name, err)
	}
	s := &Session{Path: name, observe: r.cfg.Observe}
	for _, in := range ins {
		s.Inputs = append(s.Inputs, IO{Name: in.Name, Shape: append([]int64(nil), in.Dimensions...), Type: typeName(in.DataType)})
		s.inNames = append(s.inNames, in.Name)
	}
	for _, out := range outs {
		s.Outputs = append(s.Outputs, IO{Name: out.Name, Shape: append([]int64(nil), out.Dimensions...), Type: typeName(out.DataType)})
		s.outNames = append(s.outNames, out.Name)
	}
	opts, err := r.sessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s.s, err = ort.NewDynamicAdvancedSessionWithONNXData(data, s.inNames, s.outNames, opts)
	if err != nil {
		return nil, fmt.Errorf("onnx: cannot create a session for %s: %w", name, err)
	}
	s.LoadTime = time.Since(start)
	return s, nil
}

func typeName(t ort.TensorElementDataType) string {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return "float32"
	case ort.TensorElementDataTypeDouble:
		return "float64"
	case ort.TensorElementDataTypeFloat16:
		return "float16"
	case ort.TensorElementDataTypeInt32:
		return "int32"
	case ort.TensorElementDataTypeInt64:
		return "int64"
	case ort.TensorElementDataTypeUint8:
		return "uint8"
	}
	return t.String()
}

// Close releases every cached session.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for k, s := range r.sessions {
		errs = append(errs, s.Close())
		delete(r.sessions, k)
	}
	return errors.Join(errs...)
}

// Tensor is a dense float32 tensor in row-major order.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int64) Tensor {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return Tensor{Shape: shape, Data: make([]float32, n)}
}

// Run runs the model on the named inputs and returns every output by name.
// Every model input must be given, as float32; inputs the model declares as
// float64 or as scalars are converted (see value). Outputs must be float32.
func (s *Session) Run(inputs map[string]Tensor) (map[string]Tensor, error) {
	ins := make([]ort.Value, len(s.inNames))
	defer func() {
		for _, v := range ins {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, name := range s.inNames {
		t, ok := inputs[name]
		if !ok {
			return nil, fmt.Errorf("onnx: %s: input %q not given", s.Path, name)
		}
		v, err := s.value(i, t)
		if err != nil {
			return nil, fmt.Errorf("onnx: %s: input %q: %w", s.Path, name, err)
		}
		ins[i] = v
	}
	if len(inputs) != len(s.inNames) {
		return nil, fmt.Errorf("onnx: %s: %d inputs given, the model has %d", s.Path, len(inputs), len(s.inNames))
	}
	if s.observe != nil {
		s.observe(s, inputs)
	}
	outs := make([]ort.Value, len(s.outNames))
	start := time.Now()
	err := s.s.Run(ins, outs)
	s.runNanos.Add(int64(time.Since(start)))
	s.runs.Add(1)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: run: %w", s.Path, err)
	}
	res := make(map[string]Tensor, len(outs))
	var errs []error
	for i, v := range outs {
		if v == nil {
			continue
		}
		if t, ok := v.(*ort.Tensor[float32]); ok {
			res[s.outNames[i]] = Tensor{Shape: append([]int64(nil), t.GetShape()...), Data: append([]float32(nil), t.GetData()...)}
		} else {
			errs = append(errs, fmt.Errorf("onnx: %s: output %q is %s, not float32", s.Path, s.outNames[i], typeName(ort.TensorElementDataType(v.DataType()))))
		}
		v.Destroy()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return res, nil
}

// value makes the ONNX Runtime value of input i from t, in the element type
// and rank the model declares: float32 as given, float64 converted (some
// exports take a scalar weight as a double), and a rank-0 input as a scalar
// from a one-element tensor.
func (s *Session) value(i int, t Tensor) (ort.Value, error) {
	declared := s.Inputs[i]
	if len(declared.Shape) == 0 {
		if len(t.Data) != 1 {
			return nil, fmt.Errorf("the model takes a scalar, %d values given", len(t.Data))
		}
		switch declared.Type {
		case "float64":
			return ort.NewScalar(float64(t.Data[0]))
		case "float32":
			return ort.NewScalar(t.Data[0])
		}
		return nil, fmt.Errorf("scalar inputs of type %s are not supported", declared.Type)
	}
	switch declared.Type {
	case "float64":
		d := make([]float64, len(t.Data))
		for k, v := range t.Data {
			d[k] = float64(v)
		}
		return ort.NewTensor(ort.NewShape(t.Shape...), d)
	case "float32", "":
		return ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
	}
	return nil, fmt.Errorf("inputs of type %s are not supported", declared.Type)
}

// Close releases the session.
func (s *Session) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}
