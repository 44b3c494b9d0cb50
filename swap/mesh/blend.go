package mesh

import "faceswap/resample"

// Multi-band blending (Burt & Adelson): each frequency band of the two
// images is mixed with the mask blurred to that band's scale, so low
// frequencies meet over a wide seam and fine detail over a narrow one.

type pyrLevel struct {
	w, h int
	v    []float32 // 3 channels interleaved
}

func fromImage(im *resample.Image) pyrLevel {
	return pyrLevel{im.W, im.H, append([]float32(nil), im.Pix...)}
}

// reduce blurs (1-4-6-4-1) and halves.
func reduce(l pyrLevel, ch int) pyrLevel {
	w, h := (l.w+1)/2, (l.h+1)/2
	tmp := make([]float32, w*l.h*ch)
	k := [5]float32{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}
	for y := 0; y < l.h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < ch; c++ {
				var s float32
				for i := -2; i <= 2; i++ {
					xx := min(max(2*x+i, 0), l.w-1)
					s += k[i+2] * l.v[(y*l.w+xx)*ch+c]
				}
				tmp[(y*w+x)*ch+c] = s
			}
		}
	}
	out := pyrLevel{w, h, make([]float32, w*h*ch)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < ch; c++ {
				var s float32
				for i := -2; i <= 2; i++ {
					yy := min(max(2*y+i, 0), l.h-1)
					s += k[i+2] * tmp[(yy*w+x)*ch+c]
				}
				out.v[(y*w+x)*ch+c] = s
			}
		}
	}
	return out
}

// expand doubles l to w×h (bilinear, centre-aligned).
func expand(l pyrLevel, w, h, ch int) []float32 {
	out := make([]float32, w*h*ch)
	// the source columns and weights are the same on every row
	x0s, x1s, axs := make([]int, w), make([]int, w), make([]float32, w)
	for x := range w {
		sx := min(max((float64(x)+0.5)/2-0.5, 0), float64(l.w-1))
		x0s[x] = int(sx)
		x1s[x] = min(x0s[x]+1, l.w-1) * ch
		axs[x] = float32(sx - float64(x0s[x]))
		x0s[x] *= ch
	}
	for y := 0; y < h; y++ {
		sy := min(max((float64(y)+0.5)/2-0.5, 0), float64(l.h-1))
		y0 := int(sy)
		y1 := min(y0+1, l.h-1)
		ay := float32(sy - float64(y0))
		r0, r1 := l.v[y0*l.w*ch:(y0+1)*l.w*ch], l.v[y1*l.w*ch:(y1+1)*l.w*ch]
		o := out[y*w*ch : (y+1)*w*ch]
		for x := range w {
			x0, x1, ax := x0s[x], x1s[x], axs[x]
			for c := 0; c < ch; c++ {
				a := r0[x0+c]*(1-ax) + r0[x1+c]*ax
				b := r1[x0+c]*(1-ax) + r1[x1+c]*ax
				o[x*ch+c] = a*(1-ay) + b*ay
			}
		}
	}
	return out
}

// blendBands mixes a (inside the mask) into b (outside) over n bands and
// returns the result.
func blendBands(a, b *resample.Image, mask *plane, n int) *resample.Image {
	ga, gb := []pyrLevel{fromImage(a)}, []pyrLevel{fromImage(b)}
	gm := []pyrLevel{{mask.w, mask.h, append([]float32(nil), mask.v...)}}
	for i := 1; i < n; i++ {
		if ga[i-1].w < 8 || ga[i-1].h < 8 {
			break
		}
		ga = append(ga, reduce(ga[i-1], 3))
		gb = append(gb, reduce(gb[i-1], 3))
		gm = append(gm, reduce(gm[i-1], 1))
	}
	top := len(ga) - 1
	// start from the blended coarsest level, then add blended bands
	cur := mix(ga[top].v, gb[top].v, gm[top].v)
	for i := top - 1; i >= 0; i-- {
		up := expand(pyrLevel{ga[i+1].w, ga[i+1].h, cur}, ga[i].w, ga[i].h, 3)
		upA := expand(ga[i+1], ga[i].w, ga[i].h, 3)
		upB := expand(gb[i+1], ga[i].w, ga[i].h, 3)
		m := gm[i].v
		for p := range up {
			la := ga[i].v[p] - upA[p]
			lb := gb[i].v[p] - upB[p]
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
