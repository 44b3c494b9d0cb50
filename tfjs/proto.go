package tfjs

import (
	"encoding/binary"
	"math"
)

// A minimal protocol-buffers writer for the few ONNX messages the converter
// emits. Field numbers are those of onnx.proto.

// ONNX TensorProto.DataType values.
const (
	onnxFloat = 1
	onnxInt32 = 6
	onnxInt64 = 7
)

// ONNX AttributeProto.AttributeType values.
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrFloats = 6
	attrInts   = 7
)

const (
	wireVarint = 0
	wireBytes  = 2
	wire32     = 5
)

type pb struct{ b []byte }

func (p *pb) key(field, wire int) {
	p.b = binary.AppendUvarint(p.b, uint64(field)<<3|uint64(wire))
}

func (p *pb) varint(field int, v uint64) {
	p.key(field, wireVarint)
	p.b = binary.AppendUvarint(p.b, v)
}

// int64 writes a (possibly negative) int64 field: two's complement varint.
func (p *pb) int64(field int, v int64) { p.varint(field, uint64(v)) }

func (p *pb) bytes(field int, b []byte) {
	p.key(field, wireBytes)
	p.b = binary.AppendUvarint(p.b, uint64(len(b)))
	p.b = append(p.b, b...)
}

func (p *pb) str(field int, s string) {
	p.key(field, wireBytes)
	p.b = binary.AppendUvarint(p.b, uint64(len(s)))
	p.b = append(p.b, s...)
}

func (p *pb) float32(field int, f float32) {
	p.key(field, wire32)
	p.b = binary.LittleEndian.AppendUint32(p.b, math.Float32bits(f))
}

func (p *pb) packedInt64(field int, vs []int64) {
	var q pb
	for _, v := range vs {
		q.b = binary.AppendUvarint(q.b, uint64(v))
	}
	p.bytes(field, q.b)
}

func (p *pb) packedFloat32(field int, vs []float32) {
	var q pb
	for _, v := range vs {
		q.b = binary.LittleEndian.AppendUint32(q.b, math.Float32bits(v))
	}
	p.bytes(field, q.b)
}

// onnxAttr is an AttributeProto with one of f, i, s, floats, ints set.
type onnxAttr struct {
	name   string
	typ    int
	f      float32
	i      int64
	s      string
	floats []float32
	ints   []int64
}

func intAttr(name string, v int64) onnxAttr     { return onnxAttr{name: name, typ: attrInt, i: v} }
func floatAttr(name string, v float32) onnxAttr { return onnxAttr{name: name, typ: attrFloat, f: v} }
func intsAttr(name string, v []int64) onnxAttr  { return onnxAttr{name: name, typ: attrInts, ints: v} }
func strAttr(name, v string) onnxAttr           { return onnxAttr{name: name, typ: attrString, s: v} }

func (a *onnxAttr) marshal() []byte {
	var p pb
	p.str(1, a.name)
	switch a.typ {
	case attrFloat:
		p.float32(2, a.f)
	case attrInt:
		p.int64(3, a.i)
	case attrString:
		p.str(4, a.s)
	case attrFloats:
		p.packedFloat32(7, a.floats)
	case attrInts:
		p.packedInt64(8, a.ints)
	}
	p.varint(20, uint64(a.typ))
	return p.b
}

// onnxNode is a NodeProto.
type onnxNode struct {
	name    string
	op      string
	inputs  []string
	outputs []string
	attrs   []onnxAttr
}

func (n *onnxNode) marshal() []byte {
	var p pb
	for _, s := range n.inputs {
		p.str(1, s)
	}
	for _, s := range n.outputs {
		p.str(2, s)
	}
	if n.name != "" {
		p.str(3, n.name)
	}
	p.str(4, n.op)
	for i := range n.attrs {
		p.bytes(5, n.attrs[i].marshal())
	}
	return p.b
}

// onnxTensor is a TensorProto holding float32, int32 or int64 data.
type onnxTensor struct {
	name  string
	dims  []int64
	dtype int
	f     []float32
	i32   []int32
	i64   []int64
}

func (t *onnxTensor) marshal() []byte {
	var p pb
	if len(t.dims) > 0 {
		p.packedInt64(1, t.dims)
	}
	p.varint(2, uint64(t.dtype))
	p.str(8, t.name)
	var raw []byte
	switch t.dtype {
	case onnxFloat:
		raw = make([]byte, 0, 4*len(t.f))
		for _, v := range t.f {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	case onnxInt32:
		raw = make([]byte, 0, 4*len(t.i32))
		for _, v := range t.i32 {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
		}
	case onnxInt64:
		raw = make([]byte, 0, 8*len(t.i64))
		for _, v := range t.i64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	}
	p.bytes(9, raw)
	return p.b
}

// onnxValueInfo is a ValueInfoProto of a tensor: dims of -1 are written as
// unknown, or as dimParams[i] when that is set.
type onnxValueInfo struct {
	name      string
	elemType  int
	rankKnown bool
	dims      []int64
	dimParams []string
}

func (v *onnxValueInfo) marshal() []byte {
	var tt pb // TypeProto.Tensor
	tt.varint(1, uint64(v.elemType))
	if v.rankKnown {
		var shape pb
		for i, d := range v.dims {
			var dim pb
			switch {
			case d >= 0:
				dim.int64(1, d)
			case i < len(v.dimParams) && v.dimParams[i] != "":
				dim.str(2, v.dimParams[i])
			}
			shape.bytes(1, dim.b)
		}
		tt.bytes(2, shape.b)
	}
	var typ pb // TypeProto
	typ.bytes(1, tt.b)
	var p pb
	p.str(1, v.name)
	p.bytes(2, typ.b)
	return p.b
}

// onnxGraph is a GraphProto plus the ModelProto around it.
type onnxGraph struct {
	name    string
	nodes   []*onnxNode
	inits   []*onnxTensor
	inputs  []onnxValueInfo
	outputs []onnxValueInfo
}

const (
	irVersion    = 8
	opsetVersion = 13
)

func (g *onnxGraph) marshalModel(producerVersion, doc string) []byte {
	var gp pb
	for _, n := range g.nodes {
		gp.bytes(1, n.marshal())
	}
	gp.str(2, g.name)
	for _, t := range g.inits {
		gp.bytes(5, t.marshal())
	}
	for i := range g.inputs {
		gp.bytes(11, g.inputs[i].marshal())
	}
	for i := range g.outputs {
		gp.bytes(12, g.outputs[i].marshal())
	}
	var opset pb
	opset.str(1, "")
	opset.int64(2, opsetVersion)
	var mp pb
	mp.int64(1, irVersion)
	mp.str(2, "faceswap-tfjs")
	mp.str(3, producerVersion)
	if doc != "" {
		mp.str(6, doc)
	}
	mp.bytes(7, gp.b)
	mp.bytes(8, opset.b)
	return mp.b
}
