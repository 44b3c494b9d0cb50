package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// run feeds a stream of events to a summary and returns what it printed
// and whether the run passed.
func run(t *testing.T, events ...event) (string, bool) {
	t.Helper()
	s := newSummary()
	var out strings.Builder
	for _, e := range events {
		// Round-trip through JSON as go test writes it.
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		out.WriteString(s.add(back))
	}
	ok := s.close(&out)
	return out.String(), ok
}

func TestCounts(t *testing.T) {
	out, ok := run(t,
		event{Action: "start", Package: "p"},
		event{Action: "run", Package: "p", Test: "TestA"},
		event{Action: "output", Package: "p", Test: "TestA", Output: "=== RUN   TestA\n"},
		event{Action: "pass", Package: "p", Test: "TestA"},
		event{Action: "run", Package: "p", Test: "TestB"},
		event{Action: "output", Package: "p", Test: "TestB", Output: "    b_test.go:9: needs the shared test data, not found at /x\n"},
		event{Action: "output", Package: "p", Test: "TestB", Output: "--- SKIP: TestB (0.00s)\n"},
		event{Action: "skip", Package: "p", Test: "TestB"},
		event{Action: "pass", Package: "p", Elapsed: 1.5},
		event{Action: "skip", Package: "q"}, // no test files
	)
	if !ok {
		t.Errorf("a run with no failure was reported failed:\n%s", out)
	}
	for _, want := range []string{
		"ok  \tp\t1.5s\t(1 passed, 1 skipped)\n",
		"p TestB: b_test.go:9: needs the shared test data, not found at /x\n",
		"tests: 1 passed, 0 failed, 1 skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "tests: 1 passed, 0 failed, 1 skipped\n") {
		t.Errorf("the count is not the last line:\n%s", out)
	}
}

func TestFailures(t *testing.T) {
	out, ok := run(t,
		event{Action: "start", Package: "p"},
		event{Action: "output", Package: "p", Test: "TestA/sub", Output: "    a_test.go:3: got 2, want 3\n"},
		event{Action: "fail", Package: "p", Test: "TestA/sub"},
		event{Action: "fail", Package: "p", Test: "TestA"},
		event{Action: "output", Package: "p", Output: "FAIL\n"},
		event{Action: "fail", Package: "p"},
	)
	if ok {
		t.Error("a run with a failed test was reported passed")
	}
	if !strings.Contains(out, "got 2, want 3") || !strings.Contains(out, "tests: 0 passed, 2 failed, 0 skipped") {
		t.Errorf("output:\n%s", out)
	}

	// A package that fails with no failed test (a build error, a panic in
	// TestMain) fails the run and shows the package's own output.
	out, ok = run(t,
		event{Action: "build-output", Output: "q/x.go:1:1: syntax error\n"},
		event{Action: "start", Package: "q"},
		event{Action: "output", Package: "q", Output: "FAIL\tq [build failed]\n"},
		event{Action: "fail", Package: "q"},
	)
	if ok || !strings.Contains(out, "syntax error") || !strings.Contains(out, "failed packages: q") {
		t.Errorf("build failure: ok=%v\n%s", ok, out)
	}

	// A stream cut off inside a package (go test killed) fails the run.
	out, ok = run(t,
		event{Action: "start", Package: "r"},
		event{Action: "output", Package: "r", Output: "panic: test timed out after 10m0s\n"},
	)
	if ok || !strings.Contains(out, "the output ended before the package did") {
		t.Errorf("cut-off stream: ok=%v\n%s", ok, out)
	}
}
