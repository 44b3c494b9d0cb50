package tfjs

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"faceswap/onnxfile"
)

// The ONNX IR version and default-domain opset the converter writes.
const (
	irVersion    = 8
	opsetVersion = 13
)

// Version identifies the conversion: it changes whenever the ONNX written
// for the same TF.js model changes, so that set-up knows to re-import.
const Version = "3"

// UnsupportedOpError reports a node the converter cannot translate: an op
// it does not know, or a known op with attributes it does not handle.
type UnsupportedOpError struct {
	Op     string // the TF op, e.g. "Conv3D"
	Node   string // the node's name
	Reason string // what is missing, when the op itself is known
}

func (e *UnsupportedOpError) Error() string {
	s := fmt.Sprintf("tfjs: unsupported op %s (node %q)", e.Op, e.Node)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Port names one input or output of the converted model.
type Port struct {
	Name string // name in the ONNX model
	Node string // TF.js graph node whose output 0 it is
}

// nodeOfTensor splits a tensor name "node:0" or a node reference "^node"
// into the node name and output index.
func nodeOfTensor(ref string) (string, int) {
	ref = strings.TrimPrefix(ref, "^")
	if i := strings.LastIndexByte(ref, ':'); i >= 0 {
		if k, err := strconv.Atoi(ref[i+1:]); err == nil && k >= 0 {
			return ref[:i], k
		}
	}
	return ref, 0
}

// Inputs lists the model's inputs: one per Placeholder node, in file
// order, named by its signature key when the signature has one, else by
// the node's name.
func (m *Model) Inputs() ([]Port, error) {
	keyOf := map[string]string{}
	if m.Signature != nil {
		keys := sortedKeys(m.Signature.Inputs)
		for _, k := range keys {
			node, idx := nodeOfTensor(m.Signature.Inputs[k].Name)
			if idx != 0 {
				return nil, fmt.Errorf("tfjs: signature input %q names output %d of %q", k, idx, node)
			}
			n := m.node(node)
			if n == nil || n.Op != "Placeholder" {
				return nil, fmt.Errorf("tfjs: signature input %q names %q, which is not a Placeholder", k, node)
			}
			if _, dup := keyOf[node]; dup {
				return nil, fmt.Errorf("tfjs: signature inputs %q and %q name the same Placeholder", keyOf[node], k)
			}
			keyOf[node] = k
		}
	}
	var ports []Port
	names := map[string]bool{}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		if n.Op != "Placeholder" {
			continue
		}
		name := n.Name
		if k, ok := keyOf[n.Name]; ok {
			name = k
		}
		if names[name] {
			return nil, fmt.Errorf("tfjs: two inputs would be named %q", name)
		}
		names[name] = true
		ports = append(ports, Port{Name: name, Node: n.Name})
	}
	return ports, nil
}

// Outputs lists the model's outputs. With a signature they are its output
// keys, sorted; without one they are the nodes that no node consumes
// (Const, Placeholder and NoOp aside), named and sorted by node name.
func (m *Model) Outputs() ([]Port, error) {
	var ports []Port
	if m.Signature != nil && len(m.Signature.Outputs) > 0 {
		for _, k := range sortedKeys(m.Signature.Outputs) {
			node, idx := nodeOfTensor(m.Signature.Outputs[k].Name)
			if idx != 0 {
				return nil, fmt.Errorf("tfjs: signature output %q names output %d of %q: only output 0 is supported", k, idx, node)
			}
			if m.node(node) == nil {
				return nil, fmt.Errorf("tfjs: signature output %q names %q, which is not in the graph", k, node)
			}
			ports = append(ports, Port{Name: k, Node: node})
		}
		return ports, nil
	}
	consumed := map[string]bool{}
	for i := range m.Nodes {
		for _, in := range m.Nodes[i].Inputs {
			node, _ := nodeOfTensor(in)
			consumed[node] = true
		}
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		switch n.Op {
		case "Const", "Placeholder", "NoOp":
			continue
		}
		if !consumed[n.Name] {
			ports = append(ports, Port{Name: n.Name, Node: n.Name})
		}
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
	if len(ports) == 0 {
		return nil, fmt.Errorf("tfjs: the graph has no outputs")
	}
	return ports, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m *Model) node(name string) *Node {
	for i := range m.Nodes {
		if m.Nodes[i].Name == name {
			return &m.Nodes[i]
		}
	}
	return nil
}

// value is a converted TF tensor.
//
// Runtime values live in the ONNX graph under name, laid out with perm:
// ONNX dimension i is TF dimension perm[i] (nil: the TF layout itself). The
// converter keeps 4-D activations in NCHW (perm 0,3,1,2) from the first
// convolution on, and transposes only where an op needs another layout.
//
// Constant values hold their data (in TF layout) and become initializers
// in whatever layout their consumer needs.
type value struct {
	name   string
	shape  []int64 // TF shape; -1 for unknown dimensions
	ranked bool    // shape's rank is known
	perm   []int
	c      *tensor // constant data, or nil
	cname  string  // constant's base name
	cache  map[string]string
}

func (v *value) rank() int {
	if !v.ranked {
		return -1
	}
	return len(v.shape)
}

// layout is the layout an op that keeps v's axes reads v in: the one v
// already has, TF's (nil) for a constant.
func (v *value) layout() []int {
	if v.c != nil {
		return nil
	}
	return v.perm
}

// layoutPerm is layout as a permutation of rank r (TF's is the identity).
func (v *value) layoutPerm(r int) []int {
	if p := v.layout(); p != nil {
		return p
	}
	return identityPerm(r)
}

var nchw = []int{0, 3, 1, 2}

type converter struct {
	m        *Model
	byName   map[string]*Node
	vals     map[string]*value
	state    map[string]uint8
	g        onnxfile.Graph
	used     map[string]bool
	inputOf  map[string]string // Placeholder node -> ONNX input name
	consts   map[string]string // constant layout key -> initializer name
	scalars  map[float32]string
	depth    int
	producer map[string]*onnxfile.Node
}

const maxDepth = 20000

// ToONNX converts the model to an ONNX model (IR 8, opset 13) and returns
// its serialised bytes. The weights must be loaded (Load or SetWeights).
//
// With m.FlexibleSize set, 4-D inputs declare symbolic height and width.
// Only graphs that never use the spatial size (no Reshape, Squeeze, Slice
// or Concat) may be converted so; padding is computed for the exported
// size and stays exact for sizes whose halvings by every stride have the
// same parity (for a 224 = 7·32 input: any multiple of 32).
func (m *Model) ToONNX() ([]byte, error) {
	if m.data == nil && m.total > 0 {
		return nil, fmt.Errorf("tfjs: weights are not loaded (use Load or SetWeights)")
	}
	ins, err := m.Inputs()
	if err != nil {
		return nil, err
	}
	outs, err := m.Outputs()
	if err != nil {
		return nil, err
	}
	if err := m.checkFlexible(); err != nil {
		return nil, err
	}
	c, err := newConverter(m, ins, outs)
	if err != nil {
		return nil, err
	}
	if err := c.declareInputs(ins); err != nil {
		return nil, err
	}
	if err := c.convertOutputs(outs); err != nil {
		return nil, err
	}
	doc := "Converted from a TensorFlow.js graph model by faceswap-tfjs " + Version
	model := onnxfile.Model{
		IRVersion:       irVersion,
		Producer:        "faceswap-tfjs",
		ProducerVersion: Version,
		Doc:             doc,
		Opsets:          []onnxfile.Opset{{Version: opsetVersion}},
		Graph:           c.g,
	}
	return model.Marshal(), nil
}

// checkFlexible refuses a flexible input size for a graph with an op that
// depends on the exported size.
func (m *Model) checkFlexible() error {
	if !m.FlexibleSize {
		return nil
	}
	for _, n := range m.Nodes {
		switch n.Op {
		case "Reshape", "Squeeze", "StridedSlice", "Slice", "ConcatV2", "Concat", "ExpandDims":
			return fmt.Errorf("tfjs: cannot give the model a flexible input size: node %q (%s) depends on the exported size", n.Name, n.Op)
		}
	}
	return nil
}

// newConverter indexes m's nodes and reserves the graph's input and output
// names.
func newConverter(m *Model, ins, outs []Port) (*converter, error) {
	c := &converter{
		m:        m,
		byName:   make(map[string]*Node, len(m.Nodes)),
		vals:     map[string]*value{},
		state:    map[string]uint8{},
		used:     map[string]bool{},
		inputOf:  map[string]string{},
		consts:   map[string]string{},
		scalars:  map[float32]string{},
		producer: map[string]*onnxfile.Node{},
		g:        onnxfile.Graph{Name: "tfjs"},
	}
	for i := range m.Nodes {
		c.byName[m.Nodes[i].Name] = &m.Nodes[i]
	}
	for _, p := range ins {
		c.used[p.Name] = true
		c.inputOf[p.Node] = p.Name
	}
	for _, p := range outs {
		if c.used[p.Name] {
			return nil, fmt.Errorf("tfjs: output name %q is used twice (or is also an input)", p.Name)
		}
		c.used[p.Name] = true
	}
	return c, nil
}

// declareInputs makes each Placeholder a graph input: float32, its batch
// dimension symbolic when unknown, and with m.FlexibleSize a 4-D input's
// height and width too.
func (c *converter) declareInputs(ins []Port) error {
	for _, p := range ins {
		n := c.byName[p.Node]
		v, err := c.placeholder(n, p.Name)
		if err != nil {
			return err
		}
		c.vals[n.Name] = v
		c.state[n.Name] = 2
		vi := onnxfile.ValueInfo{Name: p.Name, Type: onnxfile.Float, Unranked: !v.ranked, Dims: v.shape}
		if v.ranked && len(v.shape) > 0 && v.shape[0] < 0 {
			vi.DimParams = []string{"batch"}
		}
		if c.m.FlexibleSize && v.ranked && len(v.shape) == 4 {
			vi.Dims = []int64{v.shape[0], -1, -1, v.shape[3]}
			vi.DimParams = []string{"batch", "height", "width"}
			if v.shape[0] >= 0 {
				vi.DimParams[0] = ""
			}
		}
		c.g.Inputs = append(c.g.Inputs, vi)
	}
	return nil
}

// convertOutputs converts every node the outputs depend on (get walks the
// graph from them) and declares the outputs in the TF layout.
func (c *converter) convertOutputs(outs []Port) error {
	srcs := make([]string, len(outs))
	for i, p := range outs {
		v, err := c.get(p.Node)
		if err != nil {
			return err
		}
		if srcs[i], err = c.in(v, nil); err != nil {
			return err
		}
		c.g.Outputs = append(c.g.Outputs, onnxfile.ValueInfo{Name: p.Name, Type: onnxfile.Float, Unranked: !v.ranked, Dims: v.shape})
	}
	// Every output gets an Identity from its value; foldOutputIdentities
	// then renames the producing node's output instead where it can.
	for i, p := range outs {
		c.g.Nodes = append(c.g.Nodes, &onnxfile.Node{Name: p.Name, Op: "Identity", Inputs: []string{srcs[i]}, Outputs: []string{p.Name}})
	}
	c.foldOutputIdentities(len(outs))
	return nil
}

// foldOutputIdentities removes the final Identity nodes (the last n nodes)
// whose input is produced by a node and used nowhere else, by renaming that
// node's output to the graph output's name.
func (c *converter) foldOutputIdentities(n int) {
	uses := map[string]int{}
	for _, nd := range c.g.Nodes {
		for _, in := range nd.Inputs {
			uses[in]++
		}
	}
	keep := c.g.Nodes[:0]
	first := len(c.g.Nodes) - n
	for i, nd := range c.g.Nodes {
		if i >= first && nd.Op == "Identity" {
			src := nd.Inputs[0]
			if p := c.producer[src]; p != nil && uses[src] == 1 && len(p.Outputs) == 1 {
				p.Outputs[0] = nd.Outputs[0]
				continue
			}
		}
		keep = append(keep, nd)
	}
	c.g.Nodes = keep
}

func (c *converter) fresh(base string) string {
	if base == "" {
		base = "v"
	}
	if !c.used[base] {
		c.used[base] = true
		return base
	}
	for i := 1; ; i++ {
		s := base + "_" + strconv.Itoa(i)
		if !c.used[s] {
			c.used[s] = true
			return s
		}
	}
}

// emit adds a node with one output, named after base, and returns the
// output's name.
func (c *converter) emit(op, base string, inputs []string, attrs ...onnxfile.Attribute) string {
	out := c.fresh(base)
	nd := &onnxfile.Node{Name: out, Op: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs}
	c.g.Nodes = append(c.g.Nodes, nd)
	c.producer[out] = nd
	return out
}

func (c *converter) addInit(base string, t *onnxfile.Tensor) string {
	t.Name = c.fresh(base)
	c.g.Initializers = append(c.g.Initializers, t)
	return t.Name
}

func (c *converter) initInt64(base string, vals []int64) string {
	return c.addInit(base, &onnxfile.Tensor{Dims: []int64{int64(len(vals))}, Type: onnxfile.Int64, Int64s: vals})
}

func (c *converter) scalar(v float32) string {
	if s, ok := c.scalars[v]; ok {
		return s
	}
	s := c.addInit("const_"+strconv.FormatFloat(float64(v), 'g', -1, 32), &onnxfile.Tensor{Type: onnxfile.Float, Floats: []float32{v}})
	c.scalars[v] = s
	return s
}

// constInit writes t as an initializer named after base.
func (c *converter) constInit(base string, t *tensor) string {
	ot := &onnxfile.Tensor{Dims: t.shape, Type: onnxfile.Float, Floats: t.f}
	if t.isInt {
		ot.Type, ot.Floats, ot.Int32s = onnxfile.Int32, nil, t.i
	}
	return c.addInit(base, ot)
}

func permKey(p []int) string {
	if p == nil {
		return "id"
	}
	return fmt.Sprint(p)
}

func isIdentity(p []int) bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}

func invert(p []int) []int {
	inv := make([]int, len(p))
	for i, v := range p {
		inv[v] = i
	}
	return inv
}

func validPerm(p []int) bool {
	seen := make([]bool, len(p))
	for _, v := range p {
		if v < 0 || v >= len(p) || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

// in returns the ONNX name of v laid out with perm (nil: TF layout),
// inserting a Transpose or writing a transposed initializer as needed.
func (c *converter) in(v *value, perm []int) (string, error) {
	if perm != nil && isIdentity(perm) {
		perm = nil
	}
	if perm != nil && (!v.ranked || len(perm) != len(v.shape)) {
		return "", fmt.Errorf("tfjs: internal: layout %v for a tensor of rank %d", perm, v.rank())
	}
	key := permKey(perm)
	if v.c != nil {
		ck := v.cname + "|" + fmt.Sprint(v.c.shape) + "|" + key
		if s, ok := c.consts[ck]; ok {
			return s, nil
		}
		t := v.c
		if perm != nil {
			t = transposeTensor(t, perm)
		}
		s := c.constInit(v.cname, t)
		c.consts[ck] = s
		return s, nil
	}
	if slices.Equal(v.perm, perm) {
		return v.name, nil
	}
	if s, ok := v.cache[key]; ok {
		return s, nil
	}
	cur := v.perm
	if cur == nil {
		cur = identityPerm(len(v.shape))
	}
	want := perm
	if want == nil {
		want = identityPerm(len(v.shape))
	}
	inv := invert(cur)
	r := make([]int64, len(want))
	for j, d := range want {
		r[j] = int64(inv[d])
	}
	suffix := "/to_nhwc"
	if slices.Equal(perm, nchw) {
		suffix = "/to_nchw"
	} else if perm != nil {
		suffix = "/transpose"
	}
	s := c.emit("Transpose", v.name+suffix, []string{v.name}, onnxfile.IntsAttr("perm", r...))
	if v.cache == nil {
		v.cache = map[string]string{}
	}
	v.cache[key] = s
	return s, nil
}

func identityPerm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// transposeTensor returns t with its dimensions reordered: output
// dimension i is input dimension perm[i].
func transposeTensor(t *tensor, perm []int) *tensor {
	r := len(t.shape)
	out := &tensor{shape: make([]int64, r), isInt: t.isInt}
	for i, p := range perm {
		out.shape[i] = t.shape[p]
	}
	n := t.len()
	if t.isInt {
		out.i = make([]int32, n)
	} else {
		out.f = make([]float32, n)
	}
	if n == 0 {
		return out
	}
	inStride := make([]int64, r)
	s := int64(1)
	for i := r - 1; i >= 0; i-- {
		inStride[i] = s
		s *= t.shape[i]
	}
	// stride in the input of each output dimension
	st := make([]int64, r)
	for i, p := range perm {
		st[i] = inStride[p]
	}
	idx := make([]int64, r)
	var src int64
	for dst := 0; dst < n; dst++ {
		if t.isInt {
			out.i[dst] = t.i[src]
		} else {
			out.f[dst] = t.f[src]
		}
		for k := r - 1; k >= 0; k-- {
			idx[k]++
			src += st[k]
			if idx[k] < out.shape[k] {
				break
			}
			src -= st[k] * idx[k]
			idx[k] = 0
		}
	}
	return out
}

// get returns the value of a tensor reference, converting its node first.
func (c *converter) get(ref string) (*value, error) {
	name, idx := nodeOfTensor(ref)
	n := c.byName[name]
	if n == nil {
		return nil, fmt.Errorf("tfjs: input %q refers to no node", ref)
	}
	if idx != 0 {
		return nil, &UnsupportedOpError{Op: n.Op, Node: n.Name, Reason: fmt.Sprintf("output %d is used; only single-output ops are supported", idx)}
	}
	switch c.state[name] {
	case 2:
		return c.vals[name], nil
	case 1:
		return nil, fmt.Errorf("tfjs: the graph has a cycle through %q", name)
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return nil, fmt.Errorf("tfjs: the graph is deeper than %d nodes", maxDepth)
	}
	c.state[name] = 1
	v, err := c.convert(n)
	if err != nil {
		return nil, err
	}
	c.vals[name] = v
	c.state[name] = 2
	return v, nil
}

// dataInputs are a node's inputs without control dependencies.
func dataInputs(n *Node) []string {
	var ins []string
	for _, in := range n.Inputs {
		if !strings.HasPrefix(in, "^") {
			ins = append(ins, in)
		}
	}
	return ins
}

func (c *converter) inputs(n *Node, min, max int) ([]*value, error) {
	refs := dataInputs(n)
	if len(refs) < min || (max >= 0 && len(refs) > max) {
		return nil, &UnsupportedOpError{Op: n.Op, Node: n.Name, Reason: fmt.Sprintf("has %d inputs", len(refs))}
	}
	vs := make([]*value, len(refs))
	for i, r := range refs {
		v, err := c.get(r)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

func (c *converter) placeholder(n *Node, name string) (*value, error) {
	if dt, ok := n.attr("dtype"); ok && dt.Type != "" && dt.Type != "DT_FLOAT" {
		return nil, &UnsupportedOpError{Op: n.Op, Node: n.Name, Reason: "only float32 inputs are supported, not " + dt.Type}
	}
	v := &value{name: name}
	if a, ok := n.attr("shape"); ok && a.Shape != nil && !a.Shape.UnknownRank {
		v.ranked = true
		v.shape = append([]int64{}, a.Shape.Dims...)
	}
	return v, nil
}

func unsupported(n *Node, format string, args ...any) error {
	return &UnsupportedOpError{Op: n.Op, Node: n.Name, Reason: fmt.Sprintf(format, args...)}
}

// runtime returns a new runtime value for an output of n.
func (c *converter) runtime(name string, shape []int64, ranked bool, perm []int) *value {
	if perm != nil && isIdentity(perm) {
		perm = nil
	}
	return &value{name: name, shape: shape, ranked: ranked, perm: perm}
}

var unaryOps = map[string]string{
	"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Abs": "Abs", "Neg": "Neg",
	"Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Elu": "Elu", "Softplus": "Softplus",
	"Reciprocal": "Reciprocal", "Inv": "Reciprocal", "Floor": "Floor", "Ceil": "Ceil",
}

var binaryOps = map[string]string{
	"Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Sub": "Sub", "Mul": "Mul",
	"RealDiv": "Div", "Div": "Div", "Minimum": "Min", "Maximum": "Max", "Pow": "Pow",
}

var reduceOps = map[string]string{
	"Mean": "ReduceMean", "Max": "ReduceMax", "Min": "ReduceMin", "Sum": "ReduceSum", "Prod": "ReduceProd",
}

// convert translates node n into ONNX nodes (its inputs are converted
// first, through get) and returns its value.
func (c *converter) convert(n *Node) (*value, error) {
	if op, ok := unaryOps[n.Op]; ok {
		x, err := c.input(n)
		if err != nil {
			return nil, err
		}
		return c.unary(n.Name, op, x)
	}
	if op, ok := binaryOps[n.Op]; ok {
		return c.binaryNode(n, op)
	}
	if op, ok := reduceOps[n.Op]; ok {
		return c.reduce(n, op)
	}
	if n.Op == "Maximum" {
		if v, ok, err := c.clip(n); ok || err != nil {
			return v, err
		}
	}
	switch n.Op {
	case "Const":
		return c.constant(n)
	case "Placeholder":
		return nil, fmt.Errorf("tfjs: internal: placeholder %q not registered", n.Name)
	case "Identity", "Snapshot", "StopGradient":
		return c.input(n)
	case "Relu6", "LeakyRelu", "Prelu":
		return c.activationNode(n)
	case "Square":
		return c.square(n)
	case "Rsqrt":
		return c.rsqrt(n)
	case "SquaredDifference":
		return c.squaredDifference(n)
	case "AddN":
		return c.addN(n)
	case "Conv2D", "_FusedConv2D":
		return c.conv(n, false)
	case "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative":
		return c.conv(n, true)
	case "MaxPool", "AvgPool":
		return c.pool(n)
	case "Pad", "PadV2":
		return c.pad(n)
	case "Reshape":
		return c.reshape(n)
	case "Squeeze":
		return c.squeeze(n)
	case "Softmax", "LogSoftmax":
		return c.softmax(n)
	case "MatMul", "_FusedMatMul":
		return c.matmul(n)
	case "ConcatV2":
		return c.concat(n)
	case "Transpose":
		return c.transpose(n)
	}
	return nil, &UnsupportedOpError{Op: n.Op, Node: n.Name}
}

// input returns the value of a node that takes exactly one input.
func (c *converter) input(n *Node) (*value, error) {
	vs, err := c.inputs(n, 1, 1)
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

// binaryNode converts an elementwise op of two inputs (BiasAdd only in
// NHWC, its one layout that adds along the last dimension).
func (c *converter) binaryNode(n *Node, op string) (*value, error) {
	vs, err := c.inputs(n, 2, 2)
	if err != nil {
		return nil, err
	}
	if n.Op == "BiasAdd" && n.attrString("data_format", "NHWC") != "NHWC" {
		return nil, unsupported(n, "data_format %s", n.attrString("data_format", ""))
	}
	return c.binary(n.Name, op, vs[0], vs[1])
}

// constant is a Const node's weight from the manifest (inline constants
// are not supported).
func (c *converter) constant(n *Node) (*value, error) {
	if _, ok := c.m.weights[n.Name]; !ok {
		return nil, unsupported(n, "the constant has no weight in the manifest (inline constants are not supported)")
	}
	t, err := c.m.decodeWeight(n.Name)
	if err != nil {
		return nil, err
	}
	return &value{c: t, cname: n.Name, shape: t.shape, ranked: true}, nil
}

// activationNode converts a standalone activation: Relu6, LeakyRelu (its
// alpha an attribute) or Prelu (its alpha the second input).
func (c *converter) activationNode(n *Node) (*value, error) {
	if n.Op == "Prelu" {
		vs, err := c.inputs(n, 2, 2)
		if err != nil {
			return nil, err
		}
		return c.activation(n, n.Name, "prelu", vs[0], vs[1], 0)
	}
	x, err := c.input(n)
	if err != nil {
		return nil, err
	}
	if n.Op == "LeakyRelu" {
		return c.activation(n, n.Name, "leakyrelu", x, nil, n.attrFloat("alpha", 0.2))
	}
	return c.activation(n, n.Name, "relu6", x, nil, 0)
}

// square is x·x.
func (c *converter) square(n *Node) (*value, error) {
	v, err := c.input(n)
	if err != nil {
		return nil, err
	}
	x, err := c.in(v, v.perm)
	if err != nil {
		return nil, err
	}
	return c.runtime(c.emit("Mul", n.Name, []string{x, x}), v.shape, v.ranked, v.perm), nil
}

// rsqrt is 1/√x.
func (c *converter) rsqrt(n *Node) (*value, error) {
	x, err := c.input(n)
	if err != nil {
		return nil, err
	}
	s, err := c.unary(n.Name+"/sqrt", "Sqrt", x)
	if err != nil {
		return nil, err
	}
	return c.unary(n.Name, "Reciprocal", s)
}

// squaredDifference is (a−b)².
func (c *converter) squaredDifference(n *Node) (*value, error) {
	vs, err := c.inputs(n, 2, 2)
	if err != nil {
		return nil, err
	}
	d, err := c.binary(n.Name+"/diff", "Sub", vs[0], vs[1])
	if err != nil {
		return nil, err
	}
	return c.binary(n.Name, "Mul", d, d)
}

// addN sums its inputs left to right, one Add each.
func (c *converter) addN(n *Node) (*value, error) {
	vs, err := c.inputs(n, 1, -1)
	if err != nil {
		return nil, err
	}
	acc := vs[0]
	for i, v := range vs[1:] {
		name := n.Name
		if i < len(vs)-2 {
			name += "/partial"
		}
		if acc, err = c.binary(name, "Add", acc, v); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// clip folds Maximum(Minimum(x, hi), lo), and Maximum(Minimum(Relu(x), hi),
// lo), with scalar constant bounds into one Clip: Keras exports ReLU6 as
// Relu → Minimum → Maximum, and ONNX Runtime fuses a Clip, but not that
// chain, into the convolution before it (FaceRes has 27 of them). It
// reports false, with no error, when n is not such a chain.
func (c *converter) clip(n *Node) (*value, bool, error) {
	scalarConst := func(ref string) (float32, bool) {
		name, _ := nodeOfTensor(ref)
		if nd := c.byName[name]; nd == nil || nd.Op != "Const" {
			return 0, false
		}
		v, err := c.get(ref)
		if err != nil || v.c == nil || v.c.isInt || len(v.c.f) != 1 {
			return 0, false
		}
		return v.c.f[0], true
	}
	ins := dataInputs(n)
	if len(ins) != 2 {
		return nil, false, nil
	}
	lo, ok := scalarConst(ins[1])
	minName, _ := nodeOfTensor(ins[0])
	mn := c.byName[minName]
	if !ok || mn == nil || mn.Op != "Minimum" || len(dataInputs(mn)) != 2 {
		return nil, false, nil
	}
	hi, ok := scalarConst(dataInputs(mn)[1])
	if !ok {
		return nil, false, nil
	}
	src := dataInputs(mn)[0]
	srcName, _ := nodeOfTensor(src)
	if sn := c.byName[srcName]; sn != nil && sn.Op == "Relu" && len(dataInputs(sn)) == 1 {
		src, lo = dataInputs(sn)[0], max(lo, 0)
	}
	if lo > hi {
		return nil, false, nil
	}
	x, err := c.get(src)
	if err != nil {
		return nil, true, err
	}
	y, err := c.clipTo(n.Name, x, lo, hi)
	return y, true, err
}

// clipTo emits a Clip of x to [lo, hi] in x's own layout.
func (c *converter) clipTo(name string, x *value, lo, hi float32) (*value, error) {
	in, err := c.in(x, x.layout())
	if err != nil {
		return nil, err
	}
	return c.runtime(c.emit("Clip", name, []string{in, c.scalar(lo), c.scalar(hi)}), x.shape, x.ranked, x.layout()), nil
}

func (c *converter) unary(name, op string, x *value, attrs ...onnxfile.Attribute) (*value, error) {
	in, err := c.in(x, x.layout())
	if err != nil {
		return nil, err
	}
	return c.runtime(c.emit(op, name, []string{in}, attrs...), x.shape, x.ranked, x.layout()), nil
}

// broadcastShape is the NumPy broadcast of two TF shapes (-1 unknown).
func broadcastShape(a, b []int64) ([]int64, error) {
	r := max(len(a), len(b))
	out := make([]int64, r)
	for i := 0; i < r; i++ {
		da, db := int64(1), int64(1)
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da < 0:
			out[i] = db
		case db < 0:
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// binary emits an elementwise op with NumPy broadcasting. 4-D operands
// stay in NCHW when one of them already is; lower-rank constants are
// reshaped and permuted to broadcast the same way there.
func (c *converter) binary(name, op string, a, b *value) (*value, error) {
	vs := []*value{a, b}
	if !a.ranked || !b.ranked {
		ins := make([]string, 2)
		for i, v := range vs {
			s, err := c.in(v, nil)
			if err != nil {
				return nil, err
			}
			ins[i] = s
		}
		return c.runtime(c.emit(op, name, ins), nil, false, nil), nil
	}
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return nil, fmt.Errorf("tfjs: node %q: %w", name, err)
	}
	r := len(shape)
	var target []int
	for _, v := range vs {
		if v.c == nil && len(v.shape) == r && v.perm != nil {
			target = v.perm
			break
		}
	}
	for _, v := range vs {
		if v.c == nil && len(v.shape) < r {
			target = nil // a lower-rank runtime operand broadcasts in TF layout only
		}
	}
	ins := make([]string, 2)
	for i, v := range vs {
		var s string
		var err error
		switch {
		case len(v.shape) == r || target == nil:
			s, err = c.in(v, target)
		default: // a lower-rank constant: left-pad its shape with 1s, then permute
			ex := &value{c: &tensor{shape: padShape(v.c.shape, r), f: v.c.f, i: v.c.i, isInt: v.c.isInt}, cname: v.cname, ranked: true}
			ex.shape = ex.c.shape
			s, err = c.in(ex, target)
		}
		if err != nil {
			return nil, err
		}
		ins[i] = s
	}
	return c.runtime(c.emit(op, name, ins), shape, true, target), nil
}

func padShape(s []int64, r int) []int64 {
	out := make([]int64, r)
	for i := range out {
		out[i] = 1
	}
	copy(out[r-len(s):], s)
	return out
}

// activation applies a TF.js fused activation (or the standalone op of the
// same name) to x.
func (c *converter) activation(n *Node, name, act string, x, alpha *value, leaky float64) (*value, error) {
	switch strings.ToLower(act) {
	case "", "linear":
		return x, nil
	case "relu":
		return c.unary(name, "Relu", x)
	case "relu6":
		return c.clipTo(name, x, 0, 6)
	case "elu":
		return c.unary(name, "Elu", x)
	case "sigmoid":
		return c.unary(name, "Sigmoid", x)
	case "tanh":
		return c.unary(name, "Tanh", x)
	case "leakyrelu":
		return c.unary(name, "LeakyRelu", x, onnxfile.FloatAttr("alpha", float32(leaky)))
	case "prelu":
		if alpha == nil {
			return nil, unsupported(n, "prelu without an alpha argument")
		}
		return c.binary(name, "PRelu", x, alpha)
	}
	return nil, unsupported(n, "activation %q", act)
}

// fusedOps splits a fused op's fused_ops into the activation and the extra
// arguments (bias, then prelu alpha), as TF.js reads them.
func (c *converter) fusedOps(n *Node, args []*value) (bias, alpha *value, act string, err error) {
	ops := n.attrStrings("fused_ops")
	if len(ops) == 0 {
		return nil, nil, "", nil
	}
	if len(ops) > 2 || !strings.EqualFold(ops[0], "BiasAdd") {
		return nil, nil, "", unsupported(n, "fused_ops %v (only BiasAdd plus one activation)", ops)
	}
	if len(ops) == 2 {
		act = strings.ToLower(ops[1])
	}
	want := 1
	if act == "prelu" {
		want = 2
	}
	if len(args) != want {
		return nil, nil, "", unsupported(n, "fused_ops %v with %d extra arguments", ops, len(args))
	}
	bias = args[0]
	if act == "prelu" {
		alpha = args[1]
	}
	return bias, alpha, act, nil
}

// windowAttr reads a 4-element NHWC attribute (strides, dilations, ksize)
// and returns its H and W entries.
func windowAttr(n *Node, name string) (int64, int64, error) {
	v := n.attrInts(name)
	if v == nil {
		return 1, 1, nil
	}
	if len(v) != 4 || v[0] != 1 || v[3] != 1 {
		return 0, 0, unsupported(n, "%s %v", name, v)
	}
	for _, x := range v[1:3] {
		if x < 1 || x > 1<<16 {
			return 0, 0, unsupported(n, "%s %v", name, v)
		}
	}
	return v[1], v[2], nil
}

// padding computes ONNX pads [top, left, bottom, right] (or SAME_UPPER
// when the input size is unknown) and the output size of a convolution or
// pooling window, reproducing TF's SAME padding exactly (the odd pixel
// goes at the end).
func padding(n *Node, inH, inW, kh, kw, sh, sw, dh, dw int64) (attrs []onnxfile.Attribute, oh, ow int64, err error) {
	ekh, ekw := (kh-1)*dh+1, (kw-1)*dw+1
	var top, left, bottom, right int64
	switch p := n.attrString("padding", "VALID"); p {
	case "VALID":
	case "SAME":
		if inH < 0 || inW < 0 {
			return []onnxfile.Attribute{onnxfile.StringAttr("auto_pad", "SAME_UPPER")}, ceilDiv(inH, sh), ceilDiv(inW, sw), nil
		}
		oh, ow = ceilDiv(inH, sh), ceilDiv(inW, sw)
		ph := max((oh-1)*sh+ekh-inH, 0)
		pw := max((ow-1)*sw+ekw-inW, 0)
		top, left = ph/2, pw/2
		bottom, right = ph-top, pw-left
	case "EXPLICIT":
		ep := n.attrInts("explicit_paddings")
		if len(ep) != 8 || ep[0] != 0 || ep[1] != 0 || ep[6] != 0 || ep[7] != 0 {
			return nil, 0, 0, unsupported(n, "explicit_paddings %v", ep)
		}
		for _, v := range ep {
			if v < 0 || v > 1<<16 {
				return nil, 0, 0, unsupported(n, "explicit_paddings %v", ep)
			}
		}
		top, bottom, left, right = ep[2], ep[3], ep[4], ep[5]
	default:
		return nil, 0, 0, unsupported(n, "padding %q", p)
	}
	out := func(in, b, e, k, s int64) (int64, error) {
		if in < 0 {
			return -1, nil
		}
		if in+b+e < k {
			return 0, unsupported(n, "window %d is larger than the padded input %d", k, in+b+e)
		}
		return (in+b+e-k)/s + 1, nil
	}
	if oh, err = out(inH, top, bottom, ekh, sh); err != nil {
		return nil, 0, 0, err
	}
	if ow, err = out(inW, left, right, ekw, sw); err != nil {
		return nil, 0, 0, err
	}
	return []onnxfile.Attribute{onnxfile.IntsAttr("pads", top, left, bottom, right)}, oh, ow, nil
}

func ceilDiv(a, b int64) int64 {
	if a < 0 {
		return -1
	}
	return (a + b - 1) / b
}

func (c *converter) conv4D(n *Node, x *value) error {
	if x.rank() != 4 {
		return unsupported(n, "input of rank %d (a 4-D NHWC tensor of known rank is needed)", x.rank())
	}
	if df := n.attrString("data_format", "NHWC"); df != "NHWC" {
		return unsupported(n, "data_format %s", df)
	}
	return nil
}

func (c *converter) conv(n *Node, depthwise bool) (*value, error) {
	vs, err := c.inputs(n, 2, 4)
	if err != nil {
		return nil, err
	}
	x, f := vs[0], vs[1]
	if err := c.conv4D(n, x); err != nil {
		return nil, err
	}
	fused := strings.HasPrefix(n.Op, "Fused") || strings.HasPrefix(n.Op, "_Fused")
	if !fused && len(vs) != 2 {
		return nil, unsupported(n, "has %d inputs", len(vs))
	}
	if f.c == nil || f.c.isInt || len(f.shape) != 4 {
		return nil, unsupported(n, "the filter must be a 4-D float constant")
	}
	var bias, alpha *value
	var act string
	if fused {
		if bias, alpha, act, err = c.fusedOps(n, vs[2:]); err != nil {
			return nil, err
		}
	}
	sh, sw, err := windowAttr(n, "strides")
	if err != nil {
		return nil, err
	}
	dh, dw, err := windowAttr(n, "dilations")
	if err != nil {
		return nil, err
	}
	kh, kw, ci, co := f.shape[0], f.shape[1], f.shape[2], f.shape[3]
	if kh < 1 || kw < 1 || ci < 1 || co < 1 {
		return nil, unsupported(n, "filter shape %v", f.shape)
	}
	inC := x.shape[3]
	var w *tensor
	var group, outC int64
	if depthwise {
		if inC >= 0 && inC != ci {
			return nil, unsupported(n, "input has %d channels, the depthwise filter %d", inC, ci)
		}
		w = transposeTensor(f.c, []int{2, 3, 0, 1})
		w.shape = []int64{ci * co, 1, kh, kw}
		group, outC = ci, ci*co
	} else {
		group = 1
		if inC >= 0 {
			if inC%ci != 0 {
				return nil, unsupported(n, "input has %d channels, the filter %d", inC, ci)
			}
			group = inC / ci
			if group > 1 && co%group != 0 {
				return nil, unsupported(n, "grouped convolution with %d outputs in %d groups", co, group)
			}
		}
		w = transposeTensor(f.c, []int{3, 2, 0, 1})
		outC = co
	}
	pads, oh, ow, err := padding(n, x.shape[1], x.shape[2], kh, kw, sh, sw, dh, dw)
	if err != nil {
		return nil, err
	}
	xin, err := c.in(x, nchw)
	if err != nil {
		return nil, err
	}
	key := f.cname + "|conv-weight|" + strconv.FormatBool(depthwise)
	wname, ok := c.consts[key]
	if !ok {
		wname = c.constInit(f.cname, w)
		c.consts[key] = wname
	}
	ins := []string{xin, wname}
	if bias != nil && bias.c != nil && !bias.c.isInt && len(bias.shape) == 1 && bias.shape[0] == outC {
		b, err := c.in(bias, nil)
		if err != nil {
			return nil, err
		}
		ins = append(ins, b)
		bias = nil
	}
	attrs := []onnxfile.Attribute{
		onnxfile.IntsAttr("kernel_shape", kh, kw),
		onnxfile.IntsAttr("strides", sh, sw),
		onnxfile.IntsAttr("dilations", dh, dw),
		onnxfile.IntAttr("group", group),
	}
	attrs = append(attrs, pads...)
	convName := n.Name
	if bias != nil || act != "" {
		convName += "/conv"
	}
	y := c.runtime(c.emit("Conv", convName, ins, attrs...), []int64{x.shape[0], oh, ow, outC}, true, nchw)
	return c.biasActivation(n, y, bias, alpha, act)
}

// biasActivation finishes a fused op (convolution or matrix product) y:
// adds its bias and applies its activation, the last node named n.Name.
func (c *converter) biasActivation(n *Node, y, bias, alpha *value, act string) (*value, error) {
	if bias != nil {
		name := n.Name
		if act != "" {
			name += "/bias"
		}
		var err error
		if y, err = c.binary(name, "Add", y, bias); err != nil {
			return nil, err
		}
	}
	return c.activation(n, n.Name, act, y, alpha, n.attrFloat("leakyrelu_alpha", 0.2))
}

func (c *converter) pool(n *Node) (*value, error) {
	vs, err := c.inputs(n, 1, 1)
	if err != nil {
		return nil, err
	}
	x := vs[0]
	if err := c.conv4D(n, x); err != nil {
		return nil, err
	}
	kh, kw, err := windowAttr(n, "ksize")
	if err != nil {
		return nil, err
	}
	sh, sw, err := windowAttr(n, "strides")
	if err != nil {
		return nil, err
	}
	pads, oh, ow, err := padding(n, x.shape[1], x.shape[2], kh, kw, sh, sw, 1, 1)
	if err != nil {
		return nil, err
	}
	xin, err := c.in(x, nchw)
	if err != nil {
		return nil, err
	}
	op := "MaxPool"
	if n.Op == "AvgPool" {
		// TF averages over the window's pixels inside the input only:
		// ONNX's default count_include_pad=0 does the same.
		op = "AveragePool"
	}
	attrs := append([]onnxfile.Attribute{onnxfile.IntsAttr("kernel_shape", kh, kw), onnxfile.IntsAttr("strides", sh, sw)}, pads...)
	return c.runtime(c.emit(op, n.Name, []string{xin}, attrs...), []int64{x.shape[0], oh, ow, x.shape[3]}, true, nchw), nil
}

// intConst returns the integer values of a constant input.
func intConst(n *Node, v *value, what string) ([]int64, error) {
	if v.c == nil || !v.c.isInt {
		return nil, unsupported(n, "the %s must be an int32 constant", what)
	}
	out := make([]int64, len(v.c.i))
	for i, x := range v.c.i {
		out[i] = int64(x)
	}
	return out, nil
}

func (c *converter) pad(n *Node) (*value, error) {
	max := 2
	if n.Op == "PadV2" {
		max = 3
	}
	vs, err := c.inputs(n, max, max)
	if err != nil {
		return nil, err
	}
	x := vs[0]
	p, err := intConst(n, vs[1], "paddings")
	if err != nil {
		return nil, err
	}
	r := x.rank()
	if r < 0 || len(vs[1].shape) != 2 || vs[1].shape[0] != int64(r) || vs[1].shape[1] != 2 {
		return nil, unsupported(n, "paddings of shape %v for an input of rank %d", vs[1].shape, r)
	}
	for _, v := range p {
		if v < 0 || v > 1<<20 {
			return nil, unsupported(n, "paddings %v", p)
		}
	}
	perm := x.layoutPerm(r)
	pads := make([]int64, 2*r)
	shape := make([]int64, r)
	for i := 0; i < r; i++ {
		pads[i] = p[2*perm[i]]
		pads[r+i] = p[2*perm[i]+1]
	}
	for d := 0; d < r; d++ {
		shape[d] = x.shape[d]
		if shape[d] >= 0 {
			shape[d] += p[2*d] + p[2*d+1]
		}
	}
	xin, err := c.in(x, x.layout())
	if err != nil {
		return nil, err
	}
	ins := []string{xin, c.initInt64(n.Name+"/pads", pads)}
	if len(vs) == 3 {
		cv := vs[2]
		if cv.c == nil || cv.c.isInt || cv.c.len() != 1 {
			return nil, unsupported(n, "the constant value must be a float scalar constant")
		}
		ins = append(ins, c.scalar(cv.c.f[0]))
	}
	return c.runtime(c.emit("Pad", n.Name, ins), shape, true, x.layout()), nil
}

// sameData tells whether a tensor laid out with perm has the same memory
// order as in the TF layout: its dimensions other than 1 keep their order.
func sameData(shape []int64, perm []int) bool {
	last := -1
	for _, d := range perm {
		if shape[d] == 1 {
			continue
		}
		if d < last {
			return false
		}
		last = d
	}
	return true
}

func (c *converter) reshape(n *Node) (*value, error) {
	vs, err := c.inputs(n, 2, 2)
	if err != nil {
		return nil, err
	}
	x := vs[0]
	target, err := intConst(n, vs[1], "shape")
	if err != nil {
		return nil, err
	}
	if len(vs[1].shape) > 1 || len(target) > maxRank {
		return nil, unsupported(n, "shape %v", target)
	}
	unknown := -1
	known := int64(1)
	for i, d := range target {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d >= 1 && d <= MaxWeightElements:
			known *= d
			if known > MaxWeightElements {
				return nil, unsupported(n, "shape %v", target)
			}
		default:
			return nil, unsupported(n, "shape %v", target)
		}
	}
	shape := append([]int64{}, target...)
	if unknown >= 0 && x.ranked {
		total := int64(1)
		for _, d := range x.shape {
			if d < 0 {
				total = -1
				break
			}
			total *= d
		}
		if total >= 0 && total%known == 0 {
			shape[unknown] = total / known
		}
	}
	perm := []int(nil)
	if x.c == nil && x.perm != nil && sameData(x.shape, x.perm) {
		perm = x.perm // the data is already in TF order: no transpose needed
	}
	xin, err := c.in(x, perm)
	if err != nil {
		return nil, err
	}
	s := c.initInt64(n.Name+"/shape", target)
	return c.runtime(c.emit("Reshape", n.Name, []string{xin, s}), shape, true, nil), nil
}

// normAxes normalises TF axes for rank r (negative axes count from the
// end) and returns them as a set.
func normAxes(n *Node, axes []int64, r int) (map[int]bool, error) {
	set := map[int]bool{}
	for _, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) {
			return nil, unsupported(n, "axis %v for rank %d", axes, r)
		}
		set[int(a)] = true
	}
	return set, nil
}

// dropAxes returns the layout of a tensor whose TF dimensions in axes were
// removed: ONNX dimensions of perm kept, renumbered.
func dropAxes(perm []int, axes map[int]bool) []int {
	var out []int
	for _, d := range perm {
		if axes[d] {
			continue
		}
		k := 0
		for a := range axes {
			if a < d {
				k++
			}
		}
		out = append(out, d-k)
	}
	return out
}

// axesIn returns the layout x is read in (rank r) and where the TF axes
// sit in it.
func axesIn(x *value, r int, axes map[int]bool) (perm []int, onnxAxes []int64) {
	perm = x.layoutPerm(r)
	for i, d := range perm {
		if axes[d] {
			onnxAxes = append(onnxAxes, int64(i))
		}
	}
	return perm, onnxAxes
}

func (c *converter) squeeze(n *Node) (*value, error) {
	vs, err := c.inputs(n, 1, 1)
	if err != nil {
		return nil, err
	}
	x := vs[0]
	r := x.rank()
	if r < 0 {
		return nil, unsupported(n, "input of unknown rank")
	}
	axesList := n.attrInts("axis")
	if axesList == nil {
		axesList = n.attrInts("squeeze_dims")
	}
	axes, err := normAxes(n, axesList, r)
	if err != nil {
		return nil, err
	}
	if len(axesList) == 0 {
		for d, s := range x.shape {
			if s < 0 {
				return nil, unsupported(n, "squeezing every unit dimension of shape %v with unknown dimensions", x.shape)
			}
			if s == 1 {
				axes[d] = true
			}
		}
	}
	for d := range axes {
		if x.shape[d] != 1 && x.shape[d] != -1 {
			return nil, unsupported(n, "squeezing dimension %d of shape %v", d, x.shape)
		}
	}
	if len(axes) == 0 {
		return x, nil
	}
	perm, onnxAxes := axesIn(x, r, axes)
	var shape []int64
	for d, s := range x.shape {
		if !axes[d] {
			shape = append(shape, s)
		}
	}
	if shape == nil {
		shape = []int64{}
	}
	xin, err := c.in(x, x.layout())
	if err != nil {
		return nil, err
	}
	out := c.emit("Squeeze", n.Name, []string{xin, c.initInt64(n.Name+"/axes", onnxAxes)})
	return c.runtime(out, shape, true, dropAxes(perm, axes)), nil
}

func (c *converter) reduce(n *Node, op string) (*value, error) {
	vs, err := c.inputs(n, 2, 2)
	if err != nil {
		return nil, err
	}
	x := vs[0]
	r := x.rank()
	if r < 0 {
		return nil, unsupported(n, "input of unknown rank")
	}
	axesList, err := intConst(n, vs[1], "reduction axes")
	if err != nil {
		return nil, err
	}
	axes, err := normAxes(n, axesList, r)
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return x, nil // TF reduces over no axis: the input itself
	}
	keep := n.attrBool("keep_dims", false)
	perm, onnxAxes := axesIn(x, r, axes)
	shape := []int64{}
	for d, s := range x.shape {
		switch {
		case !axes[d]:
			shape = append(shape, s)
		case keep:
			shape = append(shape, 1)
		}
	}
	xin, err := c.in(x, x.layout())
	if err != nil {
		return nil, err
	}
	kd := int64(0)
	if keep {
		kd = 1
	}
	var out string
	if op == "ReduceSum" { // opset 13 takes ReduceSum's axes as an input
		out = c.emit(op, n.Name, []string{xin, c.initInt64(n.Name+"/axes", onnxAxes)}, onnxfile.IntAttr("keepdims", kd))
	} else {
		out = c.emit(op, n.Name, []string{xin}, onnxfile.IntsAttr("axes", onnxAxes...), onnxfile.IntAttr("keepdims", kd))
	}
	outPerm := perm
	if !keep {
		outPerm = dropAxes(perm, axes)
	}
	return c.runtime(out, shape, true, outPerm), nil
}

func (c *converter) softmax(n *Node) (*value, error) {
	vs, err := c.inputs(n, 1, 1)
	if err != nil {
		return nil, err
	}
	x := vs[0]
	perm := x.layout()
	axis := int64(-1)
	if r := x.rank(); r == 0 {
		return nil, unsupported(n, "scalar input")
	} else if r > 0 && perm != nil {
		axis = int64(slices.Index(perm, r-1))
	}
	xin, err := c.in(x, perm)
	if err != nil {
		return nil, err
	}
	return c.runtime(c.emit(n.Op, n.Name, []string{xin}, onnxfile.IntAttr("axis", axis)), x.shape, x.ranked, perm), nil
}

func (c *converter) matmul(n *Node) (*value, error) {
	vs, err := c.inputs(n, 2, 4)
	if err != nil {
		return nil, err
	}
	a, b := vs[0], vs[1]
	fused := n.Op == "_FusedMatMul"
	if !fused && len(vs) != 2 {
		return nil, unsupported(n, "has %d inputs", len(vs))
	}
	if a.rank() != 2 || b.rank() != 2 {
		return nil, unsupported(n, "operands of rank %d and %d (only 2-D is supported)", a.rank(), b.rank())
	}
	var bias, alpha *value
	var act string
	if fused {
		if bias, alpha, act, err = c.fusedOps(n, vs[2:]); err != nil {
			return nil, err
		}
	}
	ta, tb := n.attrBool("transpose_a", false), n.attrBool("transpose_b", false)
	m, k1 := a.shape[0], a.shape[1]
	if ta {
		m, k1 = k1, m
	}
	k2, cols := b.shape[0], b.shape[1]
	if tb {
		k2, cols = cols, k2
	}
	if k1 >= 0 && k2 >= 0 && k1 != k2 {
		return nil, unsupported(n, "inner dimensions %d and %d differ", k1, k2)
	}
	ain, err := c.in(a, nil)
	if err != nil {
		return nil, err
	}
	bin, err := c.in(b, nil)
	if err != nil {
		return nil, err
	}
	ins := []string{ain, bin}
	if bias != nil && bias.ranked && len(bias.shape) <= 2 {
		s, err := c.in(bias, nil)
		if err != nil {
			return nil, err
		}
		ins = append(ins, s)
		bias = nil
	}
	name := n.Name
	if bias != nil || act != "" {
		name += "/gemm"
	}
	attrs := []onnxfile.Attribute{}
	if ta {
		attrs = append(attrs, onnxfile.IntAttr("transA", 1))
	}
	if tb {
		attrs = append(attrs, onnxfile.IntAttr("transB", 1))
	}
	y := c.runtime(c.emit("Gemm", name, ins, attrs...), []int64{m, cols}, true, nil)
	return c.biasActivation(n, y, bias, alpha, act)
}

func (c *converter) concat(n *Node) (*value, error) {
	vs, err := c.inputs(n, 2, -1)
	if err != nil {
		return nil, err
	}
	axisV := vs[len(vs)-1]
	xs := vs[:len(vs)-1]
	ax, err := intConst(n, axisV, "axis")
	if err != nil {
		return nil, err
	}
	if len(ax) != 1 {
		return nil, unsupported(n, "axis %v", ax)
	}
	r := xs[0].rank()
	for _, x := range xs {
		if x.rank() != r || r < 1 {
			return nil, unsupported(n, "inputs of different or unknown ranks")
		}
	}
	axis := ax[0]
	if axis < 0 {
		axis += int64(r)
	}
	if axis < 0 || axis >= int64(r) {
		return nil, unsupported(n, "axis %d for rank %d", ax[0], r)
	}
	var target []int
	for _, x := range xs {
		if x.c == nil {
			target = x.perm
			break
		}
	}
	shape := append([]int64{}, xs[0].shape...)
	shape[axis] = 0
	ins := make([]string, len(xs))
	for i, x := range xs {
		if s := x.shape[axis]; s < 0 || shape[axis] < 0 {
			shape[axis] = -1
		} else {
			shape[axis] += s
		}
		for d := range shape {
			if int64(d) != axis && shape[d] < 0 {
				shape[d] = x.shape[d]
			}
		}
		if ins[i], err = c.in(x, target); err != nil {
			return nil, err
		}
	}
	onnxAxis := axis
	if target != nil {
		onnxAxis = int64(slices.Index(target, int(axis)))
	}
	return c.runtime(c.emit("Concat", n.Name, ins, onnxfile.IntAttr("axis", onnxAxis)), shape, true, target), nil
}

// transpose needs no ONNX node: the output is the input with another
// layout; consumers transpose when (and if) they need to.
func (c *converter) transpose(n *Node) (*value, error) {
	vs, err := c.inputs(n, 2, 2)
	if err != nil {
		return nil, err
	}
	x := vs[0]
	p64, err := intConst(n, vs[1], "permutation")
	if err != nil {
		return nil, err
	}
	r := x.rank()
	p := make([]int, len(p64))
	for i, v := range p64 {
		if v < 0 || v >= int64(len(p64)) {
			return nil, unsupported(n, "permutation %v", p64)
		}
		p[i] = int(v)
	}
	if r < 0 || len(p) != r || !validPerm(p) {
		return nil, unsupported(n, "permutation %v for rank %d", p64, r)
	}
	shape := make([]int64, r)
	for j, d := range p {
		shape[j] = x.shape[d]
	}
	if x.c != nil {
		t := transposeTensor(x.c, p)
		return &value{c: t, cname: x.cname + "/transposed", shape: t.shape, ranked: true}, nil
	}
	cur := x.perm
	if cur == nil {
		cur = identityPerm(r)
	}
	inv := invert(p)
	perm := make([]int, r)
	for i, d := range cur {
		perm[i] = inv[d]
	}
	if isIdentity(perm) {
		perm = nil
	}
	return &value{name: x.name, shape: shape, ranked: true, perm: perm}, nil
}
