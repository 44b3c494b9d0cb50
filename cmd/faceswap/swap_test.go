package main

import (
	"fmt"
	"image"
	"math"
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
	// the portrait out of focus
	soft := filepath.Join(dir, "portrait-blurred.png")
	if err := writePNG(soft, testenv.Blur(testenv.Load(t, testenv.Photo(t, testenv.Portrait)), 4)); err != nil {
		t.Fatal(err)
	}
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
			name: "soft", faces: 1,
			args:     []string{"--source", soft, "--target", testenv.Photo(t, testenv.Portrait2)},
			warnings: []string{`^warning: face 0: source face soft: its sharpest edges are \d+\.\d px wide across its 1\d\d px and land \d\.\d× as wide as the target face's own \(source-resolution\)$`},
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

// TestSwapWarnsSourceGlasses: what the engine saw while swapping joins
// the pair's warning: Santa's gold-rimmed glasses, painted out of his face,
// make the issue's own example (Santa into the smiling woman) poor.
func TestSwapWarnsSourceGlasses(t *testing.T) {
	testenv.Models(t, analysisModels...)
	out := filepath.Join(t.TempDir(), "santa.png")
	code, stdout, stderr, err := cli(t, "swap", "--source", testenv.PhotoPath(t, "portrait_man_glasses_beard_santa.jpg"),
		"--target", testenv.PhotoPath(t, "portrait_woman_frontal_smiling.png"), "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, stderr)
	}
	want := "warning: face 0: the source face wears glasses: their frames are painted out with the skin around them, and traces of them may show (occlusion)\n"
	if lines := strings.SplitAfterN(stdout, "\n", 2); len(lines) != 2 || lines[1] != want {
		t.Errorf("output:\n%s\nwant after the summary:\n%s", stdout, want)
	}
}

// TestDetectNumbersFacesAsSwap: the face detect numbers i in an order is
// the face swap replaces for input_faces_index i in that order: the
// result differs from the target inside that face's box and nowhere near
// the others. (The API's /v1/faces and the playground are held to the
// same in the server's tests; all three answer through Pipeline.Faces.)
func TestDetectNumbersFacesAsSwap(t *testing.T) {
	im := demoPhoto(t, testenv.Group5)
	target := testenv.Load(t, im.Path)
	dir := t.TempDir()
	for _, order := range []string{"left-right", "small-large", "bottom-top"} {
		o, _ := detect(t, "--order", order, im.Path)
		if len(o.Faces) != im.Faces {
			t.Fatalf("--order %s: %d faces, want %d", order, len(o.Faces), im.Faces)
		}
		for _, i := range []int{0, len(o.Faces) - 1} {
			out := filepath.Join(dir, fmt.Sprintf("%s-%d.png", order, i))
			code, _, stderr, err := cli(t, "swap", "--source", testenv.Photo(t, testenv.Portrait), "--target", im.Path,
				"--detection-face-order", order, "--input-faces-index", fmt.Sprint(i), "-o", out)
			if code != 0 {
				t.Fatalf("swap --detection-face-order %s --input-faces-index %d: exit %d: %v\n%s", order, i, code, err, stderr)
			}
			res := testenv.Load(t, out)
			for j, f := range o.Faces {
				d := meanDiff(res, target, f.Box)
				if j == i && d < 4 || j != i && d > 1 {
					t.Errorf("--order %s, index %d: face %d %v differs by %.1f on average (swapped: %v)", order, i, j, f.Box, d, j == i)
				}
			}
		}
	}
}

// meanDiff is the mean absolute difference of a and b's RGB inside box
// (x, y, w, h), clipped to the pictures.
func meanDiff(a, b *image.NRGBA, box [4]float64) float64 {
	r := image.Rect(int(box[0]), int(box[1]), int(box[0]+box[2]), int(box[1]+box[3])).Intersect(a.Rect).Intersect(b.Rect)
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pa, pb := a.Pix[a.PixOffset(x, y):], b.Pix[b.PixOffset(x, y):]
			for c := 0; c < 3; c++ {
				sum += math.Abs(float64(pa[c]) - float64(pb[c]))
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}
