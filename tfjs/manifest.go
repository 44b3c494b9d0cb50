package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Limits that keep a hostile manifest from asking for huge allocations.
const (
	// MaxWeightElements is the largest element count of one weight.
	MaxWeightElements = 1 << 30
	// MaxWeightBytes is the largest total size of all weight shards.
	MaxWeightBytes = 4 << 30
	// maxRank is the largest rank of a weight or placeholder shape.
	maxRank = 16
)

// ErrNotGraphModel is returned (wrapped) by ParseManifest for JSON that is
// not a TensorFlow.js graph model (a layers model, a package.json, ...).
var ErrNotGraphModel = errors.New("not a TensorFlow.js graph model")

// Model is a parsed TensorFlow.js graph model: its graph, its weights
// manifest and, after Load or SetWeights, the weight bytes. A Model is not
// safe for concurrent use (it caches decoded weights).
type Model struct {
	Format      string
	GeneratedBy string
	ConvertedBy string
	// Nodes are the graph's nodes in file order.
	Nodes []Node
	// Groups are the weight groups in file order; their shards are
	// concatenated in this order to form the weight data.
	Groups []WeightGroup
	// Signature is the model's top-level "signature", or nil. (TF.js also
	// reads "userDefinedMetadata.signature"; in the human models its keys
	// only repeat tensor names such as "Identity:0", so it is ignored and
	// those models keep their node names.)
	Signature *Signature
	// FlexibleSize makes ToONNX declare symbolic height and width for 4-D
	// inputs (see ToONNX).
	FlexibleSize bool

	weights map[string]*WeightSpec // by name; the last spec of a name wins
	total   int64                  // bytes of weight data the specs need
	data    []byte                 // concatenated shards, nil until loaded
	decoded map[string]*tensor
}

// Node is one node of the graph.
type Node struct {
	Name   string
	Op     string
	Inputs []string
	Attr   map[string]Attr
}

// Attr is one attribute value of a node. Exactly the fields present in the
// JSON are set.
type Attr struct {
	S      []byte   // "s": decoded from base64
	I      *int64   // "i"
	F      *float64 // "f"
	B      *bool    // "b"
	Type   string   // "type", e.g. DT_FLOAT
	Shape  *Shape   // "shape"
	List   *AttrList
	Tensor bool // a "tensor" value is present (inline constants are not supported)
}

// AttrList is a list attribute value.
type AttrList struct {
	S     [][]byte
	I     []int64
	F     []float64
	B     []bool
	Type  []string
	Shape []Shape
}

// Shape is a tensor shape; -1 is an unknown dimension.
type Shape struct {
	Dims        []int64
	UnknownRank bool
}

// WeightGroup is one entry of weightsManifest.
type WeightGroup struct {
	Paths   []string
	Weights []WeightSpec
}

// WeightSpec describes one weight tensor in the shards.
type WeightSpec struct {
	Name         string
	Shape        []int64
	DType        string // float32, int32, bool or complex64
	Quantization *Quantization
	// Offset and Size locate the weight's bytes in the concatenated shards.
	Offset, Size int64
}

// Quantization describes how a weight is stored.
type Quantization struct {
	DType         string // float16, uint8 or uint16
	Min, Scale    float64
	OriginalDType string
}

// Signature maps signature keys to graph tensors.
type Signature struct {
	Inputs  map[string]TensorInfo
	Outputs map[string]TensorInfo
}

// TensorInfo is one signature entry: Name is a tensor name such as
// "Identity_2:0".
type TensorInfo struct {
	Name  string
	DType string
	Shape *Shape
}

// --- JSON ---

type modelJSON struct {
	Format          string            `json:"format"`
	GeneratedBy     string            `json:"generatedBy"`
	ConvertedBy     string            `json:"convertedBy"`
	ModelTopology   json.RawMessage   `json:"modelTopology"`
	WeightsManifest []weightGroupJSON `json:"weightsManifest"`
	Signature       *signatureJSON    `json:"signature"`
}

type topologyJSON struct {
	Node []nodeJSON `json:"node"`
}

type nodeJSON struct {
	Name  string              `json:"name"`
	Op    string              `json:"op"`
	Input []string            `json:"input"`
	Attr  map[string]attrJSON `json:"attr"`
}

type attrJSON struct {
	List   *attrListJSON   `json:"list"`
	S      *string         `json:"s"`
	I      *jsonInt        `json:"i"`
	F      *jsonFloat      `json:"f"`
	B      *bool           `json:"b"`
	Type   *string         `json:"type"`
	Shape  *shapeJSON      `json:"shape"`
	Tensor json.RawMessage `json:"tensor"`
}

type attrListJSON struct {
	S     []string    `json:"s"`
	I     []jsonInt   `json:"i"`
	F     []jsonFloat `json:"f"`
	B     []bool      `json:"b"`
	Type  []string    `json:"type"`
	Shape []shapeJSON `json:"shape"`
}

type shapeJSON struct {
	Dim         []struct{ Size jsonInt } `json:"dim"`
	UnknownRank bool                     `json:"unknownRank"`
}

type weightGroupJSON struct {
	Paths   []string     `json:"paths"`
	Weights []weightJSON `json:"weights"`
}

type weightJSON struct {
	Name         string            `json:"name"`
	Shape        []jsonInt         `json:"shape"`
	DType        string            `json:"dtype"`
	Quantization *quantizationJSON `json:"quantization"`
}

type quantizationJSON struct {
	DType         string     `json:"dtype"`
	Min           *jsonFloat `json:"min"`
	Scale         *jsonFloat `json:"scale"`
	OriginalDType string     `json:"original_dtype"`
}

type signatureJSON struct {
	Inputs  map[string]tensorInfoJSON `json:"inputs"`
	Outputs map[string]tensorInfoJSON `json:"outputs"`
}

type tensorInfoJSON struct {
	Name        string     `json:"name"`
	DType       string     `json:"dtype"`
	TensorShape *shapeJSON `json:"tensorShape"`
}

// jsonInt accepts an integer written as a JSON number or a string (protobuf
// JSON writes int64 as strings).
type jsonInt int64

// numberText returns the text of a JSON number, or of a string holding
// one; ok is false for null, which leaves the value as it is.
func numberText(b []byte) (s string, ok bool, err error) {
	s = string(bytes.TrimSpace(b))
	if s == "null" {
		return "", false, nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
	}
	return s, true, nil
}

func (v *jsonInt) UnmarshalJSON(b []byte) error {
	s, ok, err := numberText(b)
	if !ok {
		return err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("bad integer %.40q", s)
		}
		n = int64(f)
	}
	*v = jsonInt(n)
	return nil
}

// jsonFloat accepts a JSON number or the strings protobuf JSON uses for
// special values ("NaN", "Infinity", "-Infinity").
type jsonFloat float64

func (v *jsonFloat) UnmarshalJSON(b []byte) error {
	s, ok, err := numberText(b)
	if !ok {
		return err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("bad number %.40q", s)
	}
	*v = jsonFloat(f)
	return nil
}

// ParseManifest parses a TensorFlow.js graph model's model.json. It checks
// the manifest's structure and sizes but reads no weights: see Load and
// SetWeights. It never panics, whatever the input.
func ParseManifest(data []byte) (*Model, error) {
	var mj modelJSON
	if err := json.Unmarshal(data, &mj); err != nil {
		return nil, fmt.Errorf("tfjs: model.json: %w", err)
	}
	if mj.Format != "" && mj.Format != "graph-model" {
		return nil, fmt.Errorf("tfjs: model.json has format %q: %w", mj.Format, ErrNotGraphModel)
	}
	if len(mj.ModelTopology) == 0 || string(mj.ModelTopology) == "null" {
		return nil, fmt.Errorf("tfjs: model.json has no modelTopology: %w", ErrNotGraphModel)
	}
	var topo topologyJSON
	if err := json.Unmarshal(mj.ModelTopology, &topo); err != nil {
		return nil, fmt.Errorf("tfjs: modelTopology: %w", err)
	}
	if topo.Node == nil {
		return nil, fmt.Errorf("tfjs: modelTopology has no node list: %w", ErrNotGraphModel)
	}
	m := &Model{
		Format:      mj.Format,
		GeneratedBy: mj.GeneratedBy,
		ConvertedBy: mj.ConvertedBy,
		weights:     map[string]*WeightSpec{},
		decoded:     map[string]*tensor{},
	}
	seen := make(map[string]bool, len(topo.Node))
	for i, nj := range topo.Node {
		if nj.Name == "" {
			return nil, fmt.Errorf("tfjs: node %d has no name", i)
		}
		if nj.Op == "" {
			return nil, fmt.Errorf("tfjs: node %q has no op", nj.Name)
		}
		if seen[nj.Name] {
			return nil, fmt.Errorf("tfjs: two nodes are named %q", nj.Name)
		}
		seen[nj.Name] = true
		n := Node{Name: nj.Name, Op: nj.Op, Inputs: nj.Input, Attr: make(map[string]Attr, len(nj.Attr))}
		for k, aj := range nj.Attr {
			a, err := convertAttr(aj)
			if err != nil {
				return nil, fmt.Errorf("tfjs: node %q attribute %q: %w", nj.Name, k, err)
			}
			n.Attr[k] = a
		}
		m.Nodes = append(m.Nodes, n)
	}
	var offset int64
	for gi, gj := range mj.WeightsManifest {
		g := WeightGroup{Paths: gj.Paths}
		if len(gj.Weights) > 0 && len(gj.Paths) == 0 {
			return nil, fmt.Errorf("tfjs: weight group %d has weights but no paths", gi)
		}
		for _, p := range gj.Paths {
			if p == "" || strings.Contains(p, `\`) || !filepath.IsLocal(p) {
				return nil, fmt.Errorf("tfjs: weight group %d: shard path %q is not a plain relative path", gi, p)
			}
		}
		for _, wj := range gj.Weights {
			w, err := convertWeight(wj)
			if err != nil {
				return nil, fmt.Errorf("tfjs: weight %q: %w", wj.Name, err)
			}
			w.Offset = offset
			offset += w.Size
			if offset > MaxWeightBytes {
				return nil, fmt.Errorf("tfjs: the weights need more than %d bytes", int64(MaxWeightBytes))
			}
			g.Weights = append(g.Weights, w)
		}
		m.Groups = append(m.Groups, g)
	}
	m.total = offset
	for gi := range m.Groups {
		for wi := range m.Groups[gi].Weights {
			w := &m.Groups[gi].Weights[wi]
			m.weights[w.Name] = w
		}
	}
	sig := mj.Signature
	if sig != nil {
		s, err := convertSignature(sig)
		if err != nil {
			return nil, err
		}
		m.Signature = s
	}
	return m, nil
}

func convertAttr(aj attrJSON) (Attr, error) {
	var a Attr
	if aj.S != nil {
		b, err := base64.StdEncoding.DecodeString(*aj.S)
		if err != nil {
			return a, fmt.Errorf("bad base64 string: %w", err)
		}
		a.S = b
	}
	if aj.I != nil {
		v := int64(*aj.I)
		a.I = &v
	}
	if aj.F != nil {
		v := float64(*aj.F)
		a.F = &v
	}
	a.B = aj.B
	if aj.Type != nil {
		a.Type = *aj.Type
	}
	if aj.Shape != nil {
		s, err := convertShape(aj.Shape)
		if err != nil {
			return a, err
		}
		a.Shape = &s
	}
	a.Tensor = len(aj.Tensor) > 0 && string(aj.Tensor) != "null"
	if aj.List != nil {
		l := &AttrList{B: aj.List.B, Type: aj.List.Type}
		for _, s := range aj.List.S {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return a, fmt.Errorf("bad base64 string in list: %w", err)
			}
			l.S = append(l.S, b)
		}
		for _, v := range aj.List.I {
			l.I = append(l.I, int64(v))
		}
		for _, v := range aj.List.F {
			l.F = append(l.F, float64(v))
		}
		for i := range aj.List.Shape {
			s, err := convertShape(&aj.List.Shape[i])
			if err != nil {
				return a, err
			}
			l.Shape = append(l.Shape, s)
		}
		a.List = l
	}
	return a, nil
}

func convertShape(sj *shapeJSON) (Shape, error) {
	s := Shape{UnknownRank: sj.UnknownRank}
	if len(sj.Dim) > maxRank {
		return s, fmt.Errorf("shape rank %d is above %d", len(sj.Dim), maxRank)
	}
	s.Dims = make([]int64, 0, len(sj.Dim))
	for _, d := range sj.Dim {
		v := int64(d.Size)
		if v < -1 {
			return s, fmt.Errorf("shape dimension %d is negative", v)
		}
		s.Dims = append(s.Dims, v)
	}
	return s, nil
}

// dtypeBytes is the stored size of one element of each unquantised dtype.
var dtypeBytes = map[string]int64{"float32": 4, "int32": 4, "bool": 1, "complex64": 8}

// quantBytes is the stored size of one element of each quantisation dtype.
var quantBytes = map[string]int64{"float16": 2, "uint8": 1, "uint16": 2}

func convertWeight(wj weightJSON) (WeightSpec, error) {
	w := WeightSpec{Name: wj.Name, DType: wj.DType}
	if w.Name == "" {
		return w, errors.New("weight has no name")
	}
	if len(wj.Shape) > maxRank {
		return w, fmt.Errorf("rank %d is above %d", len(wj.Shape), maxRank)
	}
	n := int64(1)
	w.Shape = make([]int64, 0, len(wj.Shape))
	for _, d := range wj.Shape {
		v := int64(d)
		if v < 0 {
			return w, fmt.Errorf("shape %v has a negative dimension", wj.Shape)
		}
		if v > 0 && n > MaxWeightElements/v {
			return w, fmt.Errorf("shape %v has more than %d elements", wj.Shape, MaxWeightElements)
		}
		n *= v
		w.Shape = append(w.Shape, v)
	}
	per, ok := dtypeBytes[w.DType]
	if !ok {
		return w, fmt.Errorf("dtype %q is not supported (float32, int32, bool, complex64)", w.DType)
	}
	if q := wj.Quantization; q != nil {
		qb, ok := quantBytes[q.DType]
		if !ok {
			return w, fmt.Errorf("quantization dtype %q is not one of float16, uint8, uint16", q.DType)
		}
		w.Quantization = &Quantization{DType: q.DType, OriginalDType: q.OriginalDType}
		switch q.DType {
		case "float16":
			if w.DType != "float32" {
				return w, fmt.Errorf("float16 quantization needs dtype float32, not %s", w.DType)
			}
		default:
			if q.Min == nil || q.Scale == nil {
				return w, fmt.Errorf("%s quantization needs min and scale", q.DType)
			}
			if w.DType != "float32" && w.DType != "int32" {
				return w, fmt.Errorf("%s quantization needs dtype float32 or int32, not %s", q.DType, w.DType)
			}
			w.Quantization.Min, w.Quantization.Scale = float64(*q.Min), float64(*q.Scale)
		}
		per = qb
	}
	w.Size = n * per
	return w, nil
}

func convertSignature(sj *signatureJSON) (*Signature, error) {
	s := &Signature{Inputs: map[string]TensorInfo{}, Outputs: map[string]TensorInfo{}}
	for _, side := range []struct {
		src map[string]tensorInfoJSON
		dst map[string]TensorInfo
	}{{sj.Inputs, s.Inputs}, {sj.Outputs, s.Outputs}} {
		for k, tj := range side.src {
			if k == "" {
				return nil, errors.New("tfjs: signature has an empty key")
			}
			ti := TensorInfo{Name: tj.Name, DType: tj.DType}
			if ti.Name == "" {
				ti.Name = k
			}
			if tj.TensorShape != nil {
				sh, err := convertShape(tj.TensorShape)
				if err != nil {
					return nil, fmt.Errorf("tfjs: signature %q: %w", k, err)
				}
				ti.Shape = &sh
			}
			side.dst[k] = ti
		}
	}
	return s, nil
}

// WeightBytes is the number of bytes of weight data the manifest describes.
func (m *Model) WeightBytes() int64 { return m.total }

// Weight returns the spec of the named weight.
func (m *Model) Weight(name string) (*WeightSpec, bool) {
	w, ok := m.weights[name]
	return w, ok
}

// node attribute helpers

func (n *Node) attr(name string) (Attr, bool) {
	a, ok := n.Attr[name]
	return a, ok
}

func (n *Node) attrString(name, def string) string {
	if a, ok := n.attr(name); ok && a.S != nil {
		return string(a.S)
	}
	return def
}

func (n *Node) attrInt(name string, def int64) int64 {
	if a, ok := n.attr(name); ok && a.I != nil {
		return *a.I
	}
	return def
}

func (n *Node) attrFloat(name string, def float64) float64 {
	if a, ok := n.attr(name); ok && a.F != nil {
		return *a.F
	}
	return def
}

func (n *Node) attrBool(name string, def bool) bool {
	if a, ok := n.attr(name); ok && a.B != nil {
		return *a.B
	}
	return def
}

func (n *Node) attrInts(name string) []int64 {
	if a, ok := n.attr(name); ok && a.List != nil {
		return a.List.I
	}
	return nil
}

func (n *Node) attrStrings(name string) []string {
	a, ok := n.attr(name)
	if !ok || a.List == nil {
		return nil
	}
	out := make([]string, len(a.List.S))
	for i, s := range a.List.S {
		out[i] = string(s)
	}
	return out
}
