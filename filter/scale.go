package filter

import "math"

// Reduce returns p reduced f times, each sample the mean of an f×f block
// of p's (the last row and column of blocks average what they have). The
// sums run row by row, left to right.
func (p Plane) Reduce(f int) Plane {
	c := p.C
	lw, lh := (p.W+f-1)/f, (p.H+f-1)/f
	out := New(lw, lh, c)
	sum := make([]float32, lw*c)
	for by := 0; by < lh; by++ {
		clear(sum)
		y0, y1 := by*f, min((by+1)*f, p.H)
		for y := y0; y < y1; y++ {
			in := p.Pix[y*p.W*c : (y+1)*p.W*c]
			for bx := 0; bx < lw; bx++ {
				s, block := sum[bx*c:(bx+1)*c], in[bx*f*c:min((bx+1)*f, p.W)*c]
				for i := 0; i < len(block); i += c {
					for ch, v := range block[i : i+c] {
						s[ch] += v
					}
				}
			}
		}
		for bx := 0; bx < lw; bx++ {
			n := float32((min((bx+1)*f, p.W) - bx*f) * (y1 - y0))
			o := c * (by*lw + bx)
			for ch := 0; ch < c; ch++ {
				out.Pix[o+ch] = sum[c*bx+ch] / n
			}
		}
	}
	return out
}

// Enlarge returns p enlarged f times to w×h, bilinearly: sample i of the
// result reads p at TapAt(i, …, f), centres aligned, edges clamped. Each
// of p's rows is enlarged along x once, and the result's rows mix two of
// those.
func (p Plane) Enlarge(w, h, f int) Plane {
	c, n := p.C, w*p.C
	xs := Taps(w, p.W, f)
	rows := make([]float32, p.H*n)
	for y := 0; y < p.H; y++ {
		in, o := p.Pix[y*p.W*c:(y+1)*p.W*c], rows[y*n:(y+1)*n]
		for x, tx := range xs {
			i0, i1 := c*tx.I0, c*tx.I1
			for ch := 0; ch < c; ch++ {
				o[c*x+ch] = in[i0+ch]*(1-tx.F) + in[i1+ch]*tx.F
			}
		}
	}
	out := New(w, h, c)
	for y := 0; y < h; y++ {
		ty := TapAt(y, p.H, f)
		a, b, o := rows[ty.I0*n:(ty.I0+1)*n], rows[ty.I1*n:(ty.I1+1)*n], out.Pix[y*n:(y+1)*n]
		for i := range o {
			o[i] = a[i]*(1-ty.F) + b[i]*ty.F
		}
	}
	return out
}

// Tap is where sample i of a line enlarged f times reads the line it was
// enlarged from: between its samples I0 and I1, at F from I0.
type Tap struct {
	I0, I1 int
	F      float32
}

// TapAt is the tap of sample i of a line enlarged f times from one of n
// samples: its centre is at (i+0.5)/f − 0.5 in the shorter line's
// sample-index coordinates, clamped to its ends.
func TapAt(i, n, f int) Tap {
	x := (float64(i)+0.5)*(1/float64(f)) - 0.5
	x = math.Max(0, math.Min(float64(n-1), x))
	i0 := int(x)
	return Tap{i0, min(i0+1, n-1), float32(x - float64(i0))}
}

// Taps are the taps of the w samples of a line enlarged f times from one
// of n.
func Taps(w, n, f int) []Tap {
	out := make([]Tap, w)
	for i := range out {
		out[i] = TapAt(i, n, f)
	}
	return out
}
