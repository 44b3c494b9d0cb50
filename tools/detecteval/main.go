// Command detecteval is the detection benchmark (make detect-eval). It runs
// the real binary's detect command (`bin/faceswap detect IMAGE`, a process
// per photo) on every photo listed in the shared test data's manifests
// (images/manifest.json and hard/manifest.json) and on face-api's six demo
// photos that set-up fetches into the model cache, and compares what it
// finds with what is known of each photo:
//
//   - where the manifest gives reference boxes (images/: the boxes of two
//     independent detectors, yunet_n_dynamic and scrfd_500m_kps), the
//     detected boxes are matched one to one to the reference faces, greedily
//     by IoU, a pair counting when its IoU is at least -iou (0.4). A
//     reference face is its yunet box, with the scrfd box of the same face as
//     an alternative (the better of the two IoUs counts); both sides are
//     clipped to the picture first, so a face cut by the edge is judged on
//     what shows;
//   - elsewhere (hard/, and the demo photos, whose counts are
//     testenv.DemoFaces) only the counts are compared: min(found, expected)
//     faces count as found, the rest as misses or extras.
//
// It counts true positives, misses (reference faces no box matched) and
// extras (boxes that matched no reference face), gives recall and precision
// overall, per set and per photo, and writes them into DETECTION.md with the
// box and score of every miss and extra and the wall time of each detect
// process (which includes loading the models). A short summary goes to
// stdout.
//
//	go run ./tools/detecteval [-bin bin/faceswap] [-md DETECTION.md] [-iou 0.4]
//
// It needs ../shared/testdata (FACESWAP_TESTDATA names another place) and
// says so in one line, exiting 2, when it is missing.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/tools/internal/shared"
)

// Box is a face box in pixels: left, top, width, height.
type Box struct{ X, Y, W, H float64 }

// IoU is the area of the intersection of a and b over that of their union
// (0 when either is empty), as faceswap.Rect has it.
func IoU(a, b Box) float64 { return faceswap.Rect(a).IoU(faceswap.Rect(b)) }

// Clip returns the part of b inside a w×h picture.
func (b Box) Clip(w, h float64) Box {
	x0, y0 := math.Max(b.X, 0), math.Max(b.Y, 0)
	x1, y1 := math.Min(b.X+b.W, w), math.Min(b.Y+b.H, h)
	return Box{x0, y0, math.Max(x1-x0, 0), math.Max(y1-y0, 0)}
}

func (b Box) String() string {
	return fmt.Sprintf("[%s %s %s %s]", num(b.X), num(b.Y), num(b.W), num(b.H))
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Ref is one reference face: the box each reference detector gave it
// (first the one reported for a miss). A detection's IoU with the face is
// its best IoU with any of them.
type Ref []Box

// IoU is b's best IoU with the face's boxes.
func (r Ref) IoU(b Box) float64 {
	best := 0.0
	for _, rb := range r {
		best = math.Max(best, IoU(rb, b))
	}
	return best
}

// Pair is a reference face matched to a detected box.
type Pair struct {
	Ref, Det int
	IoU      float64
}

// Match pairs reference faces with detected boxes one to one, greedily by
// IoU: of all pairs with IoU >= minIoU it takes the highest first (ties: by
// reference, then detection, index), skipping pairs whose face or box is
// taken. Misses are the faces left over, extras the boxes, in index order.
func Match(refs []Ref, dets []Box, minIoU float64) (pairs []Pair, misses, extras []int) {
	var cand []Pair
	for i, r := range refs {
		for j, d := range dets {
			if v := r.IoU(d); v >= minIoU {
				cand = append(cand, Pair{i, j, v})
			}
		}
	}
	sort.SliceStable(cand, func(a, b int) bool { return cand[a].IoU > cand[b].IoU })
	refUsed, detUsed := make([]bool, len(refs)), make([]bool, len(dets))
	for _, p := range cand {
		if !refUsed[p.Ref] && !detUsed[p.Det] {
			refUsed[p.Ref], detUsed[p.Det] = true, true
			pairs = append(pairs, p)
		}
	}
	for i, used := range refUsed {
		if !used {
			misses = append(misses, i)
		}
	}
	for j, used := range detUsed {
		if !used {
			extras = append(extras, j)
		}
	}
	return pairs, misses, extras
}

// photo is one photo to detect in, with what is known of it.
type photo struct {
	name  string // set/file, as the report shows it
	set   string // images, hard or demo
	path  string
	faces int   // expected face count
	refs  []Ref // reference faces; nil: compare counts only
}

// detected is the part of `faceswap detect`'s JSON used here.
type detected struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Faces  []struct {
		Box   [4]float64 `json:"box"`
		Score float64    `json:"score"`
	} `json:"faces"`
}

// result is one photo, detected and judged.
type result struct {
	photo
	w, h              int
	dets              []Box
	scores            []float64
	pairs             []Pair
	misses, extras    []int // indices into refs and dets (box mode)
	tp, nMiss, nExtra int
	took              time.Duration
	err               string
}

func (r result) found() int { return len(r.dets) }

func main() {
	bin := flag.String("bin", "bin/faceswap", "the faceswap binary")
	md := flag.String("md", "DETECTION.md", "the report to write")
	testdata := flag.String("testdata", shared.Testdata(), "the shared test photos")
	minIoU := flag.Float64("iou", 0.4, "the least IoU for a detected box to match a reference face")
	flag.Parse()
	if _, err := os.Stat(filepath.Join(*testdata, "images", "manifest.json")); err != nil {
		fmt.Fprintf(os.Stderr, "detect-eval: the shared test data is not at %s (no images/manifest.json; set FACESWAP_TESTDATA): nothing to evaluate\n", *testdata)
		os.Exit(2)
	}
	photos, err := listPhotos(*testdata)
	if err != nil {
		fmt.Fprintf(os.Stderr, "detect-eval: %v\n", err)
		os.Exit(2)
	}
	start, load := time.Now(), loadAvg()
	var results []result
	for _, p := range photos {
		r := evaluate(*bin, p, *minIoU)
		fmt.Println(r.line())
		results = append(results, r)
	}
	rep := report{results: results, minIoU: *minIoU, took: time.Since(start), load: load}
	if err := os.WriteFile(*md, []byte(rep.markdown()), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "detect-eval: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("detect-eval: %s written in %s; %s\n", *md, rep.took.Round(time.Second), rep.total(nil).line())
	failed := 0
	for _, r := range results {
		if r.err != "" {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "detect-eval: detect failed on %d photos\n", failed)
		os.Exit(1)
	}
}

// manifestEntry is what both manifests give of a photo (only images/ has
// boxes: [x, y, w, h, score]).
type manifestEntry struct {
	File  string      `json:"file"`
	Faces int         `json:"faces"`
	YuNet [][]float64 `json:"yunet_n_dynamic"`
	SCRFD [][]float64 `json:"scrfd_500m_kps"`
}

// listPhotos reads both manifests and adds the demo photos.
func listPhotos(testdata string) ([]photo, error) {
	var photos []photo
	for _, set := range []string{"images", "hard"} {
		dir := filepath.Join(testdata, set)
		data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			return nil, err
		}
		var entries []manifestEntry
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("%s/manifest.json: %w", set, err)
		}
		for _, e := range entries {
			refs, err := references(e)
			if err != nil {
				return nil, fmt.Errorf("%s/manifest.json, %s: %w", set, e.File, err)
			}
			photos = append(photos, photo{name: set + "/" + e.File, set: set, path: filepath.Join(dir, e.File), faces: e.Faces, refs: refs})
		}
	}
	p := models.Default()
	for i := 1; i < len(testenv.DemoFaces); i++ {
		path := p.Sample(i)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("face-api demo photo %s is missing: run make setup", path)
		}
		photos = append(photos, photo{name: "demo/" + filepath.Base(path), set: "demo", path: path, faces: testenv.DemoFaces[i]})
	}
	return photos, nil
}

// references turns a manifest entry's boxes into reference faces: the yunet
// boxes, each with the scrfd box of the same face (paired by the same
// matching) as an alternative. Without boxes, or when the yunet boxes do
// not account for every face, it returns nil: counts only.
func references(e manifestEntry) ([]Ref, error) {
	if e.YuNet == nil || len(e.YuNet) != e.Faces {
		return nil, nil
	}
	toBoxes := func(list [][]float64) ([]Box, error) {
		var out []Box
		for _, v := range list {
			if len(v) < 4 {
				return nil, fmt.Errorf("box %v has fewer than 4 numbers", v)
			}
			out = append(out, Box{v[0], v[1], v[2], v[3]})
		}
		return out, nil
	}
	yunet, err := toBoxes(e.YuNet)
	if err != nil {
		return nil, err
	}
	scrfd, err := toBoxes(e.SCRFD)
	if err != nil {
		return nil, err
	}
	refs := make([]Ref, len(yunet))
	for i, b := range yunet {
		refs[i] = Ref{b}
	}
	pairs, _, _ := Match(refs, scrfd, 0.4)
	for _, p := range pairs {
		refs[p.Ref] = append(refs[p.Ref], scrfd[p.Det])
	}
	return refs, nil
}

// evaluate runs detect on one photo and judges what it found.
func evaluate(bin string, p photo, minIoU float64) result {
	r := result{photo: p}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "detect", p.path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r.took = time.Since(start)
	if err != nil {
		r.err = fmt.Sprintf("%s detect: %v: %s", bin, err, strings.TrimSpace(stderr.String()))
		return r
	}
	var d detected
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		r.err = fmt.Sprintf("%s detect printed no JSON: %v", bin, err)
		return r
	}
	r.w, r.h = d.Width, d.Height
	for _, f := range d.Faces {
		r.dets = append(r.dets, Box{f.Box[0], f.Box[1], f.Box[2], f.Box[3]})
		r.scores = append(r.scores, f.Score)
	}
	if p.refs == nil {
		r.tp = min(p.faces, len(r.dets))
		r.nMiss, r.nExtra = p.faces-r.tp, len(r.dets)-r.tp
		return r
	}
	W, H := float64(d.Width), float64(d.Height)
	refs := make([]Ref, len(p.refs))
	for i, ref := range p.refs {
		for _, b := range ref {
			refs[i] = append(refs[i], b.Clip(W, H))
		}
	}
	dets := make([]Box, len(r.dets))
	for j, b := range r.dets {
		dets[j] = b.Clip(W, H)
	}
	r.pairs, r.misses, r.extras = Match(refs, dets, minIoU)
	r.tp, r.nMiss, r.nExtra = len(r.pairs), len(r.misses), len(r.extras)
	return r
}

// line is the photo's line on stdout.
func (r result) line() string {
	if r.err != "" {
		return fmt.Sprintf("%-58s ERROR %s", r.name, r.err)
	}
	s := fmt.Sprintf("%-58s expected %d, found %d, matched %d, misses %d, extras %d  %.1fs", r.name, r.faces, r.found(), r.tp, r.nMiss, r.nExtra, r.took.Seconds())
	if d := r.details(); d != "" {
		s += "  " + d
	}
	return s
}

// details lists each miss and extra: in box mode the reference box of each
// miss and the box and score of each extra; in count mode, when the counts
// differ, every box found (which of them is extra is not known).
func (r result) details() string {
	var parts []string
	if r.refs != nil {
		for _, i := range r.misses {
			parts = append(parts, "miss "+r.refs[i][0].String())
		}
		for _, j := range r.extras {
			parts = append(parts, fmt.Sprintf("extra %s s%.3f", r.dets[j], r.scores[j]))
		}
	} else if r.nMiss+r.nExtra > 0 {
		parts = append(parts, "counts only, found: "+r.boxes())
	}
	return strings.Join(parts, "; ")
}

// boxes lists every box found with its score.
func (r result) boxes() string {
	if len(r.dets) == 0 {
		return "none"
	}
	var s []string
	for j, b := range r.dets {
		s = append(s, fmt.Sprintf("%s s%.3f", b, r.scores[j]))
	}
	return strings.Join(s, ", ")
}

// lowestIoU is the lowest IoU of the photo's matched pairs.
func (r result) lowestIoU() string {
	if len(r.pairs) == 0 {
		return "–"
	}
	low := 1.0
	for _, p := range r.pairs {
		low = math.Min(low, p.IoU)
	}
	return fmt.Sprintf("%.2f", low)
}

// tally sums results.
type tally struct{ photos, expected, found, tp, miss, extra, countOff, errs int }

func (t tally) recall() string    { return ratio(t.tp, t.tp+t.miss) }
func (t tally) precision() string { return ratio(t.tp, t.tp+t.extra) }

func (t tally) line() string {
	return fmt.Sprintf("recall %s (%d/%d), precision %s (%d/%d); %d misses, %d extras; %d of %d photos with a count off",
		t.recall(), t.tp, t.tp+t.miss, t.precision(), t.tp, t.tp+t.extra, t.miss, t.extra, t.countOff, t.photos)
}

func ratio(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(a)/float64(b))
}

type report struct {
	results []result
	minIoU  float64
	took    time.Duration
	load    string
}

// total sums the results keep accepts (all when keep is nil).
func (rep report) total(keep func(result) bool) tally {
	var t tally
	for _, r := range rep.results {
		if keep != nil && !keep(r) {
			continue
		}
		t.photos++
		if r.err != "" {
			t.errs++
			continue
		}
		t.expected += r.faces
		t.found += r.found()
		t.tp += r.tp
		t.miss += r.nMiss
		t.extra += r.nExtra
		if r.found() != r.faces {
			t.countOff++
		}
	}
	return t
}

func (rep report) markdown() string {
	var b strings.Builder
	b.WriteString("# Face detection\n\n")
	fmt.Fprintf(&b, "Written by `make detect-eval` (tools/detecteval) on %s at commit %s, on %s, in %s (load average %s at the start).\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), commit(), machine(), rep.took.Round(time.Second), rep.load)
	b.WriteString("Each photo goes through `bin/faceswap detect IMAGE` (the default detector, default settings, a process per photo).\n")
	fmt.Fprintf(&b, "On `images/` the boxes found are matched one to one, greedily by IoU (at least %.2g, both boxes clipped to the picture), to\n", rep.minIoU)
	b.WriteString("the manifest's reference faces: each face's `yunet_n_dynamic` box, with the `scrfd_500m_kps` box of the same face as an\n")
	b.WriteString("alternative (the better IoU counts). `hard/` has no reference boxes and the demo photos (face-api's `sample1…6.jpg`,\n")
	b.WriteString("counts from `internal/testenv.DemoFaces`) neither: there only counts are compared, min(found, expected) counting as\n")
	b.WriteString("matched. Recall is matched / expected faces, precision matched / faces found. Times are each detect process's wall\n")
	b.WriteString("time, loading the models included.\n\n")

	b.WriteString("## Totals\n\n")
	fmt.Fprintf(&b, "**%s.**\n\n", rep.total(nil).line())
	b.WriteString("| photos | n | expected | found | matched | misses | extras | recall | precision | count off | errors |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	row := func(label string, keep func(result) bool) {
		t := rep.total(keep)
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %s | %s | %d | %d |\n",
			label, t.photos, t.expected, t.found, t.tp, t.miss, t.extra, t.recall(), t.precision(), t.countOff, t.errs)
	}
	row("all", nil)
	row("images/ (boxes matched)", func(r result) bool { return r.set == "images" })
	row("hard/ (counts)", func(r result) bool { return r.set == "hard" })
	row("demo (counts)", func(r result) bool { return r.set == "demo" })

	b.WriteString("\n## Photos\n\n")
	b.WriteString("Misses give the reference (yunet) box, extras the box found and its score; boxes are [x y w h] in pixels. Where only\n")
	b.WriteString("counts are known and they differ, every box found is listed, as which is extra is not known.\n\n")
	b.WriteString("| photo | px | compared by | expected | found | matched | misses | extras | recall | precision | lowest IoU | time | misses and extras |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rep.results {
		if r.err != "" {
			fmt.Fprintf(&b, "| %s | | | %d | | | | | | | | %.1f s | ERROR: %s |\n", r.name, r.faces, r.took.Seconds(), strings.ReplaceAll(r.err, "|", "\\|"))
			continue
		}
		by := "boxes"
		if r.refs == nil {
			by = "count"
		}
		fmt.Fprintf(&b, "| %s | %d×%d | %s | %d | %d | %d | %d | %d | %s | %s | %s | %.1f s | %s |\n",
			r.name, r.w, r.h, by, r.faces, r.found(), r.tp, r.nMiss, r.nExtra,
			ratio(r.tp, r.tp+r.nMiss), ratio(r.tp, r.tp+r.nExtra), r.lowestIoU(), r.took.Seconds(), r.details())
	}

	b.WriteString("\n## Every box found\n\n")
	b.WriteString("The baseline for later changes: each photo's boxes and scores in the binary's order (largest first), with the IoU of\n")
	b.WriteString("the reference face each matched where there are reference boxes.\n\n")
	for _, r := range rep.results {
		if r.err != "" {
			continue
		}
		iou := map[int]float64{}
		for _, p := range r.pairs {
			iou[p.Det] = p.IoU
		}
		var s []string
		for j, d := range r.dets {
			e := fmt.Sprintf("%s s%.3f", d, r.scores[j])
			if v, ok := iou[j]; ok {
				e += fmt.Sprintf(" IoU %.2f", v)
			} else if r.refs != nil {
				e += " extra"
			}
			s = append(s, e)
		}
		if len(s) == 0 {
			s = []string{"none"}
		}
		fmt.Fprintf(&b, "- %s: %s\n", r.name, strings.Join(s, "; "))
	}
	return b.String()
}

// commit is HEAD's short hash, marked when the work tree has changes.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

// machine names the CPU, its cores and the platform.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}

// loadAvg is the one-minute load average, or "unknown".
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
