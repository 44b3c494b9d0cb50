package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareRuns: two runs' results, written as the evaluator writes
// them, are counted and compared face by face; a pair missing from a run
// is named, and a face whose numbers stayed within the evaluator's rounding
// is not listed.
func TestCompareRuns(t *testing.T) {
	set := Set{Pairs: []Pair{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	oldDir, newDir := t.TempDir(), t.TempDir()
	write := func(dir, name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// a: identity moves over (and the pair passes); b: unchanged but for
	// rounding; c: only in the old run
	write(oldDir, "a", `{"pairs":[{"target":0,"source":0,"id_src":0.50,"id_tgt":0.60,"id_pass":false,"id2_pass":true,"expr_delta":0.02,"seam":0.9,"failed":["identity"],"pass":false}],"summary":{"pass":false,"size_match":true}}`)
	write(newDir, "a", `{"pairs":[{"target":0,"source":0,"id_src":0.62,"id_tgt":0.55,"id_pass":true,"id2_pass":true,"expr_delta":0.03,"seam":0.9,"failed":[],"pass":true}],"summary":{"pass":true,"size_match":true}}`)
	same := `{"pairs":[{"target":1,"source":0,"id_src":0.70,"id_tgt":0.50,"id_pass":true,"id2_pass":false,"expr_delta":0.12,"failed":["expression"],"pass":false}],"summary":{"pass":false,"size_match":true}}`
	write(oldDir, "b", same)
	write(newDir, "b", strings.Replace(same, "0.12", "0.121", 1))
	write(oldDir, "c", `{"pairs":[],"summary":{"pass":false,"size_match":true}}`)

	old, err := loadRun(oldDir, set)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := loadRun(newDir, set)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(set, cur); got.pairs != 2 || got.pairsPass != 1 || got.faces != 2 || got.facesPass != 1 ||
		got.identity != 2 || got.identity2 != 1 || got.express != 1 || len(got.missing) != 1 || got.missing[0] != "c" {
		t.Errorf("new run's totals: %+v", got)
	}
	if got := count(set, old); got.pairsPass != 0 || got.identity != 1 || got.margin < 0.049 || got.margin > 0.051 {
		t.Errorf("old run's totals: %+v (mean margin of -0.10 and 0.20 is 0.05; c has no face)", got)
	}
	var b strings.Builder
	compareRuns(&b, set, "old", "new", old, cur)
	out := b.String()
	for _, want := range []string{
		"old: 0/3 pairs, 0/2 faces; identity 1, second opinion 1, expression 1 faces; mean FaceRes margin +0.0500",
		"new: 1/2 pairs, 1/2 faces",
		"(1 pairs without results: c)",
		"a 0:0  margin -0.100→0.070; expr 0.020→0.030; failed [identity]→[]",
		"1 faces moved",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, " b 1:0") {
		t.Errorf("a face that moved within the rounding is listed:\n%s", out)
	}
}
