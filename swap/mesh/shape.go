package mesh

import (
	"math"

	"faceswap"
	"faceswap/align"
)

// fitOval returns the least-squares similarity taking the source mesh's
// oval onto the target's, as a function on points (depth scaled alike).
func fitOval(from, to []faceswap.Point3) func(faceswap.Point3) faceswap.Point3 {
	f, t := make([]faceswap.Point, len(faceOval)), make([]faceswap.Point, len(faceOval))
	for k, i := range faceOval {
		f[k] = faceswap.Point{X: from[i].X, Y: from[i].Y}
		t[k] = faceswap.Point{X: to[i].X, Y: to[i].Y}
	}
	m, err := align.Similarity(f, t)
	if err != nil { // a degenerate oval: leave the points where they are
		return func(p faceswap.Point3) faceswap.Point3 { return p }
	}
	k := m.Scale()
	return func(p faceswap.Point3) faceswap.Point3 {
		x, y := m.Apply(p.X, p.Y)
		return faceswap.Point3{X: x, Y: y, Z: p.Z * k}
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
	fit := fitOval(s, t)
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
