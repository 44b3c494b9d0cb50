package onnxfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
)

// sampleModel is a small model using every kind of field the writer
// writes: y = Relu(x·w + b) with a Constant, attributes of each kind and
// initializers of each type.
func sampleModel() *Model {
	w := make([]float32, 4*3)
	for i := range w {
		w[i] = float32(i) - 5.5
	}
	half := &Tensor{Name: "half", Dims: []int64{2}, Type: Float16, Raw: []byte{0x00, 0x3c, 0x00, 0xc0}} // 1, −2
	return &Model{
		IRVersion:       8,
		Producer:        "onnxfile-test",
		ProducerVersion: "1",
		Doc:             "a test model",
		Opsets:          []Opset{{Version: 13}, {Domain: "com.example", Version: 2}},
		Graph: Graph{
			Name: "g",
			Nodes: []*Node{
				{Name: "mm", Op: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"xw"}},
				{Name: "c", Op: "Constant", Outputs: []string{"b"}, Attrs: []Attribute{
					TensorAttr("value", &Tensor{Dims: []int64{3}, Type: Float, Floats: []float32{0.5, -0.25, 1}}),
				}},
				{Op: "Add", Inputs: []string{"xw", "b"}, Outputs: []string{"s"}},
				{Name: "r", Op: "Relu", Inputs: []string{"s"}, Outputs: []string{"y"}},
				{Name: "odd", Op: "Custom", Domain: "com.example", Attrs: []Attribute{
					IntAttr("i", -3), FloatAttr("f", 1.5), StringAttr("s", "hi"),
					IntsAttr("is", 1, -2, 1<<40), FloatsAttr("fs", 0.25, -8),
					{Name: "ss", Type: AttrStrings, Strings: []string{"a", "", "c"}},
				}},
			},
			Initializers: []*Tensor{
				{Name: "w", Dims: []int64{4, 3}, Type: Float, Floats: w},
				{Name: "shape", Dims: []int64{2}, Type: Int64, Int64s: []int64{-1, 3}},
				{Name: "idx", Dims: []int64{3}, Type: Int32, Int32s: []int32{7, -8, 9}},
				{Name: "d", Dims: []int64{1}, Type: Double, Doubles: []float64{math.Pi}},
				{Name: "scalar", Type: Float, Floats: []float32{2}},
				half,
			},
			Inputs: []ValueInfo{
				{Name: "x", Type: Float, Dims: []int64{-1, 4}, DimParams: []string{"batch"}},
				{Name: "any", Type: Float, Unranked: true},
			},
			Outputs: []ValueInfo{{Name: "y", Type: Float, Dims: []int64{-1, 3}}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	want := sampleModel()
	data := want.Marshal()
	got, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.IRVersion != 8 || got.Producer != "onnxfile-test" || got.ProducerVersion != "1" || got.Doc != "a test model" {
		t.Errorf("model fields %+v", got)
	}
	if !reflect.DeepEqual(got.Opsets, want.Opsets) {
		t.Errorf("opsets %v, want %v", got.Opsets, want.Opsets)
	}
	g := got.Graph
	if g.Name != "g" || len(g.Nodes) != len(want.Graph.Nodes) || len(g.Initializers) != len(want.Graph.Initializers) {
		t.Fatalf("graph %q: %d nodes, %d initializers", g.Name, len(g.Nodes), len(g.Initializers))
	}
	for i, n := range g.Nodes {
		w := want.Graph.Nodes[i]
		if n.Name != w.Name || n.Op != w.Op || n.Domain != w.Domain || !reflect.DeepEqual(n.Inputs, w.Inputs) || !reflect.DeepEqual(n.Outputs, w.Outputs) {
			t.Errorf("node %d: %+v, want %+v", i, n, w)
		}
		if len(n.Attrs) != len(w.Attrs) {
			t.Errorf("node %d: %d attributes, want %d", i, len(n.Attrs), len(w.Attrs))
			continue
		}
		for k, a := range n.Attrs {
			wa := w.Attrs[k]
			if a.T != nil {
				if wa.T == nil {
					t.Errorf("attribute %s: unexpected tensor", a.Name)
					continue
				}
				gv, err1 := a.T.Float32s()
				wv, err2 := wa.T.Float32s()
				if err1 != nil || err2 != nil || !reflect.DeepEqual(gv, wv) || !reflect.DeepEqual(a.T.Dims, wa.T.Dims) {
					t.Errorf("attribute %s: tensor %v %v (%v), want %v %v", a.Name, a.T.Dims, gv, err1, wa.T.Dims, wv)
				}
				a.T, wa.T = nil, nil
			}
			if !reflect.DeepEqual(a, wa) {
				t.Errorf("attribute %+v, want %+v", a, wa)
			}
		}
	}
	if v, ok := g.Nodes[4].Attr("is"); !ok || !reflect.DeepEqual(v.Ints, []int64{1, -2, 1 << 40}) {
		t.Errorf("Attr(is) = %+v, %v", v, ok)
	}
	for i, tt := range g.Initializers {
		w := want.Graph.Initializers[i]
		if tt.Name != w.Name || tt.Type != w.Type || !reflect.DeepEqual(tt.Dims, w.Dims) {
			t.Errorf("initializer %d: %s %s %v, want %s %s %v", i, tt.Name, tt.Type, tt.Dims, w.Name, w.Type, w.Dims)
		}
		if !bytes.Equal(tt.Raw, w.rawData()) {
			t.Errorf("initializer %s: raw data differs", tt.Name)
		}
	}
	if v, err := g.Initializer("w").Float32s(); err != nil || !reflect.DeepEqual(v, want.Graph.Initializers[0].Floats) {
		t.Errorf("w = %v, %v", v, err)
	}
	if v, err := g.Initializer("d").Float32s(); err != nil || v[0] != float32(math.Pi) {
		t.Errorf("d = %v, %v", v, err)
	}
	if v, err := g.Initializer("half").Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1, -2}) {
		t.Errorf("half = %v, %v", v, err)
	}
	if _, err := g.Initializer("shape").Float32s(); err == nil || !strings.Contains(err.Error(), "int64") {
		t.Errorf("int64 tensor as floats: %v", err)
	}
	if g.Initializer("nope") != nil {
		t.Error("Initializer of a missing name")
	}
	if !reflect.DeepEqual(g.Inputs, want.Graph.Inputs) || !reflect.DeepEqual(g.Outputs, want.Graph.Outputs) {
		t.Errorf("inputs %+v outputs %+v", g.Inputs, g.Outputs)
	}
	// Writing what was read gives the same bytes.
	if again := got.Marshal(); !bytes.Equal(again, data) {
		t.Errorf("re-marshalled model differs (%d vs %d bytes)", len(again), len(data))
	}
}

// The typed data fields other writers use (float_data packed and not,
// int32_data for float16, double_data) decode like raw_data.
func TestTypedDataFields(t *testing.T) {
	var p enc
	p.packedInt64(1, []int64{2, 2})
	p.varint(2, uint64(Float))
	p.str(8, "fd")
	p.packedFloat32(4, []float32{1, 2, 3})
	p.float32(4, 4) // one more, unpacked
	tensor, err := parseTensor(p.b)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tensor.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1, 2, 3, 4}) {
		t.Errorf("float_data: %v, %v", v, err)
	}

	var h enc
	h.varint(1, 3) // dims, unpacked
	h.varint(2, uint64(Float16))
	h.packedInt64(5, []int64{0x3c00, 0x3800, 0xfc00}) // 1, 0.5, −Inf
	tensor, err = parseTensor(h.b)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tensor.Float32s(); err != nil || v[0] != 1 || v[1] != 0.5 || !math.IsInf(float64(v[2]), -1) {
		t.Errorf("float16 int32_data: %v, %v", v, err)
	}

	var d enc
	d.varint(1, 2)
	d.varint(2, uint64(Double))
	d.key(10, wire64)
	d.b = binary.LittleEndian.AppendUint64(d.b, math.Float64bits(-0.5))
	d.key(10, wire64)
	d.b = binary.LittleEndian.AppendUint64(d.b, math.Float64bits(8))
	tensor, err = parseTensor(d.b)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tensor.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{-0.5, 8}) {
		t.Errorf("double_data: %v, %v", v, err)
	}
}

func TestFloat32sErrors(t *testing.T) {
	cases := []struct {
		t    Tensor
		want string
	}{
		{Tensor{Name: "a", Dims: []int64{3}, Type: Float, Floats: []float32{1, 2}}, "holds 2 values"},
		{Tensor{Name: "b", Dims: []int64{2}, Type: Float, Raw: make([]byte, 7)}, "raw_data"},
		{Tensor{Name: "c", Dims: []int64{-1}, Type: Float}, "negative"},
		{Tensor{Name: "d", Dims: []int64{1 << 20, 1 << 20}, Type: Float}, "too large"},
		{Tensor{Name: "e", Dims: []int64{1}, Type: Float, External: true}, "external"},
		{Tensor{Name: "f", Dims: []int64{1}, Type: Uint8, Raw: []byte{1}}, "not a floating-point"},
	}
	for _, c := range cases {
		if _, err := c.t.Float32s(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.t.Name, err, c.want)
		}
	}
}

func TestFloat16To32(t *testing.T) {
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x3555: 0.333251953125,
		0x0001: 1.0 / (1 << 24), 0x8001: -1.0 / (1 << 24), 0x0400: 1.0 / (1 << 14),
		0x03ff: 1023.0 / (1 << 24), 0xfc00: float32(math.Inf(-1)),
	}
	for h, want := range cases {
		if got := Float16To32(h); got != want {
			t.Errorf("Float16To32(%#04x) = %g, want %g", h, got, want)
		}
	}
	if !math.IsNaN(float64(Float16To32(0x7e00))) || !math.IsInf(float64(Float16To32(0x7c00)), 1) {
		t.Error("NaN or Inf")
	}
	if got := Float16To32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("Float16To32(0x8000) = %g, want -0", got)
	}
}

func TestReadErrors(t *testing.T) {
	data := sampleModel().Marshal()
	// Every truncation either fails cleanly or (at a field boundary of
	// the model) reads a prefix of the model.
	fails := 0
	for n := 0; n < len(data); n++ {
		if _, err := Read(data[:n]); err != nil {
			fails++
			if !strings.HasPrefix(err.Error(), "onnxfile: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
		}
		if _, err := ReadInitializers(bytes.NewReader(data[:n]), int64(n)); err != nil && !strings.HasPrefix(err.Error(), "onnxfile: ") {
			t.Fatalf("error without the package prefix: %v", err)
		}
	}
	if fails < len(data)/2 {
		t.Errorf("only %d of %d truncations failed", fails, len(data))
	}
	cases := map[string][]byte{
		"runs past the end": {0x3a, 0x05, 1, 2}, // field 7, length 5, 2 bytes
		"wire type 3":       {0x3b},             // field 7, start group
		"field number 0":    {0x02, 0x00},       // field 0
		"wire type 0, want": {0x10, 0x01},       // producer as a varint
		"overlong varint":   append([]byte{0x08}, bytes.Repeat([]byte{0xff}, 11)...),
		"GraphProto":        {0x3a, 0x02, 0x0a, 0x05},
	}
	for want, data := range cases {
		if _, err := Read(data); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%x: error %v, want one containing %q", data, err, want)
		}
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r     io.ReaderAt
	bytes int64
	calls int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	return n, err
}

func TestReadInitializers(t *testing.T) {
	m := sampleModel()
	big := make([]float32, 512*512)
	for i := range big {
		big[i] = float32(i%1000) / 7
	}
	m.Graph.Initializers = append(m.Graph.Initializers, &Tensor{Name: "emap", Dims: []int64{512, 512}, Type: Float, Floats: big})
	data := m.Marshal()
	cr := &countingReader{r: bytes.NewReader(data)}
	inits, err := ReadInitializers(cr, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if cr.bytes > 64<<10 {
		t.Errorf("listing read %d bytes of a %d-byte model", cr.bytes, len(data))
	}
	t.Logf("listing %d initializers of a %d-byte model read %d bytes in %d calls", len(inits), len(data), cr.bytes, cr.calls)
	full, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(inits) != len(full.Graph.Initializers) {
		t.Fatalf("%d initializers, Read finds %d", len(inits), len(full.Graph.Initializers))
	}
	for i, in := range inits {
		w := full.Graph.Initializers[i]
		if in.Name != w.Name || in.Type != w.Type || !reflect.DeepEqual(in.Dims, w.Dims) {
			t.Errorf("initializer %d: %s %s %v, want %s %s %v", i, in.Name, in.Type, in.Dims, w.Name, w.Type, w.Dims)
		}
	}
	last := inits[len(inits)-1]
	v, err := last.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, big) {
		t.Error("emap data differs")
	}
	// A reader that fails, or a size beyond the data, is an error.
	if _, err := ReadInitializers(bytes.NewReader(data), int64(len(data))+10); err == nil {
		t.Error("size beyond the data accepted")
	}
	if _, err := ReadInitializers(failingReader{}, 100); err == nil || !errors.Is(err, errBoom) {
		t.Errorf("reader error: %v", err)
	}
}

var errBoom = errors.New("boom")

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errBoom }
