package mesh

import (
	"math"

	"faceswap"
)

// similarity returns the least-squares similarity transform (scale,
// rotation, translation) taking the points from[idx] onto to[idx], as a
// function on points.
func similarity(from, to []faceswap.Point3, idx []int) func(faceswap.Point3) faceswap.Point3 {
	var fx, fy, tx, ty float64
	n := float64(len(idx))
	for _, i := range idx {
		fx, fy, tx, ty = fx+from[i].X, fy+from[i].Y, tx+to[i].X, ty+to[i].Y
	}
	fx, fy, tx, ty = fx/n, fy/n, tx/n, ty/n
	var a, b, ss float64
	for _, i := range idx {
		px, py := from[i].X-fx, from[i].Y-fy
		qx, qy := to[i].X-tx, to[i].Y-ty
		a += px*qx + py*qy
		b += px*qy - py*qx
		ss += px*px + py*py
	}
	if ss == 0 {
		return func(p faceswap.Point3) faceswap.Point3 { return p }
	}
	c, s := a/ss, b/ss // scale·cos, scale·sin
	k := math.Hypot(c, s)
	return func(p faceswap.Point3) faceswap.Point3 {
		x, y := p.X-fx, p.Y-fy
		return faceswap.Point3{X: c*x - s*y + tx, Y: s*x + c*y + ty, Z: p.Z * k}
	}
}

// shaped returns the mesh the source texture is drawn on: the target mesh
// with its inner features (eyes, brows, nose, mouth) moved by strength
// towards where they sit in the source face, once the source is fitted to
// the target's oval. The oval stays, so the face keeps the target's outline
// and nothing outside it needs warping; the move fades out near the oval,
// is capped at 8% of the face width, and spares the vertices in frozen
// (the target's eyes or mouth where they are kept).
func shaped(t, s []faceswap.Point3, strength float64, frozen map[int]bool) []faceswap.Point3 {
	fit := similarity(s, t, faceOval)
	fw := faceWidth(t)
	out := append([]faceswap.Point3(nil), t...)
	onOval := map[int]bool{}
	for _, i := range faceOval {
		onOval[i] = true
	}
	for i := range t {
		if onOval[i] || frozen[i] {
			continue
		}
		// distance to the oval, as a fraction of the face width
		d := math.Inf(1)
		for _, j := range faceOval {
			d = math.Min(d, dist(t[i], t[j]))
		}
		w := strength * math.Min(1, d/(0.15*fw))
		g := fit(s[i])
		dx, dy := g.X-t[i].X, g.Y-t[i].Y
		if m := math.Hypot(dx, dy); m > 0.08*fw {
			dx, dy = dx*0.08*fw/m, dy*0.08*fw/m
		}
		out[i].X += w * dx
		out[i].Y += w * dy
	}
	return out
}
