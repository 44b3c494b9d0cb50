package mesh

import (
	"math"

	"faceswap/resample"
)

// Colour work happens in CIE L*a*b* (D65): perceptual distances, and
// lightness separate from colour.

var srgbToLinear [256]float32

func init() {
	for i := range srgbToLinear {
		c := float64(i) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		srgbToLinear[i] = float32(c)
	}
}

func linear(v float32) float64 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 1
	}
	i := int(v)
	f := v - float32(i)
	if i >= 255 {
		return float64(srgbToLinear[255])
	}
	return float64(srgbToLinear[i]*(1-f) + srgbToLinear[i+1]*f)
}

// The cube root of labF and the power of toSRGB were a third of a swap's
// time; both are read from tables over [0, 1] (where every in-gamut value
// falls) with linear interpolation, exact to within 1e-5 in L*a*b* and
// 0.005 of a level in sRGB; values outside [0, 1] are computed.
const curveSteps = 4096

var cbrtTable, srgbTable [curveSteps + 2]float64

func init() {
	for i := range cbrtTable {
		c := float64(i) / curveSteps
		cbrtTable[i] = labFExact(c)
		srgbTable[i] = toSRGBExact(c)
	}
}

// curve reads table t at c in [0, 1].
func curve(t *[curveSteps + 2]float64, c float64) float64 {
	x := c * curveSteps
	i := int(x)
	f := x - float64(i)
	return t[i] + f*(t[i+1]-t[i])
}

func labF(t float64) float64 {
	if t >= 0 && t <= 1 {
		return curve(&cbrtTable, t)
	}
	return labFExact(t)
}

func labFExact(t float64) float64 {
	if t > 216.0/24389 {
		return math.Cbrt(t)
	}
	return (24389.0/27*t + 16) / 116
}

func labFInv(t float64) float64 {
	if t3 := t * t * t; t3 > 216.0/24389 {
		return t3
	}
	return (116*t - 16) * 27 / 24389
}

// toLab converts an RGB image (0..255) to three planes L, a, b.
func toLab(im *resample.Image) (l, a, b *plane) {
	l, a, b = newPlane(im.W, im.H), newPlane(im.W, im.H), newPlane(im.W, im.H)
	for i := range l.v {
		r, g, bl := linear(im.Pix[3*i]), linear(im.Pix[3*i+1]), linear(im.Pix[3*i+2])
		x := (0.4124564*r + 0.3575761*g + 0.1804375*bl) / 0.95047
		y := 0.2126729*r + 0.7151522*g + 0.0721750*bl
		z := (0.0193339*r + 0.1191920*g + 0.9503041*bl) / 1.08883
		fx, fy, fz := labF(x), labF(y), labF(z)
		l.v[i] = float32(116*fy - 16)
		a.v[i] = float32(500 * (fx - fy))
		b.v[i] = float32(200 * (fy - fz))
	}
	return l, a, b
}

func toSRGB(c float64) float32 {
	if c >= 0 && c <= 1 {
		return float32(curve(&srgbTable, c))
	}
	return float32(toSRGBExact(c))
}

func toSRGBExact(c float64) float64 {
	if c <= 0.0031308 {
		c *= 12.92
	} else {
		c = 1.055*math.Pow(c, 1/2.4) - 0.055
	}
	return math.Max(0, math.Min(255, c*255))
}

// fromLab converts L, a, b planes back into im.
func fromLab(l, a, b *plane, im *resample.Image) {
	for i := range l.v {
		fy := (float64(l.v[i]) + 16) / 116
		fx := fy + float64(a.v[i])/500
		fz := fy - float64(b.v[i])/200
		x, y, z := labFInv(fx)*0.95047, labFInv(fy), labFInv(fz)*1.08883
		r := 3.2404542*x - 1.5371385*y - 0.4985314*z
		g := -0.9692660*x + 1.8760108*y + 0.0415560*z
		bl := 0.0556434*x - 0.2040259*y + 1.0572252*z
		im.Pix[3*i], im.Pix[3*i+1], im.Pix[3*i+2] = toSRGB(r), toSRGB(g), toSRGB(bl)
	}
}

// stats returns the weighted mean and standard deviation of p under w.
func stats(p, w *plane) (mean, std float64) {
	var sw, s, ss float64
	for i, v := range p.v {
		if w.v[i] <= 0 {
			continue
		}
		x := float64(v)
		sw += float64(w.v[i])
		s += float64(w.v[i]) * x
		ss += float64(w.v[i]) * x * x
	}
	if sw == 0 {
		return 0, 1
	}
	mean = s / sw
	return mean, math.Sqrt(math.Max(ss/sw-mean*mean, 1e-6))
}

// maskedLowPass returns the low-pass of p over the pixels where w > 0
// (normalised convolution: blur(p·w)/blur(w)), computed at a reduced
// resolution for speed; sigma is in full-resolution pixels.
func maskedLowPass(p, w *plane, sigma float64) *plane {
	f := max(1, int(sigma/4))
	pw := newPlane(p.w, p.h)
	for i := range p.v {
		pw.v[i] = p.v[i] * w.v[i]
	}
	num, den := pw.downsample(f), w.downsample(f)
	num.blur(sigma / float64(f))
	den.blur(sigma / float64(f))
	for i := range num.v {
		if den.v[i] > 1e-4 {
			num.v[i] /= den.v[i]
		} else {
			num.v[i] = 0
		}
	}
	// fill where no skin was near: the overall mean
	m, _ := stats(p, w)
	for i := range num.v {
		if den.v[i] <= 1e-4 {
			num.v[i] = float32(m)
		}
	}
	return num.upsampleTo(p.w, p.h, f)
}

// Lightness transfer parameters, as fractions of the target face's width
// (the distance across the oval at the cheekbones).
const (
	// lightSigma is the scale of the low-pass whose target version the
	// swapped face takes (its lighting and skin tone) and whose source
	// version it loses. At 0.08 the target's low-pass carried its own nose,
	// eye sockets and beard shadow into the swapped face: raising it to
	// 0.25 moved the FaceRes margins (cosine to the source minus cosine to
	// the target) of the Apollo crew's face in the office photo's first two
	// faces from −0.12 and −0.03 to +0.01 and −0.01; the lighting's
	// direction and fall-off still come through.
	lightSigma = 0.25
	// relightBelow and relightAt: faces narrower than relightBelow pixels
	// take part of their shading from a fitted lighting model on the
	// target's own surface (fitShading), up to relightAt of it at 32 px.
	// A small face's shape and expression are read from its shading: with
	// the low-pass alone, a 28-px face of the class photo came back from
	// re-analysis with its mesh 5.5% of the interocular distance away from
	// the target's; half relit, 4.4%.
	relightBelow = 64
	relightAt    = 0.5
	// maxDetailGain caps how much the source's own fine detail is raised
	// to the target's crispness (matchBands).
	maxDetailGain = 2
)

// transfer makes the warped source face take the target's colour and
// lighting while keeping its own detail: the chroma (a*, b*) is matched in
// mean and spread over skin both faces show (across a large gap in skin
// lightness, along each face's colour line: colourLines); the lightness
// keeps the source's detail above a low-pass at lightSigma and takes the
// target's low-pass (shading and skin tone), so one-sided light on the
// source does not come through and the target's does. On small faces part of the
// source's shading is first replaced by the target's through a lighting
// model fitted on each face's normals (relightBelow). Last, the source's
// finer bands are sharpened towards the target's energy (matchBands): a
// face enlarged from a small or soft photo looks as crisp as its
// surroundings with its own detail, not the target's.
//
// tgt is the target region in L*a*b* (toLab), which it only reads; fw is
// the target face's width in pixels. w.img is changed in place.
func transfer(w warped, tgt [3]*plane, skin *plane, fw float64) {
	warpedImg := w.img
	wl, wa, wb := toLab(warpedImg)
	tl, ta, tb := tgt[0], tgt[1], tgt[2]
	msa, ssa := stats(wa, skin)
	msb, ssb := stats(wb, skin)
	mta, sta := stats(ta, skin)
	mtb, stb := stats(tb, skin)
	// a small gain range: a large gain pushes what is far from skin (the
	// whites of the eyes, teeth) far off its colour
	ga := math.Max(0.8, math.Min(1.25, sta/ssa))
	gb := math.Max(0.8, math.Min(1.25, stb/ssb))
	skinChroma := math.Max(math.Hypot(msa, msb), 1)
	// an achromatic (grey) source: no pixel shows how skin-coloured it is,
	// so it takes the target's colour where it lands (greyColour)
	greySource := ssa < 1 && ssb < 1 && math.Hypot(msa, msb) < 2
	if sta < 1 && stb < 1 && math.Hypot(mta, mtb) < 2 {
		// an achromatic (grey) target: the face takes no colour at all
		for i := range wa.v {
			wa.v[i], wb.v[i] = float32(mta), float32(mtb)
		}
		skinChroma = math.Inf(1)
		greySource = false
	}
	// across a large gap in skin lightness the colour follows each face's
	// colour line (colourLines), read at the pixel's new lightness
	var lines *colourLines
	if !greySource && !math.IsInf(skinChroma, 1) {
		lines = newColourLines(wl, wa, wb, tgt, skin)
	}
	chroma := func() {
		for i := range wa.v {
			a, b := float64(wa.v[i]), float64(wb.v[i])
			// a pixel takes the skin's colour shift in proportion to how
			// much of the skin's chroma it has: skin fully, neutral whites
			// hardly (a full shift turned the whites of an orange-cast
			// photo's eyes cyan on a neutral target)
			k := 1.0
			if skinChroma > 0 {
				k = math.Min(1, math.Hypot(a, b)/skinChroma)
			}
			na, nb := (a-msa)*ga+mta, (b-msb)*gb+mtb
			if lines != nil {
				// run after the lightness transfer: wl is the new one
				na, nb = lines.at(i, float64(wl.v[i]), a, b, ga, gb, na, nb)
			}
			wa.v[i] = float32(a + k*(na-a))
			wb.v[i] = float32(b + k*(nb-b))
		}
	}
	if lines == nil {
		chroma()
	}
	sigma := lightSigma * fw
	baseT := maskedLowPass(tl, skin, sigma)
	var relit *plane
	if alpha := relightWeight(fw); alpha > 0 && w.tn != nil {
		relit = relight(wl, tl, skin, w)
		baseR := maskedLowPass(relit, skin, sigma)
		for i := range relit.v {
			relit.v[i] = alpha * (relit.v[i] + baseT.v[i] - baseR.v[i])
		}
	}
	baseW := maskedLowPass(wl, skin, sigma)
	for i := range wl.v {
		v := wl.v[i] + baseT.v[i] - baseW.v[i]
		if relit != nil {
			v = relit.v[i] + (1-relightWeight(fw))*v
		}
		wl.v[i] = v
	}
	if lines != nil {
		// after the lightness: the colour line is read at the new one
		chroma()
	}
	if greySource {
		tameMidBand(wl, tl, skin, fw)
	}
	matchBands(wl, tl, skin)
	if greySource {
		greyColour(wl, wa, wb, tgt, fw)
	}
	fromLab(wl, wa, wb, warpedImg)
}

// greyColour colours a grey source's face, lightness wl, with the
// target's colour at the same place (a* and b* set in wa, wb): its skin's,
// its lips', the whites of its eyes', smoothed over 1% of the face width
// fw. Where the face is darker than the target there, the chroma falls
// with L*+16 (proportional to the cube root of luminance, as a* and b*
// are): the same colour in less light. Given the target's mean skin colour
// everywhere, a dark-skinned black-and-white source's stubble and shadowed
// eye sockets came out as saturated brown patches on a light face, and its
// teeth and the whites of its eyes skin-coloured.
func greyColour(wl, wa, wb *plane, tgt [3]*plane, fw float64) {
	s := max(1, 0.01*fw)
	tl, ta, tb := copyPlane(tgt[0]), copyPlane(tgt[1]), copyPlane(tgt[2])
	for _, p := range []*plane{tl, ta, tb} {
		p.blur(s)
	}
	for i := range wl.v {
		f := min(1, max(0, (wl.v[i]+16)/max(tl.v[i]+16, 1)))
		wa.v[i], wb.v[i] = f*ta.v[i], f*tb.v[i]
	}
}

// relightWeight is the share of the relit shading for a face fw pixels wide.
func relightWeight(fw float64) float32 {
	return float32(relightAt * math.Max(0, math.Min(1, (relightBelow-fw)/(relightBelow-32))))
}

// relight returns the warped lightness with the source's shading taken out
// and the target's put in: both are fitted (fitShading) in log(L*+16) —
// proportional to log luminance above the dark end — on the skin both faces
// show, the source's on the normals its texture came from, the target's on
// its own; pixels the warp did not draw keep their value.
func relight(wl, tl, skin *plane, w warped) *plane {
	uS, uT := newPlane(wl.w, wl.h), newPlane(wl.w, wl.h)
	for i := range wl.v {
		uS.v[i] = float32(math.Log(math.Max(float64(wl.v[i])+16, 1)))
		uT.v[i] = float32(math.Log(math.Max(float64(tl.v[i])+16, 1)))
	}
	shT := fitShading(uT, w.tn, skin)
	shS := fitShading(uS, w.sn, skin)
	out := copyPlane(wl)
	tn, sn := w.tn, w.sn
	for i := range out.v {
		if w.cover.v[i] == 0 {
			continue
		}
		u := float64(uS.v[i]) - shS.at(sn[3*i], sn[3*i+1], sn[3*i+2]) + shT.at(tn[3*i], tn[3*i+1], tn[3*i+2])
		out.v[i] = float32(math.Max(0, math.Min(100, math.Exp(u)-16)))
	}
	return out
}

// matchBands raises the energy of the source's finer bands of lightness
// (differences of Gaussians at 1, 2 and 4 px) towards the target's over
// skin both show, by gains between 1 and maxDetailGain (band-energy
// matching as in Sunkavalli et al. 2010 and Shih et al. 2014). A face
// enlarged from a smaller or softer source gets its own detail sharpened to
// the target's crispness. It replaced adding the target's own fine detail
// to enlarged faces, which carried the target's stubble and wrinkles, and
// so its identity, into the swapped face: dropping that moved the FaceRes
// margin of the Apollo crew's face in the office photo's bearded man from
// −0.20 to −0.03, and sharpening its own detail instead raised it further
// (from +0.03 to +0.07 with gains up to 1.5, at the time it was measured).
func matchBands(wl, tl, skin *plane) {
	bands := func(p *plane) []*plane {
		var out []*plane
		prev := p
		for _, s := range []float64{1, 2, 4} {
			b := copyPlane(p)
			b.blur(s)
			d := newPlane(p.w, p.h)
			for i := range d.v {
				d.v[i] = prev.v[i] - b.v[i]
			}
			out = append(out, d)
			prev = b
		}
		return out
	}
	bs, bt := bands(wl), bands(tl)
	for k := range bs {
		var es, et float64
		for i, w := range skin.v {
			if w > 0 {
				es += float64(w) * math.Abs(float64(bs[k].v[i]))
				et += float64(w) * math.Abs(float64(bt[k].v[i]))
			}
		}
		if es == 0 {
			continue
		}
		g := float32(math.Max(1, math.Min(maxDetailGain, et/es)) - 1)
		if g == 0 {
			continue
		}
		for i := range wl.v {
			wl.v[i] += g * bs[k].v[i]
		}
	}
}

// greyMidGain is the least gain tameMidBand gives a grey source's
// mid-scale lightness: its contrast falls to the target's, at most by half.
const greyMidGain = 0.5

// tameMidBand lowers the source's lightness contrast at mid scales
// (between 3% and lightSigma of the face width: shadows of the nose, eye
// sockets, lips and chin) to the target's over skin both show, never
// raising it, by a gain down to greyMidGain. It runs on grey sources: a
// black-and-white photo's contrast is the photographer's choice, often
// pushed far beyond what colour skin shows. The dark-skinned young man's
// black-and-white portrait (his face in his cap's shadow) put into the
// evenly lit frontal man had 1.55 times his mid-scale contrast and came out
// with dark blotches round the nose, mouth and eye sockets, its skin 13.6
// ΔE from the neck (the evaluator's tone_neck; 5.5 tamed).
func tameMidBand(wl, tl, skin *plane, fw float64) {
	band := func(p *plane) *plane {
		fine, coarse := copyPlane(p), copyPlane(p)
		fine.blur(0.03 * fw)
		coarse.blur(lightSigma * fw)
		for i := range fine.v {
			fine.v[i] -= coarse.v[i]
		}
		return fine
	}
	bs, bt := band(wl), band(tl)
	var es, et float64
	for i, w := range skin.v {
		if w > 0 {
			es += float64(w) * float64(bs.v[i]) * float64(bs.v[i])
			et += float64(w) * float64(bt.v[i]) * float64(bt.v[i])
		}
	}
	if es == 0 {
		return
	}
	g := float32(math.Max(greyMidGain, math.Min(1, math.Sqrt(et/es))) - 1)
	if g == 0 {
		return
	}
	for i := range wl.v {
		wl.v[i] += g * bs.v[i]
	}
}

// colourLineFrom and colourLineAt: between these differences of the two
// faces' mean skin lightness (L*), the colour transfer turns from a shift
// of the source's colour to the target's (transfer) to the colour lines
// (colourLines), fully from colourLineAt.
const (
	colourLineFrom = 10
	colourLineAt   = 20
	// colourSlopeMax bounds a colour line's slope (a* or b* per L*).
	colourSlopeMax = 1.0
)

// colourLines take a source's colour onto a target whose skin is much
// lighter or darker. Skin's a* and b* change with its lightness, each
// face in its own way: fitted over the skin both show, a* = α + β·L* per
// face (and b* the same). A pixel keeps its offset from the source's line
// at its own lightness and takes the target's line at its new one. With
// one shift of the mean colour for all, the darker patches of a
// dark-skinned source (round the mouth, over the eyes) came out grey-green
// on a light face, and a light source's rosy cheeks as red patches on a
// dark one; near the two faces' lightness the shift stays (colourLineFrom):
// the lines cost the FaceRes margin of faces of like tone and hardly
// changed how they look.
type colourLines struct {
	w              float64 // the share of the lines (colourLineFrom..At)
	sa, sb, ta, tb line
	from           *plane // the source's lightness before the transfer
}

// newColourLines fits the lines of the warped source (wl, wa, wb) and the
// target (tgt) over skin; nil when the two faces' skin is alike in
// lightness.
func newColourLines(wl, wa, wb *plane, tgt [3]*plane, skin *plane) *colourLines {
	ms, _ := stats(wl, skin)
	mt, _ := stats(tgt[0], skin)
	x := math.Max(0, math.Min(1, (math.Abs(ms-mt)-colourLineFrom)/(colourLineAt-colourLineFrom)))
	if x == 0 {
		return nil
	}
	return &colourLines{
		w:  x * x * (3 - 2*x),
		sa: fitLine(wl, wa, skin), sb: fitLine(wl, wb, skin),
		ta: fitLine(tgt[0], tgt[1], skin), tb: fitLine(tgt[0], tgt[2], skin),
		from: copyPlane(wl),
	}
}

// at returns pixel i's new colour (l1 its new lightness; a, b its own
// colour; ga, gb the gains of the spread; na, nb the plain shift's
// result), the lines' share mixed in.
func (c *colourLines) at(i int, l1, a, b, ga, gb, na, nb float64) (float64, float64) {
	l0 := float64(c.from.v[i])
	la := (a-c.sa.at(l0))*ga + c.ta.at(l1)
	lb := (b-c.sb.at(l0))*gb + c.tb.at(l1)
	return na + c.w*(la-na), nb + c.w*(lb-nb)
}

// line is y = a + b·x.
type line struct{ a, b float64 }

func (l line) at(x float64) float64 { return l.a + l.b*x }

// fitLine fits y on x by least squares, weighted by w, its slope bounded by
// colourSlopeMax (and 0 where x hardly varies).
func fitLine(x, y, w *plane) line {
	var sw, sx, sy, sxx, sxy float64
	for i, q := range w.v {
		if q <= 0 {
			continue
		}
		f, X, Y := float64(q), float64(x.v[i]), float64(y.v[i])
		sw += f
		sx += f * X
		sy += f * Y
		sxx += f * X * X
		sxy += f * X * Y
	}
	if sw == 0 {
		return line{}
	}
	mx, my := sx/sw, sy/sw
	slope := 0.0
	if v := sxx/sw - mx*mx; v > 1 {
		slope = math.Max(-colourSlopeMax, math.Min(colourSlopeMax, (sxy/sw-mx*my)/v))
	}
	return line{my - slope*mx, slope}
}
