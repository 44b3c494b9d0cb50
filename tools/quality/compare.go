package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Comparing two runs. An engine change is judged by the faces it moves, and
// the evaluator is not local (a change to one face can move a neighbour's
// numbers), so `-compare OLD` reads the evaluator's JSON of every pair in
// two result folders (OLD and -out) and prints each run's totals and every
// face whose verdict changed or whose numbers moved by more than the
// evaluator's rounding: nothing is swapped or judged again.

// totals are the counts over one run's results that an engine change is
// weighed by.
type totals struct {
	pairs, pairsPass             int
	faces, facesPass             int
	identity, identity2, express int
	margin                       float64 // mean FaceRes margin (margin)
	missing                      []string
}

func (t totals) String() string {
	s := fmt.Sprintf("%d/%d pairs, %d/%d faces; identity %d, second opinion %d, expression %d faces; mean FaceRes margin %+.4f",
		t.pairsPass, t.pairs, t.facesPass, t.faces, t.identity, t.identity2, t.express, t.margin)
	if len(t.missing) > 0 {
		s += fmt.Sprintf(" (%d pairs without results: %s)", len(t.missing), strings.Join(t.missing, ", "))
	}
	return s
}

// loadRun reads the evaluator's JSON of each pair of set from dir; a pair
// with no JSON there is nil.
func loadRun(dir string, set Set) ([]*Score, error) {
	out := make([]*Score, len(set.Pairs))
	for i, p := range set.Pairs {
		data, err := os.ReadFile(filepath.Join(dir, p.Name+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var s Score
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, p.Name+".json"), err)
		}
		out[i] = &s
	}
	return out, nil
}

// count totals one run (loadRun) of set.
func count(set Set, run []*Score) totals {
	var t totals
	var sum float64
	for i, s := range run {
		if s == nil {
			t.missing = append(t.missing, set.Pairs[i].Name)
			continue
		}
		t.pairs++
		if (row{pair: set.Pairs[i], score: *s}).pass() {
			t.pairsPass++
		}
		for _, p := range s.Pairs {
			t.faces++
			if facePass(p) {
				t.facesPass++
			}
			if p.IDPass {
				t.identity++
			}
			if p.ID2Pass != nil && *p.ID2Pass {
				t.identity2++
			}
			if passesCheck("expression")(p) {
				t.express++
			}
			if m := margin(p); m != nil {
				sum += *m
			}
		}
	}
	if t.faces > 0 {
		t.margin = sum / float64(t.faces)
	}
	return t
}

// margin is a face's FaceRes margin, id_src − id_tgt, or nil.
func margin(p PairScore) *float64 {
	if p.IDSrc == nil || p.IDTgt == nil {
		return nil
	}
	m := *p.IDSrc - *p.IDTgt
	return &m
}

// moves are the numbers compared face by face, with the least change
// reported (the evaluator rounds most to three decimals).
var moves = []struct {
	name string
	get  func(PairScore) *float64
	min  float64
}{
	{"margin", margin, 0.005},
	{"expr", func(p PairScore) *float64 { return p.ExprDelta }, 0.005},
	{"nme", func(p PairScore) *float64 { return p.NME }, 0.005},
	{"seam", func(p PairScore) *float64 { return p.Seam }, 0.005},
	{"lowfreq", func(p PairScore) *float64 { return p.Lowfreq }, 0.005},
	{"dL", func(p PairScore) *float64 { return p.DL }, 0.5},
	{"tone_neck", func(p PairScore) *float64 { return p.ToneNeck }, 0.5},
}

// compareRuns writes both runs' totals and the faces that moved between
// them to w; names label the runs.
func compareRuns(w io.Writer, set Set, oldName, newName string, old, cur []*Score) {
	fmt.Fprintf(w, "%s: %s\n", oldName, count(set, old))
	fmt.Fprintf(w, "%s: %s\n", newName, count(set, cur))
	changed := 0
	for i, p := range set.Pairs {
		a, b := old[i], cur[i]
		if a == nil || b == nil {
			continue
		}
		for k := 0; k < min(len(a.Pairs), len(b.Pairs)); k++ {
			x, y := a.Pairs[k], b.Pairs[k]
			var parts []string
			for _, m := range moves {
				u, v := m.get(x), m.get(y)
				if u != nil && v != nil && math.Abs(*u-*v) >= m.min {
					parts = append(parts, fmt.Sprintf("%s %.3f→%.3f", m.name, *u, *v))
				}
			}
			fx, fy := faceFailures(x), faceFailures(y)
			if fx != fy {
				parts = append(parts, fmt.Sprintf("failed [%s]→[%s]", fx, fy))
			}
			if len(parts) > 0 {
				changed++
				fmt.Fprintf(w, "  %s %d:%d  %s\n", p.Name, y.Target, y.Source, strings.Join(parts, "; "))
			}
		}
	}
	fmt.Fprintf(w, "%d faces moved\n", changed)
}

// faceFailures lists a face's failed checks (failures) as one string.
func faceFailures(p PairScore) string { return strings.Join(failures(p), ",") }
