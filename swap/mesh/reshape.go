package mesh

import (
	"image"
	"math"
	"sync/atomic"

	"faceswap"
	"faceswap/resample"
	"faceswap/swap"
)

// Shape transfer. Texture drawn on the target's mesh keeps the target's
// proportions: its outline, nose, eye spacing and brows, and with them much
// of its identity. reshapedMesh moves the target's mesh towards the
// source's shape, seen in the target's pose; reshapeTarget moves the target
// picture with it (its jaw line, ears, hair and neck edge follow the new
// outline), and the swap then draws on the moved face as on any other.
const (
	// shapeOval and shapeInner are how far the outline and the inner
	// face move towards the source's shape. Measured by make quality
	// (pairs.json v1, 50 swapped faces) against the engine without shape
	// transfer (identity check passed on 14 faces, expression on 33): the
	// outline alone or the inner face alone at 0.7 moved little (15 and
	// 17; 37 and 30); both at 0.7, 19 and 31; at 1 and 0.5, 19 and 36
	// (the inner features moving less keep more expression); at 1 and
	// 0.3, or with a cap of 0.1, about the same.
	shapeOval  = 1.0
	shapeInner = 0.5
	// shapeCap caps any vertex's move, as a fraction of the face width.
	shapeCap = 0.06

	// shapeRing is how far beyond the outline the picture is moved with
	// it, fading to nothing (a fraction of the face width).
	shapeRing = 0.15
	// shapeClear is how far from another face's outline the ring has
	// faded out (a fraction of this face's width).
	shapeClear = 0.1
	// featureReach is the distance (a fraction of the face width) from an
	// eye's or the mouth's contour within which vertices move with the
	// feature as a whole (keeping the target's lids and lips) rather than
	// each on its own (the source's shape).
	featureReach = 0.08
)

// poseFit returns the least-squares 3-D similarity (rotation, scale,
// translation) taking the points from onto the points to, over the vertices
// idx, as a function on points.
func poseFit(from, to []faceswap.Point3, idx []int) func(faceswap.Point3) faceswap.Point3 {
	var cf, ct [3]float64
	for _, i := range idx {
		cf[0], cf[1], cf[2] = cf[0]+from[i].X, cf[1]+from[i].Y, cf[2]+from[i].Z
		ct[0], ct[1], ct[2] = ct[0]+to[i].X, ct[1]+to[i].Y, ct[2]+to[i].Z
	}
	n := float64(len(idx))
	for k := range cf {
		cf[k] /= n
		ct[k] /= n
	}
	// cross-covariance s[a][b] = Σ p_a q_b of the centred points
	var s [3][3]float64
	var pp float64
	for _, i := range idx {
		p := [3]float64{from[i].X - cf[0], from[i].Y - cf[1], from[i].Z - cf[2]}
		q := [3]float64{to[i].X - ct[0], to[i].Y - ct[1], to[i].Z - ct[2]}
		for a := 0; a < 3; a++ {
			for b := 0; b < 3; b++ {
				s[a][b] += p[a] * q[b]
			}
			pp += p[a] * p[a]
		}
	}
	// the rotation is the unit quaternion of the largest eigenvalue of
	// Horn's symmetric 4×4 matrix (Horn 1987), found by power iteration
	// on the matrix shifted to be positive definite
	xx, xy, xz := s[0][0], s[0][1], s[0][2]
	yx, yy, yz := s[1][0], s[1][1], s[1][2]
	zx, zy, zz := s[2][0], s[2][1], s[2][2]
	N := [4][4]float64{
		{xx + yy + zz, yz - zy, zx - xz, xy - yx},
		{yz - zy, xx - yy - zz, xy + yx, zx + xz},
		{zx - xz, xy + yx, -xx + yy - zz, yz + zy},
		{xy - yx, zx + xz, yz + zy, -xx - yy + zz},
	}
	var shift float64
	for a := range N {
		for b := range N[a] {
			shift += math.Abs(N[a][b])
		}
	}
	for a := range N {
		N[a][a] += shift
	}
	v := [4]float64{1, 0, 0, 0}
	for it := 0; it < 200; it++ {
		var u [4]float64
		for a := range N {
			for b := range N[a] {
				u[a] += N[a][b] * v[b]
			}
		}
		norm := math.Sqrt(u[0]*u[0] + u[1]*u[1] + u[2]*u[2] + u[3]*u[3])
		if norm == 0 {
			break
		}
		for a := range u {
			u[a] /= norm
		}
		v = u
	}
	w, x, y, z := v[0], v[1], v[2], v[3]
	R := [3][3]float64{
		{w*w + x*x - y*y - z*z, 2 * (x*y - w*z), 2 * (x*z + w*y)},
		{2 * (x*y + w*z), w*w - x*x + y*y - z*z, 2 * (y*z - w*x)},
		{2 * (x*z - w*y), 2 * (y*z + w*x), w*w - x*x - y*y + z*z},
	}
	// scale: Σ q·(R p) / Σ p·p
	var qrp float64
	for _, i := range idx {
		p := [3]float64{from[i].X - cf[0], from[i].Y - cf[1], from[i].Z - cf[2]}
		q := [3]float64{to[i].X - ct[0], to[i].Y - ct[1], to[i].Z - ct[2]}
		for a := 0; a < 3; a++ {
			qrp += q[a] * (R[a][0]*p[0] + R[a][1]*p[1] + R[a][2]*p[2])
		}
	}
	k := 1.0
	if pp > 0 && qrp > 0 {
		k = qrp / pp
	}
	return func(p faceswap.Point3) faceswap.Point3 {
		d := [3]float64{p.X - cf[0], p.Y - cf[1], p.Z - cf[2]}
		var o [3]float64
		for a := 0; a < 3; a++ {
			o[a] = ct[a] + k*(R[a][0]*d[0]+R[a][1]*d[1]+R[a][2]*d[2])
		}
		return faceswap.Point3{X: o[0], Y: o[1], Z: o[2]}
	}
}

// rigidPart lists the vertices that expression hardly moves: those above
// the nose tip, along the face's own down axis (the jaw and lips move with
// the mouth).
func rigidPart(m []faceswap.Point3) []int {
	down := faceAxis(m)
	tip := down(m[noseTip].X, m[noseTip].Y)
	var out []int
	for i, p := range m {
		if down(p.X, p.Y) <= tip {
			out = append(out, i)
		}
	}
	return out
}

const noseTip = 1

// reshapedMesh returns the target mesh moved towards the source's shape:
// the source mesh is fitted to the target's in 3-D on the parts expression
// hardly moves (poseFit, rigidPart), so what remains between them is the
// two faces' shapes and expressions in the target's pose; each vertex moves
// by a share of it (shapeOval on the outline, shapeInner elsewhere,
// capped at shapeCap of the face width). The eyes and the mouth move as
// wholes, each by the similarity that takes its two corners where they
// move: their size, place and slant become the source's, their opening
// (the lids, the parted lips) stays the target's; vertices near them
// (within featureReach) move more and more like them.
func reshapedMesh(T, S []faceswap.Point3, gate float64) []faceswap.Point3 {
	fit := poseFit(S, T, rigidPart(T))
	fw := faceWidth(T)
	// the jaw: a mouth opened wider than the target's drops the chin and
	// the jaw line with it, which is expression, not shape. Below the
	// upper lip each vertex is moved back by the difference of the two
	// mouths' openings along the face's down axis, in full from the lower
	// lip down (Santa's open mouth otherwise lengthened the smiling
	// woman's face, and a closed one shortened an open-mouthed target's).
	down := faceAxis(T)
	ux, uy := T[152].X-T[10].X, T[152].Y-T[10].Y
	ul := math.Max(math.Hypot(ux, uy), 1e-9)
	ux, uy = ux/ul, uy/ul
	gap := func(a, b faceswap.Point3) float64 { return (b.X-a.X)*ux + (b.Y-a.Y)*uy }
	drop := gap(fit(S[innerLipTop]), fit(S[innerLipBottom])) - gap(T[innerLipTop], T[innerLipBottom])
	top, bottom := down(T[innerLipTop].X, T[innerLipTop].Y), down(T[innerLipBottom].X, T[innerLipBottom].Y)
	d := make([]faceswap.Point3, len(T))
	for i := range T {
		g := fit(S[i])
		dx, dy, dz := g.X-T[i].X, g.Y-T[i].Y, g.Z-T[i].Z
		if a := down(T[i].X, T[i].Y); a > top {
			w := 1.0
			if bottom > top {
				w = math.Min(1, (a-top)/(bottom-top))
			}
			dx -= w * drop * ux
			dy -= w * drop * uy
		}
		if m := math.Hypot(dx, dy); m > shapeCap*fw {
			k := shapeCap * fw / m
			dx, dy, dz = dx*k, dy*k, dz*k
		}
		d[i] = faceswap.Point3{X: dx, Y: dy, Z: dz}
	}
	type feature struct {
		contour []int
		a, b    int
	}
	mouthAll := append(append([]int(nil), outerLips...), innerLips...)
	features := []feature{{rightEye, 33, 133}, {leftEye, 263, 362}, {mouthAll, mouthRightCorner, mouthLeftCorner}}
	// each feature's similarity, as a function giving a point's move
	moves := make([]func(faceswap.Point3) (float64, float64), len(features))
	xs, ys := make([][]float64, len(features)), make([][]float64, len(features))
	for k, f := range features {
		xs[k], ys[k] = pointsOf(T, f.contour, 0, 0)
		a0, b0 := T[f.a], T[f.b]
		a1 := faceswap.Point{X: a0.X + d[f.a].X, Y: a0.Y + d[f.a].Y}
		b1 := faceswap.Point{X: b0.X + d[f.b].X, Y: b0.Y + d[f.b].Y}
		// z = s·z0 + t in complex numbers, taking a0→a1, b0→b1
		ux, uy := b0.X-a0.X, b0.Y-a0.Y
		vx, vy := b1.X-a1.X, b1.Y-a1.Y
		den := ux*ux + uy*uy
		sr, si := 1.0, 0.0
		if den > 1e-9 {
			sr, si = (vx*ux+vy*uy)/den, (vy*ux-vx*uy)/den
		}
		ax, ay := a0.X, a0.Y
		moves[k] = func(p faceswap.Point3) (float64, float64) {
			px, py := p.X-ax, p.Y-ay
			nx := a1.X + sr*px - si*py
			ny := a1.Y + si*px + sr*py
			return nx - p.X, ny - p.Y
		}
	}
	onOval := map[int]bool{}
	for _, i := range faceOval {
		onOval[i] = true
	}
	reach := featureReach * fw
	out := make([]faceswap.Point3, len(T))
	for i, t := range T {
		mx, my := d[i].X, d[i].Y
		var wsum, fx, fy float64
		for k, f := range features {
			// nearness to the feature: 1 on or inside its contour
			dist := math.Inf(1)
			inside := false
			for _, j := range f.contour {
				if j == i {
					inside = true
				}
				dist = math.Min(dist, math.Hypot(t.X-T[j].X, t.Y-T[j].Y))
			}
			near := 0.0
			if inside || insideXY(xs[k], ys[k], t.X, t.Y) {
				near = 1
			} else if dist < reach {
				x := 1 - dist/reach
				near = x * x * (3 - 2*x)
			}
			if near > 0 {
				ex, ey := moves[k](t)
				wsum += near
				fx += near * ex
				fy += near * ey
			}
		}
		if wsum > 0 {
			own := math.Max(0, 1-wsum)
			norm := own + wsum
			mx = (own*mx + fx) / norm
			my = (own*my + fy) / norm
		}
		s := gate * shapeInner
		if onOval[i] {
			s = gate * shapeOval
		}
		out[i] = faceswap.Point3{X: t.X + s*mx, Y: t.Y + s*my, Z: t.Z + s*d[i].Z}
	}
	return out
}

// shapeGate is the share of the shape transfer done between faces turned
// yawS and yawT degrees from the camera: all of it up to 20°, none from
// 45°. MediaPipe guesses the hidden side of a turned face: the near-profile
// cameraman reshaped from a frontal source was no longer found as a face
// by an independent detector, and with the transfer fading out only from
// 30° to 60° its re-detected mesh was 0.24 of the eye-corner distance
// from the target's (0.15 without).
func shapeGate(yawS, yawT float64) float64 {
	y := math.Max(math.Abs(yawS), math.Abs(yawT))
	return math.Max(0, math.Min(1, (45-y)/25))
}

// reshapeTarget moves the target picture's face from mesh T to mesh N, in
// place: inside the face each pixel of a triangle of N takes the picture
// at the same place in T's triangle; outside it, the outline's moves are
// spread (inverse-distance weighted) over a ring of shapeRing of the face
// width, fading to nothing, so the jaw line, ears and hair follow the new
// outline. It returns what it changed, with an alpha of 1 (the picture
// moved, no new face in it yet), and the empty region when nothing moved.
// beside, when set, lends a second goroutine (swap.Options.Beside).
func reshapeTarget(dst *image.NRGBA, T, N []faceswap.Point3, others [][]faceswap.Point3, fw float64, k resample.Kernel, beside func(func()) func()) swap.Region {
	x0, y0, x1, y1 := bounds(N)
	tx0, ty0, tx1, ty1 := bounds(T)
	ring := shapeRing * fw
	m := ring + 2
	r := image.Rect(int(math.Floor(min(x0, tx0)-m)), int(math.Floor(min(y0, ty0)-m)),
		int(math.Ceil(max(x1, tx1)+m)), int(math.Ceil(max(y1, ty1)+m))).Intersect(dst.Rect)
	if r.Dx() < 2 || r.Dy() < 2 {
		return swap.Region{}
	}
	w, h := r.Dx(), r.Dy()
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	// where each pixel (centre) comes from, in region coordinates; NaN: unset
	mapX, mapY, zbuf := make([]float64, w*h), make([]float64, w*h), make([]float64, w*h)
	// outside the drawn face: the outline's moves, weighted by inverse
	// squared distance, faded out over the ring (computed on a coarse grid)
	ovX, ovY := make([]float64, len(faceOval)), make([]float64, len(faceOval))
	mvX, mvY := make([]float64, len(faceOval)), make([]float64, len(faceOval))
	for k, i := range faceOval {
		ovX[k], ovY[k] = N[i].X-ox, N[i].Y-oy
		mvX[k], mvY[k] = T[i].X-N[i].X, T[i].Y-N[i].Y
	}
	// the ovals of other faces nearby, which the ring fades out before
	var near [][2][]float64
	for _, o := range others {
		ax0, ay0, ax1, ay1 := bounds(o)
		if ax1 < ox || ay1 < oy || ax0 > ox+float64(w) || ay0 > oy+float64(h) {
			continue
		}
		xs, ys := make([]float64, len(faceOval)), make([]float64, len(faceOval))
		for k, i := range faceOval {
			xs[k], ys[k] = o[i].X-ox, o[i].Y-oy
		}
		near = append(near, [2][]float64{xs, ys})
	}
	clear := shapeClear * fw
	eps2 := (0.01*fw)*(0.01*fw) + 1
	// the outline's bounds: a point farther than the ring from them is
	// not moved (most of the region, cheaply)
	bx0, by0, bx1, by1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for k := range ovX {
		bx0, by0 = math.Min(bx0, ovX[k]), math.Min(by0, ovY[k])
		bx1, by1 = math.Max(bx1, ovX[k]), math.Max(by1, ovY[k])
	}
	moveAt := func(px, py float64) (float64, float64) {
		if px < bx0-ring || px > bx1+ring || py < by0-ring || py > by1+ring {
			return 0, 0
		}
		d2 := math.Inf(1)
		for k := range ovX {
			l := (k + 1) % len(ovX)
			d2 = math.Min(d2, segDist2(px, py, ovX[k], ovY[k], ovX[l], ovY[l]))
		}
		d := math.Sqrt(d2)
		fade := 1.0
		if !insideXY(ovX, ovY, px, py) {
			if d >= ring {
				return 0, 0
			}
			x := 1 - d/ring
			fade = x * x * (3 - 2*x)
			for _, o := range near {
				if insideXY(o[0], o[1], px, py) {
					return 0, 0
				}
				e2 := math.Inf(1)
				for k := range o[0] {
					l := (k + 1) % len(o[0])
					e2 = math.Min(e2, segDist2(px, py, o[0][k], o[1][k], o[0][l], o[1][l]))
				}
				e := math.Sqrt(e2)
				if e < clear {
					x := e / clear
					fade *= x * x * (3 - 2*x)
				}
			}
		}
		var sw, sx, sy float64
		for k := range ovX {
			dx, dy := px-ovX[k], py-ovY[k]
			wk := 1 / (dx*dx + dy*dy + eps2)
			sw += wk
			sx += wk * mvX[k]
			sy += wk * mvY[k]
		}
		return fade * sx / sw, fade * sy / sw
	}
	step := max(2, int(math.Round(fw/24)))
	gw, gh := (w+step-1)/step+1, (h+step-1)/step+1
	gx, gy := make([]float64, gw*gh), make([]float64, gw*gh)
	for j := 0; j < gh; j++ {
		for i := 0; i < gw; i++ {
			gx[j*gw+i], gy[j*gw+i] = moveAt(float64(i*step)+0.5, float64(j*step)+0.5)
		}
	}
	// a copy of the region's bytes to read from: bicubic straight from them
	// (most requests); other kernels through a float copy
	orig := make([]uint8, 4*w*h)
	for y := 0; y < h; y++ {
		o := (r.Min.Y-dst.Rect.Min.Y+y)*dst.Stride + (r.Min.X-dst.Rect.Min.X)*4
		copy(orig[4*w*y:4*w*(y+1)], dst.Pix[o:o+4*w])
	}
	var src *resample.Image
	if k != resample.Bicubic {
		src = resample.FromNRGBA(dst.SubImage(r).(*image.NRGBA))
	}
	// draw the face's triangles into rows ry0..ry1−1 of the map (a
	// triangle's pixels each tested in the same order whatever the rows)
	drawRows := func(ry0, ry1 int) {
		for i := ry0 * w; i < ry1*w; i++ {
			mapX[i], zbuf[i] = math.NaN(), math.Inf(1)
		}
		for _, tr := range triangles {
			a, b, c := int(tr[0]), int(tr[1]), int(tr[2])
			if cross(N, a, b, c) > -1e-6 {
				continue
			}
			nx0, ny0 := N[a].X-ox, N[a].Y-oy
			nx1, ny1 := N[b].X-ox, N[b].Y-oy
			nx2, ny2 := N[c].X-ox, N[c].Y-oy
			z := (N[a].Z + N[b].Z + N[c].Z) / 3
			minX := max(0, int(math.Floor(min(nx0, nx1, nx2))))
			maxX := min(w-1, int(math.Ceil(max(nx0, nx1, nx2))))
			minY := max(ry0, int(math.Floor(min(ny0, ny1, ny2))))
			maxY := min(ry1-1, int(math.Ceil(max(ny0, ny1, ny2))))
			den := (ny1-ny2)*(nx0-nx2) + (nx2-nx1)*(ny0-ny2)
			if den == 0 {
				continue
			}
			for y := minY; y <= maxY; y++ {
				py := float64(y) + 0.5
				for x := minX; x <= maxX; x++ {
					px := float64(x) + 0.5
					l0 := ((ny1-ny2)*(px-nx2) + (nx2-nx1)*(py-ny2)) / den
					l1 := ((ny2-ny0)*(px-nx2) + (nx0-nx2)*(py-ny2)) / den
					l2 := 1 - l0 - l1
					if l0 < -1e-4 || l1 < -1e-4 || l2 < -1e-4 {
						continue
					}
					o := y*w + x
					if z >= zbuf[o] {
						continue
					}
					zbuf[o] = z
					mapX[o] = l0*(T[a].X-ox) + l1*(T[b].X-ox) + l2*(T[c].X-ox)
					mapY[o] = l0*(T[a].Y-oy) + l1*(T[b].Y-oy) + l2*(T[c].Y-oy)
				}
			}
		}
	}
	alpha := make([]uint8, w*h)
	rows := func(y0, y1 int) (moved bool) {
		drawRows(y0, y1)
		for y := y0; y < y1; y++ {
			row := dst.Pix[(r.Min.Y-dst.Rect.Min.Y+y)*dst.Stride+(r.Min.X-dst.Rect.Min.X)*4:]
			for x := 0; x < w; x++ {
				o := y*w + x
				sx, sy := mapX[o], mapY[o]
				if math.IsNaN(sx) {
					// bilinear on the grid
					fx, fy := float64(x)/float64(step), float64(y)/float64(step)
					i0, j0 := int(fx), int(fy)
					i1, j1 := min(i0+1, gw-1), min(j0+1, gh-1)
					ax, ay := fx-float64(i0), fy-float64(j0)
					lerp := func(g []float64) float64 {
						top := g[j0*gw+i0]*(1-ax) + g[j0*gw+i1]*ax
						bot := g[j1*gw+i0]*(1-ax) + g[j1*gw+i1]*ax
						return top*(1-ay) + bot*ay
					}
					dx, dy := lerp(gx), lerp(gy)
					if dx*dx+dy*dy < 1e-6 {
						continue
					}
					sx, sy = float64(x)+0.5+dx, float64(y)+0.5+dy
				}
				if math.Abs(sx-float64(x)-0.5) < 1e-3 && math.Abs(sy-float64(y)-0.5) < 1e-3 {
					continue
				}
				var cr, cg, cb float32
				if src == nil {
					cr, cg, cb = cubicAt(orig, w, h, sx-0.5, sy-0.5)
				} else {
					cr, cg, cb = src.At(k, sx-0.5, sy-0.5)
				}
				q := row[4*x : 4*x+3 : 4*x+3]
				q[0], q[1], q[2] = resample.Clamp8(cr), resample.Clamp8(cg), resample.Clamp8(cb)
				alpha[o] = 1
				moved = true
			}
		}
		return moved
	}
	// every pixel reads the copy and writes only itself: on a large region
	// a lent goroutine takes bands of rows as the request's does, each the
	// next not taken (it may join late, busy cutting the source first),
	// and the result is the same
	var moved bool
	if beside != nil && w*h >= 1<<17 {
		const bands = 16
		var next atomic.Int32
		take := func() (moved bool) {
			for b := int(next.Add(1)) - 1; b < bands; b = int(next.Add(1)) - 1 {
				if rows(b*h/bands, (b+1)*h/bands) {
					moved = true
				}
			}
			return moved
		}
		var lent bool
		wait := beside(func() { lent = take() })
		moved = take()
		wait()
		moved = moved || lent
	} else {
		moved = rows(0, h)
	}
	if !moved {
		return swap.Region{}
	}
	return swap.Region{Bounds: r, Alpha: alpha}
}

// segDist2 is the squared distance from (px, py) to the segment
// (ax, ay)–(bx, by).
func segDist2(px, py, ax, ay, bx, by float64) float64 {
	vx, vy := bx-ax, by-ay
	l := vx*vx + vy*vy
	t := 0.0
	if l > 0 {
		t = ((px-ax)*vx + (py-ay)*vy) / l
		if t < 0 {
			t = 0
		} else if t > 1 {
			t = 1
		}
	}
	dx, dy := px-ax-t*vx, py-ay-t*vy
	return dx*dx + dy*dy
}

func insideXY(xs, ys []float64, x, y float64) bool {
	in := false
	for k := range xs {
		l := (k + 1) % len(xs)
		if (ys[k] > y) != (ys[l] > y) && x < xs[k]+(y-ys[k])*(xs[l]-xs[k])/(ys[l]-ys[k]) {
			in = !in
		}
	}
	return in
}

// cubicAt is resample's bicubic (Keys, a = −0.5) at (x, y) in pixel-index
// coordinates, read straight from w×h NRGBA bytes, edges repeated: the
// reshape resamples every pixel around a face, and converting the region to
// floats first and weighing taps through the general kernel took most of
// its time.
func cubicAt(pix []uint8, w, h int, x, y float64) (r, g, b float32) {
	x0, y0 := math.Floor(x), math.Floor(y)
	wx, wy := keys(float32(x-x0)), keys(float32(y-y0))
	xi, yi := int(x0)-1, int(y0)-1
	if xi >= 0 && yi >= 0 && xi+3 < w && yi+3 < h {
		// all 16 taps inside: no clamping, one slice per row
		for j := 0; j < 4; j++ {
			q := pix[4*(w*(yi+j)+xi) : 4*(w*(yi+j)+xi)+15 : 4*(w*(yi+j)+xi)+15]
			rr := wx[0]*float32(q[0]) + wx[1]*float32(q[4]) + wx[2]*float32(q[8]) + wx[3]*float32(q[12])
			rg := wx[0]*float32(q[1]) + wx[1]*float32(q[5]) + wx[2]*float32(q[9]) + wx[3]*float32(q[13])
			rb := wx[0]*float32(q[2]) + wx[1]*float32(q[6]) + wx[2]*float32(q[10]) + wx[3]*float32(q[14])
			r += wy[j] * rr
			g += wy[j] * rg
			b += wy[j] * rb
		}
		return r, g, b
	}
	return cubicClamped(pix, w, h, xi, yi, wx, wy)
}

// cubicClamped is cubicAt's sum with the taps at columns xi..xi+3 and
// rows yi..yi+3 clamped into the image.
func cubicClamped(pix []uint8, w, h, xi, yi int, wx, wy [4]float32) (r, g, b float32) {
	var cols [4]int
	for i := range cols {
		cols[i] = 4 * min(max(xi+i, 0), w-1)
	}
	for j := 0; j < 4; j++ {
		row := pix[4*w*min(max(yi+j, 0), h-1):]
		var rr, rg, rb float32
		for i, c := range cols {
			q := row[c : c+3 : c+3]
			rr += wx[i] * float32(q[0])
			rg += wx[i] * float32(q[1])
			rb += wx[i] * float32(q[2])
		}
		r += wy[j] * rr
		g += wy[j] * rg
		b += wy[j] * rb
	}
	return r, g, b
}

// keys returns the four Keys (a = −0.5) cubic weights of the taps at
// −1, 0, 1, 2 from a point f (0 ≤ f < 1) past tap 0; they sum to 1.
func keys(f float32) [4]float32 {
	const a = -0.5
	near := func(d float32) float32 { return ((a+2)*d-(a+3))*d*d + 1 }
	far := func(d float32) float32 { return ((a*d-5*a)*d+8*a)*d - 4*a }
	return [4]float32{far(1 + f), near(f), near(1 - f), far(2 - f)}
}
