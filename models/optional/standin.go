package optional

import (
	"fmt"

	"faceswap/models"
	"faceswap/onnxfile"
)

// StandIn returns a small ONNX model that fits the role of the optional
// model name: the family's inputs and outputs, with the shapes filled in
// (detectors take a 64x64 input and have the matching anchor counts), and
// for the swapper an identity emap as the last initializer. An output
// shaped like an input is that input (an Identity node: a restorer or
// swapper stand-in returns its image); the others are zeros. It is for
// tests of the code paths that need such a file, as the real weights
// cannot be fetched everywhere; it computes nothing useful.
func (o *Manifest) StandIn(name string) ([]byte, error) {
	m, err := o.Lookup(name)
	if err != nil {
		return nil, err
	}
	fam := o.Family(m)
	b := binding{"H": 64, "W": 64}
	cells := func(s int64) (int64, int64) { return (64 + s - 1) / s, (64 + s - 1) / s }
	switch m.Family {
	case models.FamilyRetinaFace:
		var n int64
		for _, s := range []int64{8, 16, 32} {
			h, w := cells(s)
			n += 2 * h * w
		}
		b["N"] = n
	case models.FamilySCRFD:
		for i, s := range []int64{8, 16, 32} {
			h, w := cells(s)
			b[string(rune('A'+i))] = 2 * h * w
		}
	case models.FamilyYOLOv5Face:
		for i, s := range []int64{8, 16, 32} {
			h, w := cells(s)
			b[string(rune('A'+2*i))], b[string(rune('B'+2*i))] = h, w
		}
	}
	dims := func(shape string) ([]int64, error) {
		p, err := parsePattern(shape)
		if err != nil {
			return nil, err
		}
		d := make([]int64, len(p[0]))
		for i, pd := range p[0] {
			switch {
			case pd.v == "":
				d[i] = pd.n
			case b[pd.v] > 0:
				d[i] = b[pd.v]
			default:
				d[i] = 1
			}
		}
		return d, nil
	}
	g := onnxfile.Graph{Name: "standin_" + string(m.Family)}
	for _, t := range fam.Inputs {
		d, err := dims(t.Shape)
		if err != nil {
			return nil, err
		}
		typ := onnxfile.Float
		if len(d) <= 1 && m.Family == models.FamilyCodeFormer {
			typ = onnxfile.Double // the fidelity weight, as exports feed it
		}
		g.Inputs = append(g.Inputs, onnxfile.ValueInfo{Name: t.Name, Type: typ, Dims: d})
	}
	for _, t := range fam.Outputs {
		d, err := dims(t.Shape)
		if err != nil {
			return nil, err
		}
		g.Outputs = append(g.Outputs, onnxfile.ValueInfo{Name: t.Name, Type: onnxfile.Float, Dims: d})
		same := ""
		for _, in := range g.Inputs {
			if in.Type == onnxfile.Float && fmt.Sprint(in.Dims) == fmt.Sprint(d) {
				same = in.Name
				break
			}
		}
		if same != "" {
			g.Nodes = append(g.Nodes, &onnxfile.Node{Name: "copy_" + t.Name, Op: "Identity", Inputs: []string{same}, Outputs: []string{t.Name}})
			continue
		}
		n := 1
		for _, x := range d {
			n *= int(x)
		}
		g.Nodes = append(g.Nodes, &onnxfile.Node{Name: "zeros_" + t.Name, Op: "Constant", Outputs: []string{t.Name},
			Attrs: []onnxfile.Attribute{onnxfile.TensorAttr("value", &onnxfile.Tensor{Dims: d, Type: onnxfile.Float, Floats: make([]float32, n)})}})
	}
	if fam.LastInitializer != "" {
		d, err := dims(fam.LastInitializer)
		if err != nil {
			return nil, err
		}
		if len(d) != 2 {
			return nil, fmt.Errorf("optional: stand-in for %s: last initializer of rank %d", m.Name, len(d))
		}
		vals := make([]float32, d[0]*d[1])
		for i := int64(0); i < min(d[0], d[1]); i++ {
			vals[i*d[1]+i] = 1
		}
		g.Initializers = append(g.Initializers, &onnxfile.Tensor{Name: "emap", Dims: d, Type: onnxfile.Float, Floats: vals})
	}
	model := &onnxfile.Model{IRVersion: 8, Producer: "faceswap stand-in", Opsets: []onnxfile.Opset{{Version: 13}}, Graph: g}
	return model.Marshal(), nil
}
