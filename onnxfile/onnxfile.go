// Package onnxfile reads and writes ONNX model files (the ModelProto
// protocol-buffers message of onnx.proto) in pure Go, without ONNX Runtime
// and without a protobuf library.
//
// Writing: build a Model (graph of Nodes, initializer Tensors, input and
// output ValueInfos) and call Marshal. Only what the project emits is
// written: node attributes of the scalar, list, string and tensor kinds,
// tensors as raw_data, tensor value infos with static or symbolic dims.
//
//	m := &onnxfile.Model{IRVersion: 8, Producer: "me", Opsets: []onnxfile.Opset{{Version: 13}},
//		Graph: onnxfile.Graph{Name: "g", Nodes: ..., Initializers: ..., Inputs: ..., Outputs: ...}}
//	data := m.Marshal()
//
// Reading: Read parses a whole model held in memory into the same types;
// ReadInitializers lists a model file's graph initializers without loading
// their data (inswapper_128's 550 MB file is scanned with a few thousand
// small reads) and Initializer.Load reads one. Both treat their input as
// untrusted: every length is bounds-checked, they never panic, and what
// they allocate is bounded by the size of the input (tensor data read from
// memory aliases the input instead of being copied). Fields the types do
// not hold (doc strings of nodes, value_info, metadata, functions,
// subgraph attributes, sparse initializers) are skipped, so Read is for
// inspecting models, not for rewriting arbitrary ones losslessly.
package onnxfile

import (
	"fmt"
	"math"
)

// DataType is an ONNX TensorProto.DataType.
type DataType int32

// The ONNX element types.
const (
	Undefined DataType = 0
	Float     DataType = 1
	Uint8     DataType = 2
	Int8      DataType = 3
	Uint16    DataType = 4
	Int16     DataType = 5
	Int32     DataType = 6
	Int64     DataType = 7
	String    DataType = 8
	Bool      DataType = 9
	Float16   DataType = 10
	Double    DataType = 11
	Uint32    DataType = 12
	Uint64    DataType = 13
)

var typeNames = map[DataType]string{
	Undefined: "undefined", Float: "float32", Uint8: "uint8", Int8: "int8", Uint16: "uint16",
	Int16: "int16", Int32: "int32", Int64: "int64", String: "string", Bool: "bool",
	Float16: "float16", Double: "float64", Uint32: "uint32", Uint64: "uint64",
}

func (t DataType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(t))
}

// Size returns the bytes one element takes in raw_data, 0 for types
// without a fixed size (string, undefined, unknown).
func (t DataType) Size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Int64, Double, Uint64:
		return 8
	}
	return 0
}

// AttrType is an ONNX AttributeProto.AttributeType.
type AttrType int32

// The attribute kinds. Read keeps the value of the kinds the writer
// writes; of the others (graphs, sparse tensors, type protos) only the
// kind.
const (
	AttrFloat   AttrType = 1
	AttrInt     AttrType = 2
	AttrString  AttrType = 3
	AttrTensor  AttrType = 4
	AttrGraph   AttrType = 5
	AttrFloats  AttrType = 6
	AttrInts    AttrType = 7
	AttrStrings AttrType = 8
)

// Attribute is a node attribute; the field matching Type holds the value.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
}

// IntAttr returns an INT attribute.
func IntAttr(name string, v int64) Attribute { return Attribute{Name: name, Type: AttrInt, I: v} }

// FloatAttr returns a FLOAT attribute.
func FloatAttr(name string, v float32) Attribute {
	return Attribute{Name: name, Type: AttrFloat, F: v}
}

// StringAttr returns a STRING attribute.
func StringAttr(name, v string) Attribute { return Attribute{Name: name, Type: AttrString, S: v} }

// IntsAttr returns an INTS attribute.
func IntsAttr(name string, v ...int64) Attribute {
	return Attribute{Name: name, Type: AttrInts, Ints: v}
}

// FloatsAttr returns a FLOATS attribute.
func FloatsAttr(name string, v ...float32) Attribute {
	return Attribute{Name: name, Type: AttrFloats, Floats: v}
}

// TensorAttr returns a TENSOR attribute (the value of a Constant node).
func TensorAttr(name string, t *Tensor) Attribute {
	return Attribute{Name: name, Type: AttrTensor, T: t}
}

// Node is a NodeProto: one operator application.
type Node struct {
	Name    string
	Op      string // op_type, e.g. "Conv"
	Domain  string // "" for the default ONNX domain
	Inputs  []string
	Outputs []string
	Attrs   []Attribute
}

// Attr returns the node's attribute of that name.
func (n *Node) Attr(name string) (Attribute, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Tensor is a TensorProto. When written, raw_data holds Raw if it is not
// nil, else the typed slice of Type (Floats for Float, Int32s for Int32,
// Int64s for Int64, Doubles for Double) encoded little-endian. When read,
// each slice holds the field it comes from (Raw: raw_data, aliasing the
// input; Floats: float_data; Int32s: int32_data, which also carries
// float16, int8/16 and uint8/16 values; Int64s: int64_data; Doubles:
// double_data); Float32s decodes whichever holds the data.
type Tensor struct {
	Name    string
	Dims    []int64
	Type    DataType
	Raw     []byte
	Floats  []float32
	Int32s  []int32
	Int64s  []int64
	Doubles []float64
	// External is set when the data lives in a file beside the model
	// (data_location EXTERNAL); such data is not read.
	External bool
}

// maxElements bounds the element count of a tensor whose data is decoded.
const maxElements = 1 << 31

// Len returns the number of elements the dims describe (1 for a scalar).
func (t *Tensor) Len() (int, error) {
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("onnxfile: tensor %q has a negative dimension in %v", t.Name, t.Dims)
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("onnxfile: tensor %q of dims %v is too large", t.Name, t.Dims)
		}
		n *= d
	}
	return int(n), nil
}

// Float32s returns the tensor's values as float32: from raw_data or the
// typed field, for Float, Float16 and Double tensors. A count that does
// not match the dims, external data or another type is an error.
func (t *Tensor) Float32s() ([]float32, error) {
	n, err := t.Len()
	if err != nil {
		return nil, err
	}
	if t.External {
		return nil, fmt.Errorf("onnxfile: tensor %q keeps its data in an external file, which is not supported", t.Name)
	}
	bad := func(have int, what string) error {
		return fmt.Errorf("onnxfile: tensor %q of dims %v (%d values) holds %d values in %s", t.Name, t.Dims, n, have, what)
	}
	switch t.Type {
	case Float, Float16, Double:
	default:
		return nil, fmt.Errorf("onnxfile: tensor %q is %s, not a floating-point type", t.Name, t.Type)
	}
	if t.Raw != nil {
		size := t.Type.Size()
		if len(t.Raw)%size != 0 || len(t.Raw)/size != n {
			return nil, bad(len(t.Raw)/size, "raw_data")
		}
		out := make([]float32, n)
		b := t.Raw
		switch t.Type {
		case Float:
			for i := range out {
				out[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
			}
		case Float16:
			for i := range out {
				out[i] = Float16To32(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
			}
		case Double:
			for i := range out {
				var u uint64
				for k := 7; k >= 0; k-- {
					u = u<<8 | uint64(b[8*i+k])
				}
				out[i] = float32(math.Float64frombits(u))
			}
		}
		return out, nil
	}
	switch t.Type {
	case Float:
		if len(t.Floats) != n {
			return nil, bad(len(t.Floats), "float_data")
		}
		return append([]float32(nil), t.Floats...), nil
	case Float16:
		if len(t.Int32s) != n {
			return nil, bad(len(t.Int32s), "int32_data")
		}
		out := make([]float32, n)
		for i, v := range t.Int32s {
			out[i] = Float16To32(uint16(v))
		}
		return out, nil
	}
	if len(t.Doubles) != n {
		return nil, bad(len(t.Doubles), "double_data")
	}
	out := make([]float32, n)
	for i, v := range t.Doubles {
		out[i] = float32(v)
	}
	return out, nil
}

// Float16To32 converts IEEE 754 half-precision bits to float32.
func Float16To32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: frac · 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// ValueInfo is a ValueInfoProto of a tensor: a graph input or output.
// Dims of -1 are unknown, written as DimParams[i] when that is set.
type ValueInfo struct {
	Name      string
	Type      DataType
	Dims      []int64
	DimParams []string
	// Unranked writes no shape at all (the rank is unknown).
	Unranked bool
}

// Opset is an OperatorSetIdProto: an operator domain and its version.
type Opset struct {
	Domain  string // "" for the default ONNX domain
	Version int64
}

// Graph is a GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Model is a ModelProto around one graph.
type Model struct {
	IRVersion       int64
	Producer        string
	ProducerVersion string
	Doc             string
	Opsets          []Opset
	Graph           Graph
}

// Initializer returns the graph initializer of that name.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}
