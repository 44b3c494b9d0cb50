// Command testsum reads `go test -json` on standard input and prints what a
// person needs from it: a line per package, the whole output of every test
// that failed, every skipped test with the reason it gave, and a closing
// count of tests (subtests included):
//
//	tests: 812 passed, 0 failed, 31 skipped
//
// It exits 1 when a test or a package failed (a build error fails its
// package) or the stream ended in the middle of a package.
//
//	go test -json ./... | go run ./tools/testsum
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type key struct{ pkg, test string }

// summary is what the stream said so far.
type summary struct {
	out                     map[key]*strings.Builder // output per test, and per package (test "")
	passed, failed, skipped int
	pkgTests                map[string][3]int // passed, failed, skipped per package
	skips                   []key
	fails                   []key
	pkgFailed               []string
	open                    map[string]bool // packages started and not ended
}

func newSummary() *summary {
	return &summary{out: map[key]*strings.Builder{}, pkgTests: map[string][3]int{}, open: map[string]bool{}}
}

// add takes one event and returns a line to print now, if any.
func (s *summary) add(e event) string {
	k := key{e.Package, e.Test}
	switch e.Action {
	case "build-output": // a compiler's message, as it wrote it
		return e.Output
	case "start":
		s.open[e.Package] = true
	case "output":
		b := s.out[k]
		if b == nil {
			b = &strings.Builder{}
			s.out[k] = b
		}
		b.WriteString(e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			delete(s.open, e.Package)
			return s.endPackage(e)
		}
		c := s.pkgTests[e.Package]
		switch e.Action {
		case "pass":
			s.passed++
			c[0]++
			delete(s.out, k)
		case "fail":
			s.failed++
			c[1]++
			s.fails = append(s.fails, k)
		case "skip":
			s.skipped++
			c[2]++
			s.skips = append(s.skips, k)
		}
		s.pkgTests[e.Package] = c
	}
	return ""
}

func (s *summary) endPackage(e event) string {
	c := s.pkgTests[e.Package]
	switch e.Action {
	case "skip": // no test files
		return ""
	case "fail":
		s.pkgFailed = append(s.pkgFailed, e.Package)
		var b strings.Builder
		for _, k := range s.fails {
			if k.pkg == e.Package {
				fmt.Fprintf(&b, "%s", s.text(k))
			}
		}
		if c[1] == 0 { // a build error, a panic outside a test, a timeout
			b.WriteString(s.text(key{e.Package, ""}))
		}
		fmt.Fprintf(&b, "FAIL\t%s\t%.1fs\t(%d passed, %d failed, %d skipped)\n", e.Package, e.Elapsed, c[0], c[1], c[2])
		return b.String()
	}
	return fmt.Sprintf("ok  \t%s\t%.1fs\t(%d passed, %d skipped)\n", e.Package, e.Elapsed, c[0], c[2])
}

func (s *summary) text(k key) string {
	if b := s.out[k]; b != nil {
		return b.String()
	}
	return ""
}

// reason is the last line a skipped test logged before its SKIP line.
func (s *summary) reason(k key) string {
	lines := strings.Split(strings.TrimRight(s.text(k), "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		return l
	}
	return "(no reason given)"
}

// close prints the skipped tests and the closing count, and reports
// whether the run passed.
func (s *summary) close(w io.Writer) bool {
	if len(s.skips) > 0 {
		fmt.Fprintf(w, "\nskipped (%d):\n", len(s.skips))
		sort.SliceStable(s.skips, func(i, j int) bool { return s.skips[i].pkg < s.skips[j].pkg })
		for _, k := range s.skips {
			fmt.Fprintf(w, "  %s %s: %s\n", k.pkg, k.test, s.reason(k))
		}
	}
	var open []string
	for p := range s.open {
		open = append(open, p)
	}
	sort.Strings(open)
	for _, p := range open {
		fmt.Fprintf(w, "%s\nFAIL\t%s\t(the output ended before the package did)\n", s.text(key{p, ""}), p)
	}
	if len(s.pkgFailed) > 0 {
		fmt.Fprintf(w, "\nfailed packages: %s\n", strings.Join(s.pkgFailed, " "))
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	return s.failed == 0 && len(s.pkgFailed) == 0 && len(open) == 0
}

func main() {
	s := newSummary()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		line := in.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go test writes build errors as plain text
			// on stderr; anything else here is passed on as it is).
			fmt.Printf("%s\n", line)
			continue
		}
		if msg := s.add(e); msg != "" {
			fmt.Print(msg)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		os.Exit(1)
	}
	if !s.close(os.Stdout) {
		os.Exit(1)
	}
}
