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

func labF(t float64) float64 {
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
	if c <= 0.0031308 {
		c *= 12.92
	} else {
		c = 1.055*math.Pow(c, 1/2.4) - 0.055
	}
	return float32(math.Max(0, math.Min(255, c*255)))
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

// transfer makes the warped source face take the target's colour and
// lighting while keeping its own detail: the chroma (a*, b*) is matched in
// mean and spread over skin both faces show; the lightness keeps the
// source's detail above the low-pass and takes the target's low-pass
// (shading and skin tone), so one-sided light on the source does not come
// through and the target's does.
//
// When the source face was enlarged (ratio, source scale over target scale,
// below 1), it lacks the fine grain of the target's skin and looks soft next
// to it: the target's own fine detail (lightness above a blur of about one
// source pixel) is added back over skin, weighted by how much was missing.
// tgt is the target region in L*a*b* (toLab), which it only reads.
func transfer(warped *resample.Image, tgt [3]*plane, skin *plane, sigma, ratio float64) {
	wl, wa, wb := toLab(warped)
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
	if ssa < 1 && ssb < 1 && math.Hypot(msa, msb) < 2 {
		// an achromatic (grey) source: all of it takes the target's skin
		// colour, since no pixel shows how skin-coloured it is
		skinChroma = 0
	}
	if sta < 1 && stb < 1 && math.Hypot(mta, mtb) < 2 {
		// an achromatic (grey) target: the face takes no colour at all
		for i := range wa.v {
			wa.v[i], wb.v[i] = float32(mta), float32(mtb)
		}
		skinChroma = math.Inf(1)
	}
	for i := range wa.v {
		a, b := float64(wa.v[i]), float64(wb.v[i])
		// a pixel takes the skin's colour shift in proportion to how much
		// of the skin's chroma it has: skin fully, neutral whites hardly
		// (a full shift turned the whites of an orange-cast photo's eyes
		// cyan on a neutral target)
		k := 1.0
		if skinChroma > 0 {
			k = math.Min(1, math.Hypot(a, b)/skinChroma)
		}
		wa.v[i] = float32(a + k*((a-msa)*ga+mta-a))
		wb.v[i] = float32(b + k*((b-msb)*gb+mtb-b))
	}
	baseW := maskedLowPass(wl, skin, sigma)
	baseT := maskedLowPass(tl, skin, sigma)
	for i := range wl.v {
		wl.v[i] += baseT.v[i] - baseW.v[i]
	}
	if g := math.Min(0.8, 1-ratio); g > 0.05 {
		fine := copyPlane(tl)
		fine.blur(math.Max(0.7, 0.6/ratio))
		sk := copyPlane(skin)
		sk.blur(2)
		for i := range wl.v {
			wl.v[i] += float32(g) * sk.v[i] * (tl.v[i] - fine.v[i])
		}
	}
	fromLab(wl, wa, wb, warped)
}
