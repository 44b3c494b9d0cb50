package mesh

import "math"

// plane is a w×h single-channel float32 image (masks, luminance).
type plane struct {
	w, h int
	v    []float32
}

func newPlane(w, h int) *plane { return &plane{w: w, h: h, v: make([]float32, w*h)} }

// fillPolygon sets to 1 the pixels whose centres lie inside the polygon
// (even-odd rule); pts are in plane coordinates (pixel centres at i+0.5).
func (p *plane) fillPolygon(xs, ys []float64) {
	n := len(xs)
	var cross []float64
	for y := 0; y < p.h; y++ {
		cy := float64(y) + 0.5
		cross = cross[:0]
		for i := 0; i < n; i++ {
			j := (i + 1) % n
			y0, y1 := ys[i], ys[j]
			if (y0 <= cy) == (y1 <= cy) {
				continue
			}
			cross = append(cross, xs[i]+(cy-y0)/(y1-y0)*(xs[j]-xs[i]))
		}
		sortFloats(cross)
		for k := 0; k+1 < len(cross); k += 2 {
			x0 := max(0, int(math.Ceil(cross[k]-0.5)))
			x1 := min(p.w-1, int(math.Floor(cross[k+1]-0.5)))
			for x := x0; x <= x1; x++ {
				p.v[y*p.w+x] = 1
			}
		}
	}
}

func sortFloats(a []float64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// blur applies a Gaussian blur of standard deviation sigma (pixels), as three
// passes of a box filter each way (a close, fast approximation).
func (p *plane) blur(sigma float64) {
	if sigma < 0.5 {
		return
	}
	// box width for three passes: w = sqrt(12σ²/3 + 1)
	r := int(math.Round((math.Sqrt(4*sigma*sigma+1) - 1) / 2))
	if r < 1 {
		r = 1
	}
	// Horizontal and vertical box filters (edges extended) commute, so the
	// three horizontal passes run on each row while it is in cache, and the
	// vertical ones sweep whole rows with a running sum per column instead
	// of walking down one column at a time (which was most of a swap's
	// blurring time).
	tmp := make([]float32, p.w+2*r+2)
	for y := 0; y < p.h; y++ {
		row := p.v[y*p.w : (y+1)*p.w]
		for pass := 0; pass < 3; pass++ {
			boxLine(row, 1, p.w, r, tmp)
		}
	}
	// the vertical passes alternate between p.v and a second buffer
	other := make([]float32, len(p.v))
	sum := make([]float32, p.w)
	for pass := 0; pass < 3; pass++ {
		boxColumns(other, p.v, p.w, p.h, r, sum)
		p.v, other = other, p.v
	}
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

// boxLine box-filters n samples spaced by stride with radius r; edges are
// extended. tmp must hold n+2r+1 values.
func boxLine(v []float32, stride, n, r int, tmp []float32) {
	ext := tmp[:n+2*r+1] // ext[i+r] is sample i, edges repeated
	for i := 0; i < n; i++ {
		ext[i+r] = v[i*stride]
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
		v[i*stride] = sum * inv
		sum += ext[i+2*r+1] - ext[i]
	}
}

// erode shrinks the set of pixels ≥ 0.5 by r pixels (square structuring
// element), leaving 0/1 values: a pixel stays when every pixel within r of
// it, each way, is ≥ 0.5 and inside the plane. Runs of such pixels are
// counted along rows, then along columns, so the cost does not grow with r.
func (p *plane) erode(r int) {
	if r <= 0 {
		return
	}
	w, h := p.w, p.h
	// ok[i]: the row window around i lies inside and is all ≥ 0.5
	ok := make([]bool, len(p.v))
	for y := 0; y < h; y++ {
		run := 0 // pixels ≥ 0.5 ending at x
		for x := 0; x < w; x++ {
			if p.v[y*w+x] >= 0.5 {
				run++
			} else {
				run = 0
			}
			// the window centred at x-r ends at x
			if c := x - r; c >= r && run >= 2*r+1 {
				ok[y*w+c] = true
			}
		}
	}
	out := make([]float32, len(p.v))
	run := make([]int, w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if ok[y*w+x] {
				run[x]++
			} else {
				run[x] = 0
			}
			if c := y - r; c >= r && run[x] >= 2*r+1 {
				out[c*w+x] = 1
			}
		}
	}
	p.v = out
}

// mul multiplies p by q pixel by pixel.
func (p *plane) mul(q *plane) {
	for i := range p.v {
		p.v[i] *= q.v[i]
	}
}

// downsample returns p reduced by an integer factor f (box mean).
func (p *plane) downsample(f int) *plane {
	w, h := (p.w+f-1)/f, (p.h+f-1)/f
	out := newPlane(w, h)
	cnt := make([]float32, w*h)
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			o := (y/f)*w + x/f
			out.v[o] += p.v[y*p.w+x]
			cnt[o]++
		}
	}
	for i := range out.v {
		out.v[i] /= cnt[i]
	}
	return out
}

// at samples p bilinearly at (x, y) in pixel-index coordinates, clamped.
func (p *plane) at(x, y float64) float32 {
	x = math.Max(0, math.Min(float64(p.w-1), x))
	y = math.Max(0, math.Min(float64(p.h-1), y))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	ax, ay := float32(x-float64(x0)), float32(y-float64(y0))
	a := p.v[y0*p.w+x0]*(1-ax) + p.v[y0*p.w+x1]*ax
	b := p.v[y1*p.w+x0]*(1-ax) + p.v[y1*p.w+x1]*ax
	return a*(1-ay) + b*ay
}

// upsampleTo returns p scaled by f to w×h (bilinear, centre-aligned, as at
// samples).
func (p *plane) upsampleTo(w, h, f int) *plane {
	out := newPlane(w, h)
	xs := upTaps(w, p.w, f)
	for y := 0; y < h; y++ {
		ty := upTap(y, p.h, f)
		r0, r1 := ty.i0*p.w, ty.i1*p.w
		for x, tx := range xs {
			a := p.v[r0+tx.i0]*(1-tx.f) + p.v[r0+tx.i1]*tx.f
			b := p.v[r1+tx.i0]*(1-tx.f) + p.v[r1+tx.i1]*tx.f
			out.v[y*w+x] = a*(1-ty.f) + b*ty.f
		}
	}
	return out
}

// tap is where pixel i of an image enlarged f times reads the image it was
// enlarged from: between its pixels i0 and i1, at f from i0.
type tap struct {
	i0, i1 int
	f      float32
}

// upTap is the tap of pixel i of an image enlarged f times from one n
// pixels across: its centre is at (i+0.5)/f − 0.5 in the smaller image's
// pixel-index coordinates, clamped to its edges as at clamps.
func upTap(i, n, f int) tap {
	x := (float64(i)+0.5)*(1/float64(f)) - 0.5
	x = math.Max(0, math.Min(float64(n-1), x))
	i0 := int(x)
	return tap{i0, min(i0+1, n-1), float32(x - float64(i0))}
}

// upTaps are the taps of w enlarged pixels.
func upTaps(w, n, f int) []tap {
	out := make([]tap, w)
	for i := range out {
		out[i] = upTap(i, n, f)
	}
	return out
}

// maxOver returns the maximum of p over the (2r+1)² square around each
// pixel (a grey-level dilation), edges clamped.
func (p *plane) maxOver(r int) *plane { return p.runs(r, true, false).runs(r, false, false) }

// minOver returns the minimum over the same square (a grey-level erosion).
func (p *plane) minOver(r int) *plane { return p.runs(r, true, true).runs(r, false, true) }

// runs is the maximum (or with lowest, the minimum) over 2r+1 pixels along
// rows (or columns), the window clipped at the ends. It costs the same
// whatever r (van Herk and Gil–Werman): each line, padded by r each side,
// is cut into blocks of 2r+1; a window covers the end of one block and the
// start of the next, whose running extremes from the block's start (head)
// and to its end (tail) are kept.
func (p *plane) runs(r int, rows, lowest bool) *plane {
	out := newPlane(p.w, p.h)
	n, lines, step, stride := p.w, p.h, 1, p.w
	if !rows {
		n, lines, step, stride = p.h, p.w, p.w, 1
	}
	pick := func(a, b float32) float32 { return max(a, b) }
	none := float32(math.Inf(-1))
	if lowest {
		pick = func(a, b float32) float32 { return min(a, b) }
		none = float32(math.Inf(1))
	}
	k, m := 2*r+1, n+2*r
	buf, head, tail := make([]float32, m), make([]float32, m), make([]float32, m)
	for i := 0; i < r; i++ {
		buf[i], buf[n+r+i] = none, none
	}
	for j := 0; j < lines; j++ {
		base := j * stride
		for i := 0; i < n; i++ {
			buf[r+i] = p.v[base+i*step]
		}
		for i := 0; i < m; i++ {
			if i%k == 0 {
				head[i] = buf[i]
			} else {
				head[i] = pick(head[i-1], buf[i])
			}
		}
		for i := m - 1; i >= 0; i-- {
			if i == m-1 || (i+1)%k == 0 {
				tail[i] = buf[i]
			} else {
				tail[i] = pick(tail[i+1], buf[i])
			}
		}
		for i := 0; i < n; i++ {
			out.v[base+i*step] = pick(tail[i], head[i+2*r])
		}
	}
	return out
}

// thinLines marks (1) the pixels of p on a line at most 2r+1 pixels wide
// that is more than c darker than what a (2r+1)² closing fills in, or
// more than c lighter than what an opening leaves (the morphological line
// detection used on hairs over skin).
func (p *plane) thinLines(r int, c float32) *plane {
	closed := p.maxOver(r).minOver(r)
	opened := p.minOver(r).maxOver(r)
	out := newPlane(p.w, p.h)
	for i, v := range p.v {
		if closed.v[i]-v > c || v-opened.v[i] > c {
			out.v[i] = 1
		}
	}
	return out
}

// lineContrast is how much darker than what a (2r+1)² closing fills in,
// or lighter than what an opening leaves, each pixel of p is (thinLines
// marks where this exceeds its c).
func (p *plane) lineContrast(r int) *plane {
	closed := p.maxOver(r).minOver(r)
	opened := p.minOver(r).maxOver(r)
	out := newPlane(p.w, p.h)
	for i, v := range p.v {
		out.v[i] = max(closed.v[i]-v, v-opened.v[i])
	}
	return out
}

// connected returns the parts of p (8-connected pixels above 0) that
// contain a pixel for which seed is true, with their values.
func (p *plane) connected(seed func(i int) bool) *plane {
	out := newPlane(p.w, p.h)
	seen := make([]bool, len(p.v))
	var stack []int
	for i, v := range p.v {
		if v <= 0 || seen[i] || !seed(i) {
			continue
		}
		stack = append(stack[:0], i)
		seen[i] = true
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out.v[j] = p.v[j]
			x, y := j%p.w, j/p.w
			for ny := max(0, y-1); ny <= min(p.h-1, y+1); ny++ {
				for nx := max(0, x-1); nx <= min(p.w-1, x+1); nx++ {
					if k := ny*p.w + nx; !seen[k] && p.v[k] > 0 {
						seen[k] = true
						stack = append(stack, k)
					}
				}
			}
		}
	}
	return out
}
