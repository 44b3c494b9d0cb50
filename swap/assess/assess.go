// Package assess estimates, before or after a swap, how well a swap engine
// can put one face into another, from what the engine itself works from:
// the two faces' 468-point meshes, their boxes and their images' bounds.
// Of the pixels it reads only the sharpness of each face's features
// (EdgeWidth, about a millisecond for a large face), and it knows nothing
// of an engine's internals, so it says the same for every engine; its
// thresholds were measured with the built-in mesh engine (see each
// constant).
//
// A pair is poor for four reasons, each a Reason:
//
//   - PoseGap: the heads are turned or tilted far apart. The engine warps
//     the source onto the target's mesh in 2-D and fills the half the
//     source turns away with its mirror, so the far side of a turned head
//     and the underside of a tilted one come out stretched or invented.
//     Roll (a head leaning sideways) is not a reason: a 2-D warp undoes it.
//   - SourceResolution: the source face is much smaller than the target
//     face, so it is enlarged and comes out soft beside the sharp picture;
//     or it is out of focus (or was enlarged before it was sent), so that
//     its features land in the target blurred beside the picture's own.
//   - Occlusion: something the meshes show hides part of a face: the mesh
//     model is unsure the face is all there, or the source face runs off
//     its image. What it cannot see: a hand, a phone, a glass, a fringe or
//     sunglasses over a face barely move the mesh model's presence score
//     (a fifth to two fifths of a face painted over still reads 1.00 on
//     the test photos, the mesh drawing the covered part as if visible),
//     so most real occlusions are not reported; a covered side tends to
//     read as a turned head instead, which PoseGap may catch.
//   - ExpressionGap: the target's mouth is wide open where the source's is
//     closed, or one face's eyes are open where the other's are nearly
//     shut. The engine keeps the target's open mouth and differing eyes, so
//     the expression survives but those features are the target's, and
//     with them some of the target's identity. The mesh model rarely sees
//     closed eyes (a crying baby's shut eyes read as open), so the eye half
//     rarely fires.
//
// An engine may add what it saw while swapping a pair (a Finding, folded
// in by Estimate.Fold): the mesh engine reports a source face's glasses,
// whose frames it paints out, as an Occlusion.
//
// A poor pair is still swapped as well as the engine can; the estimate is
// what the API reports beside the result.
package assess

import (
	"fmt"
	"image"
	"math"
	"strings"

	"faceswap"
)

// Reason is why a pair is poor; its value is what the API reports.
type Reason string

// The reasons, in the order an Estimate lists them.
const (
	PoseGap          Reason = "pose-gap"
	SourceResolution Reason = "source-resolution"
	Occlusion        Reason = "occlusion"
	ExpressionGap    Reason = "expression-gap"
)

// AllReasons lists every Reason in order.
var AllReasons = []Reason{PoseGap, SourceResolution, Occlusion, ExpressionGap}

// Concern is one reason a pair is poor, with a sentence for people that
// gives the measured numbers.
type Concern struct {
	Reason Reason
	Detail string
}

// Estimate is the judgement of one pair.
type Estimate struct {
	// Score is 0..1: 1 when nothing is of concern, 0.5 exactly at a
	// reason's threshold, lower beyond. It is the lowest of the four
	// aspects' scores, so a pair is poor exactly when Score < 0.5.
	Score float64
	// Concerns are the reasons the pair is poor, in the order of AllReasons;
	// empty when it is not.
	Concerns []Concern
	// Source and Target are what was measured on each face.
	Source, Target Measures
}

// Poor reports whether any reason applies.
func (e Estimate) Poor() bool { return len(e.Concerns) > 0 }

// Reasons returns the reasons of the concerns, in order.
func (e Estimate) Reasons() []Reason {
	out := make([]Reason, len(e.Concerns))
	for i, c := range e.Concerns {
		out[i] = c.Reason
	}
	return out
}

// Finding is what an engine saw of a pair while swapping it that the
// measures taken before the swap cannot tell (the mesh engine reports the
// frames of glasses it painted out of the source face): a reason, how far
// towards its threshold it is (X, as for the measured aspects: 1 at the
// threshold, beyond it a concern) and a sentence for people.
type Finding struct {
	Reason Reason
	X      float64
	Detail string
}

// Fold adds an engine's finding to e: e's score falls to the finding's
// when that is lower, and a finding beyond its threshold joins the concern
// of its reason, which is made, in the order of AllReasons, when e has
// none. e's concerns are copied, not changed in place.
func (e *Estimate) Fold(f Finding) {
	e.Score = math.Min(e.Score, score(f.X))
	if f.X <= 1 {
		return
	}
	cs := make([]Concern, 0, len(e.Concerns)+1)
	added := false
	for _, c := range e.Concerns {
		switch {
		case c.Reason == f.Reason:
			c.Detail = join([]string{c.Detail, f.Detail})
			added = true
		case !added && rank(f.Reason) < rank(c.Reason):
			cs = append(cs, Concern{Reason: f.Reason, Detail: f.Detail})
			added = true
		}
		cs = append(cs, c)
	}
	if !added {
		cs = append(cs, Concern{Reason: f.Reason, Detail: f.Detail})
	}
	e.Concerns = cs
}

// rank is r's place in AllReasons (len(AllReasons) for another).
func rank(r Reason) int {
	for i, a := range AllReasons {
		if a == r {
			return i
		}
	}
	return len(AllReasons)
}

// The thresholds. Each was measured on the shared test photos and the 34
// pairs (50 swapped faces) of tools/quality/pairs.json, swapped by the mesh
// engine and judged by ../shared/eval (QUALITY.md); the faces are counted
// by the evaluator's identity check (FaceRes: the result nearer the source
// than the target).
const (
	// MaxPoseGap is the largest yaw or pitch difference, in degrees, that
	// is not a concern. Faces whose yaw differs by less than 20° kept the
	// source's identity in 15 of 24, by 24–34° in 8 of 10, by 42–62° in
	// 4 of 13; among those 13 are the frontal woman into the
	// near-profile cameraman (59°, the geometry check failed too) and
	// the downcast B&W man into a frontal face (48°: identity passed, the
	// result is visibly broken). No face lies between 34° and 42°.
	// Pitch: the three faces 43–50° apart all failed (the frontal Santa
	// into the office's man looking down kept the least identity of the
	// whole set), those 20–31° apart with no yaw gap kept it in 2 of 5,
	// about this engine's rate on any pair. 38° is half-way across both
	// empty stretches.
	MaxPoseGap = 38.0
	// MinSourceShare is the smallest source width, as a share of the
	// target's, that is not a concern (when the target is at least
	// MinTargetWidth wide): below it each source pixel is spread over
	// more than 4×4 target pixels. By eye on the results: 92 px into
	// 331 px (0.28) stays as crisp as the picture, the Apollo crew's
	// 46–49 px faces into 208–224 px (0.20–0.23) are soft beside their
	// hair, 61 px into 331 px (0.18) is soft, and 36 px and 29 px into
	// 331 px and 345 px (0.11, 0.08) are a blur. The evaluator does not
	// measure sharpness, and both blurred faces passed its identity check.
	MinSourceShare = 0.25
	// MinTargetWidth is the target width in pixels under which a small
	// source is not a concern: in a face of a hundred-odd pixels, a
	// crowd or group picture, the softness of an enlarged source is below
	// what the picture shows of any face.
	MinTargetWidth = 120.0
	// MaxSoftness is how many times as wide as the target face's own
	// edges the source face's sharpest may land in it (its EdgeWidth
	// times the enlargement) before that is a concern, and MinSoftness
	// how many times they may always: between the two, it is a concern
	// when the source's edges are wider than MaxBlurShare of its face, so
	// that the features themselves are smudged. By eye at full size: the
	// smiling woman (3.4-px edges over 331 px, 1.0%) into the sharp
	// elderly man (1.5 px) lands 3.2× as wide and looks a little softer,
	// lashes and all; Luciano into the windblown woman 4.0×, a little
	// soft, lashes gone; the windblown woman blurred by a Gaussian of 2,
	// 4, 6 and 9 px (1.8, 3.5, 5.7, 7.4% of her face) into the elderly
	// man lands 5.7, 11, 18 and 23× as wide: a little soft, blurred, very
	// blurred, a smudge. 7 is between a little soft and blurred.
	// The phones photo's out-of-focus background woman (12.5-px edges
	// over 151 px, 8.3%) into Apollo 11's 48-px faces lands only 2.5–2.8×
	// as wide as their own 1.5 px, yet their eyes and mouths come out as
	// smudges; no sharp face of the test photos reaches 4.5% but the
	// crowd's 26–30-px ones (4.7–5.8%), which land in faces of their own
	// size (Apollo's) under 2× as wide.
	MaxSoftness  = 7.0
	MinSoftness  = 2.0
	MaxBlurShare = 0.045
	// MinPresence is the lowest mesh face-presence score that is not a
	// concern. The faces of the test photos score 0.998 or more, but for
	// a hand at the chin (0.951), a face turned 50° (0.834) and a false
	// face on a neck (0.938). Two portraits with a skin-coloured block
	// painted over 20–40% of the face from below, the left or above
	// still score 1.000; with half or more covered, 3 of the 8 faces
	// still found drop below 0.97 (0.825, 0.931, 0.968).
	MinPresence = 0.97
	// MaxSourceOutside is the largest share of the source face's box that
	// may lie outside its image. The engine has no pixels of the source
	// there and keeps the target's own face in their place, so the
	// result mixes the two. The mesh model draws a face cut by the frame
	// whole: the largest face of face-api's demo photo 5 cut by 10, 20,
	// 30 and 40% of its width or height reads 4–7, 13–18, 23–28 and
	// 31–42% outside; 0.15 is about a fifth of a face cut off, past the
	// upper forehead. (A target cut by its frame is not a concern: what
	// of it shows is swapped as well as any face.)
	MaxSourceOutside = 0.15
	// MaxMouthGap is how much wider (as a share of the mouth's width)
	// the target's lips may be parted than the source's. Faces whose
	// target mouth was open by 0.22–0.26 more than the source's lost
	// the source's identity in 3 of 3 (a woman laughing with her head
	// tilted; a woman laughing at her phone and a small face into a wide
	// smile, both also turned 42° apart); by 0.17–0.18 more they kept it
	// in 3 of 3. The other way (an open source mouth into a closed one)
	// is not a concern: the engine closes it, and a 0.27 gap that way
	// passed every check.
	MaxMouthGap = 0.2
	// MaxEyeRatio is how many times one face's eyes may be as open as
	// the other's. Beyond 1.67 the engine keeps the target's eye
	// openings instead of the source's eyes; at twice the openness the
	// eyes, much of a face's identity, are the target's.
	MaxEyeRatio = 2.0
)

// Pair estimates how well the source face src, in the image srcImg, can
// be swapped into the target face tgt in tgtImg. A nil image skips what
// needs it (a source face cut by its frame, a face's sharpness). Faces
// without a full mesh give no concerns: there is nothing to judge, and
// the mesh engine does not swap them.
func Pair(src, tgt faceswap.Face, srcImg, tgtImg *image.NRGBA) Estimate {
	return Judge(MeasureIn(src, srcImg), MeasureIn(tgt, tgtImg))
}

// Judge is Pair from the faces' measures, for a caller that measures a
// face once for several pairs (MeasureIn reads its pixels).
func Judge(s, t Measures) Estimate {
	if !s.Meshed || !t.Meshed {
		return Estimate{Score: 1, Source: s, Target: t}
	}
	return judge(s, t)
}

// judge estimates a pair from its measures.
func judge(s, t Measures) Estimate {
	e := Estimate{Score: 1, Source: s, Target: t}
	e.aspect(PoseGap, poseGap(s, t))
	e.aspect(SourceResolution, resolution(s, t))
	e.aspect(Occlusion, occlusion(s, t))
	e.aspect(ExpressionGap, expression(s, t))
	return e
}

// aspect is one aspect of a pair: x is how far it is towards its
// threshold (0 nothing, 1 at it), detail the sentence when beyond.
type aspect struct {
	x      float64
	detail string
}

// aspect folds one aspect into e.
func (e *Estimate) aspect(r Reason, a aspect) {
	e.Score = math.Min(e.Score, score(a.x))
	if a.x > 1 {
		e.Concerns = append(e.Concerns, Concern{Reason: r, Detail: a.detail})
	}
}

// score maps x (0: no concern, 1: at the threshold) to 1..0: flat near 0
// so that small differences between two ordinary faces cost little, 0.5
// at 1.
func score(x float64) float64 {
	x = math.Max(x, 0)
	return 1 / (1 + x*x*x*x)
}

func poseGap(s, t Measures) aspect {
	dy, dp := math.Abs(s.Yaw-t.Yaw), math.Abs(s.Pitch-t.Pitch)
	x := math.Max(dy, dp) / MaxPoseGap
	var d string
	switch {
	case dy > MaxPoseGap && dp > MaxPoseGap:
		d = fmt.Sprintf("source and target faces are turned %d° apart left-right (yaw %d° and %d°) and tilted %d° apart up-down (pitch %d° and %d°)",
			deg(dy), deg(s.Yaw), deg(t.Yaw), deg(dp), deg(s.Pitch), deg(t.Pitch))
	case dy >= dp:
		d = fmt.Sprintf("source and target faces are turned %d° apart left-right (yaw %d° and %d°)", deg(dy), deg(s.Yaw), deg(t.Yaw))
	default:
		d = fmt.Sprintf("source and target faces are tilted %d° apart up-down (pitch %d° and %d°)", deg(dp), deg(s.Pitch), deg(t.Pitch))
	}
	return aspect{x, d}
}

// deg rounds an angle to whole degrees for a sentence (so -0.3 is "0").
func deg(a float64) int { return int(math.Round(a)) }

// resolution is the larger of two parts. One grows with the enlargement
// of the source (0 when it is not enlarged, 1 at 1/MinSourceShare times)
// and is held under 1 while the target is narrower than MinTargetWidth.
// The other, when both faces' edges were measured, is the source's
// softness in the target (its edges' width there over the target's
// own) over MaxSoftness, or, when larger and up to that over
// MinSoftness, its edges' share of its face over MaxBlurShare. The
// detail names the source's size when that is beyond its threshold.
func resolution(s, t Measures) aspect {
	if s.Width <= 0 || t.Width <= 0 {
		return aspect{}
	}
	size := aspect{math.Min((t.Width/s.Width-1)/(1/MinSourceShare-1), t.Width/MinTargetWidth),
		fmt.Sprintf("source face %.0f px wide for a %.0f-px target face", s.Width, t.Width)}
	var soft aspect
	if s.Edge > 0 && t.Edge > 0 {
		r := s.Edge * t.Width / s.Width / t.Edge
		soft = aspect{math.Min(r/MinSoftness, math.Max(r/MaxSoftness, s.Edge/s.Width/MaxBlurShare)),
			fmt.Sprintf("source face soft: its sharpest edges are %.1f px wide across its %.0f px and land %.1f× as wide as the target face's own",
				s.Edge, s.Width, r)}
	}
	if size.x > 1 || soft.x <= size.x {
		// an enlarged source is soft for that reason: its size says so
		return aspect{math.Max(size.x, soft.x), size.detail}
	}
	return soft
}

func occlusion(s, t Measures) aspect {
	presence := func(who string, p float64) aspect {
		if p <= 0 { // not measured (a face from another detector)
			return aspect{}
		}
		return aspect{(1 - p) / (1 - MinPresence), fmt.Sprintf("the %s face may be partly hidden (face-presence score %.2f)", who, p)}
	}
	parts := []aspect{
		presence("source", s.Presence),
		presence("target", t.Presence),
		{s.Outside / MaxSourceOutside, fmt.Sprintf("%.0f%% of the source face is outside its image", 100*s.Outside)},
	}
	var x float64
	var ds []string
	for _, p := range parts {
		x = math.Max(x, p.x)
		if p.x > 1 {
			ds = append(ds, p.detail)
		}
	}
	return aspect{x, join(ds)}
}

func expression(s, t Measures) aspect {
	mouth := (t.MouthOpen - s.MouthOpen) / MaxMouthGap
	eyes := 0.0
	if s.EyeOpen > 0 && t.EyeOpen > 0 {
		eyes = math.Abs(math.Log(s.EyeOpen/t.EyeOpen)) / math.Log(MaxEyeRatio)
	}
	var ds []string
	if mouth > 1 {
		ds = append(ds, fmt.Sprintf("the target's mouth is open by %.2f of its width and the source's by only %.2f", t.MouthOpen, s.MouthOpen))
	}
	if eyes > 1 {
		more, less, who, other := s.EyeOpen, t.EyeOpen, "source", "target"
		if t.EyeOpen > s.EyeOpen {
			more, less, who, other = t.EyeOpen, s.EyeOpen, "target", "source"
		}
		ds = append(ds, fmt.Sprintf("the %s's eyes are %.1f× as open as the %s's (%.2f and %.2f)", who, more/less, other, more, less))
	}
	return aspect{math.Max(mouth, eyes), join(ds)}
}

// join joins clauses with "; ".
func join(ds []string) string { return strings.Join(ds, "; ") }
