package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faceswap/internal/testenv"
	"faceswap/onnx"
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

// TestRecorder: runs are kept only while recording, each with a copy of
// its inputs that the caller's later writes do not change, and the error
// of what was recorded comes back with them.
func TestRecorder(t *testing.T) {
	rec := &recorder{}
	in := onnx.Tensor{Shape: []int64{2}, Data: []float32{1, 2}}
	inputs := map[string]onnx.Tensor{"x": in}
	rec.observe(nil, inputs) // not recording
	boom := errors.New("boom")
	runs, err := rec.record(func() error {
		rec.observe(nil, inputs)
		in.Data[0] = 42 // the caller reuses its buffer
		rec.observe(nil, inputs)
		return boom
	})
	if err != boom || len(runs) != 2 {
		t.Fatalf("record: %d runs, error %v", len(runs), err)
	}
	if a, b := runs[0].in["x"].Data[0], runs[1].in["x"].Data[0]; a != 1 || b != 42 {
		t.Errorf("recorded inputs %v and %v, want 1 and 42", a, b)
	}
	rec.observe(nil, inputs) // not recording
	if runs, _ := rec.record(func() error { return nil }); len(runs) != 0 {
		t.Errorf("a recording with no runs got %d", len(runs))
	}
}

// TestRecordAndReplay: a runtime observed by a recorder gives the runs a
// model made, and replaying them is timed by the session's own counters.
func TestRecordAndReplay(t *testing.T) {
	p := testenv.Models(t, "onnx/blazeface-front.onnx")
	rec := &recorder{}
	rt, err := onnx.Open(onnx.Config{LibraryPath: p.ORTLibrary(), Observe: rec.observe})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	s, err := rt.Load(p.ONNX("blazeface-front"))
	if err != nil {
		t.Fatal(err)
	}
	in := onnx.NewTensor(1, 128, 128, 3)
	runs, err := rec.record(func() error {
		for range 3 {
			if _, err := s.Run(map[string]onnx.Tensor{"input": in}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(runs) != 3 || runs[0].s != s {
		t.Fatalf("recorded %d runs (error %v), want 3 of %s", len(runs), err, s.Path)
	}
	before, _ := s.Stats()
	d, err := replay(runs)
	if after, _ := s.Stats(); err != nil || after-before != 3 || d <= 0 {
		t.Errorf("replay: %d runs in %v, error %v", after-before, d, err)
	}
}

// TestCommitOfOtherBinary: a binary other than this checkout's is not
// labelled with the checkout's commit as if it were its own.
func TestCommitOfOtherBinary(t *testing.T) {
	if got, want := commitOf(filepath.Join("bin", "faceswap")), commit(); got != want {
		t.Errorf("this checkout's binary: %q, want %q", got, want)
	}
	if got := commitOf("/tmp/old/faceswap"); !strings.Contains(got, "the binary measured is /tmp/old/faceswap") {
		t.Errorf("another binary: %q", got)
	}
}
