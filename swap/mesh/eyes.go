package mesh

import (
	"math"
	"slices"

	"faceswap"
	"faceswap/resample"
)

// Two-pass eyes. Where the target keeps its eye openings (a squint, a
// frown or a stare the source does not share: keptFeatures), the mesh
// cannot draw the source's eyes into them: its lid points squeeze the
// source's eyeball into the target's opening, and a wide-open eye drawn
// into a squint shows a flattened iris. Keeping the target's whole opening
// instead keeps its gaze but also its irises, the whites and the lash
// line, and with them much of its identity: by make quality, not keeping
// any target's eyes moved the mean FaceRes margin over 50 faces from
// −0.074 to −0.049 (most of it on faces whose source eyes are poor,
// sourceEyesPoor, which this leaves alone). transplantEye
// draws the source's eyeball into the target's opening instead: the
// source's iris centred where the target's is (so the gaze stays the
// target's), scaled to the target's iris and turned to its eye line, cut
// by the target's lids; the skin around is the mesh's as everywhere.

// Bounds of a transplant, per eye.
const (
	// eyeSeenMin is the lid gap over the iris diameter, in the target,
	// below which an eye counts as closed: then nothing of the source's
	// eyeball should show and the target's closed eye stays.
	eyeSeenMin = 0.3
	// eyeDrawnMin is the share of the target's opening that must find its
	// source pixel inside the source's opening (directly or mirrored about
	// the source's eye line); below it the target's eye stays.
	eyeDrawnMin = 0.5
)

// movedIris returns c, an iris of the eye e on mesh from, where it is on
// mesh to: moved by the similarity that takes the eye's corners from
// their places on from to theirs on to (reshape moves each eye as a
// whole, the picture with it).
func movedIris(c faceswap.Circle, from, to []faceswap.Point3, e eyeMark) faceswap.Circle {
	if c.R <= 0 {
		return c
	}
	a0, b0, a1, b1 := from[e.outer], from[e.inner], to[e.outer], to[e.inner]
	ux, uy := b0.X-a0.X, b0.Y-a0.Y
	vx, vy := b1.X-a1.X, b1.Y-a1.Y
	l2 := ux*ux + uy*uy
	if l2 < 1e-12 {
		return c
	}
	// the complex ratio v/u: scale and turn
	re, im := (vx*ux+vy*uy)/l2, (vy*ux-vx*uy)/l2
	dx, dy := c.X-a0.X, c.Y-a0.Y
	return faceswap.Circle{
		X: a1.X + re*dx - im*dy,
		Y: a1.Y + im*dx + re*dy,
		R: c.R * math.Hypot(re, im),
	}
}

// irisFits reports whether iris c of eye e on mesh m is a plausible fit:
// its diameter between irisSizeMin and irisSizeMax of the eye's width.
func irisFits(c faceswap.Circle, m []faceswap.Point3, e eyeMark) bool {
	w := dist(m[e.outer], m[e.inner])
	return c.R > 0 && w > 0 && 2*c.R/w >= irisSizeMin && 2*c.R/w <= irisSizeMax
}

// lidGap is the gap between eye e's lids on m across the line of its
// corners (a lowered head's lid points stand apart along it too).
func lidGap(m []faceswap.Point3, e eyeMark) float64 {
	o, in, tp, bt := m[e.outer], m[e.inner], m[e.top], m[e.bottom]
	w := math.Max(dist(o, in), 1e-9)
	return math.Abs((in.X-o.X)*(bt.Y-tp.Y)-(in.Y-o.Y)*(bt.X-tp.X)) / w
}

// transplantEye prepares drawing the source's eyeball into the target's
// opening of eye k (0: the subject's right) in the warped face img (the
// swap's region, at ox, oy in the target picture; T the target's mesh and
// cT that eye's iris there; tgt the target's own pixels there), reading
// the source crop s (S the source's mesh and irises its irises, in
// source-picture pixels) with kernel kern. The source's eye k is drawn,
// or where the source turns it away (narrower than nearEyeShare of its
// other eye) the other one, mirrored. It returns nil, and draws nothing,
// when either iris fit is implausible, the target's eye is closed
// (eyeSeenMin), or too little of the target's opening has a source pixel
// that the source's lids do not cover (eyeDrawnMin); otherwise the
// function that draws.
//
// Each pixel of the opening takes the source's pixel at the same place
// relative to the iris (its centre, its radius, the eye line's turn); one
// the source's lids cover takes the one mirrored across the source's eye
// line, or across the line through its iris centre across it, or both, as
// an eyeball is about symmetric, and one no mirroring brings inside reads
// the eyeball continued outwards (the nearest point inside the source's
// opening towards its iris centre). Its lightness is then scaled to the
// target's there (the shade of its lids and lashes), so a wide-open,
// brightly lit eye drawn into a squint does not stare out of it; an eye
// in deep shade is left alone (eyeShadeMax).
func transplantEye(img, tgt *resample.Image, T []faceswap.Point3, cT faceswap.Circle, ox, oy float64,
	s *source, S []faceswap.Point3, irises [2]faceswap.Circle, k int, kern resample.Kernel) func() {
	e := eyeMarks[k]
	// the source's eye drawn: the same one, or where the source turns
	// that one away, its other eye mirrored
	ks := k
	if dist(S[e.outer], S[e.inner]) < nearEyeShare*dist(S[eyeMarks[1-k].outer], S[eyeMarks[1-k].inner]) {
		ks = 1 - k
	}
	es, cS := eyeMarks[ks], irises[ks]
	if !irisFits(cT, T, e) || !irisFits(cS, S, es) || lidGap(T, e) < eyeSeenMin*2*cT.R {
		return nil
	}
	// the target's opening, softened, in a window round it
	soft := max(0.5, edgeSoft*cT.R)
	xs, ys := pointsOf(T, eyeContours[k], ox, oy)
	pad := int(math.Ceil(3*soft)) + 2
	wx0, wy0 := max(0, int(slices.Min(xs))-pad), max(0, int(slices.Min(ys))-pad)
	wx1, wy1 := min(img.W, int(slices.Max(xs))+pad+1), min(img.H, int(slices.Max(ys))+pad+1)
	if wx1 <= wx0 || wy1 <= wy0 {
		return nil
	}
	open := newPlane(wx1-wx0, wy1-wy0)
	for i := range xs {
		xs[i], ys[i] = xs[i]-float64(wx0), ys[i]-float64(wy0)
	}
	open.fillPolygon(xs, ys)
	open.blur(soft)
	sx, sy := pointsOf(S, eyeContours[ks], 0, 0)
	centreSeen := insideXY(sx, sy, cS.X, cS.Y)
	// each eye's frame: along its corner line from the outer to the inner
	// corner, and across it towards the chin, so that a point keeps its
	// place on the eyeball whichever eye it is drawn from
	frame := func(m []faceswap.Point3, e eyeMark) (ax, ay, nx, ny float64) {
		ax, ay = m[e.inner].X-m[e.outer].X, m[e.inner].Y-m[e.outer].Y
		l := math.Max(math.Hypot(ax, ay), 1e-9)
		ax, ay = ax/l, ay/l
		nx, ny = -ay, ax
		if nx*(m[152].X-m[10].X)+ny*(m[152].Y-m[10].Y) < 0 {
			nx, ny = -nx, -ny
		}
		return
	}
	tax, tay, tnx, tny := frame(T, e)
	ax, ay, nx, ny := frame(S, es)
	sc := cS.R / cT.R
	type pick struct {
		o       int
		r, g, b float32
		w       float32
	}
	var picks []pick
	var total, found float64
	var lumS, lumT []float64
	for y := wy0; y < wy1; y++ {
		for x := wx0; x < wx1; x++ {
			o := y*img.W + x
			w := open.v[(y-wy0)*open.w+x-wx0]
			if w <= 0 {
				continue
			}
			total += float64(w)
			dx, dy := float64(x)+0.5+ox-cT.X, float64(y)+0.5+oy-cT.Y
			// along and across the eye line, in source pixels
			u, v := sc*(dx*tax+dy*tay), sc*(dx*tnx+dy*tny)
			ok := false
			var px, py float64
			for _, m := range [4][2]float64{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}} {
				mu, mv := m[0]*u, m[1]*v
				px, py = cS.X+mu*ax+mv*nx, cS.Y+mu*ay+mv*ny
				if insideXY(sx, sy, px, py) {
					ok = true
					break
				}
			}
			if ok {
				found += float64(w)
			} else if !centreSeen {
				continue
			} else {
				// beyond the source's lids every way: the eyeball
				// continued outwards, the nearest point inside the
				// source's opening on the way from its iris centre
				px, py = cS.X+u*ax+v*nx, cS.Y+u*ay+v*ny
				lo, hi := 0.0, 1.0
				for range 12 {
					mid := (lo + hi) / 2
					if insideXY(sx, sy, cS.X+mid*(px-cS.X), cS.Y+mid*(py-cS.Y)) {
						lo = mid
					} else {
						hi = mid
					}
				}
				// a little inside, clear of the lash line
				t := max(0, lo-clampInset*cS.R/max(math.Hypot(px-cS.X, py-cS.Y), 1e-9))
				px, py = cS.X+t*(px-cS.X), cS.Y+t*(py-cS.Y)
			}
			r, g, b := s.img.At(kern, (px-0.5-s.ox)/s.scale, (py-0.5-s.oy)/s.scale)
			q := pick{o: o, r: r, g: g, b: b, w: w}
			if w >= 0.5 {
				lumS = append(lumS, float64(r+g+b))
				lumT = append(lumT, float64(tgt.Pix[3*o]+tgt.Pix[3*o+1]+tgt.Pix[3*o+2]))
			}
			picks = append(picks, q)
		}
	}
	if total == 0 || found < eyeDrawnMin*total {
		return nil
	}
	if len(lumS) < eyeRangeMin {
		return nil
	}
	// the bright end of the opening (the whites) is brought to the
	// target's: a shaded squint stays dim, a lit eye bright; the dark end
	// (pupil, iris, lashes) keeps its depth (matching the whole range
	// lifted it, and the irises came out a pale haze)
	sHi := nth(lumS, len(lumS)*9/10)
	tHi := nth(lumT, len(lumT)*9/10)
	if tHi/3 < eyeShadeMax {
		// the target's eye lies in deep shade (the office man frowning
		// down at the table): scaled to it, the source's iris became a
		// black hole
		return nil
	}
	gain := float32(1)
	if sHi > 0 {
		gain = float32(min(eyeGainMax, max(eyeGainMin, tHi/sHi)))
	}
	tone := func(v float32) float32 { return min(255, gain*v) }
	return func() {
		for _, q := range picks {
			i := 3 * q.o
			img.Pix[i] = img.Pix[i]*(1-q.w) + tone(q.r)*q.w
			img.Pix[i+1] = img.Pix[i+1]*(1-q.w) + tone(q.g)*q.w
			img.Pix[i+2] = img.Pix[i+2]*(1-q.w) + tone(q.b)*q.w
		}
	}
}

// The lightness of a transplanted eye (transplantEye): its opening's
// ninetieth percentile is scaled to the target's by a gain between
// eyeGainMin and eyeGainMax, when at least eyeRangeMin pixels lie wholly
// inside the opening.
// An eye whose opening's bright end (the ninetieth percentile, mean of
// the channels) is darker than eyeShadeMax levels is in deep shade and
// keeps the target's.
const (
	eyeShadeMax = 70
	eyeRangeMin = 10
	eyeGainMin  = 0.4
	eyeGainMax  = 1.25
	// clampInset is how far inside the source's opening (in its iris
	// radii) a pixel of the target's opening that no mirroring brings
	// inside is read.
	clampInset = 0.15
	// edgeSoft is the softening of the opening's edge, in iris radii.
	edgeSoft = 0.15
	// nearEyeShare: a source eye narrower than this share of its other
	// eye is turned away, and the other is drawn in its place, mirrored.
	nearEyeShare = 0.75
)

// eyeContours are the openings' contours in the order of eyeMarks.
var eyeContours = [2][]int{rightEye, leftEye}
