package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTiming(t *testing.T) {
	got := parseTiming("fetch;dur=0.9, queue;dur=0, decode;dur=5.5, detect;dur=108.4,bad, swap;dur=x")
	if len(got) != 4 || got["detect"] != 108.4 || got["queue"] != 0 {
		t.Errorf("%v", got)
	}
}

// TestUpdateMarkdown: the generated section replaces the one between the
// markers and nothing else; without markers it is added at the end.
func TestUpdateMarkdown(t *testing.T) {
	rep := &Report{Date: "D", Commit: "C", Requests: []RequestStats{{ID: "R1-jpeg", P50MS: 190}},
		Targets: []Target{{Name: "R1 p50", Value: 190, Limit: "≤ 250", Met: true}, {Name: "ratio", Value: 2.1, Limit: "≤ 1.3"}}}
	path := filepath.Join(t.TempDir(), "B.md")
	doc := "# B\n\nbefore\n\n" + mdBegin + "\nold figures\n" + mdEnd + "\n\nafter\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateMarkdown(path, rep); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(path)
	s := string(out)
	if strings.Contains(s, "old figures") || !strings.HasPrefix(s, "# B\n\nbefore\n\n"+mdBegin) || !strings.HasSuffix(s, mdEnd+"\n\nafter\n") {
		t.Errorf("document:\n%s", s)
	}
	for _, want := range []string{"| R1-jpeg |", "| R1 p50 | 190 | ≤ 250 | met |", "| ratio | 2.1 | ≤ 1.3 | **missed** |"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in:\n%s", want, s)
		}
	}
	if strings.Count(s, mdBegin) != 1 {
		t.Error("the section was added twice")
	}
	// No markers: appended.
	os.WriteFile(path, []byte("# B\n"), 0o644)
	if err := updateMarkdown(path, rep); err != nil {
		t.Fatal(err)
	}
	out, _ = os.ReadFile(path)
	if !strings.HasPrefix(string(out), "# B\n\n"+mdBegin) {
		t.Errorf("appended:\n%s", out)
	}
}
