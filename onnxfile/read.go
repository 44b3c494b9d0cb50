package onnxfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// field is one decoded protocol-buffers field.
type field struct {
	num  int
	wire int
	v    uint64 // varint, fixed32 or fixed64 value
	b    []byte // length-delimited payload (aliases the input)
}

// decoder walks the fields of one message.
type decoder struct {
	b   []byte
	msg string // message name, for errors
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("onnxfile: %s: %s", d.msg, fmt.Sprintf(format, args...))
}

// next decodes the next field; ok is false at the end of the message.
func (d *decoder) next(f *field) (ok bool, err error) {
	if len(d.b) == 0 {
		return false, nil
	}
	key, n := binary.Uvarint(d.b)
	if n <= 0 {
		return false, d.errorf("truncated or overlong field key")
	}
	d.b = d.b[n:]
	if key>>3 == 0 || key>>3 > math.MaxInt32 {
		return false, d.errorf("field number %d is invalid", key>>3)
	}
	f.num, f.wire, f.v, f.b = int(key>>3), int(key&7), 0, nil
	switch f.wire {
	case wireVarint:
		f.v, n = binary.Uvarint(d.b)
		if n <= 0 {
			return false, d.errorf("field %d: truncated or overlong varint", f.num)
		}
		d.b = d.b[n:]
	case wire64:
		if len(d.b) < 8 {
			return false, d.errorf("field %d: truncated fixed64", f.num)
		}
		f.v = binary.LittleEndian.Uint64(d.b)
		d.b = d.b[8:]
	case wire32:
		if len(d.b) < 4 {
			return false, d.errorf("field %d: truncated fixed32", f.num)
		}
		f.v = uint64(binary.LittleEndian.Uint32(d.b))
		d.b = d.b[4:]
	case wireBytes:
		l, n := binary.Uvarint(d.b)
		if n <= 0 {
			return false, d.errorf("field %d: truncated or overlong length", f.num)
		}
		d.b = d.b[n:]
		if l > uint64(len(d.b)) {
			return false, d.errorf("field %d: length %d runs past the end of the message (%d bytes left)", f.num, l, len(d.b))
		}
		f.b, d.b = d.b[:l:l], d.b[l:]
	default:
		return false, d.errorf("field %d: wire type %d is not supported", f.num, f.wire)
	}
	return true, nil
}

// want checks a known field's wire type.
func (d *decoder) want(f *field, wire int) error {
	if f.wire != wire {
		return d.errorf("field %d has wire type %d, want %d", f.num, f.wire, wire)
	}
	return nil
}

// Repeated scalar fields come packed (one length-delimited field) or one
// value per field; both are accepted.

func (d *decoder) int64s(dst []int64, f *field) ([]int64, error) {
	switch f.wire {
	case wireVarint:
		return append(dst, int64(f.v)), nil
	case wireBytes:
		b := f.b
		cnt := 0
		for _, c := range b {
			if c < 0x80 {
				cnt++
			}
		}
		dst = growInt64(dst, cnt)
		for len(b) > 0 {
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, d.errorf("field %d: bad packed varint", f.num)
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, d.errorf("field %d has wire type %d, want a varint or packed varints", f.num, f.wire)
}

func growInt64(s []int64, n int) []int64 {
	if cap(s)-len(s) < n {
		t := make([]int64, len(s), len(s)+n)
		copy(t, s)
		return t
	}
	return s
}

func (d *decoder) float32s(dst []float32, f *field) ([]float32, error) {
	switch f.wire {
	case wire32:
		return append(dst, math.Float32frombits(uint32(f.v))), nil
	case wireBytes:
		if len(f.b)%4 != 0 {
			return nil, d.errorf("field %d: packed floats of %d bytes", f.num, len(f.b))
		}
		if dst == nil {
			dst = make([]float32, 0, len(f.b)/4)
		}
		for b := f.b; len(b) > 0; b = b[4:] {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
		return dst, nil
	}
	return nil, d.errorf("field %d has wire type %d, want fixed32 or packed", f.num, f.wire)
}

func (d *decoder) float64s(dst []float64, f *field) ([]float64, error) {
	switch f.wire {
	case wire64:
		return append(dst, math.Float64frombits(f.v)), nil
	case wireBytes:
		if len(f.b)%8 != 0 {
			return nil, d.errorf("field %d: packed doubles of %d bytes", f.num, len(f.b))
		}
		if dst == nil {
			dst = make([]float64, 0, len(f.b)/8)
		}
		for b := f.b; len(b) > 0; b = b[8:] {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		}
		return dst, nil
	}
	return nil, d.errorf("field %d has wire type %d, want fixed64 or packed", f.num, f.wire)
}

func (d *decoder) int32s(dst []int32, f *field) ([]int32, error) {
	var tmp []int64
	tmp, err := d.int64s(tmp, f)
	if err != nil {
		return nil, err
	}
	if dst == nil {
		dst = make([]int32, 0, len(tmp))
	}
	for _, v := range tmp {
		dst = append(dst, int32(v))
	}
	return dst, nil
}

// Read parses an ONNX model held in memory. Tensor data read from raw_data
// aliases data.
func Read(data []byte) (*Model, error) {
	m := &Model{}
	d := decoder{b: data, msg: "ModelProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch f.num {
		case 1:
			err = d.want(&f, wireVarint)
			m.IRVersion = int64(f.v)
		case 2:
			err = d.want(&f, wireBytes)
			m.Producer = string(f.b)
		case 3:
			err = d.want(&f, wireBytes)
			m.ProducerVersion = string(f.b)
		case 6:
			err = d.want(&f, wireBytes)
			m.Doc = string(f.b)
		case 7:
			if err = d.want(&f, wireBytes); err == nil {
				// A repeated embedded message merges into one.
				err = parseGraph(f.b, &m.Graph)
			}
		case 8:
			if err = d.want(&f, wireBytes); err == nil {
				var o Opset
				o, err = parseOpset(f.b)
				m.Opsets = append(m.Opsets, o)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

func parseOpset(b []byte) (Opset, error) {
	var o Opset
	d := decoder{b: b, msg: "OperatorSetIdProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil || !ok {
			return o, err
		}
		switch f.num {
		case 1:
			err = d.want(&f, wireBytes)
			o.Domain = string(f.b)
		case 2:
			err = d.want(&f, wireVarint)
			o.Version = int64(f.v)
		}
		if err != nil {
			return o, err
		}
	}
}

func parseGraph(b []byte, g *Graph) error {
	d := decoder{b: b, msg: "GraphProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil || !ok {
			return err
		}
		switch f.num {
		case 1:
			if err = d.want(&f, wireBytes); err == nil {
				var n *Node
				if n, err = parseNode(f.b); err == nil {
					g.Nodes = append(g.Nodes, n)
				}
			}
		case 2:
			err = d.want(&f, wireBytes)
			g.Name = string(f.b)
		case 5:
			if err = d.want(&f, wireBytes); err == nil {
				var t *Tensor
				if t, err = parseTensor(f.b); err == nil {
					g.Initializers = append(g.Initializers, t)
				}
			}
		case 11, 12:
			if err = d.want(&f, wireBytes); err == nil {
				var v ValueInfo
				if v, err = parseValueInfo(f.b); err == nil {
					if f.num == 11 {
						g.Inputs = append(g.Inputs, v)
					} else {
						g.Outputs = append(g.Outputs, v)
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
}

func parseNode(b []byte) (*Node, error) {
	n := &Node{}
	d := decoder{b: b, msg: "NodeProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil {
			return nil, err
		}
		if !ok {
			return n, nil
		}
		switch f.num {
		case 1:
			err = d.want(&f, wireBytes)
			n.Inputs = append(n.Inputs, string(f.b))
		case 2:
			err = d.want(&f, wireBytes)
			n.Outputs = append(n.Outputs, string(f.b))
		case 3:
			err = d.want(&f, wireBytes)
			n.Name = string(f.b)
		case 4:
			err = d.want(&f, wireBytes)
			n.Op = string(f.b)
		case 5:
			if err = d.want(&f, wireBytes); err == nil {
				var a Attribute
				if a, err = parseAttr(f.b); err == nil {
					n.Attrs = append(n.Attrs, a)
				}
			}
		case 7:
			err = d.want(&f, wireBytes)
			n.Domain = string(f.b)
		}
		if err != nil {
			return nil, err
		}
	}
}

func parseAttr(b []byte) (Attribute, error) {
	var a Attribute
	d := decoder{b: b, msg: "AttributeProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil || !ok {
			return a, err
		}
		switch f.num {
		case 1:
			err = d.want(&f, wireBytes)
			a.Name = string(f.b)
		case 2:
			err = d.want(&f, wire32)
			a.F = math.Float32frombits(uint32(f.v))
		case 3:
			err = d.want(&f, wireVarint)
			a.I = int64(f.v)
		case 4:
			err = d.want(&f, wireBytes)
			a.S = string(f.b)
		case 5:
			if err = d.want(&f, wireBytes); err == nil {
				a.T, err = parseTensor(f.b)
			}
		case 7:
			a.Floats, err = d.float32s(a.Floats, &f)
		case 8:
			a.Ints, err = d.int64s(a.Ints, &f)
		case 9:
			err = d.want(&f, wireBytes)
			a.Strings = append(a.Strings, string(f.b))
		case 20:
			err = d.want(&f, wireVarint)
			a.Type = AttrType(int32(f.v))
		}
		if err != nil {
			return a, err
		}
	}
}

func parseTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	d := decoder{b: b, msg: "TensorProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil {
			return nil, err
		}
		if !ok {
			return t, nil
		}
		switch f.num {
		case 1:
			t.Dims, err = d.int64s(t.Dims, &f)
		case 2:
			err = d.want(&f, wireVarint)
			t.Type = DataType(int32(f.v))
		case 4:
			t.Floats, err = d.float32s(t.Floats, &f)
		case 5:
			t.Int32s, err = d.int32s(t.Int32s, &f)
		case 7:
			t.Int64s, err = d.int64s(t.Int64s, &f)
		case 8:
			err = d.want(&f, wireBytes)
			t.Name = string(f.b)
		case 9:
			err = d.want(&f, wireBytes)
			t.Raw = f.b
		case 10:
			t.Doubles, err = d.float64s(t.Doubles, &f)
		case 13:
			err = d.want(&f, wireBytes)
			t.External = true
		case 14:
			err = d.want(&f, wireVarint)
			t.External = f.v == 1
		}
		if err != nil {
			return nil, err
		}
	}
}

func parseValueInfo(b []byte) (ValueInfo, error) {
	var v ValueInfo
	v.Unranked = true
	d := decoder{b: b, msg: "ValueInfoProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil || !ok {
			return v, err
		}
		switch f.num {
		case 1:
			err = d.want(&f, wireBytes)
			v.Name = string(f.b)
		case 2:
			if err = d.want(&f, wireBytes); err == nil {
				err = parseType(f.b, &v)
			}
		}
		if err != nil {
			return v, err
		}
	}
}

// parseType reads a TypeProto; only tensor types are described.
func parseType(b []byte, v *ValueInfo) error {
	d := decoder{b: b, msg: "TypeProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil || !ok {
			return err
		}
		if f.num != 1 {
			continue
		}
		if err := d.want(&f, wireBytes); err != nil {
			return err
		}
		td := decoder{b: f.b, msg: "TypeProto.Tensor"}
		var g field
		for {
			ok, err := td.next(&g)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch g.num {
			case 1:
				err = td.want(&g, wireVarint)
				v.Type = DataType(int32(g.v))
			case 2:
				if err = td.want(&g, wireBytes); err == nil {
					v.Unranked = false
					err = parseShape(g.b, v)
				}
			}
			if err != nil {
				return err
			}
		}
	}
}

func parseShape(b []byte, v *ValueInfo) error {
	d := decoder{b: b, msg: "TensorShapeProto"}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil || !ok {
			return err
		}
		if f.num != 1 {
			continue
		}
		if err := d.want(&f, wireBytes); err != nil {
			return err
		}
		dim, param := int64(-1), ""
		dd := decoder{b: f.b, msg: "TensorShapeProto.Dimension"}
		var g field
		for {
			ok, err := dd.next(&g)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch g.num {
			case 1:
				err = dd.want(&g, wireVarint)
				dim, param = int64(g.v), ""
			case 2:
				err = dd.want(&g, wireBytes)
				dim, param = -1, string(g.b)
			}
			if err != nil {
				return err
			}
		}
		v.Dims = append(v.Dims, dim)
		if param != "" {
			for len(v.DimParams) < len(v.Dims)-1 {
				v.DimParams = append(v.DimParams, "")
			}
			v.DimParams = append(v.DimParams, param)
		}
	}
}

// Initializer is a graph initializer found in a model file by
// ReadInitializers: its name, type and dims, with its data left in the
// file until Load.
type Initializer struct {
	Name     string
	Type     DataType
	Dims     []int64
	External bool
	r        io.ReaderAt
	off, n   int64 // the TensorProto message in r
}

// Load reads the initializer's TensorProto from the file.
func (in *Initializer) Load() (*Tensor, error) {
	buf := make([]byte, in.n)
	// An empty message at the end of the file reads nothing, and ReadAt
	// may report io.EOF beside a full read at the end (io.ReaderAt's
	// contract); neither is an error.
	if in.n > 0 {
		if k, err := in.r.ReadAt(buf, in.off); k < len(buf) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("onnxfile: read initializer %q: %w", in.Name, err)
		}
	}
	return parseTensor(buf)
}

// Float32s loads the initializer and decodes its values (Tensor.Float32s).
func (in *Initializer) Float32s() ([]float32, error) {
	t, err := in.Load()
	if err != nil {
		return nil, err
	}
	return t.Float32s()
}

// maxHeader bounds the bytes of an initializer's non-data fields (name,
// dims, type) that ReadInitializers reads.
const maxHeader = 1 << 20

// ReadInitializers lists, in order, the graph initializers of the ONNX
// model in r (size bytes). Only the model's, graph's and each tensor's
// field headers are read, plus each tensor's name, dims and type; node
// definitions are skipped unparsed.
func ReadInitializers(r io.ReaderAt, size int64) ([]Initializer, error) {
	if size < 0 {
		return nil, errors.New("onnxfile: negative size")
	}
	s := &scanner{r: r, size: size}
	var out []Initializer
	err := s.fields(0, size, "ModelProto", func(f sfield) error {
		if f.num != 7 {
			return nil
		}
		if f.wire != wireBytes {
			return fmt.Errorf("onnxfile: ModelProto: field 7 has wire type %d, want %d", f.wire, wireBytes)
		}
		return s.fields(f.off, f.off+f.n, "GraphProto", func(g sfield) error {
			if g.num != 5 {
				return nil
			}
			if g.wire != wireBytes {
				return fmt.Errorf("onnxfile: GraphProto: field 5 has wire type %d, want %d", g.wire, wireBytes)
			}
			in, err := s.header(g.off, g.n)
			if err != nil {
				return err
			}
			out = append(out, in)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanner reads protocol-buffers fields from an io.ReaderAt through a
// small window, without loading length-delimited payloads.
type scanner struct {
	r       io.ReaderAt
	size    int64
	win     []byte
	winOff  int64
	scratch []byte
}

// sfield is a field found by the scanner: a scalar value, or the offset
// and length of a payload.
type sfield struct {
	num, wire int
	v         uint64
	off, n    int64 // payload of a length-delimited field
	keyOff    int64 // where the field starts
	end       int64 // where it ends
}

const window = 4096

// at returns up to n bytes at off (fewer at the end of the input).
func (s *scanner) at(off int64, n int) ([]byte, error) {
	if off >= s.size {
		return nil, nil
	}
	n = int(min(int64(n), s.size-off))
	if off >= s.winOff && off+int64(n) <= s.winOff+int64(len(s.win)) {
		return s.win[off-s.winOff : off-s.winOff+int64(n)], nil
	}
	w := int(min(int64(max(n, window)), s.size-off))
	if cap(s.win) < w {
		s.win = make([]byte, w)
	}
	s.win = s.win[:w]
	k, err := s.r.ReadAt(s.win, off)
	if k < w {
		s.win = s.win[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("onnxfile: read at %d: %w", off, err)
	}
	s.winOff = off
	return s.win[:n], nil
}

// fields calls fn for each field of the message in [start, end).
func (s *scanner) fields(start, end int64, msg string, fn func(sfield) error) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("onnxfile: %s: %s", msg, fmt.Sprintf(format, args...))
	}
	for pos := start; pos < end; {
		b, err := s.at(pos, int(min(20, end-pos)))
		if err != nil {
			return err
		}
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return bad("truncated or overlong field key")
		}
		if key>>3 == 0 || key>>3 > math.MaxInt32 {
			return bad("field number %d is invalid", key>>3)
		}
		f := sfield{num: int(key >> 3), wire: int(key & 7), keyOff: pos}
		b = b[n:]
		pos += int64(n)
		switch f.wire {
		case wireVarint:
			v, m := binary.Uvarint(b)
			if m <= 0 {
				return bad("field %d: truncated or overlong varint", f.num)
			}
			f.v, pos = v, pos+int64(m)
		case wire64:
			if len(b) < 8 {
				return bad("field %d: truncated fixed64", f.num)
			}
			f.v, pos = binary.LittleEndian.Uint64(b), pos+8
		case wire32:
			if len(b) < 4 {
				return bad("field %d: truncated fixed32", f.num)
			}
			f.v, pos = uint64(binary.LittleEndian.Uint32(b)), pos+4
		case wireBytes:
			l, m := binary.Uvarint(b)
			if m <= 0 {
				return bad("field %d: truncated or overlong length", f.num)
			}
			pos += int64(m)
			if l > uint64(end-pos) {
				return bad("field %d: length %d runs past the end of the message (%d bytes left)", f.num, l, end-pos)
			}
			f.off, f.n = pos, int64(l)
			pos += int64(l)
		default:
			return bad("field %d: wire type %d is not supported", f.num, f.wire)
		}
		f.end = pos
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// header reads an initializer's TensorProto at [off, off+n) without its
// data: the other fields are copied, as they are, into a small message that
// parseTensor decodes.
func (s *scanner) header(off, n int64) (Initializer, error) {
	hdr := s.scratch[:0]
	err := s.fields(off, off+n, "TensorProto", func(f sfield) error {
		switch f.num {
		case 3, 4, 5, 6, 7, 9, 10, 11, 12:
			// segment, the data fields and the doc string
			return nil
		}
		if int64(len(hdr))+f.end-f.keyOff > maxHeader {
			return fmt.Errorf("onnxfile: TensorProto at %d: the fields other than data exceed %d bytes", off, maxHeader)
		}
		b, err := s.at(f.keyOff, int(f.end-f.keyOff))
		if err != nil {
			return err
		}
		hdr = append(hdr, b...)
		return nil
	})
	s.scratch = hdr
	if err != nil {
		return Initializer{}, err
	}
	t, err := parseTensor(hdr)
	if err != nil {
		return Initializer{}, fmt.Errorf("%w (initializer at offset %d)", err, off)
	}
	return Initializer{Name: t.Name, Type: t.Type, Dims: t.Dims, External: t.External, r: s.r, off: off, n: n}, nil
}

// GraphIO is the interface of a model: the graph inputs that are fed (not
// the initializers older exports also list among the inputs), the outputs,
// and the initializers (headers only).
type GraphIO struct {
	Inputs  []ValueInfo
	Outputs []ValueInfo
	Inits   []Initializer
}

// maxValueInfo bounds one graph input or output record.
const maxValueInfo = 1 << 20

// ReadGraphIO reads the graph inputs, outputs and initializer headers of the
// ONNX model in r (size bytes) in one pass of field headers, without loading
// node definitions or weights: a 550 MB model costs a few thousand small
// reads.
func ReadGraphIO(r io.ReaderAt, size int64) (*GraphIO, error) {
	if size < 0 {
		return nil, errors.New("onnxfile: negative size")
	}
	s := &scanner{r: r, size: size}
	g := &GraphIO{}
	var inputs []ValueInfo
	graphs := 0
	err := s.fields(0, size, "ModelProto", func(f sfield) error {
		if f.num != 7 {
			return nil
		}
		if f.wire != wireBytes {
			return fmt.Errorf("onnxfile: ModelProto: field 7 has wire type %d, want %d", f.wire, wireBytes)
		}
		graphs++
		return s.fields(f.off, f.off+f.n, "GraphProto", func(gf sfield) error {
			if gf.wire != wireBytes {
				return nil
			}
			switch gf.num {
			case 5:
				in, err := s.header(gf.off, gf.n)
				if err != nil {
					return err
				}
				g.Inits = append(g.Inits, in)
			case 11, 12:
				if gf.n > maxValueInfo {
					return fmt.Errorf("onnxfile: a graph input or output record of %d bytes", gf.n)
				}
				b, err := s.at(gf.off, int(gf.n))
				if err != nil {
					return err
				}
				v, err := parseValueInfo(b)
				if err != nil {
					return err
				}
				if gf.num == 11 {
					inputs = append(inputs, v)
				} else {
					g.Outputs = append(g.Outputs, v)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if graphs == 0 {
		return nil, errors.New("onnxfile: not an ONNX model (no graph)")
	}
	isInit := make(map[string]bool, len(g.Inits))
	for _, in := range g.Inits {
		isInit[in.Name] = true
	}
	for _, in := range inputs {
		if !isInit[in.Name] {
			g.Inputs = append(g.Inputs, in)
		}
	}
	return g, nil
}
