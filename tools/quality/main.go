// Command quality runs the fixed set of swap pairs in pairs.json through
// the real binary and has each result judged by the independent evaluator
// of the shared folder (../shared/eval: its own face analysis, two identity
// models, pose, expression, light, colour, seams and skin tone). It writes
// QUALITY.md (a row per pair with every number the evaluator reports, its
// verdict and the totals) and, into an ignored folder, each result, the
// evaluator's JSON and its contact sheet.
//
//	go run ./tools/quality [-bin bin/faceswap] [-out out/quality] [-md QUALITY.md] [-run REGEXP]
//
// It needs ../shared/testdata and ../shared/eval (FACESWAP_TESTDATA and
// FACESWAP_EVAL name other places) and says so when they are missing. The
// evaluator is copied into the model cache (eval/) when its folder is
// read-only, and installed there by its own setup.sh (npm ci, once).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"faceswap/models"
	"faceswap/tools/internal/shared"
)

// Pair is one swap of pairs.json.
type Pair struct {
	Name        string   `json:"name"`
	Source      string   `json:"source"`
	Target      string   `json:"target"`
	Input       string   `json:"input"`       // input_faces_index (default "0")
	SourceIndex string   `json:"sourceIndex"` // source_faces_index (default "0")
	Order       string   `json:"order"`       // detection_face_order (default large-small)
	Cases       []string `json:"cases"`
}

// Set is pairs.json.
type Set struct {
	Version int    `json:"version"`
	About   string `json:"about"`
	Pairs   []Pair `json:"pairs"`
}

type config struct {
	bin, out, md, testdata, eval, run, set string
	// compare is a results folder of an earlier run to compare out with
	// (compare.go); nothing is swapped or judged
	compare string
	second  bool
	// control swaps with the evaluator's own naive paste
	// (tools/naive-swap.mjs) instead of the binary, which then only
	// detects: the positive control, to tell what a swap that carries
	// everything of the source scores on the same pairs
	control bool
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "bin/faceswap", "the faceswap binary")
	flag.StringVar(&c.out, "out", filepath.Join("out", "quality"), "folder for results, JSON and contact sheets (not committed)")
	flag.StringVar(&c.md, "md", "QUALITY.md", "the report to write")
	flag.StringVar(&c.testdata, "testdata", shared.Testdata(), "the shared test photos")
	flag.StringVar(&c.eval, "eval", shared.Eval(), "the evaluator's folder")
	flag.StringVar(&c.set, "pairs", filepath.Join("tools", "quality", "pairs.json"), "the set of pairs")
	flag.StringVar(&c.run, "run", "", "only pairs whose name matches this regular expression (the report is then not written)")
	flag.BoolVar(&c.second, "second-opinion", true, "also judge identity with the evaluator's second model")
	flag.StringVar(&c.compare, "compare", "", "compare the results in -out with those of an earlier run in this folder (totals, and each face that moved); nothing is swapped")
	flag.BoolVar(&c.control, "control", false, "swap with the evaluator's naive paste (its positive control) instead of the binary; results and report go to out/quality-control/ unless -out and -md say otherwise")
	flag.Parse()
	if c.control {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["out"] {
			c.out = filepath.Join("out", "quality-control")
		}
		if !set["md"] {
			c.md = filepath.Join(c.out, "QUALITY.md")
		}
	}
	if err := run(c); err != nil {
		fmt.Fprintf(os.Stderr, "quality: %v\n", err)
		os.Exit(2)
	}
}

func run(c config) error {
	start := time.Now()
	if c.compare != "" {
		return compare(c)
	}
	if _, err := os.Stat(filepath.Join(c.testdata, "images", "manifest.json")); err != nil {
		return fmt.Errorf("the shared test photos are not at %s (set FACESWAP_TESTDATA): make quality judges swaps of those photos and cannot run without them", c.testdata)
	}
	if _, err := os.Stat(filepath.Join(c.eval, "score.mjs")); err != nil {
		return fmt.Errorf("the evaluator is not at %s (set FACESWAP_EVAL): make quality cannot judge results without it", c.eval)
	}
	set, err := loadSet(c.set)
	if err != nil {
		return err
	}
	var only *regexp.Regexp
	if c.run != "" {
		if only, err = regexp.Compile(c.run); err != nil {
			return err
		}
	}
	evalDir, err := installEval(c.eval)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	// The evaluator runs in its own folder: give it absolute paths.
	for _, p := range []*string{&c.out, &c.testdata, &c.bin} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	var rows []row
	for _, p := range set.Pairs {
		if only != nil && !only.MatchString(p.Name) {
			continue
		}
		r := swapAndScore(c, evalDir, p)
		fmt.Printf("%-28s %s\n", p.Name, r.line())
		rows = append(rows, r)
	}
	if only != nil {
		fmt.Printf("quality: %d pairs in %s (a -run subset: %s not written)\n", len(rows), time.Since(start).Round(time.Second), c.md)
		return nil
	}
	rep := report{set: set, rows: rows, took: time.Since(start), evalDir: evalDir, cmd: "make quality"}
	if c.control {
		rep.cmd = "go run ./tools/quality -control"
		rep.swapper = "the evaluator's naive paste (`tools/naive-swap.mjs`: similarity-aligned, tone-matched, PNG; its positive control, not this project's engine)"
		rep.out = c.out + string(filepath.Separator)
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, c.out); err == nil {
				rep.out = rel + "/"
			}
		}
	}
	if err := os.WriteFile(c.md, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Printf("quality: %s written; %s; contact sheets in %s\n", c.md, rep.totalLine(), c.out)
	return nil
}

// installEval returns a writable copy of the evaluator with its packages
// installed: the folder itself when it is writable, else a copy in the
// model cache (eval/), refreshed from it on every run.
func installEval(src string) (string, error) {
	dir := src
	if !writable(src) {
		dir = models.Default().Path("eval")
		fmt.Printf("quality: %s is read-only; copying the evaluator into %s\n", src, dir)
		if err := copyTree(src, dir); err != nil {
			return "", fmt.Errorf("copying the evaluator: %w", err)
		}
	}
	cmd := exec.Command("bash", "setup.sh")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("the evaluator's setup.sh in %s: %w", dir, err)
	}
	return dir, nil
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".quality-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// copyTree copies the evaluator's files (not node_modules or out) into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == "node_modules" || rel == "out" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		target := filepath.Join(dst, rel)
		os.Remove(target) // a read-only copy from an earlier run
		return os.WriteFile(target, data, mode)
	})
}

// resolve turns a pair's image reference into a path.
func resolve(c config, ref string) string {
	if name, ok := strings.CutPrefix(ref, "demo/"); ok {
		return models.Default().Path(filepath.Join("samples", "face-api", name))
	}
	return filepath.Join(c.testdata, filepath.FromSlash(ref))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// swapAndScore runs one pair: the swap through the binary (PNG, so that
// faces not swapped stay bit-identical), then the evaluator.
func swapAndScore(c config, evalDir string, p Pair) row {
	r := row{pair: p}
	src, tgt := resolve(c, p.Source), resolve(c, p.Target)
	input, sidx, order := orDefault(p.Input, "0"), orDefault(p.SourceIndex, "0"), orDefault(p.Order, "large-small")
	result := filepath.Join(c.out, p.Name+".png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.bin, "swap", "--source", src, "--target", tgt, "-o", result,
		"--input-faces-index", input, "--source-faces-index", sidx, "--detection-face-order", order)
	// the pairs in our numbering, found first: the naive paste is given them
	ds, dt, want, err := ourPairs(c.bin, src, tgt, input, sidx, order)
	if err != nil {
		r.err = err.Error()
		return r
	}
	if c.control {
		cmd = controlSwap(ctx, evalDir, src, tgt, result, order, want)
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err = cmd.Run()
	r.swapWall = time.Since(t0)
	r.swapLine = strings.TrimSpace(stdout.String())
	if err != nil {
		r.err = fmt.Sprintf("swap failed: %s", firstLine(stderr.String(), err))
		return r
	}
	// The evaluator numbers faces with its own detector; where its numbering
	// differs from ours, score again with its indices of the faces we swapped
	// (matched by box), so each judged pair is the pair that was swapped.
	pairs := want
	for attempt := 0; ; attempt++ {
		if msg := score(c, evalDir, p, src, tgt, result, order, pairs, &r.score); msg != "" {
			r.err = msg
			return r
		}
		mapped, note, err := mapPairs(want, ds, dt, r.score)
		if err != nil {
			r.err = err.Error()
			return r
		}
		r.mapping = note
		if slices.Equal(mapped, pairs) || attempt == 1 {
			return r
		}
		pairs = mapped
	}
}

// ourPairs detects the faces of src and tgt with the binary and pairs them
// as the API does (apiPairs).
func ourPairs(bin, src, tgt, input, sidx, order string) (ds, dt detected, want [][2]int, err error) {
	if ds, err = detect(bin, src, order); err != nil {
		return
	}
	if dt, err = detect(bin, tgt, order); err != nil {
		return
	}
	want, err = apiPairs(input, sidx, len(dt.Faces), len(ds.Faces))
	return
}

// controlSwap is the command that swaps pairs (in our numbering, which is
// the evaluator's on every pair of pairs.json but the crowd) with the
// evaluator's naive paste.
func controlSwap(ctx context.Context, evalDir, src, tgt, result, order string, pairs [][2]int) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "node", "tools/naive-swap.mjs", "--source", src, "--target", tgt,
		"--pairs", pairsArg(pairs), "--order", order, "--out", result)
	cmd.Dir = evalDir
	return cmd
}

// score runs the evaluator on one result and reads its JSON into into.
func score(c config, evalDir string, p Pair, src, tgt, result, order string, pairs [][2]int, into *Score) string {
	jsonPath := filepath.Join(c.out, p.Name+".json")
	args := []string{"score.mjs", "--source", src, "--target", tgt, "--result", result, "--order", order,
		"--pairs", pairsArg(pairs), "--out", filepath.Join(c.out, p.Name+"-sheet.png"), "--json", jsonPath}
	if c.second {
		args = append(args, "--second-opinion")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ev := exec.CommandContext(ctx, "node", args...)
	ev.Dir = evalDir
	var stdout, stderr bytes.Buffer
	ev.Stdout, ev.Stderr = &stdout, &stderr
	err := ev.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return fmt.Sprintf("evaluator: %s", firstLine(lastLine(stdout.String())+" "+stderr.String(), err))
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return err.Error()
	}
	*into = Score{}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Sprintf("evaluator JSON: %v", err)
	}
	return ""
}

func firstLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return err.Error()
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// detected is `faceswap detect`'s answer, as much as is used here.
type detected struct {
	Faces []struct {
		Box [4]float64 `json:"box"`
	} `json:"faces"`
}

// detections caches detect's answers by binary, image and order: the set
// uses a dozen photos in 34 pairs, and each answer costs a model load.
var detections = map[[3]string]detected{}

// detect runs `faceswap detect` on an image in the given order.
func detect(bin, img, order string) (detected, error) {
	key := [3]string{bin, img, order}
	if d, ok := detections[key]; ok {
		return d, nil
	}
	var d detected
	out, err := exec.Command(bin, "detect", img, "--order", order).Output()
	if err != nil {
		return d, fmt.Errorf("detect %s: %w", filepath.Base(img), err)
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return d, err
	}
	detections[key] = d
	return d, nil
}

// apiPairs pairs input_faces_index with source_faces_index as the API
// does: one source for every target, or one per target by position.
func apiPairs(input, sidx string, nt, ns int) ([][2]int, error) {
	in, si := splitInts(input), splitInts(sidx)
	var out [][2]int
	for k, ti := range in {
		sj := si[0]
		if len(si) > 1 {
			sj = si[k]
		}
		if ti >= nt || sj >= ns {
			return nil, fmt.Errorf("index out of range: we find %d target faces and %d source faces", nt, ns)
		}
		out = append(out, [2]int{ti, sj})
	}
	return out, nil
}

// mapPairs turns our (target, source) indices into the evaluator's: each
// of our faces is the evaluator's face whose box overlaps it most. The note
// lists the pairs whose numbers differ.
func mapPairs(want [][2]int, ds, dt detected, s Score) ([][2]int, string, error) {
	var out [][2]int
	var notes []string
	for _, p := range want {
		et := best(dt.Faces[p[0]].Box, s.Faces.Target)
		es := best(ds.Faces[p[1]].Box, s.Faces.Source)
		if et < 0 || es < 0 {
			return nil, "", fmt.Errorf("the evaluator finds no face where we found target face %d or source face %d", p[0], p[1])
		}
		if et != p[0] || es != p[1] {
			notes = append(notes, fmt.Sprintf("%d:%d is its %d:%d", p[0], p[1], et, es))
		}
		out = append(out, [2]int{et, es})
	}
	note := ""
	if len(notes) > 0 {
		note = "the evaluator numbers faces differently: " + strings.Join(notes, ", ")
	}
	return out, note, nil
}

func pairsArg(ps [][2]int) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%d:%d", p[0], p[1]))
	}
	return strings.Join(parts, ",")
}

// best is the evaluator's face that holds our box's centre, the nearest by
// centre if several do (its boxes are larger than ours: IoU would be low
// on a well-matched face), or -1.
func best(box [4]float64, faces []EvalFace) int {
	cx, cy := box[0]+box[2]/2, box[1]+box[3]/2
	bi, bd := -1, 0.0
	for i, f := range faces {
		if cx < f.Box[0] || cx > f.Box[0]+f.Box[2] || cy < f.Box[1] || cy > f.Box[1]+f.Box[3] {
			continue
		}
		dx, dy := cx-(f.Box[0]+f.Box[2]/2), cy-(f.Box[1]+f.Box[3]/2)
		if d := dx*dx + dy*dy; bi < 0 || d < bd {
			bi, bd = i, d
		}
	}
	return bi
}

func splitInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var v int
		fmt.Sscan(strings.TrimSpace(f), &v)
		out = append(out, v)
	}
	return out
}

// compare prints how the results in c.out differ from those in c.compare
// (compareRuns).
func compare(c config) error {
	set, err := loadSet(c.set)
	if err != nil {
		return err
	}
	old, err := loadRun(c.compare, set)
	if err != nil {
		return err
	}
	cur, err := loadRun(c.out, set)
	if err != nil {
		return err
	}
	compareRuns(os.Stdout, set, c.compare, c.out, old, cur)
	return nil
}

// loadSet reads the set of pairs from path.
func loadSet(path string) (Set, error) {
	var set Set
	data, err := os.ReadFile(path)
	if err != nil {
		return set, err
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return set, fmt.Errorf("%s: %w", path, err)
	}
	return set, nil
}
