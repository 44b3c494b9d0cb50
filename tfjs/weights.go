package tfjs

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"faceswap/onnxfile"
)

// tensor is a decoded constant: float32 weights (also those stored as
// float16, uint8 or uint16) in f, int32 weights in i.
type tensor struct {
	shape []int64
	f     []float32
	i     []int32
	isInt bool
}

func (t *tensor) len() int {
	if t.isInt {
		return len(t.i)
	}
	return len(t.f)
}

// Load reads a graph model: the model.json at modelJSONPath and the weight
// shards its manifest names, relative to its folder.
func Load(modelJSONPath string) (*Model, error) {
	data, err := os.ReadFile(modelJSONPath)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, modelJSONPath)
	}
	if err := m.readShards(filepath.Dir(modelJSONPath)); err != nil {
		return nil, fmt.Errorf("%w (for %s)", err, modelJSONPath)
	}
	return m, nil
}

// readShards reads every shard, in manifest order, into one buffer. The
// files' sizes are checked before anything is allocated.
func (m *Model) readShards(dir string) error {
	var paths []string
	var total int64
	for _, g := range m.Groups {
		for _, p := range g.Paths {
			full := filepath.Join(dir, filepath.FromSlash(p))
			st, err := os.Stat(full)
			if err != nil {
				return fmt.Errorf("tfjs: weight shard: %w", err)
			}
			if !st.Mode().IsRegular() {
				return fmt.Errorf("tfjs: weight shard %s is not a regular file", full)
			}
			total += st.Size()
			if total > MaxWeightBytes {
				return fmt.Errorf("tfjs: weight shards are larger than %d bytes", int64(MaxWeightBytes))
			}
			paths = append(paths, full)
		}
	}
	if total < m.total {
		return fmt.Errorf("tfjs: weight shards hold %d bytes, the manifest needs %d", total, m.total)
	}
	buf := make([]byte, total)
	off := int64(0)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("tfjs: weight shard: %w", err)
		}
		st, err := f.Stat()
		if err == nil && off+st.Size() > total {
			err = fmt.Errorf("%s grew while being read", p)
		}
		if err == nil {
			_, err = io.ReadFull(f, buf[off:off+st.Size()])
			off += st.Size()
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("tfjs: weight shard: %w", err)
		}
	}
	return m.SetWeights(buf[:off])
}

// SetWeights gives the model its weight data: the shards of the manifest
// concatenated in order. It must hold at least WeightBytes bytes.
func (m *Model) SetWeights(data []byte) error {
	if int64(len(data)) < m.total {
		return fmt.Errorf("tfjs: weight data holds %d bytes, the manifest needs %d", len(data), m.total)
	}
	m.data = data
	m.decoded = map[string]*tensor{}
	return nil
}

// decodeWeight returns the named weight decoded to float32 or int32.
func (m *Model) decodeWeight(name string) (*tensor, error) {
	if t, ok := m.decoded[name]; ok {
		return t, nil
	}
	w, ok := m.weights[name]
	if !ok {
		return nil, fmt.Errorf("tfjs: no weight named %q in the manifest", name)
	}
	if m.data == nil {
		return nil, fmt.Errorf("tfjs: weights are not loaded (use Load or SetWeights)")
	}
	if w.Offset < 0 || w.Size < 0 || w.Offset+w.Size > int64(len(m.data)) {
		return nil, fmt.Errorf("tfjs: weight %q lies outside the weight data", name)
	}
	t, err := decodeSpec(w, m.data[w.Offset:w.Offset+w.Size])
	if err != nil {
		return nil, err
	}
	m.decoded[name] = t
	return t, nil
}

func elements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// decodeSpec decodes b, the stored bytes of w, the way TF.js does.
func decodeSpec(w *WeightSpec, b []byte) (*tensor, error) {
	n := elements(w.Shape)
	t := &tensor{shape: append([]int64(nil), w.Shape...)}
	q := w.Quantization
	switch {
	case q == nil && w.DType == "float32":
		if int64(len(b)) != 4*n {
			return nil, fmt.Errorf("tfjs: weight %q: %d bytes for %d float32", w.Name, len(b), n)
		}
		t.f = make([]float32, n)
		for i := range t.f {
			t.f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case q == nil && w.DType == "int32":
		if int64(len(b)) != 4*n {
			return nil, fmt.Errorf("tfjs: weight %q: %d bytes for %d int32", w.Name, len(b), n)
		}
		t.isInt = true
		t.i = make([]int32, n)
		for i := range t.i {
			t.i[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case q != nil && q.DType == "float16" && w.DType == "float32":
		if int64(len(b)) != 2*n {
			return nil, fmt.Errorf("tfjs: weight %q: %d bytes for %d float16", w.Name, len(b), n)
		}
		t.f = make([]float32, n)
		for i := range t.f {
			t.f[i] = onnxfile.Float16To32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case q != nil && (q.DType == "uint8" || q.DType == "uint16"):
		size := int64(1)
		if q.DType == "uint16" {
			size = 2
		}
		if int64(len(b)) != size*n {
			return nil, fmt.Errorf("tfjs: weight %q: %d bytes for %d %s", w.Name, len(b), n, q.DType)
		}
		raw := func(i int) float64 {
			if size == 1 {
				return float64(b[i])
			}
			return float64(binary.LittleEndian.Uint16(b[2*i:]))
		}
		switch w.DType {
		case "float32":
			// TF.js computes v*scale+min in double precision, then
			// stores it in a Float32Array.
			t.f = make([]float32, n)
			for i := range t.f {
				t.f[i] = float32(raw(i)*q.Scale + q.Min)
			}
		case "int32":
			// Math.round: halves round up.
			t.isInt = true
			t.i = make([]int32, n)
			for i := range t.i {
				t.i[i] = int32(math.Floor(raw(i)*q.Scale + q.Min + 0.5))
			}
		default:
			return nil, fmt.Errorf("tfjs: weight %q: %s quantization of %s is not supported", w.Name, q.DType, w.DType)
		}
	default:
		return nil, fmt.Errorf("tfjs: weight %q: dtype %s is not supported by the converter", w.Name, w.DType)
	}
	return t, nil
}
