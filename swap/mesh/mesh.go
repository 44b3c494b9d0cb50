// Package mesh is the built-in swap engine. For each pair it first gives
// the target face the source's shape (its outline, nose, eye spacing and
// brows, seen in the target's pose, with the target's lids, lips and jaw
// opening), moving the target picture with it (reshape), then warps the
// source face onto that 468-point mesh (triangle by triangle, in the
// requested interpolation, filling a half the source turns away from its
// mirror), paints the frames of the source's glasses over with its own
// skin, gives it the target's colour and low-frequency shading in L*a*b*
// and its own detail sharpened to the target's crispness, keeps the
// target's eye openings and (when open) mouth interior so gaze and
// expression stay the target's (its whole eyes, lids too, when the
// source's are too small or too turned to draw well), drops pixels that
// are not skin in either face (hair over the forehead, a straw, the
// target's own glasses), and blends it in with a multi-band blend under a
// soft mask that follows the face oval; what the mask drops is the
// target's in every band. A pair whose source's glasses it painted out
// comes back with that finding (swap.Region.Findings).
package mesh

import (
	"image"
	"math"
	"slices"
	"sync"

	"faceswap"
	"faceswap/resample"
	"faceswap/swap"
	"faceswap/swap/assess"
)

// Engine is the mesh engine. It has no state and is safe for concurrent use.
type Engine struct{}

// New returns the engine.
func New() *Engine { return &Engine{} }

// Name is "mesh".
func (*Engine) Name() string { return "mesh" }

// Swap implements swap.Engine.
//
// A pair reads and writes dst only inside its region (regionOf), so when
// every pair's region is apart from the others' and opt.Beside lends a
// second goroutine, the pairs are split in two groups of about equal area
// swapped side by side; the result is byte for byte the serial one.
func (e *Engine) Swap(dst, src *image.NRGBA, pairs []swap.Pair, opt swap.Options) ([]swap.Region, error) {
	// 1. each target face takes its new shape, one after the other, so
	// that every swap below sees the picture as moved whether the swaps
	// run in turn or side by side. The source faces are cut meanwhile
	// (that reads only src) on the lent goroutine, which then takes half
	// of a large region's reshape.
	var crops []*source
	ropt, waitCrops := opt, func() {}
	if opt.Beside != nil {
		waitCrops = sync.OnceFunc(opt.Beside(func() { crops = sourceCrops(src, pairs) }))
		ropt.Beside = func(fn func()) func() {
			return opt.Beside(func() { waitCrops(); fn() })
		}
	} else {
		crops = sourceCrops(src, pairs)
	}
	shaped, moved := reshapeAll(dst, src, pairs, ropt)
	waitCrops()
	// 2. the swaps
	regions := make([]swap.Region, len(pairs))
	rects, widths := make([]image.Rectangle, len(pairs)), make([]float64, len(pairs))
	for i, p := range shaped {
		rects[i], widths[i] = regionOf(dst, p.Target.Mesh)
	}
	run := func(idx []int, opt swap.Options) {
		for _, i := range idx {
			regions[i] = swap.Union(moved[i], e.swapOne(dst, src, crops[i], shaped[i], rects[i], widths[i], opt))
		}
	}
	if opt.Beside != nil && len(pairs) > 1 {
		if a, b, ok := splitApart(rects); ok {
			// the helper is taken: a pair may not lend it again
			alone := opt
			alone.Beside = nil
			wait := opt.Beside(func() { run(b, alone) })
			run(a, alone)
			wait()
			return regions, nil
		}
	}
	run(seq(len(pairs)), opt)
	return regions, nil
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// splitApart divides rects (by index) in two groups of about equal total
// area, largest first; ok is false when two rects overlap or a group would
// be empty.
func splitApart(rects []image.Rectangle) (a, b []int, ok bool) {
	for i := range rects {
		for j := i + 1; j < len(rects); j++ {
			if rects[i].Overlaps(rects[j]) {
				return nil, nil, false
			}
		}
	}
	order := seq(len(rects))
	area := func(i int) int { return rects[i].Dx() * rects[i].Dy() }
	slices.SortStableFunc(order, func(i, j int) int { return area(j) - area(i) })
	var sa, sb int
	for _, i := range order {
		if sa <= sb {
			a, sa = append(a, i), sa+area(i)
		} else {
			b, sb = append(b, i), sb+area(i)
		}
	}
	return a, b, len(a) > 0 && len(b) > 0
}

// regionOf is the part of dst a swap into the face with mesh T reads and
// writes (the face's bounds and a margin), and the face's width; empty
// when the mesh is not a full one.
func regionOf(dst *image.NRGBA, T []faceswap.Point3) (image.Rectangle, float64) {
	if len(T) != faceswap.MeshPoints {
		return image.Rectangle{}, 0
	}
	fw := max(faceWidth(T), 4)
	x0, y0, x1, y1 := bounds(T)
	margin := 0.08*fw + 4
	r := image.Rect(int(math.Floor(x0-margin)), int(math.Floor(y0-margin)), int(math.Ceil(x1+margin)), int(math.Ceil(y1+margin))).Intersect(dst.Rect)
	return r, fw
}

func pointsOf(mesh []faceswap.Point3, idx []int, ox, oy float64) (xs, ys []float64) {
	for _, i := range idx {
		xs = append(xs, mesh[i].X-ox)
		ys = append(ys, mesh[i].Y-oy)
	}
	return
}

func dist(a, b faceswap.Point3) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

// faceWidth is the distance across the oval at the cheekbones.
func faceWidth(m []faceswap.Point3) float64 { return dist(m[234], m[454]) }

// sourceCrops cuts each pair's source face (cropSource) once, however
// many pairs share it (one source into five faces took its crop, and the
// search for wire frames in it, five times); nil for a pair without a
// full mesh.
func sourceCrops(src *image.NRGBA, pairs []swap.Pair) []*source {
	type key struct {
		a, b faceswap.Point3
		box  faceswap.Rect
	}
	crops := make([]*source, len(pairs))
	seen := map[key]*source{}
	for i, p := range pairs {
		S := p.Source.Mesh
		if len(S) != faceswap.MeshPoints || len(p.Target.Mesh) != faceswap.MeshPoints {
			continue
		}
		k := key{S[0], S[1], p.Source.Box}
		if seen[k] == nil {
			seen[k] = cropSource(src, S)
		}
		crops[i] = seen[k]
	}
	return crops
}

// swapOne swaps p's source face, cut from src as crop, into dst inside r,
// the target face's region (regionOf), whose width is fw: at full
// resolution, or for a face wider than workWidth on the region reduced
// (swapReduced).
func (e *Engine) swapOne(dst, src *image.NRGBA, crop *source, p swap.Pair, r image.Rectangle, fw float64, opt swap.Options) swap.Region {
	T, S := p.Target.Mesh, p.Source.Mesh
	if len(T) != faceswap.MeshPoints || len(S) != faceswap.MeshPoints || crop == nil {
		return swap.Region{}
	}
	if r.Dx() < 2 || r.Dy() < 2 {
		return swap.Region{}
	}
	if k := int(math.Ceil(fw / workWidth)); k >= 2 {
		return e.swapReduced(dst, src, crop, p, r, fw, k, opt)
	}
	reg, _ := e.swapAt(dst, src, crop, p, r, fw, opt)
	return reg
}

// reshapeAll reshapes the target faces of pairs in dst in turn (reshape),
// each keeping clear of the others where they are at the time, and returns
// the pairs with their new target meshes and what each moved.
func reshapeAll(dst, src *image.NRGBA, pairs []swap.Pair, opt swap.Options) ([]swap.Pair, []swap.Region) {
	moved := make([]swap.Region, len(pairs))
	shaped := append([]swap.Pair(nil), pairs...)
	for i := range shaped {
		var others [][]faceswap.Point3
		for j, q := range shaped {
			if j != i && len(q.Target.Mesh) == faceswap.MeshPoints {
				others = append(others, q.Target.Mesh)
			}
		}
		shaped[i], moved[i] = reshape(dst, src, pairs[i], others, opt)
	}
	return shaped, moved
}

// reshape gives the pair's target face in dst its new shape (newShape,
// reshapeTarget), keeping clear of the faces others (meshes), and returns
// the pair with that mesh as the target's and what it moved.
func reshape(dst, src *image.NRGBA, p swap.Pair, others [][]faceswap.Point3, opt swap.Options) (swap.Pair, swap.Region) {
	T, S := p.Target.Mesh, p.Source.Mesh
	if len(T) != faceswap.MeshPoints || len(S) != faceswap.MeshPoints {
		return p, swap.Region{}
	}
	N := newShape(p, src.Rect, dst.Rect)
	// moving the picture by fractions of a pixel with a bilinear kernel
	// softened it (the fine lines around the office man's eyes fell to a
	// twentieth): at least bicubic
	k := opt.Interpolation
	if k == resample.Bilinear {
		k = resample.Bicubic
	}
	moved := reshapeTarget(dst, T, N, others, faceWidth(T), k, opt.Beside)
	p.Target.Mesh = N
	// the irises move with their eyes (reshapedMesh moves each as a whole)
	for i, e := range eyeMarks {
		p.Target.Irises[i] = movedIris(p.Target.Irises[i], T, N, e)
	}
	return p, moved
}

// newShape is the mesh the pair's target face is given (reshapedMesh):
// the target's moved towards the source's shape, as far as the two faces'
// turn allows (shapeGate); srcFrame and dstFrame are the pictures' bounds.
func newShape(p swap.Pair, srcFrame, dstFrame image.Rectangle) []faceswap.Point3 {
	gate := shapeGate(assess.Measure(p.Source, srcFrame).Yaw, assess.Measure(p.Target, dstFrame).Yaw)
	return reshapedMesh(p.Target.Mesh, p.Source.Mesh, gate)
}

// keptFeatures says which of the target's features stay: its eye openings
// (both or neither) when its eyes' openness differs from the source's (a
// squint or closed eyes against open ones: similarOpenness, or a stare
// against a frown: similarIrisShow, or somewhat on both:
// bothSomewhatApart), and its mouth interior when open; otherwise the
// source's eyes carry identity (kept openings get the source's eyeballs
// where they can: transplantEye). Eye by eye, a smiling woman given
// Santa's face kept her own blue squinting eye beside his brown wide-open
// one, and a three-quarter target's far eye, narrow from the turn,
// counted as a squint. T is the target's mesh in the swap's pixels.
func keptFeatures(p swap.Pair, T []faceswap.Point3) (eyes, mouth bool) {
	eyes = !similarOpenness(p.Source.Mesh, T) || !similarIrisShow(p.Source, p.Target) ||
		bothSomewhatApart(p.Source, p.Target, T)
	return eyes, mouthOpen(T)
}

// bothOpenMax is the factor by which the two faces' eye openings may
// differ both by the lid gap over the eye's width (similarOpenness) and by
// the lid gap over the iris diameter (similarIrisShow), the same way,
// before the target's openings stay: two measures that agree tell as much
// as one far apart. The laughing woman in the face-api demo photo, eyes
// narrowed and cast down, given the calm portrait's face reads 1.42 and
// 1.49 times less open; drawn, her eyes came out wide open.
const bothOpenMax = 1.3

// bothSomewhatApart reports whether the source's eyes are more open than
// the target's, or less, by more than bothOpenMax on both measures; T is
// the target's mesh as the swap sees it.
func bothSomewhatApart(s, t faceswap.Face, T []faceswap.Point3) bool {
	ri, ok := irisShowRatio(s, t)
	if !ok {
		return false
	}
	ro := openness(s.Mesh) / max(openness(T), 1e-6)
	return (ro > bothOpenMax && ri > bothOpenMax) || (ro < 1/bothOpenMax && ri < 1/bothOpenMax)
}

// swapAt is swapOne at the resolution of dst. crop is the source face's
// neighbourhood at full scale (cropSource), or nil to cut it here. It also
// returns the blend mask: the share of the source in the finest band of
// each pixel, 0 where the frames of its glasses were painted over.
func (e *Engine) swapAt(dst, src *image.NRGBA, crop *source, p swap.Pair, r image.Rectangle, fw float64, opt swap.Options) (swap.Region, *plane) {
	T, S := p.Target.Mesh, p.Source.Mesh
	ox, oy := float64(r.Min.X), float64(r.Min.Y)

	// 1. warp the source face onto the target mesh (already given the
	// source's shape: reshape)
	if crop == nil {
		crop = cropSource(src, S)
	}
	sc := crop.reduced(faceWidth(S) / fw)
	wp := warp(r, T, S, sc, opt.Interpolation, relightWeight(fw) > 0)
	target := resample.FromNRGBA(dst.SubImage(r).(*image.NRGBA))
	fill(wp.img, target, wp.cover)

	// the target's features that stay; where its eye openings would stay
	// and the source's eyes can be drawn well, the source's eyeballs are
	// drawn into them (transplantEye) with the target's gaze. Where the
	// source's eyes are poor (sourceEyesPoor), the target's whole eyes
	// stay: drawn from a turned or tiny source, the eyeballs came out
	// hazy and grey.
	keepEyes, keepMouth := keptFeatures(p, T)
	poor := sourceEyesPoor(p, T)
	if keepEyes && !poor {
		// both or neither: one eye the source's and one the target's
		// differ in colour
		var draw [2]func()
		for k := range draw {
			draw[k] = transplantEye(wp.img, target, T, p.Target.Irises[k], ox, oy, sc, S, p.Source.Irises, k, opt.Interpolation)
		}
		if draw[0] != nil && draw[1] != nil {
			draw[0]()
			draw[1]()
			keepEyes = false
		}
	}

	// 2. regions of the target face, and the skin both faces show
	g := regionsOf(r.Dx(), r.Dy(), T, ox, oy)
	skin := sharedSkin(g, wp.cover, fw)

	// 3. colour and lighting from the target, detail from the source; the
	// frames of the source's glasses painted over with its skin first,
	// and the target's own frames kept
	tl, ta, tb := toLab(target)
	tgtLab := [3]*plane{tl, ta, tb}
	cheeks := cheekBand(T, skin, ox, oy)
	painted, glasses := paintFrames(wp.img, crop, T, cheeks, ox, oy, fw)
	tgtFrames, _ := frameMarks(tl, ta, tb, T, skinOf(tl, ta, tb, cheeks), ox, oy, fw, true)
	transfer(wp, tgtLab, skin, fw)

	// 4. the blend mask
	notSkin := hairLike(wp.img, tgtLab, skin, cheeks, g.oval, g.eyes, g.brows, g.lips, fw)
	for i, v := range tgtFrames.v {
		notSkin.v[i] = max(notSkin.v[i], v)
	}
	mask := blendMask(wp, target, g, notSkin, keptOf(g, T, keepEyes || poor, poor, keepMouth, ox, oy, fw), T, ox, oy, fw)

	// 5. multi-band blend, then composite under the mask's support so that
	// nothing outside it changes
	bands := max(1, min(5, int(math.Log2(fw/8))))
	blended := blendBands(wp.img, target, mask, bands)
	alpha := composite(dst, r, blended, target, mask)
	// the source's fine detail is not wanted where its glasses' frames
	// were painted over (swapReduced adds it back at full resolution)
	for i, v := range painted.v {
		mask.v[i] *= 1 - v
	}
	reg := swap.Region{Bounds: r, Alpha: alpha}
	if glasses || (crop.wired && !crop.turned) {
		reg.Findings = append(reg.Findings, sourceGlasses)
	}
	return reg, mask
}

// paintFrames paints the frames of the source's glasses out of the warped
// source img (removeFrames) and returns what it painted and whether those
// were glasses (marks across both eyes); crop is the source's, and T the
// target's mesh in img's region at ox, oy. Nothing is painted on a source
// turned farther than assess.MaxPoseGap (crop.turned): the far half of
// such a face is drawn as its near half's mirror, and the eye make-up of
// a woman turned 50° (in face-api's demo photo 2), read as frames and
// painted over, left the outline of a pair of spectacles round the new
// eyes.
func paintFrames(img *resample.Image, crop *source, T []faceswap.Point3, cheeks *plane, ox, oy, fw float64) (painted *plane, glasses bool) {
	if crop.turned {
		return newPlane(img.W, img.H), false
	}
	return removeFrames(img, T, cheeks, ox, oy, fw)
}

// turnedFar reports whether the face of mesh m is turned left or right by
// more than assess.MaxPoseGap.
func turnedFar(m []faceswap.Point3) bool {
	return math.Abs(assess.Measure(faceswap.Face{Mesh: m}, image.Rectangle{}).Yaw) > assess.MaxPoseGap
}

// sourceGlasses is what the engine reports of a pair whose source face
// wears glasses: it paints their frames out (unwire, removeFrames), and
// what it paints is the eyes' surroundings, where much of the identity
// is. Traces of the frames showed on every such pair of the quality set
// (Santa's gold rims as pale arcs around both eyes, the tiny man's brown
// rims above and below his eyes), and none kept both the identity and the
// expression the evaluator looks for. Frames count as paintFrames finds
// them; wire rims (unwire, on the source as it is) only on a face that is
// not turned far, as for paintFrames. Nothing measures how much the
// traces show, so X is 2, as far beyond the threshold as a measured
// reason at twice it.
var sourceGlasses = assess.Finding{Reason: assess.Occlusion, X: 2,
	Detail: "the source face wears glasses: their frames are painted out with the skin around them, and traces of them may show"}

// faceRegions are the target face's regions in a swap's region (1 inside).
type faceRegions struct {
	w, h                           int
	oval, eyes, brows, lips, mouth *plane
}

// regionsOf fills the regions of mesh m in a w×h region at ox, oy.
func regionsOf(w, h int, m []faceswap.Point3, ox, oy float64) faceRegions {
	g := faceRegions{w: w, h: h}
	g.oval = polygon(w, h, m, faceOval, ox, oy)
	g.eyes = polygon(w, h, m, rightEye, ox, oy)
	g.eyes.add(polygon(w, h, m, leftEye, ox, oy))
	g.brows = polygon(w, h, m, rightBrow, ox, oy)
	g.brows.add(polygon(w, h, m, leftBrow, ox, oy))
	g.lips = polygon(w, h, m, outerLips, ox, oy)
	g.mouth = polygon(w, h, m, innerLips, ox, oy)
	return g
}

// sharedSkin is the skin both faces show: the oval's core, where the warp
// drew (cover), without the eyes, brows and lips.
func sharedSkin(g faceRegions, cover *plane, fw float64) *plane {
	skin := copyPlane(g.oval)
	skin.erode(int(0.04 * fw))
	skin.mul(cover)
	for _, q := range []*plane{g.eyes, g.brows, g.lips} {
		d := copyPlane(q)
		d.blur(0.02 * fw)
		for i := range skin.v {
			if d.v[i] > 0.05 {
				skin.v[i] = 0
			}
		}
	}
	return skin
}

// keptOf marks (1, softened) which of the target's features stay: its
// eye openings (eyes), the lids and lashes around them (lids: where the
// source's would be drawn from too little, sourceEyesPoor), and its open
// mouth (mouth). T is the target's mesh in the swap's pixels.
func keptOf(g faceRegions, T []faceswap.Point3, eyes, lids, mouth bool, ox, oy, fw float64) *plane {
	keep := newPlane(g.w, g.h)
	var openings *plane
	if eyes || lids {
		openings = polygon(g.w, g.h, T, rightEye, ox, oy)
		openings.add(polygon(g.w, g.h, T, leftEye, ox, oy))
	}
	if lids {
		// the lids and lashes, which the source's smear as much
		around := copyPlane(openings)
		around.blur(eyeLids * fw)
		for i, v := range around.v {
			around.v[i] = min(1, 3*v)
			if !eyes {
				// the openings hold the source's eyeballs
				around.v[i] *= 1 - openings.v[i]
			}
		}
		keep.add(around)
	} else if eyes {
		keep.add(openings)
	}
	if mouth {
		keep.add(g.mouth)
	}
	keep.blur(max(0.7, 0.006*fw))
	return keep
}

// blendMask is the share of the source in each pixel: the oval, feathered
// across its edge, minus the target's kept features (keep) and what is not
// skin in either face (notSkin: hair, a hand, glasses), inside the warp's
// coverage and confidence and below the upper forehead (foreheadFade).
// The oval is not pulled in by the feather's width: reaching 0 at the oval
// kept a ring of the target's cheeks, jaw and temples, and with them much
// of the target's identity (the Apollo crew's face in the office photo's
// first face: FaceRes margin +0.01 with it, +0.12 without).
//
// What the mask leaves out is made the target's in the warped face wp too:
// the blend's coarse bands read the warped face under a blurred mask, and
// through them a source's fringe spread as a dark band over the target's
// forehead and its brows came out twice.
func blendMask(wp warped, target *resample.Image, g faceRegions, notSkin, keep *plane, T []faceswap.Point3, ox, oy, fw float64) *plane {
	mask := copyPlane(g.oval)
	mask.blur(max(1.0, 0.035*fw))
	cov := copyPlane(wp.cover)
	cov.erode(1)
	cov.blur(1)
	wp.confidence.blur(max(1, 0.02*fw))
	upper := foreheadFade(T, g.w, g.h, ox, oy)
	warpedImg := wp.img
	for i := range mask.v {
		use := (1 - min(1, keep.v[i])) * (1 - notSkin.v[i])
		mask.v[i] *= use * cov.v[i] * wp.confidence.v[i] * upper.v[i]
		if use < 1 {
			for c := 3 * i; c < 3*i+3; c++ {
				warpedImg.Pix[c] = warpedImg.Pix[c]*use + target.Pix[c]*(1-use)
			}
		}
	}
	return mask
}

// composite writes blended over target into dst's region r where the
// mask is above 0 (at 4× the mask, clipped) and returns the alpha it used;
// every other pixel of dst stays as it was.
func composite(dst *image.NRGBA, r image.Rectangle, blended, target *resample.Image, mask *plane) []uint8 {
	w, h := r.Dx(), r.Dy()
	alpha := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		row := dst.Pix[(r.Min.Y-dst.Rect.Min.Y+y)*dst.Stride+(r.Min.X-dst.Rect.Min.X)*4:]
		for x := 0; x < w; x++ {
			o := y*w + x
			a := min(1, 4*mask.v[o])
			if a <= 0 {
				continue
			}
			a8 := uint8(a*255 + 0.5)
			if a8 == 0 {
				continue
			}
			alpha[o] = a8
			af := float32(a8) / 255
			for c := 0; c < 3; c++ {
				v := blended.Pix[3*o+c]*af + target.Pix[3*o+c]*(1-af)
				row[4*x+c] = resample.Clamp8(v)
			}
		}
	}
	return alpha
}

// fill copies the target where the warp drew nothing, so the blend's coarse
// bands see no black.
func fill(warped, target *resample.Image, cover *plane) {
	for i, c := range cover.v {
		if c == 0 {
			copy(warped.Pix[3*i:3*i+3], target.Pix[3*i:3*i+3])
		}
	}
}

func polygon(w, h int, mesh []faceswap.Point3, idx []int, ox, oy float64) *plane {
	p := newPlane(w, h)
	xs, ys := pointsOf(mesh, idx, ox, oy)
	p.fillPolygon(xs, ys)
	return p
}

func copyPlane(p *plane) *plane { return &plane{w: p.w, h: p.h, v: append([]float32(nil), p.v...)} }

func (p *plane) add(q *plane) {
	for i := range p.v {
		p.v[i] = min(1, p.v[i]+q.v[i])
	}
}

// When the source's eyes would be drawn from too little (sourceEyesPoor),
// the target's stay, lids included.
const (
	// eyeEnlargeMax and eyeMinWidth: the source's wider eye enlarged more
	// than eyeEnlargeMax times onto the target's while it is narrower than
	// eyeMinWidth pixels, too few to draw an eye with lids, lashes and an
	// iris at that size. The class photo's 6-px eyes (11 times enlarged)
	// and a 115-px portrait's 7-px eyes behind glasses (9 times) gave the
	// smiling woman blurred grey patches for eyes, and a soft 60-px face's
	// 12-px eyes (5.6 times) two red smudges; a sharp 25-px eye enlarged
	// 6.4 times (the frontal man's portrait into the crying baby) still
	// looks like an eye, and the Apollo crew's 9.5-px eyes enlarged 3 times
	// into the office photo still carry their identity.
	eyeEnlargeMax = 3.5
	eyeMinWidth   = 12.5
	// eyeStretchMax: either eye stretched more than this from the source
	// onto the target, against the stretch of the face's height (which a
	// turn hardly changes). A source turned away or tilted far back shows
	// an eye narrow that the target shows wide: the bearded man's
	// three-quarter view (1.95) and the black-and-white near profile (2.2)
	// gave a frontal man two dark smudges for eyes, and the woman with her
	// head tilted back (1.57, her mesh's far eye on her nose) the smiling
	// woman an upturned eye and a white smear for the other.
	eyeStretchMax = 1.5
	// eyeLids is how far round the eye openings the target then stays (a
	// fraction of the face width, the width of a blur the mask is raised
	// to 1 under).
	eyeLids = 0.03
)

// sourceEyesPoor reports whether the source's eyes cannot be drawn well on
// the target (eyeEnlargeMax, eyeStretchMax), so that the target's are
// kept: real eyes with the target's gaze rather than a smear. It costs the
// swap some of the source's identity. T is p's target mesh as the swap
// sees it (a reduced swap's is smaller than p.Target.Box says).
func sourceEyesPoor(p swap.Pair, T []faceswap.Point3) bool {
	S := p.Source.Mesh
	x0, _, x1, _ := bounds(T)
	scale := 1.0
	if p.Target.Box.W > 0 && x1 > x0 {
		scale = p.Target.Box.W / (x1 - x0)
	}
	sr, sl := dist(S[33], S[133]), dist(S[263], S[362])
	tr, tl := dist(T[33], T[133]), dist(T[263], T[362])
	const tiny = 1e-6
	enlarge := max(tr, tl) * scale / max(sr, sl, tiny)
	height := dist(S[10], S[152]) / max(dist(T[10], T[152]), tiny)
	stretch := max(tr/max(sr, tiny), tl/max(sl, tiny)) * height
	return (enlarge > eyeEnlargeMax && max(sr, sl) < eyeMinWidth) || stretch > eyeStretchMax
}

// similarOpenness reports whether the target's eyes are about as open as
// the source's: the ratio of lid gap to eye width differs by a factor of
// 0.6 to 1.67. Each face is measured on its more visible (wider) eye: a
// turned face's far eye looks narrow and would count as a squint.
func similarOpenness(s, t []faceswap.Point3) bool {
	r := openness(s) / max(openness(t), 1e-6)
	return r > 0.6 && r < 1.67
}

// openness is the lid gap over the eye's width of m's wider eye.
func openness(m []faceswap.Point3) float64 {
	e := eyeMarks[widerEye(m)]
	return dist(m[e.top], m[e.bottom]) / max(dist(m[e.outer], m[e.inner]), 1e-6)
}

// irisShowMax is the factor by which the source's and the target's lid
// gaps, measured in iris diameters, may differ before the target's eye
// openings stay (similarIrisShow); irisSizeMin and irisSizeMax bound the
// iris diameter over the eye's width for an iris fit to be trusted.
const (
	irisShowMax = 1.5
	irisSizeMin = 0.25
	irisSizeMax = 0.65
)

// similarIrisShow reports whether the source's eyes show about as much of
// their irises as the target's: the lid gap over the iris diameter, on the
// more visible eye, differs by less than a factor of irisShowMax. The lid
// gap over the eye's width (similarOpenness) misses a wide, startled stare
// on a man frowning down at a table (0.35 against 0.31), where the irises
// tell them apart (Santa's lids stand 1.2 iris diameters apart, the office
// man's 0.5): drawn into the narrower opening, the source's eye becomes a
// white-rimmed stare. It also holds when either face's irises were not
// found or their fit is implausible.
func similarIrisShow(s, t faceswap.Face) bool {
	r, ok := irisShowRatio(s, t)
	return !ok || (r < irisShowMax && r > 1/irisShowMax)
}

// irisShowRatio is the source's lid gap over its iris diameter over the
// target's (irisShow), and whether both could be measured.
func irisShowRatio(s, t faceswap.Face) (float64, bool) {
	rs, okS := irisShow(s)
	rt, okT := irisShow(t)
	if !okS || !okT || rt <= 0 {
		return 0, false
	}
	return rs / rt, true
}

// irisShow returns the lid gap over the iris diameter of f's more visible
// (wider) eye, and whether it could be measured.
func irisShow(f faceswap.Face) (float64, bool) {
	m := f.Mesh
	if len(m) != faceswap.MeshPoints {
		return 0, false
	}
	k := widerEye(m)
	e, ir := eyeMarks[k], f.Irises[k]
	if !irisFits(ir, m, e) {
		return 0, false
	}
	return lidGap(m, e) / (2 * ir.R), true
}

// Foreign things on the source, which hairLike marks firmly: pixels whose
// colour (a*, b*) is more than firmChroma spreads from the skin's, and
// pixels far from skin on a line at most 2·lineHalfWidth (of the face's
// width) wide and lineContrast (L*) darker or lighter than what a window
// of that width fills in; both widened by firmWiden.
const (
	firmChroma    = 5
	lineHalfWidth = 0.012
	lineContrast  = 16
	firmWiden     = 0.012
)

// mouthOpen reports whether the target's lips are parted by more than 4% of
// the mouth's width: then its teeth or mouth interior must stay.
func mouthOpen(m []faceswap.Point3) bool {
	return dist(m[innerLipTop], m[innerLipBottom]) > 0.04*dist(m[mouthRightCorner], m[mouthLeftCorner])
}

// hairLike marks (0..1) pixels of the oval, outside eyes, brows and lips,
// that are not skin in the warped source or in the target: a fringe, its
// shadow, or hair over the target's face, which comes in from the oval's
// edge (reachingEdge: paint on the target's skin is swapped). There the
// target stays. Foreign
// things on the source (a colour no skin of it has, or a thin line far from
// its skin: a straw, paint, a frame of glasses, a strand of hair) are
// marked fully and widened before the feather, so that they do not show
// through it. On the target the same rules took the glint on a nose's
// ridge for a foreign line, and with it the target's nose.
//
// The target's pixels are compared with the skin they sit in (a Mahalanobis
// distance over L*a*b* from the mean and spread of its skin, beyond 3).
// The source's, whose fringe may be as large as a third of the forehead
// and as light as its skin, are compared with the skin of its cheek band
// (median and median absolute deviation, which such a fringe does not
// move), counting lightness only when darker than skin (lighter is a
// highlight), and raised by up to 1.5 where their fine texture is more than
// twice the cheeks' (strands of hair; smooth skin and the blocks of a
// compressed photo are not raised beyond what their colour says). Measured
// against the mean and spread of all skin, the astronaut's light-brown
// fringe counted as skin and crossed the office photo's faces as a band.
func hairLike(warped *resample.Image, tgtLab [3]*plane, skin, cheeks, oval, eyes, brows, lips *plane, fw float64) *plane {
	out := newPlane(oval.w, oval.h)
	white := newPlane(oval.w, oval.h) // the source's white hair, firmly
	firm := newPlane(oval.w, oval.h)  // foreign things, widened before the feather
	features := copyPlane(eyes)
	features.add(brows)
	features.blur(0.04 * fw)
	// the lips with a narrow margin: the warped source's lips land on the
	// target's, and a wide one spared a moustache or a beard around them
	mouthArea := copyPlane(lips)
	mouthArea.blur(0.012 * fw)
	features.add(mouthArea)
	// where white hair cannot be: the lips and the brows, not the eyes
	// (their whites are as light and colourless)
	whiteArea := copyPlane(brows)
	whiteArea.blur(0.02 * fw)
	whiteArea.add(mouthArea)
	openEyes := copyPlane(eyes)
	openEyes.blur(0.01 * fw)
	for i := range whiteArea.v {
		if openEyes.v[i] > 0.02 {
			whiteArea.v[i] = 0
		}
	}
	tgt := newPlane(oval.w, oval.h) // the target's marks
	wl, wa, wb := toLab(warped)
	for face, lab := range [][3]*plane{{wl, wa, wb}, tgtLab} {
		l, a, b := lab[0], lab[1], lab[2]
		src := face == 0
		var ml, sl, ma, sa, mb, sb float64
		var tex *plane
		var texRef float64
		var lipA, lipSA, lipB, lipSB float64 // the source's lips' colour
		if src {
			ma, sa = robustStats(a, cheeks)
			mb, sb = robustStats(b, cheeks)
			// lightness on the band's coloured pixels only: a white
			// moustache or the glare of glasses in it spread the skin's
			// lightness so wide that a white beard passed for skin
			lit := cheeks
			if c := math.Hypot(ma, mb); c >= 4 {
				lit = copyPlane(cheeks)
				for i := range lit.v {
					if math.Hypot(float64(a.v[i]), float64(b.v[i])) < 0.3*c {
						lit.v[i] = 0
					}
				}
			}
			ml, sl = robustStats(l, lit)
			sl, sa, sb = max(sl, 6), max(sa, 2.5), max(sb, 2.5)
			lipA, lipSA = robustStats(a, lips)
			lipB, lipSB = robustStats(b, lips)
			lipSA, lipSB = max(lipSA, 3), max(lipSB, 3)
			tex = copyPlane(l)
			tex.blur(1)
			for i := range tex.v {
				tex.v[i] = float32(math.Abs(float64(l.v[i] - tex.v[i])))
			}
			tex.blur(max(1, 0.02*fw))
			texRef, _ = robustStats(tex, cheeks)
			texRef = 2 * math.Max(texRef, 0.3)
		} else {
			ml, sl = stats(l, skin)
			ma, sa = stats(a, skin)
			mb, sb = stats(b, skin)
			sl, sa, sb = max(sl, 4), max(sa, 2), max(sb, 2)
		}
		var thin *plane
		if r := int(math.Ceil(lineHalfWidth * fw)); src && r >= 1 {
			thin = l.thinLines(r, lineContrast)
		}
		// a grey face (a grey source, or any source once its colour was
		// made the grey target's) has no colour to tell white hair from a
		// highlight: +Inf turns the white-hair rules off
		skinChroma := math.Inf(1)
		if c := math.Hypot(ma, mb); src && c >= 4 {
			skinChroma = c
		}
		for i := range out.v {
			if oval.v[i] == 0 {
				continue
			}
			if features.v[i] > 0.05 {
				// on the lips, the source's things more colourful than
				// its lips and its skin both (a straw between them)
				if src && mouthArea.v[i] > 0.05 && foreignOnLips(float64(a.v[i]), float64(b.v[i]), ma, sa, mb, sb, lipA, lipSA, lipB, lipSB) {
					firm.v[i] = 1
				}
				// on the lips and brows only what cannot be lip or brow:
				// the source's white moustache or brows, or its teeth where
				// the target's lips are (lighter than its skin, by its
				// spread capped as below, and nearly colourless)
				if src && !math.IsInf(skinChroma, 1) && whiteArea.v[i] > 0.05 && float64(l.v[i]) > ml+math.Min(sl, 10) &&
					math.Hypot(float64(a.v[i]), float64(b.v[i])) < 0.3*skinChroma {
					white.v[i] = 1
				}
				continue
			}
			dl := (float64(l.v[i]) - ml) / sl
			if src && dl > 0 {
				// lighter than skin and about as colourful: a highlight;
				// lighter and nearly colourless is white hair, a white
				// beard or fur, or the glare of a lens, measured against
				// a narrow spread (a face with glasses and a moustache
				// spreads its cheeks' lightness wide)
				if math.IsInf(skinChroma, 1) || math.Hypot(float64(a.v[i]), float64(b.v[i])) > 0.3*skinChroma {
					dl = 0
				} else if dl = (float64(l.v[i]) - ml) / math.Min(sl, 8); dl > 3 {
					white.v[i] = 1
				}
			}
			da := (float64(a.v[i]) - ma) / sa
			db := (float64(b.v[i]) - mb) / sb
			if src && math.Hypot(da, db) > firmChroma {
				// a colour no skin of this face has: a straw, paint
				firm.v[i] = 1
			}
			d := math.Sqrt(dl*dl + da*da + db*db)
			if tex != nil {
				d = math.Max(d, math.Min(d+1.5, 3*float64(tex.v[i])/texRef))
			}
			marks := out
			if !src {
				marks = tgt
			}
			if v := float32(math.Min(1, math.Max(0, (d-3)/1.5))); v > marks.v[i] {
				marks.v[i] = v
			}
			if src && thin != nil && d > 4 && thin.v[i] > 0 {
				// far from skin and thin: a frame of glasses, a strand of
				// hair (a nostril or a brow is wider)
				firm.v[i] = 1
			}
		}
	}
	// of the target, only what comes in from the oval's edge is in front
	// of its face (hair, a hand, a microphone); what lies inside alone is
	// on its skin (face paint, make-up, a mole, a shadow) and is swapped
	for i, v := range reachingEdge(tgt, oval, fw).v {
		out.v[i] = max(out.v[i], v)
	}
	// Firm marks are widened first, by about half the feather's reach: a
	// thin thing (a straw, a frame of glasses, a strand of hair) marked
	// fully was otherwise feathered down to a quarter and showed through as
	// a faded copy of itself.
	if r := int(math.Round(firmWiden * fw)); r >= 1 {
		firm = firm.maxOver(r)
	}
	for i, v := range firm.v {
		out.v[i] = max(out.v[i], v)
	}
	// feathered: at 0.01 of the face width, the marks on a 58-px face
	// came out as a patchwork of the two foreheads
	out.blur(max(1, 0.025*fw))
	// white hair is marked firmly: half marked, a white beard still showed
	// through a blend of one part source to one part target (other marks
	// are not: made as firm, they took a tenth off the identity margins of
	// the quality pairs)
	// closed first: a moustache's strands, each marked, left the skin
	// between them, and the blend made of them a pale haze over the lip
	if r := int(math.Ceil(whiteClose * fw)); r >= 1 {
		white = white.maxOver(r).minOver(r)
	}
	white.blur(max(1, 0.025*fw))
	for i := range out.v {
		out.v[i] = max(out.v[i], min(1, 2*white.v[i]))
	}
	return out
}

// foreignOnLips reports whether a source pixel of colour a, b on its lips
// is something held between them (a straw, a sweet): more than firmChroma
// spreads from both the skin's colour (ma, sa, mb, sb) and the lips'
// (lipA, lipSA, lipB, lipSB), and more colourful than the lips by more
// than twice their spread. The lips' own darker or paler parts, the teeth
// and the mouth's dark inside are less colourful than the lips and stay.
// The drinking woman's red straw otherwise came out as a red bar between
// the lips of every face she went into.
func foreignOnLips(a, b, ma, sa, mb, sb, lipA, lipSA, lipB, lipSB float64) bool {
	if math.Hypot((a-ma)/sa, (b-mb)/sb) <= firmChroma || math.Hypot((a-lipA)/lipSA, (b-lipB)/lipSB) <= firmChroma {
		return false
	}
	return math.Hypot(a, b) > math.Hypot(lipA, lipB)+2*math.Hypot(lipSA, lipSB)
}

// whiteClose is the radius (a fraction of the face width) of the closing
// that joins a source's white hairs into one area.
const whiteClose = 0.015

// reachingEdge returns the parts of marks that reach the band of the oval
// within edgeBand of the face width of its edge.
func reachingEdge(marks, oval *plane, fw float64) *plane {
	inner := copyPlane(oval)
	inner.erode(max(1, int(edgeBand*fw)))
	return marks.connected(func(i int) bool { return inner.v[i] < 1 })
}

// edgeBand is the width of the oval's edge band (reachingEdge), as a
// fraction of the face width.
const edgeBand = 0.03

// foreheadFade is 1 from a little above the brows down, falling smoothly
// to 0 at the upper part of the forehead: there the target's own forehead
// stays. The source's upper forehead is where its fringe, its hat or its
// hairline's shadow sit, which no skin test tells reliably from skin
// (a light-brown fringe crossed every face it went into as a band), and the
// edge of the swap there drew a line under the target's hairline. Identity
// lives below: brows, eyes, nose and mouth.
func foreheadFade(m []faceswap.Point3, w, h int, ox, oy float64) *plane {
	out := newPlane(w, h)
	along := faceAxis(m)
	brow := 1.0
	for _, i := range append(append([]int{}, rightBrow...), leftBrow...) {
		brow = math.Min(brow, along(m[i].X, m[i].Y))
	}
	brow = math.Max(brow, 0.05)
	lo, hi := foreheadFrom*brow, foreheadFull*brow
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := along(float64(x)+0.5+ox, float64(y)+0.5+oy)
			v := 1.0
			if t < hi {
				u := math.Max(0, (t-lo)/(hi-lo))
				v = u * u * (3 - 2*u)
			}
			out.v[y*w+x] = float32(v)
		}
	}
	return out
}

// The forehead's share that the swap fades over, as fractions of the
// distance from the top of the oval (0) to the top of the brows (1): the
// source is used fully below foreheadFull and not at all above foreheadFrom.
const (
	foreheadFrom = 0.6
	foreheadFull = 0.95
)

// faceAxis returns where an image point lies along the face's axis: 0 at
// the top of the oval (mesh point 10), 1 at the chin (152), measured along
// the line between them.
func faceAxis(m []faceswap.Point3) func(x, y float64) float64 {
	f, c := m[10], m[152]
	dx, dy := c.X-f.X, c.Y-f.Y
	l2 := math.Max(dx*dx+dy*dy, 1e-9)
	return func(x, y float64) float64 { return ((x-f.X)*dx + (y-f.Y)*dy) / l2 }
}

// cheekBand returns the part of skin between the eyes and the mouth along
// the face's axis (from the top of the oval to the chin): cheeks and nose,
// where neither a fringe nor a beard usually is, to measure a face's skin on.
func cheekBand(m []faceswap.Point3, skin *plane, ox, oy float64) *plane {
	out := newPlane(skin.w, skin.h)
	along := faceAxis(m)
	for y := 0; y < skin.h; y++ {
		for x := 0; x < skin.w; x++ {
			o := y*skin.w + x
			if skin.v[o] <= 0 {
				continue
			}
			if t := along(float64(x)+0.5+ox, float64(y)+0.5+oy); t >= 0.42 && t <= 0.68 {
				out.v[o] = skin.v[o]
			}
		}
	}
	return out
}

// robustStats returns the median of p where w > 0.5 and 1.4826 times the
// median absolute deviation (the standard deviation, for a normal
// distribution), which a minority of outliers does not move.
func robustStats(p, w *plane) (median, std float64) {
	var vals []float64
	for i, v := range p.v {
		if w.v[i] > 0.5 {
			vals = append(vals, float64(v))
		}
	}
	if len(vals) == 0 {
		return 0, 1
	}
	median = nth(vals, len(vals)/2)
	for i := range vals {
		vals[i] = math.Abs(vals[i] - median)
	}
	return median, 1.4826 * nth(vals, len(vals)/2)
}

// nth returns the k-th smallest of a (what a[k] would be sorted),
// reordering a: a quickselect, in linear time where sorting was most of
// robustStats'.
func nth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		// median of three as the pivot; Hoare partition
		m := lo + (hi-lo)/2
		if a[m] < a[lo] {
			a[m], a[lo] = a[lo], a[m]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[m] {
			a[hi], a[m] = a[m], a[hi]
		}
		pivot := a[m]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}
