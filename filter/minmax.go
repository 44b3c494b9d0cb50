package filter

import "math"

// Min sets each sample of p to the minimum, in its channel, over the
// square from before samples before it to after samples after it, along
// both axes (a grey-level erosion); positions outside p do not count.
// Its cost does not grow with the square's size: rows, then columns, are
// filtered with van Herk/Gil-Werman block minima. Minima are exact, so
// the order of the work changes no result.
func (p Plane) Min(before, after int) {
	k := before + after + 1
	if k <= 1 || len(p.Pix) == 0 {
		return
	}
	n := p.W * p.C
	L := p.W + k - 1
	pad, g, h := make([]float32, L), make([]float32, L), make([]float32, L)
	for y := 0; y < p.H; y++ {
		row := p.Pix[y*n : (y+1)*n]
		if constant(row) { // as masks' empty rows: nothing to do
			continue
		}
		for ch := 0; ch < p.C; ch++ {
			minLine(row[ch:], row[ch:], p.C, p.W, before, k, pad, g, h)
		}
	}
	minColumns(p.Pix, n, p.H, before, k)
}

// Max is Min's counterpart, the maximum over the same square (a
// grey-level dilation): the minimum of the negated samples, negated back,
// which is exact.
func (p Plane) Max(before, after int) {
	negate(p.Pix)
	p.Min(before, after)
	negate(p.Pix)
}

func negate(v []float32) {
	for i := range v {
		v[i] = -v[i]
	}
}

func constant(v []float32) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

// minLine sets out[i·stride] to the minimum of in[j·stride] over the j in
// [i−a, i−a+k−1] and 0..n−1; out may be in. The line, padded with +∞, is
// cut into blocks of k; a window covers the end of one block and the
// start of the next, whose running minima from the block's start (g) and
// to its end (h) give it in two comparisons whatever k is. pad, g and h
// are scratch of at least n+k−1.
func minLine(in, out []float32, stride, n, a, k int, pad, g, h []float32) {
	L := n + k - 1
	inf := float32(math.Inf(1))
	pad, g, h = pad[:L], g[:L], h[:L]
	for j := range pad {
		if i := j - a; i >= 0 && i < n {
			pad[j] = in[i*stride]
		} else {
			pad[j] = inf
		}
	}
	for s := 0; s < L; s += k {
		e := min(s+k, L)
		g[s] = pad[s]
		for j := s + 1; j < e; j++ {
			g[j] = min(g[j-1], pad[j])
		}
		h[e-1] = pad[e-1]
		for j := e - 2; j >= s; j-- {
			h[j] = min(h[j+1], pad[j])
		}
	}
	for i := 0; i < n; i++ {
		out[i*stride] = min(h[i], g[i+k-1])
	}
}

// minColumns is minLine down every column of the w×h samples p, in place,
// a whole row at a time so that memory is read in order.
func minColumns(p []float32, w, h, a, k int) {
	L := h + k - 1
	inf := float32(math.Inf(1))
	infRow := make([]float32, w)
	for i := range infRow {
		infRow[i] = inf
	}
	row := func(j int) []float32 { // padded row j is row j−a
		if y := j - a; y >= 0 && y < h {
			return p[y*w : (y+1)*w]
		}
		return infRow
	}
	g := make([]float32, L*w)
	hp := make([]float32, L*w)
	for s := 0; s < L; s += k {
		e := min(s+k, L)
		copy(g[s*w:(s+1)*w], row(s))
		for j := s + 1; j < e; j++ {
			prev, cur, src := g[(j-1)*w:j*w], g[j*w:(j+1)*w], row(j)
			for x := range cur {
				cur[x] = min(prev[x], src[x])
			}
		}
		copy(hp[(e-1)*w:e*w], row(e-1))
		for j := e - 2; j >= s; j-- {
			next, cur, src := hp[(j+1)*w:(j+2)*w], hp[j*w:(j+1)*w], row(j)
			for x := range cur {
				cur[x] = min(next[x], src[x])
			}
		}
	}
	for y := 0; y < h; y++ {
		out, hr, gr := p[y*w:(y+1)*w], hp[y*w:(y+1)*w], g[(y+k-1)*w:(y+k)*w]
		for x := range out {
			out[x] = min(hr[x], gr[x])
		}
	}
}
