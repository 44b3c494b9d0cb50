package filter

import "math"

// BoxBlur blurs p in place by about a Gaussian of σ: three passes of a
// box filter along the rows, then three along the columns, the edge
// samples repeated. Its cost does not grow with σ. Below σ = 0.5 it leaves
// p as it is.
func (p Plane) BoxBlur(sigma float64) {
	if sigma < 0.5 {
		return
	}
	// box width for three passes: w = sqrt(12σ²/3 + 1)
	r := max(1, int(math.Round((math.Sqrt(4*sigma*sigma+1)-1)/2)))
	// Horizontal and vertical box filters commute, so the three
	// horizontal passes run on each row while it is in cache, and the
	// vertical ones sweep whole rows with a running sum per column
	// instead of walking down one column at a time. The passes alternate
	// between p.Pix and a second buffer, so that the last writes p.Pix.
	n := p.W * p.C
	other := make([]float32, len(p.Pix))
	tmp := make([]float32, p.W+2*r+1)
	for y := 0; y < p.H; y++ {
		row, out := p.Pix[y*n:(y+1)*n], other[y*n:(y+1)*n]
		for ch := 0; ch < p.C; ch++ {
			boxLine(row[ch:], row[ch:], p.C, p.W, r, tmp)
			boxLine(row[ch:], row[ch:], p.C, p.W, r, tmp)
			boxLine(out[ch:], row[ch:], p.C, p.W, r, tmp)
		}
	}
	sum := make([]float32, n)
	boxColumns(p.Pix, other, n, p.H, r, sum)
	boxColumns(other, p.Pix, n, p.H, r, sum)
	boxColumns(p.Pix, other, n, p.H, r, sum)
}

// boxColumns box-filters every column of src (w×h) with radius r into dst,
// edges extended; sum holds w values.
func boxColumns(dst, src []float32, w, h, r int, sum []float32) {
	rowAt := func(y int) []float32 {
		y = min(max(y, 0), h-1)
		return src[y*w : (y+1)*w]
	}
	clear(sum)
	for k := -r; k <= r; k++ {
		for x, v := range rowAt(k) {
			sum[x] += v
		}
	}
	inv := 1 / float32(2*r+1)
	for y := 0; y < h; y++ {
		out := dst[y*w : (y+1)*w]
		add, sub := rowAt(y+r+1), rowAt(y-r)
		for x := range out {
			out[x] = sum[x] * inv
			sum[x] += add[x] - sub[x]
		}
	}
}

// boxLine box-filters the n samples of src spaced by stride with radius r
// into dst (which may be src), edges extended. tmp must hold n+2r+1
// values.
func boxLine(dst, src []float32, stride, n, r int, tmp []float32) {
	ext := tmp[:n+2*r+1] // ext[i+r] is sample i, edges repeated
	for i := 0; i < n; i++ {
		ext[i+r] = src[i*stride]
	}
	for i := 0; i < r; i++ {
		ext[i] = ext[r]
	}
	for i := n + r; i < len(ext); i++ {
		ext[i] = ext[n+r-1]
	}
	var sum float32
	for i := 0; i <= 2*r; i++ {
		sum += ext[i]
	}
	inv := 1 / float32(2*r+1)
	for i := 0; i < n; i++ {
		dst[i*stride] = sum * inv
		sum += ext[i+2*r+1] - ext[i]
	}
}
