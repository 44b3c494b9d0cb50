package onnxfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// head is a field's key and, for a varint or fixed field, its value; for a
// length-delimited field v is the payload's length.
type head struct {
	num, wire int
	v         uint64
}

// readHead decodes the field that starts b, a message of size bytes from
// b[0] on (b may hold fewer: a window of it), and returns it with the
// bytes its key and value (not a payload) take. msg names the message for
// errors.
func readHead(b []byte, size int64, msg string) (h head, n int, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("onnxfile: %s: %s", msg, fmt.Sprintf(format, args...))
	}
	key, n := binary.Uvarint(b)
	if n <= 0 {
		return h, 0, bad("truncated or overlong field key")
	}
	if key>>3 == 0 || key>>3 > math.MaxInt32 {
		return h, 0, bad("field number %d is invalid", key>>3)
	}
	h = head{num: int(key >> 3), wire: int(key & 7)}
	b = b[n:]
	switch h.wire {
	case wireVarint:
		v, m := binary.Uvarint(b)
		if m <= 0 {
			return h, 0, bad("field %d: truncated or overlong varint", h.num)
		}
		h.v, n = v, n+m
	case wire64:
		if len(b) < 8 {
			return h, 0, bad("field %d: truncated fixed64", h.num)
		}
		h.v, n = binary.LittleEndian.Uint64(b), n+8
	case wire32:
		if len(b) < 4 {
			return h, 0, bad("field %d: truncated fixed32", h.num)
		}
		h.v, n = uint64(binary.LittleEndian.Uint32(b)), n+4
	case wireBytes:
		l, m := binary.Uvarint(b)
		if m <= 0 {
			return h, 0, bad("field %d: truncated or overlong length", h.num)
		}
		n += m
		if left := size - int64(n); l > uint64(left) {
			return h, 0, bad("field %d: length %d runs past the end of the message (%d bytes left)", h.num, l, left)
		}
		h.v = l
	default:
		return h, 0, bad("field %d: wire type %d is not supported", h.num, h.wire)
	}
	return h, n, nil
}

// field is one decoded protocol-buffers field.
type field struct {
	num  int
	wire int
	v    uint64 // varint, fixed32 or fixed64 value
	b    []byte // length-delimited payload (aliases the input)
}

// decoder walks the fields of one message held in memory.
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
	h, n, err := readHead(d.b, int64(len(d.b)), d.msg)
	if err != nil {
		return false, err
	}
	d.b = d.b[n:]
	f.num, f.wire, f.v, f.b = h.num, h.wire, h.v, nil
	if f.wire == wireBytes {
		f.v, f.b, d.b = 0, d.b[:h.v:h.v], d.b[h.v:]
	}
	return true, nil
}

// fields calls fn with each field of the message b (named msg for errors)
// until the end or the first error.
func fields(b []byte, msg string, fn func(d *decoder, f *field) error) error {
	d := decoder{b: b, msg: msg}
	var f field
	for {
		ok, err := d.next(&f)
		if err != nil || !ok {
			return err
		}
		if err := fn(&d, &f); err != nil {
			return err
		}
	}
}

// want checks a known field's wire type.
func (d *decoder) want(f *field, wire int) error {
	if f.wire != wire {
		return d.errorf("field %d has wire type %d, want %d", f.num, f.wire, wire)
	}
	return nil
}

// The typed readers of one known field check its wire type.

func (d *decoder) int64(f *field) (int64, error) { return int64(f.v), d.want(f, wireVarint) }

func (d *decoder) enum(f *field) (int32, error) { return int32(f.v), d.want(f, wireVarint) }

func (d *decoder) bytes(f *field) ([]byte, error) { return f.b, d.want(f, wireBytes) }

func (d *decoder) string(f *field) (string, error) { return string(f.b), d.want(f, wireBytes) }

// message parses an embedded message with parse.
func (d *decoder) message(f *field, parse func([]byte) error) error {
	if err := d.want(f, wireBytes); err != nil {
		return err
	}
	return parse(f.b)
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
	return packedFixed(d, dst, f, wire32, "floats", func(v uint64) float32 { return math.Float32frombits(uint32(v)) })
}

func (d *decoder) float64s(dst []float64, f *field) ([]float64, error) {
	return packedFixed(d, dst, f, wire64, "doubles", math.Float64frombits)
}

// packedFixed appends to dst the values of a repeated fixed32 or fixed64
// field (wire), one value or packed ones (what names them in errors),
// converted from their bits by fromBits.
func packedFixed[T any](d *decoder, dst []T, f *field, wire int, what string, fromBits func(uint64) T) ([]T, error) {
	size, name := 4, "fixed32"
	if wire == wire64 {
		size, name = 8, "fixed64"
	}
	switch f.wire {
	case wire:
		return append(dst, fromBits(f.v)), nil
	case wireBytes:
		if len(f.b)%size != 0 {
			return nil, d.errorf("field %d: packed %s of %d bytes", f.num, what, len(f.b))
		}
		if dst == nil {
			dst = make([]T, 0, len(f.b)/size)
		}
		for b := f.b; len(b) > 0; b = b[size:] {
			if size == 4 {
				dst = append(dst, fromBits(uint64(binary.LittleEndian.Uint32(b))))
			} else {
				dst = append(dst, fromBits(binary.LittleEndian.Uint64(b)))
			}
		}
		return dst, nil
	}
	return nil, d.errorf("field %d has wire type %d, want %s or packed", f.num, f.wire, name)
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
	err := fields(data, "ModelProto", func(d *decoder, f *field) (err error) {
		switch f.num {
		case 1:
			m.IRVersion, err = d.int64(f)
		case 2:
			m.Producer, err = d.string(f)
		case 3:
			m.ProducerVersion, err = d.string(f)
		case 6:
			m.Doc, err = d.string(f)
		case 7:
			// A repeated embedded message merges into one.
			err = d.message(f, func(b []byte) error { return parseGraph(b, &m.Graph) })
		case 8:
			err = d.message(f, func(b []byte) error {
				o, err := parseOpset(b)
				m.Opsets = append(m.Opsets, o)
				return err
			})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func parseOpset(b []byte) (Opset, error) {
	var o Opset
	err := fields(b, "OperatorSetIdProto", func(d *decoder, f *field) (err error) {
		switch f.num {
		case 1:
			o.Domain, err = d.string(f)
		case 2:
			o.Version, err = d.int64(f)
		}
		return err
	})
	return o, err
}

func parseGraph(b []byte, g *Graph) error {
	return fields(b, "GraphProto", func(d *decoder, f *field) (err error) {
		switch f.num {
		case 1:
			err = d.message(f, func(b []byte) error {
				n, err := parseNode(b)
				g.Nodes = append(g.Nodes, n)
				return err
			})
		case 2:
			g.Name, err = d.string(f)
		case 5:
			err = d.message(f, func(b []byte) error {
				t, err := parseTensor(b)
				g.Initializers = append(g.Initializers, t)
				return err
			})
		case 11, 12:
			err = d.message(f, func(b []byte) error {
				v, err := parseValueInfo(b)
				if f.num == 11 {
					g.Inputs = append(g.Inputs, v)
				} else {
					g.Outputs = append(g.Outputs, v)
				}
				return err
			})
		}
		return err
	})
}

func parseNode(b []byte) (*Node, error) {
	n := &Node{}
	err := fields(b, "NodeProto", func(d *decoder, f *field) error {
		var s string
		var err error
		switch f.num {
		case 1:
			s, err = d.string(f)
			n.Inputs = append(n.Inputs, s)
		case 2:
			s, err = d.string(f)
			n.Outputs = append(n.Outputs, s)
		case 3:
			n.Name, err = d.string(f)
		case 4:
			n.Op, err = d.string(f)
		case 5:
			err = d.message(f, func(b []byte) error {
				a, err := parseAttr(b)
				n.Attrs = append(n.Attrs, a)
				return err
			})
		case 7:
			n.Domain, err = d.string(f)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func parseAttr(b []byte) (Attribute, error) {
	var a Attribute
	err := fields(b, "AttributeProto", func(d *decoder, f *field) error {
		var err error
		switch f.num {
		case 1:
			a.Name, err = d.string(f)
		case 2:
			err = d.want(f, wire32)
			a.F = math.Float32frombits(uint32(f.v))
		case 3:
			a.I, err = d.int64(f)
		case 4:
			a.S, err = d.string(f)
		case 5:
			err = d.message(f, func(b []byte) (err error) {
				a.T, err = parseTensor(b)
				return err
			})
		case 7:
			a.Floats, err = d.float32s(a.Floats, f)
		case 8:
			a.Ints, err = d.int64s(a.Ints, f)
		case 9:
			var s string
			s, err = d.string(f)
			a.Strings = append(a.Strings, s)
		case 20:
			var t int32
			t, err = d.enum(f)
			a.Type = AttrType(t)
		}
		return err
	})
	return a, err
}

func parseTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	err := fields(b, "TensorProto", func(d *decoder, f *field) error {
		var err error
		switch f.num {
		case 1:
			t.Dims, err = d.int64s(t.Dims, f)
		case 2:
			var dt int32
			dt, err = d.enum(f)
			t.Type = DataType(dt)
		case 4:
			t.Floats, err = d.float32s(t.Floats, f)
		case 5:
			t.Int32s, err = d.int32s(t.Int32s, f)
		case 7:
			t.Int64s, err = d.int64s(t.Int64s, f)
		case 8:
			t.Name, err = d.string(f)
		case 9:
			t.Raw, err = d.bytes(f)
		case 10:
			t.Doubles, err = d.float64s(t.Doubles, f)
		case 13:
			err = d.want(f, wireBytes)
			t.External = true
		case 14:
			err = d.want(f, wireVarint)
			t.External = f.v == 1
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func parseValueInfo(b []byte) (ValueInfo, error) {
	v := ValueInfo{Unranked: true}
	err := fields(b, "ValueInfoProto", func(d *decoder, f *field) (err error) {
		switch f.num {
		case 1:
			v.Name, err = d.string(f)
		case 2:
			err = d.message(f, func(b []byte) error { return parseType(b, &v) })
		}
		return err
	})
	return v, err
}

// parseType reads a TypeProto; only tensor types are described.
func parseType(b []byte, v *ValueInfo) error {
	return fields(b, "TypeProto", func(d *decoder, f *field) error {
		if f.num != 1 {
			return nil
		}
		return d.message(f, func(b []byte) error {
			return fields(b, "TypeProto.Tensor", func(d *decoder, g *field) (err error) {
				switch g.num {
				case 1:
					var t int32
					t, err = d.enum(g)
					v.Type = DataType(t)
				case 2:
					err = d.message(g, func(b []byte) error {
						v.Unranked = false
						return parseShape(b, v)
					})
				}
				return err
			})
		})
	})
}

func parseShape(b []byte, v *ValueInfo) error {
	return fields(b, "TensorShapeProto", func(d *decoder, f *field) error {
		if f.num != 1 {
			return nil
		}
		dim, param := int64(-1), ""
		err := d.message(f, func(b []byte) error {
			return fields(b, "TensorShapeProto.Dimension", func(d *decoder, g *field) (err error) {
				switch g.num {
				case 1:
					dim, err = d.int64(g)
					param = ""
				case 2:
					dim = -1
					param, err = d.string(g)
				}
				return err
			})
		})
		if err != nil {
			return err
		}
		v.Dims = append(v.Dims, dim)
		if param != "" {
			for len(v.DimParams) < len(v.Dims)-1 {
				v.DimParams = append(v.DimParams, "")
			}
			v.DimParams = append(v.DimParams, param)
		}
		return nil
	})
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
	_, err := s.graphFields(func(g sfield) error {
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
	for pos := start; pos < end; {
		b, err := s.at(pos, int(min(20, end-pos)))
		if err != nil {
			return err
		}
		h, n, err := readHead(b, end-pos, msg)
		if err != nil {
			return err
		}
		f := sfield{num: h.num, wire: h.wire, v: h.v, keyOff: pos}
		pos += int64(n)
		if h.wire == wireBytes {
			f.v, f.off, f.n = 0, pos, int64(h.v)
			pos += int64(h.v)
		}
		f.end = pos
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// graphFields calls fn for each field of each graph (ModelProto field 7) of
// the model and returns how many graphs there were.
func (s *scanner) graphFields(fn func(sfield) error) (graphs int, err error) {
	err = s.fields(0, s.size, "ModelProto", func(f sfield) error {
		if f.num != 7 {
			return nil
		}
		if f.wire != wireBytes {
			return fmt.Errorf("onnxfile: ModelProto: field 7 has wire type %d, want %d", f.wire, wireBytes)
		}
		graphs++
		return s.fields(f.off, f.off+f.n, "GraphProto", fn)
	})
	return graphs, err
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
	graphs, err := s.graphFields(func(gf sfield) error {
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
