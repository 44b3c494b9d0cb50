package optional

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"faceswap"
	"faceswap/models"
	"faceswap/onnxfile"
)

// A shape pattern (Tensor.Shape) parsed: alternatives, each a list of dims.
type pattern [][]pdim

// pdim is one dim of a pattern: a number, or a variable when v is set.
type pdim struct {
	n int64
	v string
}

func parsePattern(s string) (pattern, error) {
	var p pattern
	for _, alt := range strings.Split(s, "|") {
		alt = strings.TrimSpace(alt)
		if alt == "scalar" {
			p = append(p, []pdim{})
			continue
		}
		var dims []pdim
		for _, d := range strings.Split(alt, ",") {
			d = strings.TrimSpace(d)
			if n, err := strconv.ParseInt(d, 10, 64); err == nil && n >= 0 {
				dims = append(dims, pdim{n: n})
				continue
			}
			if d == "" || strings.IndexFunc(d, func(r rune) bool { return !('A' <= r && r <= 'Z') }) >= 0 {
				return nil, fmt.Errorf("shape %q: dim %q is neither a number nor an upper-case letter", s, d)
			}
			dims = append(dims, pdim{v: d})
		}
		p = append(p, dims)
	}
	return p, nil
}

func (p pattern) String() string {
	alts := make([]string, len(p))
	for i, alt := range p {
		ds := make([]string, len(alt))
		for j, d := range alt {
			if d.v != "" {
				ds[j] = d.v
			} else {
				ds[j] = strconv.FormatInt(d.n, 10)
			}
		}
		alts[i] = "[" + strings.Join(ds, ",") + "]"
	}
	return strings.Join(alts, " or ")
}

// binding maps pattern variables to the dims they matched.
type binding map[string]int64

func (b binding) with(k string, v int64) binding {
	c := make(binding, len(b)+1)
	for kk, vv := range b {
		c[kk] = vv
	}
	c[k] = v
	return c
}

// match reports whether v fits the pattern under b, and the binding that
// results. An unranked tensor, and dims the file leaves open, match
// anything: such a file cannot be checked further without running it.
func (p pattern) match(v onnxfile.ValueInfo, b binding) (binding, bool) {
	switch v.Type {
	case onnxfile.Undefined, onnxfile.Float, onnxfile.Float16, onnxfile.Double:
	default:
		return b, false
	}
	if v.Unranked {
		return b, true
	}
	for _, alt := range p {
		if len(alt) != len(v.Dims) {
			continue
		}
		nb, ok := b, true
		for i, d := range alt {
			have := v.Dims[i]
			switch {
			case have < 0: // open in the file
			case d.v == "":
				ok = have == d.n
			default:
				if was, bound := nb[d.v]; bound {
					ok = was == have
				} else {
					nb = nb.with(d.v, have)
				}
			}
			if !ok {
				break
			}
		}
		if ok {
			return nb, true
		}
	}
	return b, false
}

// describe formats a value info as `name [1,3,H,W] float32`.
func describe(v onnxfile.ValueInfo) string {
	if v.Unranked {
		return fmt.Sprintf("%q (unranked) %s", v.Name, v.Type)
	}
	ds := make([]string, len(v.Dims))
	for i, d := range v.Dims {
		switch {
		case d >= 0:
			ds[i] = strconv.FormatInt(d, 10)
		case i < len(v.DimParams) && v.DimParams[i] != "":
			ds[i] = v.DimParams[i]
		default:
			ds[i] = "?"
		}
	}
	return fmt.Sprintf("%q [%s] %s", v.Name, strings.Join(ds, ","), v.Type)
}

func describeAll(vs []onnxfile.ValueInfo) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = describe(v)
	}
	return strings.Join(s, ", ")
}

func describeSpec(ts []Tensor) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		p, _ := parsePattern(t.Shape)
		s[i] = t.Name + " " + p.String()
	}
	return strings.Join(s, ", ")
}

// Fit checks that the ONNX file at path fits the role of the model name:
// its fed inputs (in any order), its outputs (in order) and, for the
// swapper, its last initializer have the shapes the model's family lists,
// and a detector's outputs have as many anchors as its input size implies.
// The file is read without ONNX Runtime and without loading its weights.
// A misfit is a 400 wrapping ErrMismatch that says what differs.
func (o *Manifest) Fit(name, path string) error {
	m, err := o.Lookup(name)
	if err != nil {
		return err
	}
	return o.fitFile(m, path)
}

func (o *Manifest) fitFile(m Model, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	g, err := onnxfile.ReadGraphIO(f, fi.Size())
	if err != nil {
		return o.misfit(m, path, "it is not a readable ONNX model: %v", err)
	}
	return o.fit(m, path, g)
}

func (o *Manifest) misfit(m Model, path, format string, args ...any) error {
	fam := o.Family(m)
	return faceswap.Wrap(http.StatusBadRequest, ErrMismatch,
		"%s does not fit model %s (a %s, family %s): %s; expected inputs %s and outputs %s",
		filepath.Base(path), m.Name, m.Role, m.Family, fmt.Sprintf(format, args...),
		describeSpec(fam.Inputs), describeSpec(fam.Outputs))
}

func (o *Manifest) fit(m Model, path string, g *onnxfile.GraphIO) error {
	fam := o.Family(m)
	if len(g.Inputs) != len(fam.Inputs) {
		return o.misfit(m, path, "it has %d fed input(s) (%s), want %d", len(g.Inputs), describeAll(g.Inputs), len(fam.Inputs))
	}
	if len(g.Outputs) != len(fam.Outputs) {
		return o.misfit(m, path, "it has %d output(s) (%s), want %d", len(g.Outputs), describeAll(g.Outputs), len(fam.Outputs))
	}
	ins := make([]pattern, len(fam.Inputs))
	for i, t := range fam.Inputs {
		ins[i], _ = parsePattern(t.Shape)
	}
	b, ok := assign(ins, g.Inputs, make([]bool, len(g.Inputs)), binding{})
	if !ok {
		return o.misfit(m, path, "its inputs %s do not have the expected shapes", describeAll(g.Inputs))
	}
	for i, t := range fam.Outputs {
		p, _ := parsePattern(t.Shape)
		nb, ok := p.match(g.Outputs[i], b)
		if !ok {
			return o.misfit(m, path, "output %d (%s) is %s, want %s%s", i, t.Name, describe(g.Outputs[i]), p, bound(b))
		}
		b = nb
	}
	if fam.LastInitializer != "" {
		p, _ := parsePattern(fam.LastInitializer)
		if len(g.Inits) == 0 {
			return o.misfit(m, path, "it has no initializers, want the last one %s", p)
		}
		last := g.Inits[len(g.Inits)-1]
		v := onnxfile.ValueInfo{Name: last.Name, Type: last.Type, Dims: last.Dims}
		if _, ok := p.match(v, binding{}); !ok {
			return o.misfit(m, path, "its last initializer %s is not %s", describe(v), p)
		}
	}
	if msg := anchors(m.Family, b); msg != "" {
		return o.misfit(m, path, "%s", msg)
	}
	return nil
}

// bound formats the variables bound so far, for error messages.
func bound(b binding) string {
	if len(b) == 0 {
		return ""
	}
	var s []string
	for _, k := range []string{"H", "W", "N", "A", "B", "C", "D", "E", "F"} {
		if v, ok := b[k]; ok {
			s = append(s, fmt.Sprintf("%s=%d", k, v))
		}
	}
	if len(s) == 0 {
		return ""
	}
	return " (with " + strings.Join(s, ", ") + ")"
}

// assign matches the input patterns to distinct inputs, in any order.
func assign(ps []pattern, vs []onnxfile.ValueInfo, used []bool, b binding) (binding, bool) {
	if len(ps) == 0 {
		return b, true
	}
	for i, v := range vs {
		if used[i] {
			continue
		}
		if nb, ok := ps[0].match(v, b); ok {
			used[i] = true
			if rb, ok := assign(ps[1:], vs, used, nb); ok {
				return rb, true
			}
			used[i] = false
		}
	}
	return b, false
}

// anchors checks that a detector's outputs have the cells its input size
// gives (strides 8, 16, 32), when the file fixes the sizes.
func anchors(family models.Family, b binding) string {
	h, okh := b["H"]
	w, okw := b["W"]
	if !okh || !okw {
		return ""
	}
	cells := func(s int64) (int64, int64) { return (h + s - 1) / s, (w + s - 1) / s }
	check := func(v string, want int64, what string) string {
		if have, ok := b[v]; ok && have != want {
			return fmt.Sprintf("for a %dx%d input %s should be %d, the file has %d", w, h, what, want, have)
		}
		return ""
	}
	var msgs []string
	switch family {
	case models.FamilyRetinaFace:
		var n int64
		for _, s := range []int64{8, 16, 32} {
			ch, cw := cells(s)
			n += 2 * ch * cw
		}
		msgs = append(msgs, check("N", n, "the number of priors"))
	case models.FamilySCRFD:
		for i, s := range []int64{8, 16, 32} {
			ch, cw := cells(s)
			msgs = append(msgs, check(string(rune('A'+i)), 2*ch*cw, fmt.Sprintf("the anchors of stride %d", s)))
		}
	case models.FamilyYOLOv5Face:
		for i, s := range []int64{8, 16, 32} {
			ch, cw := cells(s)
			msgs = append(msgs, check(string(rune('A'+2*i)), ch, fmt.Sprintf("the grid height of stride %d", s)),
				check(string(rune('B'+2*i)), cw, fmt.Sprintf("the grid width of stride %d", s)))
		}
	}
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}
