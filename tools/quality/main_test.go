package main

import (
	"context"
	"strings"
	"testing"
)

func TestAPIPairs(t *testing.T) {
	got, err := apiPairs("0,2", "1", 3, 2)
	if err != nil || pairsArg(got) != "0:1,2:1" {
		t.Errorf("one source for every target: %v %v", got, err)
	}
	got, err = apiPairs("0,1,2", "2,1,0", 3, 3)
	if err != nil || pairsArg(got) != "0:2,1:1,2:0" {
		t.Errorf("by position: %v %v", got, err)
	}
	if _, err := apiPairs("3", "0", 3, 1); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("index out of range: %v", err)
	}
}

func TestMapPairs(t *testing.T) {
	// Ours, left to right; the evaluator's boxes are larger and in another
	// order (its detector scored them differently).
	var ours detected
	for _, b := range [][4]float64{{421, 388, 180, 209}, {830, 445, 210, 205}, {1476, 226, 201, 200}} {
		ours.Faces = append(ours.Faces, struct {
			Box [4]float64 `json:"box"`
		}{b})
	}
	var s Score
	s.Faces.Target = []EvalFace{{0, [4]float64{773, 385, 328, 328}}, {1, [4]float64{331, 313, 356, 356}}, {2, [4]float64{1438, 205, 279, 279}}}
	s.Faces.Source = s.Faces.Target
	got, note, err := mapPairs([][2]int{{0, 2}, {1, 1}}, ours, ours, s)
	if err != nil {
		t.Fatal(err)
	}
	if pairsArg(got) != "1:2,0:0" {
		t.Errorf("mapped %s, want 1:2,0:0", pairsArg(got))
	}
	if !strings.Contains(note, "0:2 is its 1:2") || !strings.Contains(note, "1:1 is its 0:0") {
		t.Errorf("note %q", note)
	}
	s.Faces.Target = s.Faces.Target[:1]
	if _, _, err := mapPairs([][2]int{{2, 0}}, ours, ours, s); err == nil {
		t.Error("a face the evaluator does not find was mapped")
	}
}

func TestWarnings(t *testing.T) {
	r := row{swapLine: "out.png: 2 face(s) swapped, 600x400 png, decode 3ms, swap 41ms\n" +
		"warning: face 1: yaw 40° apart (pose-gap); mouth open 0.30 against 0.02 (expression-gap)\n" +
		"warning: face 3: source face 24 px wide for a 310-px target face (source-resolution)"}
	if got, want := r.warnings(), "face 1: pose-gap+expression-gap; face 3: source-resolution"; got != want {
		t.Errorf("warnings %q, want %q", got, want)
	}
	if got := r.swapStage(); got != "41ms" {
		t.Errorf("swap stage %q, want 41ms", got)
	}
}

func TestExplain(t *testing.T) {
	src, tgt, seam := 0.43, 0.68, 1.15
	no := false
	r := row{swapLine: "x\nwarning: face 2: yaw 40° apart (pose-gap)"}
	r.score.Summary.SizeMatch = true
	r.score.Pairs = []PairScore{{Target: 2, IDSrc: &src, IDTgt: &tgt, Seam: &seam, ID2Pass: &no, Failed: []string{"identity", "seam"}}}
	got := r.explain()
	for _, want := range []string{"face 2:", "nearer the target (FaceRes 0.43 to source, 0.68 to target)", "seam 1.150", "second opinion", "(the binary warned: face 2: pose-gap)"} {
		if !strings.Contains(got, want) {
			t.Errorf("explain() = %q, lacks %q", got, want)
		}
	}
	if r.pass() {
		t.Error("a failing row passed")
	}
}

// TestControlSwapPairs: the naive paste is given the API's pairs, one
// source index serving every input when only one is given.
func TestControlSwapPairs(t *testing.T) {
	for _, tc := range []struct {
		p    Pair
		want string
	}{
		{Pair{}, "0:0"},
		{Pair{Input: "0,1,2", SourceIndex: "0,1,2"}, "0:0,1:1,2:2"},
		{Pair{Input: "0, 1,2,3", SourceIndex: "0"}, "0:0,1:0,2:0,3:0"},
		{Pair{Input: "2", SourceIndex: "1", Order: "left-right"}, "2:1"},
	} {
		pairs, err := apiPairs(orDefault(tc.p.Input, "0"), orDefault(tc.p.SourceIndex, "0"), 4, 3)
		if err != nil {
			t.Fatal(err)
		}
		cmd := controlSwap(context.Background(), "/eval", "s.jpg", "t.jpg", "r.png", orDefault(tc.p.Order, "large-small"), pairs)
		args := strings.Join(cmd.Args, " ")
		if !strings.Contains(args, " --pairs "+tc.want+" ") || cmd.Dir != "/eval" {
			t.Errorf("%+v: %q in %s, want --pairs %s", tc.p, args, cmd.Dir, tc.want)
		}
		if want := " --order " + orDefault(tc.p.Order, "large-small") + " "; !strings.Contains(args, want) {
			t.Errorf("%+v: %q lacks%s", tc.p, args, want)
		}
	}
}
