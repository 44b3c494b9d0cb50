package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// EvalFace is a face in the evaluator's numbering.
type EvalFace struct {
	Index int        `json:"index"`
	Box   [4]float64 `json:"box"`
}

// PairScore is the evaluator's verdict on one swapped face (score.mjs
// `pairs[]`; README of the evaluator explains each number).
type PairScore struct {
	Target       int        `json:"target"`
	Source       int        `json:"source"`
	IDSrc        *float64   `json:"id_src"`
	IDTgt        *float64   `json:"id_tgt"`
	SamePerson   bool       `json:"same_person"`
	IDPass       bool       `json:"id_pass"`
	ID2Src       *float64   `json:"id2_dist_src"`
	ID2Tgt       *float64   `json:"id2_dist_tgt"`
	ID2Pass      *bool      `json:"id2_pass"`
	NME          *float64   `json:"nme"`
	MouthOpen    []*float64 `json:"mouth_open"`
	EyeOpen      []*float64 `json:"eye_open"`
	ExprDelta    *float64   `json:"expr_delta"`
	PoseDelta    *float64   `json:"pose_delta_deg"`
	Teeth        []*float64 `json:"teeth"`
	TeethChecked bool       `json:"teeth_checked"`
	TeethLost    bool       `json:"teeth_lost"`
	DL           *float64   `json:"dL"`
	Lowfreq      *float64   `json:"lowfreq_corr"`
	ChromaTarget *float64   `json:"chroma_target"`
	DChroma      *float64   `json:"dchroma"`
	Seam         *float64   `json:"seam"`
	ToneNeck     *float64   `json:"tone_neck"`
	Failed       []string   `json:"failed"`
	Pass         bool       `json:"pass"`
	Error        string     `json:"error"`
}

// Untouched is the evaluator's check of a target face that was not swapped.
type Untouched struct {
	Target int      `json:"target"`
	PSNR   *float64 `json:"psnr"`
	Pass   bool     `json:"pass"`
}

// Score is the evaluator's JSON, as much as the report uses.
type Score struct {
	Evaluator map[string]any `json:"evaluator"`
	Faces     struct {
		Source, Target, Result []EvalFace
	} `json:"faces"`
	Pairs     []PairScore `json:"pairs"`
	Untouched []Untouched `json:"untouched"`
	Summary   struct {
		Pass      bool     `json:"pass"`
		SizeMatch bool     `json:"size_match"`
		Failed    []string `json:"failed"`
	} `json:"summary"`
}

// row is one pair of the set, swapped and judged.
type row struct {
	pair     Pair
	swapWall time.Duration
	swapLine string
	mapping  string
	score    Score
	err      string
}

// failures lists what failed: the evaluator's checks, the second opinion's
// identity verdict, untouched faces, or an error.
func (r row) failures() []string {
	if r.err != "" {
		return []string{"error"}
	}
	set := map[string]bool{}
	for _, p := range r.score.Pairs {
		for _, f := range p.Failed {
			set[f] = true
		}
		if p.Error != "" {
			set["error"] = true
		}
		if p.ID2Pass != nil && !*p.ID2Pass {
			set["identity2"] = true
		}
	}
	for _, u := range r.score.Untouched {
		if !u.Pass {
			set["untouched"] = true
		}
	}
	if len(r.score.Pairs) == 0 {
		set["no pair judged"] = true
	}
	if !r.score.Summary.SizeMatch {
		set["size"] = true
	}
	var out []string
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func (r row) pass() bool { return len(r.failures()) == 0 }

func (r row) has(c string) bool {
	for _, x := range r.pair.Cases {
		if x == c {
			return true
		}
	}
	return false
}

// line is the console summary of a row.
func (r row) line() string {
	if r.err != "" {
		return "ERROR " + r.err
	}
	v := "pass"
	if !r.pass() {
		v = "FAIL " + strings.Join(r.failures(), ",")
	}
	return fmt.Sprintf("%-40s swap %s", v, r.swapStage())
}

// warnings are the binary's own judgement of the pairs it found poor
// (swap/assess), one "face N: reasons" per warning line it printed.
func (r row) warnings() string {
	var out []string
	for _, line := range strings.Split(r.swapLine, "\n") {
		rest, ok := strings.CutPrefix(line, "warning: face ")
		if !ok {
			continue
		}
		idx, detail, _ := strings.Cut(rest, ": ")
		var reasons []string
		for _, part := range strings.Split(detail, "; ") {
			if i := strings.LastIndex(part, "("); i >= 0 && strings.HasSuffix(part, ")") {
				reasons = append(reasons, part[i+1:len(part)-1])
			}
		}
		out = append(out, "face "+idx+": "+strings.Join(reasons, "+"))
	}
	return strings.Join(out, "; ")
}

// swapStage is the swap stage's time as the binary reported it.
func (r row) swapStage() string {
	first, _, _ := strings.Cut(r.swapLine, "\n")
	for _, f := range strings.Split(first, ", ") {
		if v, ok := strings.CutPrefix(f, "swap "); ok {
			return v
		}
	}
	return "?"
}

type report struct {
	set     Set
	rows    []row
	took    time.Duration
	evalDir string
	cmd     string
	// swapper says what swapped the pairs, and out where the results
	// are, when not the binary and out/quality (the -control run)
	swapper, out string
}

func (rep report) counts() (pass, faces, facesPass int) {
	for _, r := range rep.rows {
		if r.pass() {
			pass++
		}
		for _, p := range r.score.Pairs {
			faces++
			if facePass(p) {
				facesPass++
			}
		}
	}
	return
}

// facePass reports whether a swapped face passes every gating check,
// the second opinion's identity verdict included.
func facePass(p PairScore) bool { return p.Pass && (p.ID2Pass == nil || *p.ID2Pass) }

func (rep report) totalLine() string {
	pass, faces, facesPass := rep.counts()
	return fmt.Sprintf("%d/%d pairs pass every gating check (%.0f%%); %d/%d swapped faces", pass, len(rep.rows),
		pct(pass, len(rep.rows)), facesPass, faces)
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// caseLine counts, over the rows with a case, those that passed a check.
func (rep report) caseLine(label, c string, ok func(PairScore) bool) string {
	n, good := 0, 0
	for _, r := range rep.rows {
		if !r.has(c) || r.err != "" {
			continue
		}
		all := len(r.score.Pairs) > 0
		for _, p := range r.score.Pairs {
			if !ok(p) {
				all = false
			}
		}
		n++
		if all {
			good++
		}
	}
	return fmt.Sprintf("| %s | %d/%d |\n", label, good, n)
}

// failures lists a face's failed checks, with the second opinion's
// identity verdict as "identity2".
func failures(p PairScore) []string {
	f := append([]string(nil), p.Failed...)
	if p.ID2Pass != nil && !*p.ID2Pass {
		f = append(f, "identity2")
	}
	return f
}

// passesCheck is a test of whether a face passed the named check (and was
// judged at all).
func passesCheck(name string) func(PairScore) bool {
	return func(p PairScore) bool {
		for _, f := range p.Failed {
			if f == name {
				return false
			}
		}
		return p.Error == ""
	}
}

func (rep report) markdown() string {
	var b strings.Builder
	pass, _, _ := rep.counts()
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	fmt.Fprintf(&b, "# Swap quality\n\n")
	fmt.Fprintf(&b, "Written by `%s` (tools/quality) on %s at commit %s, pairs.json version %d, %s/%s, in %s. Each pair is swapped by\n",
		rep.cmd, time.Now().UTC().Format("2006-01-02 15:04 UTC"), strings.TrimSpace(string(commit)), rep.set.Version,
		runtime.GOOS, runtime.GOARCH, rep.took.Round(time.Second))
	swapper, out := "`bin/faceswap swap` (default engine, PNG output)", "out/quality/"
	if rep.swapper != "" {
		swapper, out = rep.swapper, rep.out
	}
	fmt.Fprintf(&b, "%s and judged by the independent evaluator of `../shared/eval`\n", swapper)
	fmt.Fprintf(&b, "(%s) with `--second-opinion`. Results, the evaluator's JSON and its contact sheets are in `%s` (not\n", evalVersion(rep.rows), out)
	fmt.Fprintf(&b, "committed). A pair passes when every swapped face passes every gating check of the evaluator (identity, the second\n")
	fmt.Fprintf(&b, "opinion's identity, nme, expression with teeth, dL, lowfreq, dchroma, seam, tone_neck) and every face not swapped\n")
	fmt.Fprintf(&b, "stays untouched (psnr >= 30 dB). The numbers are necessary, not sufficient: look at the contact sheets.\n\n")
	fmt.Fprintf(&b, "## Totals\n\n**%s.**\n\n", rep.totalLine())
	b.WriteString("| check | pairs passing |\n| --- | --- |\n")
	for _, c := range []string{"identity", "nme", "expression", "dL", "lowfreq", "dchroma", "seam", "tone_neck"} {
		n := 0
		for _, r := range rep.rows {
			if r.err != "" {
				continue
			}
			ok := len(r.score.Pairs) > 0
			for _, p := range r.score.Pairs {
				if !passesCheck(c)(p) {
					ok = false
				}
			}
			if ok {
				n++
			}
		}
		fmt.Fprintf(&b, "| %s | %d/%d |\n", c, n, len(rep.rows))
	}
	n2 := 0
	for _, r := range rep.rows {
		ok := r.err == "" && len(r.score.Pairs) > 0
		for _, p := range r.score.Pairs {
			if p.ID2Pass != nil && !*p.ID2Pass {
				ok = false
			}
		}
		if ok {
			n2++
		}
	}
	fmt.Fprintf(&b, "| identity, second opinion | %d/%d |\n\n", n2, len(rep.rows))
	b.WriteString("| case (acceptance) | pairs |\n| --- | --- |\n")
	b.WriteString(rep.caseLine("black-and-white targets pass dchroma", "bw-target", passesCheck("dchroma")))
	b.WriteString(rep.caseLine("smile-with-teeth targets keep the expression", "smile-teeth", passesCheck("expression")))
	b.WriteString(rep.caseLine("grimace targets keep the expression", "grimace", passesCheck("expression")))
	fmt.Fprintf(&b, "| every gating check | %d/%d |\n\n", pass, len(rep.rows))

	b.WriteString("## Pairs\n\n")
	b.WriteString("Numbers per swapped face (ti:sj in the evaluator's numbering); T→R is target → result. id: faceres cosine to\n")
	b.WriteString("source / to target; id2: face-api distance to source / to target; mouth, eye: opening ratios; teeth: fraction in the\n")
	b.WriteString("inner lips (* when checked); untouched: lowest psnr of faces not swapped; swap: the binary's swap stage; engine: the faces\n")
	b.WriteString("the binary itself judged poor (its X-Faces-Poor, in the API's numbering).\n\n")
	b.WriteString("| pair | cases | ti:sj | id src/tgt | id2 src/tgt | nme | pose° | mouth T→R | eye T→R | expr Δ | teeth T→R | dL | lowfreq | chroma T, Δ | seam | tone_neck | untouched | swap | engine | verdict |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rep.rows {
		name := r.pair.Name
		cases := strings.Join(r.pair.Cases, ", ")
		if r.err != "" {
			fmt.Fprintf(&b, "| %s | %s | | | | | | | | | | | | | | | | | | ERROR: %s |\n", name, cases, mdEscape(r.err))
			continue
		}
		untouched := "–"
		for _, u := range r.score.Untouched {
			if u.PSNR != nil && (untouched == "–" || *u.PSNR < parseF(untouched)) {
				untouched = f1(u.PSNR)
			}
		}
		for i, p := range r.score.Pairs {
			verdict := "pass"
			fails := failures(p)
			if p.Error != "" {
				fails = append(fails, "error: "+p.Error)
			}
			if len(fails) > 0 {
				verdict = "FAIL " + strings.Join(fails, ", ")
			}
			n, c, sw, eng := name, cases, r.swapStage(), r.warnings()
			if i > 0 {
				n, c, sw, eng = "″", "", "", ""
			}
			teeth := f2(at(p.Teeth, 0)) + "→" + f2(at(p.Teeth, 1))
			if p.TeethChecked {
				teeth += "*"
			}
			fmt.Fprintf(&b, "| %s | %s | %d:%d | %s/%s | %s/%s | %s | %s | %s→%s | %s→%s | %s | %s | %s | %s | %s, %s | %s | %s | %s | %s | %s | %s |\n",
				n, c, p.Target, p.Source, f2(p.IDSrc), f2(p.IDTgt), f2(p.ID2Src), f2(p.ID2Tgt), f3(p.NME), f1(p.PoseDelta),
				f2(at(p.MouthOpen, 0)), f2(at(p.MouthOpen, 1)), f2(at(p.EyeOpen, 0)), f2(at(p.EyeOpen, 1)), f3(p.ExprDelta),
				teeth, f1(p.DL), f3(p.Lowfreq), f1(p.ChromaTarget), f1(p.DChroma), f3(p.Seam), f1(p.ToneNeck),
				untouched, sw, mdEscape(eng), verdict)
		}
		if r.mapping != "" {
			fmt.Fprintf(&b, "| ″ | %s | | | | | | | | | | | | | | | | | | |\n", mdEscape(r.mapping))
		}
	}
	b.WriteString("\n## Failing pairs, one line each\n\nWhat failed, face by face (the evaluator's numbering), with the numbers, and what the binary itself said of the pair (its\n")
	b.WriteString("X-Faces-Poor reasons, in the API's numbering); what each looks like is for the contact sheets.\n\n")
	for _, r := range rep.rows {
		if !r.pass() {
			fmt.Fprintf(&b, "- **%s**: %s\n", r.pair.Name, mdEscape(r.explain()))
		}
	}
	b.WriteString("\n## Not covered\n\nNo photo in the shared set shows sunglasses or a microphone over a face; add such pairs when photos with a\n")
	b.WriteString("licence that allows it are there.\n")
	return b.String()
}

func evalVersion(rows []row) string {
	for _, r := range rows {
		if v, ok := r.score.Evaluator["version"].(string); ok {
			return "faceswap-eval " + v
		}
	}
	return "faceswap-eval"
}

func at(v []*float64, i int) *float64 {
	if i < len(v) {
		return v[i]
	}
	return nil
}

func fmtF(v *float64, prec int) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func f1(v *float64) string { return fmtF(v, 1) }
func f2(v *float64) string { return fmtF(v, 2) }
func f3(v *float64) string { return fmtF(v, 3) }

func parseF(s string) float64 {
	var v float64
	fmt.Sscan(s, &v)
	return v
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// explain says in one line why a row failed: each failed check of each
// swapped face with the number that failed it, and the binary's own
// judgement of the pair.
func (r row) explain() string {
	if r.err != "" {
		return r.err
	}
	var parts []string
	for _, p := range r.score.Pairs {
		var why []string
		for _, f := range p.Failed {
			switch f {
			case "identity":
				why = append(why, fmt.Sprintf("identity stayed nearer the target (FaceRes %s to source, %s to target)", f2(p.IDSrc), f2(p.IDTgt)))
			case "nme":
				why = append(why, fmt.Sprintf("the face's geometry moved (nme %s)", f3(p.NME)))
			case "expression":
				if p.TeethLost {
					why = append(why, fmt.Sprintf("the teeth were lost (%s → %s)", f2(at(p.Teeth, 0)), f2(at(p.Teeth, 1))))
				} else {
					why = append(why, fmt.Sprintf("the expression changed (mouth %s → %s, eyes %s → %s)",
						f2(at(p.MouthOpen, 0)), f2(at(p.MouthOpen, 1)), f2(at(p.EyeOpen, 0)), f2(at(p.EyeOpen, 1))))
				}
			case "dL":
				why = append(why, fmt.Sprintf("brightness changed (dL %s)", f1(p.DL)))
			case "lowfreq":
				why = append(why, fmt.Sprintf("the light pattern changed (lowfreq %s)", f3(p.Lowfreq)))
			case "dchroma":
				why = append(why, fmt.Sprintf("colour was added (dchroma %s)", f1(p.DChroma)))
			case "seam":
				why = append(why, fmt.Sprintf("an edge shows around the face (seam %s)", f3(p.Seam)))
			case "tone_neck":
				why = append(why, fmt.Sprintf("the face's tone parts from the neck (tone_neck %s)", f1(p.ToneNeck)))
			default:
				why = append(why, f)
			}
		}
		if p.ID2Pass != nil && !*p.ID2Pass {
			why = append(why, fmt.Sprintf("the second opinion also finds it nearer the target (distance %s to source, %s to target)", f2(p.ID2Src), f2(p.ID2Tgt)))
		}
		if p.Error != "" {
			why = append(why, p.Error)
		}
		if len(why) > 0 {
			parts = append(parts, fmt.Sprintf("face %d: %s", p.Target, strings.Join(why, "; ")))
		}
	}
	for _, u := range r.score.Untouched {
		if !u.Pass {
			parts = append(parts, fmt.Sprintf("untouched face %d changed (psnr %s)", u.Target, f1(u.PSNR)))
		}
	}
	out := strings.Join(parts, " — ")
	if w := r.warnings(); w != "" {
		out += " (the binary warned: " + w + ")"
	} else {
		out += " (the binary gave no warning)"
	}
	return out
}
