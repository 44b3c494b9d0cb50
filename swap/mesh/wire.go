package mesh

import (
	"image"
	"math"

	"faceswap"
	"faceswap/landmark"
	"faceswap/resample"
)

// Thin wire frames (gold, steel) are close to the skin's colour:
// frameMarks, which looks for colours far from skin, does not see them,
// and they were painted onto the new face. What tells them from the face's
// own lines (wrinkles, lids, creases) is their shape: a rim is one thin
// line running right round each lens, where wrinkles are short and run
// one way. They are found on the source at its own scale (a wire a few
// pixels wide there is a faint smear once warped onto a smaller face).
const (
	// wireContrast is how much (L*) darker or lighter than its
	// surroundings a pixel on a wire is (lineContrast at lineHalfWidth).
	wireContrast = 12
	// wireRound: a rim is a closed path round the lens that is on a line
	// in at least wireRound of its wireAngles directions. On the test
	// photos' faces without glasses the best paths reach 0.55, round the
	// gold wire and the red frames 0.92 and more.
	wireRound  = 0.8
	wireAngles = 128
	// wireInner and wireOuter bound, as fractions of the face width, how
	// far from a lens's centre its rim is looked for; the lens's centre is
	// looked for within wireShift of the eye's (reading glasses sit low),
	// in steps of wireStep.
	wireInner, wireOuter = 0.08, 0.3
	wireShift, wireStep  = 0.15, 0.025
	// wireTurn is what a step in radius costs, in hits: wrinkles are
	// followed only by turning often.
	wireTurn = 0.3
	// wireLashes is how far (a fraction of the face width) around the eye
	// openings lines are not counted: the lashes, not framesSpare, since
	// the rims of reading glasses cross just under the lower lids.
	wireLashes = 0.005
	// wireBridge is how far (a fraction of the face width) from the line
	// between the lenses' centres the bridge is looked for.
	wireBridge = 0.05
	// wireTemple is how far beyond each lens's centre, as a share of the
	// distance between the centres, a temple's start is looked for.
	wireTemple = 0.6
	// wireGlare is the least (L*) by which the glare of a lens is lighter
	// than the median of the lens, and wireGlareSpread the least number of
	// the lens's spreads (under one side light, one lens is all bright
	// skin).
	wireGlare, wireGlareSpread = 10, 1.5
	// wireGlareChroma: glare has less than this share of the lens's
	// median chroma (a highlight on skin keeps its colour).
	wireGlareChroma = 0.7
	// wireGrain is the scale (a fraction of the face width) of the skin's
	// detail the painted rims take from wireGrainShift away.
	wireGrain, wireGrainShift = 0.006, 0.05
	// wireWidth is the face width (pixels) the rims are looked for at: a
	// larger face is reduced first.
	wireWidth = 300
	// wireLeast is the narrowest face (pixels) whose frames are looked for.
	wireLeast = 80
)

// rimWindow is where the rims of glasses on the face of mesh m (fw wide)
// can be: the eyes' box widened by how far a rim reaches from its eye.
func rimWindow(m []faceswap.Point3, fw float64) image.Rectangle {
	re, le := landmark.EyeCenters(m)
	reach := (wireOuter + wireShift) * fw
	return image.Rect(int(math.Min(re.X, le.X)-reach), int(math.Min(re.Y, le.Y)-reach),
		int(math.Ceil(math.Max(re.X, le.X)+reach)), int(math.Ceil(math.Max(re.Y, le.Y)+reach)))
}

// wireFramesIn marks (1) the frames of thin-wire glasses on the face of
// mesh m in lightness l (a window of the picture at ox, oy; the face fw
// wide): the rim round each lens (rim) and the thin lines between and just
// beyond the two rims (the bridge, the temples' start), and the lenses
// (inside the rims). ok is false, and nothing is marked, unless both lenses
// are ringed: each rim on thin lines in at least round of its directions
// (wireRound).
func wireFramesIn(l *plane, m []faceswap.Point3, ox, oy, fw, round float64) (marks, lenses *plane, ok bool) {
	// where rims may be: inside the oval, off the eye openings and the
	// brows
	re, le := landmark.EyeCenters(m)
	zone := polygon(l.w, l.h, m, faceOval, ox, oy)
	eyes := polygon(l.w, l.h, m, rightEye, ox, oy)
	eyes.add(polygon(l.w, l.h, m, leftEye, ox, oy))
	brows := polygon(l.w, l.h, m, rightBrow, ox, oy)
	brows.add(polygon(l.w, l.h, m, leftBrow, ox, oy))
	off := brows.maxOver(max(1, int(math.Ceil(framesSpare*fw))))
	off.add(eyes.maxOver(max(1, int(math.Round(wireLashes*fw)))))
	// how strongly each pixel is on a thin line (lines: at least
	// wireContrast; strength: 0 below half that, 1 from one and a half);
	// the eye openings cost a hit
	lr := max(1, int(math.Ceil(lineHalfWidth*fw)))
	strength := l.lineContrast(lr)
	lines := newPlane(l.w, l.h)
	for i, v := range strength.v {
		if zone.v[i] == 0 || off.v[i] > 0 {
			v = 0
		}
		if v > wireContrast {
			lines.v[i] = 1
		}
		strength.v[i] = float32(math.Max(0, math.Min(1, (float64(v)-wireContrast/2)/wireContrast)))
		if eyes.v[i] > 0 {
			strength.v[i] = -1
		}
	}
	marks, lenses = newPlane(l.w, l.h), newPlane(l.w, l.h)
	var centres [2]faceswap.Point
	var paths [2][]int
	for k, e := range []faceswap.Point{re, le} {
		c, path, score := rim(strength, lines, e.X-ox, e.Y-oy, fw)
		if score < round {
			return marks, lenses, false
		}
		centres[k], paths[k] = c, path
	}
	// the wire itself, not the shadow beside it: lines at most half as wide
	narrow := l.thinLines(max(1, lr/2), wireContrast)
	narrow.mul(lines)
	for k, c := range centres {
		path := paths[k]
		inside(lenses, c, path)
		for j, r := range path {
			a := 2 * math.Pi * float64(j) / wireAngles
			for d := -lr; d <= lr; d++ {
				x := int(c.X + float64(r+d)*math.Cos(a))
				y := int(c.Y + float64(r+d)*math.Sin(a))
				if x >= 0 && y >= 0 && x < l.w && y < l.h && narrow.v[y*l.w+x] > 0 {
					marks.v[y*l.w+x] = 1
				}
			}
		}
	}
	// the bridge and the start of the temples: narrow lines off the lenses
	// between the lenses' centres and up to wireTemple of their distance
	// beyond each, from the line joining the centres to the eyes' (a
	// bridge sits level with the eyes; reading glasses' lenses lower) and
	// wireBridge beyond
	ax, ay := centres[1].X-centres[0].X, centres[1].Y-centres[0].Y
	n := math.Hypot(ax, ay)
	if n < 1 {
		return marks, lenses, false
	}
	across := func(x, y float64) float64 { return ((x-centres[0].X)*ay - (y-centres[0].Y)*ax) / n }
	eyes0 := across((re.X+le.X)/2-ox, (re.Y+le.Y)/2-oy)
	lo, hi := math.Min(0, eyes0)-wireBridge*fw, math.Max(0, eyes0)+wireBridge*fw
	for i, v := range narrow.v {
		if v == 0 {
			continue
		}
		x, y := float64(i%l.w)+0.5, float64(i/l.w)+0.5
		t := ((x-centres[0].X)*ax + (y-centres[0].Y)*ay) / (n * n)
		if s := across(x, y); t > -wireTemple && t < 1+wireTemple && s >= lo && s <= hi && lenses.v[i] == 0 {
			marks.v[i] = 1
		}
	}
	return marks, lenses, true
}

// inside marks (1) the pixels of p inside the closed path round c (a
// radius for each of wireAngles directions).
func inside(p *plane, c faceswap.Point, path []int) {
	for i := range p.v {
		dx, dy := float64(i%p.w)+0.5-c.X, float64(i/p.w)+0.5-c.Y
		a := math.Atan2(dy, dx)
		if a < 0 {
			a += 2 * math.Pi
		}
		j := int(math.Round(a/(2*math.Pi)*wireAngles)) % wireAngles
		if math.Hypot(dx, dy) < float64(path[j]) {
			p.v[i] = 1
		}
	}
}

// rim finds the rim of a lens in lines (1 on a thin line) in front of the
// eye centred at (ex, ey): for lens centres around the eye (wireShift), the
// closed path round the centre (a radius for each of wireAngles
// directions, changing by at most a pixel from one to the next at
// wireTurn a step) along which the line strength (strength: 0..1 on thin
// lines, -1 in the eyes) adds up to most. score is the share of directions
// in which the best path is on a line.
func rim(strength, lines *plane, ex, ey, fw float64) (centre faceswap.Point, path []int, score float64) {
	r0, r1 := int(wireInner*fw), int(math.Ceil(wireOuter*fw))
	if r1-r0 < 4 {
		return centre, nil, 0
	}
	nr := r1 - r0 + 1
	steps := wireAngles + wireAngles/4 // a turn and a quarter: the last turn starts settled
	hit := make([]bool, wireAngles*nr)
	gain := make([]float32, wireAngles*nr)
	cur, next := make([]float32, nr), make([]float32, nr)
	from := make([]int8, steps*nr)
	best := -1
	step := max(1, wireStep*fw)
	for dy := -wireShift / 2 * fw; dy <= wireShift*fw+1e-9; dy += step {
		for dx := -wireShift / 2 * fw; dx <= wireShift/2*fw+1e-9; dx += step {
			cx, cy := ex+dx, ey+dy
			for a := 0; a < wireAngles; a++ {
				ang := 2 * math.Pi * float64(a) / wireAngles
				cs, sn := math.Cos(ang), math.Sin(ang)
				for k := 0; k < nr; k++ {
					r := float64(r0 + k)
					x, y := int(cx+r*cs), int(cy+r*sn)
					in := x >= 0 && y >= 0 && x < lines.w && y < lines.h
					hit[a*nr+k] = in && lines.v[y*lines.w+x] > 0
					gain[a*nr+k] = 0
					if in {
						gain[a*nr+k] = strength.v[y*lines.w+x]
					}
				}
			}
			clear(cur)
			for s := 0; s < steps; s++ {
				a := s % wireAngles
				for k := 0; k < nr; k++ {
					v, d := cur[k], int8(0)
					if k > 0 && cur[k-1]-wireTurn > v {
						v, d = cur[k-1]-wireTurn, -1
					}
					if k < nr-1 && cur[k+1]-wireTurn > v {
						v, d = cur[k+1]-wireTurn, 1
					}
					v += gain[a*nr+k]
					next[k], from[s*nr+k] = v, d
				}
				cur, next = next, cur
			}
			k := 0
			for j := range cur {
				if cur[j] > cur[k] {
					k = j
				}
			}
			p := make([]int, wireAngles)
			hits := 0
			for s := steps - 1; s >= steps-wireAngles; s-- {
				a := s % wireAngles
				p[a] = r0 + k
				if hit[a*nr+k] {
					hits++
				}
				k += int(from[s*nr+k])
			}
			if hits > best {
				best, centre, path = hits, faceswap.Point{X: cx, Y: cy}, p
			}
		}
	}
	return centre, path, float64(best) / wireAngles
}

// unwire paints the frames of thin-wire glasses (findWire) and the glare
// of their lenses (lensGlare) out of the source crop c, whose face has
// mesh m, with the skin around them and its grain (paintOver), before the
// face is warped. Frames whose colour is far from skin are left to
// removeFrames, and a face narrower than wireLeast as it is (its frames
// are a pixel wide, gone in the blend).
func (c *source) unwire(m []faceswap.Point3) {
	// the crop's own pixels: it is cut at full scale (cropSource)
	local := make([]faceswap.Point3, len(m))
	for i, p := range m {
		local[i] = faceswap.Point3{X: p.X - c.ox, Y: p.Y - c.oy, Z: p.Z}
	}
	fw := faceWidth(m)
	marks, lenses, ok := findWire(c.img, local, fw, wireRound)
	if !ok {
		return
	}
	l, a, b := toLab(c.img)
	g := regionsOf(c.img.W, c.img.H, local, 0, 0)
	all := newPlane(c.img.W, c.img.H)
	for i := range all.v {
		all.v[i] = 1
	}
	cheeks := cheekBand(local, sharedSkin(g, all, fw), 0, 0)
	skin := skinOf(l, a, b, cheeks)
	if bridgeMarked(c.img.W, c.img.H, local, 0, 0, fw, func(i int) float64 { return skin.far(l.v[i], a.v[i], b.v[i], true) }) {
		// frames of a colour far from skin: removeFrames finds them whole
		// on the warped face (a thick frame's core is no thin line)
		return
	}
	// the glare of a lens: far lighter than the rest of that lens, and
	// colourless
	glare := lensGlare(l, a, b, lenses, g.eyes, local)
	glare = glare.maxOver(max(1, int(math.Round(framesEdge*fw))))
	// a pixel more than the wire: the paint's soft edge covers the rest
	marks = marks.maxOver(1)
	marks.add(glare)
	paintOver(c.img, [3]*plane{l, a, b}, marks, skin, fw, max(1, wireGrain*fw))
	c.wired = true
}

// findWire is wireFramesIn for the face of mesh m (in img's pixels, fw
// wide) in img: only the window round the eyes where rims can be
// (rimWindow), reduced to at most wireWidth, is searched, and the marks and
// lenses come back at img's size. A face narrower than wireLeast is not
// searched (its frames are a pixel wide, gone in the blend).
func findWire(img *resample.Image, m []faceswap.Point3, fw, round float64) (marks, lenses *plane, ok bool) {
	if fw < wireLeast {
		return nil, nil, false
	}
	win := rimWindow(m, fw).Intersect(image.Rect(0, 0, img.W, img.H))
	if win.Dx() < 8 || win.Dy() < 8 {
		return nil, nil, false
	}
	f := max(1, int(math.Ceil(fw/wireWidth)))
	small := resample.New(win.Dx(), win.Dy())
	for y := win.Min.Y; y < win.Max.Y; y++ {
		copy(small.Pix[3*(y-win.Min.Y)*small.W:3*(y-win.Min.Y+1)*small.W], img.Pix[3*(y*img.W+win.Min.X):3*(y*img.W+win.Max.X)])
	}
	if f > 1 {
		small = reduceBy(small, f)
	}
	local := make([]faceswap.Point3, len(m))
	for i, p := range m {
		local[i] = faceswap.Point3{X: (p.X - float64(win.Min.X)) / float64(f), Y: (p.Y - float64(win.Min.Y)) / float64(f), Z: p.Z}
	}
	sl, _, _ := toLab(small)
	wm, wl, ok := wireFramesIn(sl, local, 0, 0, fw/float64(f), round)
	if !ok {
		return nil, nil, false
	}
	if f > 1 {
		wm = wm.upsampleTo(win.Dx(), win.Dy(), f)
		wl = wl.upsampleTo(win.Dx(), win.Dy(), f)
	}
	marks, lenses = newPlane(img.W, img.H), newPlane(img.W, img.H)
	for y := win.Min.Y; y < win.Max.Y; y++ {
		for x := win.Min.X; x < win.Max.X; x++ {
			o, i := y*img.W+x, (y-win.Min.Y)*win.Dx()+x-win.Min.X
			if wm.v[i] > 0.25 {
				marks.v[o] = 1
			}
			lenses.v[o] = wl.v[i]
		}
	}
	return marks, lenses, true
}

// lensGlare marks (1) the glare on each lens (lenses: inside the rims, of
// the face with mesh m): pixels off the eyes, lighter than the lens's
// median by wireGlare and by wireGlareSpread of its spread, and paler
// (wireGlareChroma), with their fading edges.
func lensGlare(l, a, b, lenses, eyes *plane, m []faceswap.Point3) *plane {
	out := newPlane(l.w, l.h)
	re, le := landmark.EyeCenters(m)
	mid := (re.X + le.X) / 2
	chroma := newPlane(l.w, l.h)
	for i := range chroma.v {
		chroma.v[i] = float32(math.Hypot(float64(a.v[i]), float64(b.v[i])))
	}
	for side := 0; side < 2; side++ {
		lens := newPlane(l.w, l.h)
		for i, v := range lenses.v {
			x := float64(i%l.w) + 0.5
			if v > 0.5 && eyes.v[i] == 0 && (x < mid) == (side == 0) {
				lens.v[i] = 1
			}
		}
		ml, sl := robustStats(l, lens)
		mc, _ := robustStats(chroma, lens)
		// glare fades out at its edges: what is half as far from the
		// lens's median and no more coloured than it, touching the glare,
		// is glare too (its rim was left as a pale halo)
		lift := math.Max(wireGlare, wireGlareSpread*sl)
		strong, weak := newPlane(l.w, l.h), newPlane(l.w, l.h)
		for i, v := range lens.v {
			if v == 0 {
				continue
			}
			d, c := float64(l.v[i])-ml, float64(chroma.v[i])
			if d > lift && c < wireGlareChroma*mc {
				strong.v[i] = 1
			}
			if d > lift/2 && c < mc {
				weak.v[i] = 1
			}
		}
		for i, v := range weak.connected(func(i int) bool { return strong.v[i] > 0 }).v {
			out.v[i] = max(out.v[i], v)
		}
	}
	return out
}
