package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"faceswap/internal/testenv"
)

// TestSwapWarnsPoorFaces: swap prints its summary line, then one warning
// line per face whose pair is beyond the engine, numbered as
// input_faces_index numbers it, with the measured numbers and the reasons;
// a face that is not poor gets none. The faces are swapped all the same.
func TestSwapWarnsPoorFaces(t *testing.T) {
	testenv.Models(t, analysisModels...)
	dir := t.TempDir()
	for _, c := range []struct {
		name     string
		args     []string
		faces    int
		warnings []string // regular expressions, one per line after the summary
	}{
		{
			// the office photo's woman turned to the image's left (mouth
			// closed) into the one turned right and laughing, and the
			// frontal woman into the one looking down
			name: "pose", faces: 2,
			args: []string{"--source", testenv.Photo(t, testenv.Group5), "--target", testenv.Photo(t, testenv.Group5),
				"--detection-face-order", "left-right", "--source-faces-index", "4,0", "--input-faces-index", "1,3"},
			warnings: []string{`^warning: face 1: source and target faces are turned 5\d° apart left-right \(yaw -2\d° and 2\d°\) \(pose-gap\); ` +
				`the target's mouth is open by 0\.\d\d of its width and the source's by only 0\.0\d \(expression-gap\)$`},
		},
		{
			// a 50-px face into a 232-px one
			name: "resolution", faces: 1,
			args:     []string{"--source", testenv.Photo(t, testenv.Tiny), "--target", testenv.Demo(t, 5)},
			warnings: []string{`^warning: face 0: source face \d\d px wide for a 2\d\d-px target face \(source-resolution\)$`},
		},
		{
			name: "good", faces: 1,
			args: []string{"--source", testenv.Photo(t, testenv.Portrait), "--target", testenv.Photo(t, testenv.Portrait2)},
		},
	} {
		out := filepath.Join(dir, c.name+".png")
		code, stdout, stderr, err := cli(t, append(append([]string{"swap"}, c.args...), "-o", out)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %v\n%s", c.name, code, err, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if !strings.HasPrefix(lines[0], fmt.Sprintf("%s: %d face(s) swapped, ", out, c.faces)) {
			t.Errorf("%s: summary %q", c.name, lines[0])
		}
		if len(lines)-1 != len(c.warnings) {
			t.Errorf("%s: %d warning lines, want %d:\n%s", c.name, len(lines)-1, len(c.warnings), stdout)
			continue
		}
		for i, w := range c.warnings {
			if !regexp.MustCompile(w).MatchString(lines[i+1]) {
				t.Errorf("%s: line %q does not match %s", c.name, lines[i+1], w)
			}
		}
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Errorf("%s: no output image: %v", c.name, err)
		}
		t.Logf("%s:\n%s", c.name, stdout)
	}
}
