package mesh

import (
	"math"

	"faceswap"
	"faceswap/landmark"
	"faceswap/resample"
)

// Glasses on the source. Their frames run around the eyes, between the
// lids and the brows and over the top of the nose, where hairLike spares
// the source's features (its eyes and brows must come through). Left in
// the warped source they are painted onto the target; cut out of the blend
// mask, the target's own skin shows through in strips. removeFrames paints
// them over with the source's own skin around them instead.
const (
	// framesReach is how far around the eyes frames are looked for (a
	// fraction of the face width).
	framesReach = 0.2
	// framesGrowReach is how far around the eyes marks grow along a
	// frame (weak pixels): large frames on a narrower face put their
	// lower rims farther below the eyes than framesReach, where the
	// straw-drinking woman's rim came through as a dark arc across the
	// cheek. Only growth reaches that far: a dark spot on the cheek, not
	// joined to a frame, is not one.
	framesGrowReach = 0.3
	// framesSpare is how far around the eye openings, and twice that
	// around the brows, nothing is taken for a frame (lashes, lids, the
	// brows' ends that the mesh's outline of them misses: a fraction of
	// the face width).
	framesSpare = 0.03
	// framesFar is how far (in spreads of the cheeks' skin) a frame's
	// colour is from the skin's.
	framesFar = 6
	// framesGrow is how far (a fraction of the face width) marks grow
	// along what is half as far from skin.
	framesGrow = 0.3
	// framesContrast is how much darker or lighter (L*) than what a
	// closing or opening of framesLine fills in a pixel is to be on a
	// line, along which marks grow.
	framesContrast = 8
	// framesLine is the half-width of the widest frame filled in (a
	// fraction of the face width), which sets the fill's reach.
	framesLine = 0.025
	// framesEdge is how far (a fraction of the face width) the marks are
	// widened at the end: a frame's soft edge and the shadow beside it,
	// left, outlined the filled frame.
	framesEdge = 0.015
	// framesThick and framesThickShare tell a frame from a filled area
	// (thin): at most framesThickShare of the marks survive an opening by
	// framesThick of the face width. The target's eye make-up was taken
	// for frames and kept, leaving hard-edged patches of the target's skin
	// around the new face's eyes.
	framesThick      = 0.02
	framesThickShare = 0.3
)

// glassesZones mark where a pair of glasses' frames may cross the face of
// mesh m (in a w×h region at ox, oy): within framesGrowReach of the eyes
// and over the top of the nose, inside the oval, outside the eye openings
// and the brows (wide); strict only within framesReach, and framesSpare
// away from the openings and twice that from the brows.
func glassesZones(w, h int, m []faceswap.Point3, ox, oy, fw float64) (strict, wide *plane) {
	eyes := polygon(w, h, m, rightEye, ox, oy)
	eyes.add(polygon(w, h, m, leftEye, ox, oy))
	reach := eyes.maxOver(max(1, int(framesReach*fw)))
	reachWide := eyes.maxOver(max(1, int(framesGrowReach*fw)))
	openings := eyes.maxOver(max(1, int(math.Ceil(framesSpare*fw))))
	brows := polygon(w, h, m, rightBrow, ox, oy)
	brows.add(polygon(w, h, m, leftBrow, ox, oy))
	browsWide := brows.maxOver(max(1, int(math.Ceil(2*framesSpare*fw))))
	oval := polygon(w, h, m, faceOval, ox, oy)
	strict, wide = newPlane(w, h), newPlane(w, h)
	bx, by := m[168].X-ox, m[168].Y-oy
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if oval.v[i] == 0 || eyes.v[i] > 0 || brows.v[i] > 0 {
				continue
			}
			onBridge := math.Hypot(float64(x)+0.5-bx, float64(y)+0.5-by) < 0.08*fw
			if reachWide.v[i] > 0 || onBridge {
				wide.v[i] = 1
			}
			if (reach.v[i] > 0 || onBridge) && openings.v[i] == 0 && browsWide.v[i] == 0 {
				strict.v[i] = 1
			}
		}
	}
	return strict, wide
}

// frameMarks marks (1) what looks like the frames of glasses on the face
// of mesh m in a region at ox, oy, in L*a*b*: pixels of the glasses zone
// (with its margins) whose colour is framesFar spreads of the face's skin
// (skin: skinOf its cheeks) from it (lightness counted only when darker: a
// lighter pixel is a highlight): a red, black or tortoiseshell frame, not lashes, lids, brows
// or shadows. From these the marks grow (a pixel at a time, at most
// framesGrow of the face width) over neighbours half as far from skin in
// the zone without margins: the frame's blurred edges and the parts of it
// near the eyes and brows, as long as they are on a thin line
// (framesLine, framesContrast), not the broad tint of a lens. Nothing is marked unless something is over the
// top of the nose, where a pair of glasses has its bridge. With thinOnly
// (for the target, whose frames stay in front of the new face) only what
// runs through the bridge counts, and only when it is lines (thin) reaching
// across both eyes (acrossEyes): eyeliner and make-up are not kept. ok is
// false when nothing is marked.
func frameMarks(l, a, b *plane, m []faceswap.Point3, skin skinStats, ox, oy, fw float64, thinOnly bool) (marks *plane, ok bool) {
	far := func(i int) float64 { return skin.far(l.v[i], a.v[i], b.v[i], true) }
	if !bridgeMarked(l.w, l.h, m, ox, oy, fw, far) {
		return newPlane(l.w, l.h), false
	}
	strict, wide := glassesZones(l.w, l.h, m, ox, oy, fw)
	lines := l.thinLines(max(1, int(math.Ceil(framesLine*fw))), framesContrast)
	marks = newPlane(l.w, l.h)
	weak := newPlane(l.w, l.h)
	for i, z := range wide.v {
		if z == 0 {
			continue
		}
		d := far(i)
		if d > framesFar/2 && lines.v[i] > 0 {
			weak.v[i] = 1
		}
		if d > framesFar && strict.v[i] > 0 {
			marks.v[i] = 1
			ok = true
		}
	}
	// glasses have a bridge: without a mark over the top of the nose, dark
	// marks elsewhere are the ends of brows the mesh's outline missed (on
	// a turned face) or shadows
	bx, by := m[168].X-ox, m[168].Y-oy
	onBridge := func(i int) bool { return math.Hypot(float64(i%l.w)+0.5-bx, float64(i/l.w)+0.5-by) < 0.08*fw }
	bridge := false
	for i, v := range marks.v {
		if v > 0 && onBridge(i) {
			bridge = true
			break
		}
	}
	if !bridge {
		return newPlane(l.w, l.h), false
	}
	// grow through the weak pixels, breadth first, up to framesGrow of the
	// face width from where it started
	limit := int(math.Ceil(framesGrow * fw))
	dist := make([]int32, len(marks.v))
	var queue []int
	for i, v := range marks.v {
		if v > 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		x, y := i%l.w, i/l.w
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				nx, ny := x+dx, y+dy
				if nx < 0 || ny < 0 || nx >= l.w || ny >= l.h {
					continue
				}
				j := ny*l.w + nx
				if marks.v[j] == 0 && weak.v[j] > 0 && int(dist[i]) < limit {
					marks.v[j] = 1
					dist[j] = dist[i] + 1
					queue = append(queue, j)
				}
			}
		}
	}
	if thinOnly {
		// the frames are what runs through the bridge
		marks = marks.connected(onBridge)
		if !thin(marks, fw) || !acrossEyes(marks, m, ox, oy) {
			return newPlane(l.w, l.h), false
		}
	}
	return marks.maxOver(max(1, int(math.Ceil(framesEdge*fw)))), true
}

// acrossEyes reports whether marks reach, along the line between the eyes
// of mesh m, from the top of the nose past the inner corner of each eye to
// its middle: a pair of glasses does, eyeliner or a shadow beside the nose
// does not.
func acrossEyes(marks *plane, m []faceswap.Point3, ox, oy float64) bool {
	re, le := landmark.EyeCenters(m)
	ex, ey := le.X-re.X, le.Y-re.Y
	d2 := ex*ex + ey*ey
	if d2 < 1 {
		return false
	}
	// along: 0 at the image-left eye's centre, 1 at the other's
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range marks.v {
		if v > 0 {
			x, y := float64(i%marks.w)+0.5+ox, float64(i/marks.w)+0.5+oy
			t := ((x-re.X)*ex + (y-re.Y)*ey) / d2
			lo, hi = math.Min(lo, t), math.Max(hi, t)
		}
	}
	return lo <= 0 && hi >= 1
}

// thin reports whether marks are lines, as frames of glasses are: an
// opening (erosion, then dilation) by framesThick of the face width keeps
// at most framesThickShare of them. Make-up around the eyes and the dark
// tint of a lens are filled areas, which it keeps.
func thin(marks *plane, fw float64) bool {
	r := max(1, int(math.Ceil(framesThick*fw)))
	opened := marks.minOver(r).maxOver(r)
	var all, thick float64
	for i, v := range marks.v {
		all += float64(v)
		thick += float64(opened.v[i])
	}
	return thick <= framesThickShare*all
}

// skinStats are the median and spread (robustStats, with floors) of a
// face's skin in L*, a* and b*.
type skinStats struct{ ml, sl, ma, sa, mb, sb float64 }

func skinOf(l, a, b, cheeks *plane) skinStats {
	var s skinStats
	s.ml, s.sl = robustStats(l, cheeks)
	s.ma, s.sa = robustStats(a, cheeks)
	s.mb, s.sb = robustStats(b, cheeks)
	s.sl, s.sa, s.sb = max(s.sl, 6), max(s.sa, 2.5), max(s.sb, 2.5)
	return s
}

// far is how many spreads a colour is from the skin's; with darkerOnly,
// lightness counts only below the skin's (a lighter pixel is a highlight).
func (s skinStats) far(l, a, b float32, darkerOnly bool) float64 {
	dl := (float64(l) - s.ml) / s.sl
	if darkerOnly {
		dl = math.Min(0, dl)
	}
	da := (float64(a) - s.ma) / s.sa
	db := (float64(b) - s.mb) / s.sb
	return math.Sqrt(dl*dl + da*da + db*db)
}

// bridgeMarked is frameMarks' first test, cheap enough for every face:
// whether any pixel within 8% of the face width of the top of the nose
// (mesh point 168), inside the oval and away from the eyes and brows as
// glassesZones keep them (by polygon and distance to their outlines), is
// far from skin (far(i) > framesFar). Most faces have no glasses, and the
// zone's dilations and line filters then cost nothing.
func bridgeMarked(w, h int, m []faceswap.Point3, ox, oy, fw float64, far func(i int) float64) bool {
	bx, by := m[168].X-ox, m[168].Y-oy
	rad := 0.08 * fw
	spare := math.Ceil(framesSpare * fw)
	type contour struct{ xs, ys []float64 }
	outline := func(idx []int) contour { xs, ys := pointsOf(m, idx, ox, oy); return contour{xs, ys} }
	oval := outline(faceOval)
	near := func(x, y float64, c contour, reach float64) bool {
		if insideXY(c.xs, c.ys, x, y) {
			return true
		}
		for k := range c.xs {
			if math.Abs(c.xs[k]-x) <= reach && math.Abs(c.ys[k]-y) <= reach {
				return true
			}
		}
		return false
	}
	rEye, lEye, rBrow, lBrow := outline(rightEye), outline(leftEye), outline(rightBrow), outline(leftBrow)
	for y := max(0, int(by-rad)); y <= min(h-1, int(by+rad)); y++ {
		for x := max(0, int(bx-rad)); x <= min(w-1, int(bx+rad)); x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			if math.Hypot(px-bx, py-by) >= rad || far(y*w+x) <= framesFar {
				continue
			}
			if !insideXY(oval.xs, oval.ys, px, py) || near(px, py, rEye, spare) || near(px, py, lEye, spare) ||
				near(px, py, rBrow, 2*spare) || near(px, py, lBrow, 2*spare) {
				continue
			}
			return true
		}
	}
	return false
}

// removeFrames paints over the frames of glasses (frameMarks) in the
// warped source img, whose face has mesh m in the region at ox, oy, with
// the skin around them (paintOver). cheeks is where its skin is measured.
// It returns how much of each pixel was painted over (0..1), and whether
// what was painted reaches across both eyes (acrossEyes) as a pair of
// glasses does: strands of hair over one eye of a woman looking down
// (face-api's demo photo 2) are painted too, which hides some of them.
func removeFrames(img *resample.Image, m []faceswap.Point3, cheeks *plane, ox, oy, fw float64) (painted *plane, glasses bool) {
	l, a, b := toLab(img)
	skin := skinOf(l, a, b, cheeks)
	marks, ok := frameMarks(l, a, b, m, skin, ox, oy, fw, false)
	if !ok {
		return newPlane(img.W, img.H), false // all 0
	}
	return paintOver(img, [3]*plane{l, a, b}, marks, skin, fw, 0), acrossEyes(marks, m, ox, oy)
}

// grainOf is, for each pixel where painted > 0, the fine detail of l
// (its difference from l blurred by sigma) at the first pixel d, 2d or 3d
// away (below, above, right, left) that is not painted; 0 where none is.
func grainOf(l, painted *plane, sigma float64, d int) *plane {
	smooth := copyPlane(l)
	smooth.blur(sigma)
	out := newPlane(l.w, l.h)
	for i, v := range painted.v {
		if v <= 0 {
			continue
		}
		x, y := i%l.w, i/l.w
	far:
		for k := 1; k <= 3; k++ {
			for _, o := range [4][2]int{{0, k * d}, {0, -k * d}, {k * d, 0}, {-k * d, 0}} {
				nx, ny := x+o[0], y+o[1]
				if nx < 0 || ny < 0 || nx >= l.w || ny >= l.h {
					continue
				}
				if j := ny*l.w + nx; painted.v[j] <= 0 {
					out.v[i] = l.v[j] - smooth.v[j]
					break far
				}
			}
		}
	}
	return out
}

// paintOver paints the marked pixels of img (lab: its L*a*b*) with the
// skin around them: a normalised convolution, in L*a*b*, of the pixels
// that look like skin (within half of framesFar of skin's colour), widened
// until it reaches some. It returns how much of each pixel was painted
// over (0..1). With grain > 0 the painted lightness takes the fine detail
// (finer than grain pixels) of the nearest unpainted skin a few widths
// away (grainOf): a flat fill showed the frames as smooth bands.
func paintOver(img *resample.Image, lab [3]*plane, marks *plane, skin skinStats, fw, grain float64) *plane {
	l, a, b := lab[0], lab[1], lab[2]
	keep := newPlane(img.W, img.H)
	for i := range keep.v {
		if marks.v[i] == 0 && skin.far(l.v[i], a.v[i], b.v[i], false) <= framesFar/2 {
			keep.v[i] = 1
		}
	}
	// filled under a soft edge: a hard one left a step that matchBands
	// then sharpened into an outline of the frame
	soft := copyPlane(marks)
	soft.blur(max(0.7, 0.5*framesEdge*fw))
	for i, v := range soft.v {
		soft.v[i] = max(marks.v[i], min(1, 2*v))
	}
	var detail *plane
	if grain > 0 {
		detail = grainOf(l, soft, grain, max(2, int(math.Round(wireGrainShift*fw))))
	}
	// the fill: the kept skin's mean around each pixel at four doubling
	// scales, the finer where enough skin is near, each blended into the
	// coarser by how much (taken scale by scale, "first with enough skin",
	// the scales' fills met at hard edges: a pale patch under the straw
	// woman's frame)
	done := newPlane(img.W, img.H)
	fill := [3]*plane{newPlane(img.W, img.H), newPlane(img.W, img.H), newPlane(img.W, img.H)}
	sigma := max(1, 1.5*math.Ceil(framesLine*fw)) * 8
	for pass := 3; pass >= 0; pass-- {
		den := copyPlane(keep)
		den.blur(sigma)
		// how much of this scale's fill a pixel takes: all of it where no
		// coarser scale reached, else by how much skin is near
		w := newPlane(img.W, img.H)
		for i, v := range soft.v {
			if v == 0 || den.v[i] <= 1e-4 {
				continue
			}
			w.v[i] = 1
			if done.v[i] > 0 {
				w.v[i] = min(1, max(0, (den.v[i]-0.05)/0.25))
			}
			done.v[i] = 1
		}
		for k, p := range []*plane{l, a, b} {
			num := copyPlane(p)
			num.mul(keep)
			num.blur(sigma)
			for i, wi := range w.v {
				if wi > 0 {
					fill[k].v[i] += wi * (num.v[i]/den.v[i] - fill[k].v[i])
				}
			}
		}
		sigma /= 2
	}
	for i, v := range soft.v {
		if v == 0 || done.v[i] == 0 {
			continue
		}
		l.v[i] += v * (fill[0].v[i] - l.v[i])
		a.v[i] += v * (fill[1].v[i] - a.v[i])
		b.v[i] += v * (fill[2].v[i] - b.v[i])
		if detail != nil {
			l.v[i] += v * detail.v[i]
		}
	}
	// only the marked pixels change (a round trip through L*a*b* is not
	// exact to the last bit)
	filled := resample.New(img.W, img.H)
	fromLab(l, a, b, filled)
	for i, v := range done.v {
		if v > 0 {
			copy(img.Pix[3*i:3*i+3], filled.Pix[3*i:3*i+3])
		}
	}
	return soft
}
