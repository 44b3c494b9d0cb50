package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"faceswap/internal/testenv"
)

// TestShortSoakAndCrash runs the soak for 15 s past a fixed rate and one
// kill under load, on the real binary: every answer is the one its request
// deserves (or a 503), the server logs no other 5xx, and the ledger holds
// exactly the 200s, before and after the kill. (Memory and goroutine
// flatness needs the 10-minute run of make soak.) Its requests are made of
// the photos derived from the demo photos, which every machine has.
func TestShortSoakAndCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server for about 40 s")
	}
	photos := testenv.Photos(t)
	testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/facemesh.onnx", "onnx/faceres.onnx", "onnx/iris.onnx")
	bin := filepath.Join(t.TempDir(), "faceswap")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/faceswap")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var log bytes.Buffer
	c := Config{Bin: bin, Photos: photos, Duration: 15 * time.Second, Factor: 1.5, Kills: 1, Sample: time.Second,
		Capacity: 3, Log: &log}
	s, err := Soak(c)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.Print(&out)
	t.Log(out.String())
	if len(s.Unexpected) > 0 || s.TransportErrors > 0 || s.ServerLog5xx != 0 || len(s.LedgerProblems) > 0 {
		t.Errorf("soak: %d unexpected answers, %d transport errors, %d 5xx in the log, ledger: %v",
			len(s.Unexpected), s.TransportErrors, s.ServerLog5xx, s.LedgerProblems)
	}
	if s.OK200 == 0 || len(s.Ledger.ids) != s.OK200 {
		t.Errorf("%d 200s, %d usage rows", s.OK200, len(s.Ledger.ids))
	}
	cr, err := Crash(c)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	cr.Print(&out)
	t.Log(out.String())
	if !cr.OK() {
		t.Error("the ledger does not match the 200s received after a kill")
	}
}

// TestCompare: a charge without its 200 is the kill's window only while
// there are no more of them than answers the kills cut off; a 200 without
// a charge is always a problem.
func TestCompare(t *testing.T) {
	l := ledger{ids: map[string]bool{"a": true, "b": true, "c": true}, charged: 3, balance: startCredits - 3}
	got := map[string]bool{"a": true}
	if p, w := compare(l, got, 2); len(p) != 0 || w != 2 {
		t.Errorf("two cut off: problems %v, window %d; want none and 2", p, w)
	}
	if p, w := compare(l, got, 1); len(p) != 2 || w != 0 {
		t.Errorf("one cut off: problems %v, window %d; want 2 and 0", p, w)
	}
	if p, _ := compare(l, map[string]bool{"a": true, "b": true, "c": true, "d": true}, 5); len(p) != 1 {
		t.Errorf("a 200 without a charge: problems %v, want 1", p)
	}
}
