package onnxfile

import (
	"encoding/binary"
	"math"
)

// Protocol-buffers wire types.
const (
	wireVarint = 0
	wire64     = 1
	wireBytes  = 2
	wire32     = 5
)

// enc appends protocol-buffers fields to b.
type enc struct{ b []byte }

func (p *enc) key(field, wire int) {
	p.b = binary.AppendUvarint(p.b, uint64(field)<<3|uint64(wire))
}

func (p *enc) varint(field int, v uint64) {
	p.key(field, wireVarint)
	p.b = binary.AppendUvarint(p.b, v)
}

// int64 writes a (possibly negative) int64 field: two's complement varint.
func (p *enc) int64(field int, v int64) { p.varint(field, uint64(v)) }

func (p *enc) bytes(field int, b []byte) {
	p.key(field, wireBytes)
	p.b = binary.AppendUvarint(p.b, uint64(len(b)))
	p.b = append(p.b, b...)
}

func (p *enc) str(field int, s string) {
	p.key(field, wireBytes)
	p.b = binary.AppendUvarint(p.b, uint64(len(s)))
	p.b = append(p.b, s...)
}

func (p *enc) float32(field int, f float32) {
	p.key(field, wire32)
	p.b = binary.LittleEndian.AppendUint32(p.b, math.Float32bits(f))
}

func (p *enc) packedInt64(field int, vs []int64) {
	var q enc
	for _, v := range vs {
		q.b = binary.AppendUvarint(q.b, uint64(v))
	}
	p.bytes(field, q.b)
}

func (p *enc) packedFloat32(field int, vs []float32) {
	q := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		q = binary.LittleEndian.AppendUint32(q, math.Float32bits(v))
	}
	p.bytes(field, q)
}

func (a *Attribute) marshal() []byte {
	var p enc
	p.str(1, a.Name)
	switch a.Type {
	case AttrFloat:
		p.float32(2, a.F)
	case AttrInt:
		p.int64(3, a.I)
	case AttrString:
		p.str(4, a.S)
	case AttrTensor:
		if a.T != nil {
			p.bytes(5, a.T.Marshal())
		}
	case AttrFloats:
		p.packedFloat32(7, a.Floats)
	case AttrInts:
		p.packedInt64(8, a.Ints)
	case AttrStrings:
		for _, s := range a.Strings {
			p.str(9, s)
		}
	}
	p.varint(20, uint64(uint32(a.Type)))
	return p.b
}

// Marshal returns the NodeProto bytes.
func (n *Node) Marshal() []byte {
	var p enc
	for _, s := range n.Inputs {
		p.str(1, s)
	}
	for _, s := range n.Outputs {
		p.str(2, s)
	}
	if n.Name != "" {
		p.str(3, n.Name)
	}
	p.str(4, n.Op)
	for i := range n.Attrs {
		p.bytes(5, n.Attrs[i].marshal())
	}
	if n.Domain != "" {
		p.str(7, n.Domain)
	}
	return p.b
}

// rawData returns the bytes written as raw_data.
func (t *Tensor) rawData() []byte {
	if t.Raw != nil {
		return t.Raw
	}
	var raw []byte
	switch t.Type {
	case Float:
		raw = make([]byte, 0, 4*len(t.Floats))
		for _, v := range t.Floats {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	case Int32:
		raw = make([]byte, 0, 4*len(t.Int32s))
		for _, v := range t.Int32s {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
		}
	case Int64:
		raw = make([]byte, 0, 8*len(t.Int64s))
		for _, v := range t.Int64s {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	case Double:
		raw = make([]byte, 0, 8*len(t.Doubles))
		for _, v := range t.Doubles {
			raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
		}
	}
	return raw
}

// Marshal returns the TensorProto bytes (see Tensor for what raw_data
// holds).
func (t *Tensor) Marshal() []byte {
	var p enc
	if len(t.Dims) > 0 {
		p.packedInt64(1, t.Dims)
	}
	p.varint(2, uint64(uint32(t.Type)))
	p.str(8, t.Name)
	p.bytes(9, t.rawData())
	if t.External {
		p.varint(14, 1)
	}
	return p.b
}

// Marshal returns the ValueInfoProto bytes.
func (v *ValueInfo) Marshal() []byte {
	var tt enc // TypeProto.Tensor
	tt.varint(1, uint64(uint32(v.Type)))
	if !v.Unranked {
		var shape enc
		for i, d := range v.Dims {
			var dim enc
			switch {
			case d >= 0:
				dim.int64(1, d)
			case i < len(v.DimParams) && v.DimParams[i] != "":
				dim.str(2, v.DimParams[i])
			}
			shape.bytes(1, dim.b)
		}
		tt.bytes(2, shape.b)
	}
	var typ enc // TypeProto
	typ.bytes(1, tt.b)
	var p enc
	p.str(1, v.Name)
	p.bytes(2, typ.b)
	return p.b
}

// Marshal returns the GraphProto bytes.
func (g *Graph) Marshal() []byte {
	var p enc
	for _, n := range g.Nodes {
		p.bytes(1, n.Marshal())
	}
	p.str(2, g.Name)
	for _, t := range g.Initializers {
		p.bytes(5, t.Marshal())
	}
	for i := range g.Inputs {
		p.bytes(11, g.Inputs[i].Marshal())
	}
	for i := range g.Outputs {
		p.bytes(12, g.Outputs[i].Marshal())
	}
	return p.b
}

// Marshal returns the ModelProto bytes: the contents of a .onnx file.
func (m *Model) Marshal() []byte {
	var p enc
	p.int64(1, m.IRVersion)
	if m.Producer != "" {
		p.str(2, m.Producer)
	}
	if m.ProducerVersion != "" {
		p.str(3, m.ProducerVersion)
	}
	if m.Doc != "" {
		p.str(6, m.Doc)
	}
	p.bytes(7, m.Graph.Marshal())
	for _, o := range m.Opsets {
		var q enc
		q.str(1, o.Domain)
		q.int64(2, o.Version)
		p.bytes(8, q.b)
	}
	return p.b
}
