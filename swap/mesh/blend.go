package mesh

import (
	"faceswap/filter"
	"faceswap/resample"
)

// Multi-band blending (Burt & Adelson): each frequency band of the two
// images is mixed with the mask blurred to that band's scale, so low
// frequencies meet over a wide seam and fine detail over a narrow one.

// blendBands mixes a (inside the mask) into b (outside) over n bands and
// returns the result.
func blendBands(a, b *resample.Image, mask *plane, n int) *resample.Image {
	ga, gb, gm := []filter.Plane{rgb(a)}, []filter.Plane{rgb(b)}, []filter.Plane{mask.view()}
	for i := 1; i < n; i++ {
		if ga[i-1].W < 8 || ga[i-1].H < 8 {
			break
		}
		ga = append(ga, ga[i-1].PyramidDown())
		gb = append(gb, gb[i-1].PyramidDown())
		gm = append(gm, gm[i-1].PyramidDown())
	}
	top := len(ga) - 1
	// start from the blended coarsest level, then add blended bands
	cur := mix(ga[top].Pix, gb[top].Pix, gm[top].Pix)
	for i := top - 1; i >= 0; i-- {
		w, h := ga[i].W, ga[i].H
		up := filter.Plane{W: ga[i+1].W, H: ga[i+1].H, C: 3, Pix: cur}.Enlarge(w, h, 2).Pix
		upA := ga[i+1].Enlarge(w, h, 2).Pix
		upB := gb[i+1].Enlarge(w, h, 2).Pix
		m := gm[i].Pix
		for p := range up {
			la := ga[i].Pix[p] - upA[p]
			lb := gb[i].Pix[p] - upB[p]
			t := m[p/3]
			up[p] += la*t + lb*(1-t)
		}
		cur = up
	}
	return &resample.Image{W: a.W, H: a.H, Pix: cur}
}

func mix(a, b, m []float32) []float32 {
	out := make([]float32, len(a))
	for p := range a {
		t := m[p/3]
		out[p] = a[p]*t + b[p]*(1-t)
	}
	return out
}
