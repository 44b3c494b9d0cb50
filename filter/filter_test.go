package filter

import (
	"math"
	"math/rand/v2"
	"testing"
)

func random(r *rand.Rand, w, h, c int) Plane {
	p := New(w, h, c)
	for i := range p.Pix {
		p.Pix[i] = float32(r.IntN(256))
	}
	return p
}

func clone(p Plane) Plane {
	p.Pix = append([]float32(nil), p.Pix...)
	return p
}

// channel returns channel ch of p as a plane of its own.
func channel(p Plane, ch int) Plane {
	out := New(p.W, p.H, 1)
	for i := range out.Pix {
		out.Pix[i] = p.Pix[i*p.C+ch]
	}
	return out
}

// Each channel of a C-channel plane is filtered exactly as it would be
// alone.
func TestChannelsApart(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	p := random(r, 29, 17, 3)
	for name, f := range map[string]func(Plane) Plane{
		"Gaussian": func(p Plane) Plane { p = clone(p); p.Gaussian(1.3, Clamp); return p },
		"Convolve": func(p Plane) Plane { p = clone(p); p.Convolve(Kernel(4, 2), Reflect); return p },
		"BoxBlur":  func(p Plane) Plane { p = clone(p); p.BoxBlur(2.5); return p },
		"Min":      func(p Plane) Plane { p = clone(p); p.Min(2, 3); return p },
		"Max":      func(p Plane) Plane { p = clone(p); p.Max(3, 1); return p },
		"Reduce":   func(p Plane) Plane { return p.Reduce(3) },
		"Pyramid":  func(p Plane) Plane { return p.PyramidDown() },
		"Enlarge":  func(p Plane) Plane { return p.Enlarge(3*p.W-2, 3*p.H-1, 3) },
	} {
		all := f(p)
		for ch := 0; ch < 3; ch++ {
			alone := f(channel(p, ch))
			if got := channel(all, ch); got.W != alone.W || got.H != alone.H {
				t.Fatalf("%s: channel %d is %d×%d, alone %d×%d", name, ch, got.W, got.H, alone.W, alone.H)
			}
			for i, v := range alone.Pix {
				if all.Pix[i*3+ch] != v {
					t.Fatalf("%s: channel %d sample %d is %g, alone %g", name, ch, i, all.Pix[i*3+ch], v)
				}
			}
		}
	}
}

// minLine against the definition, for every window size and position.
func TestMinLine(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 1; n < 40; n++ {
		in := make([]float32, n)
		for i := range in {
			in[i] = float32(r.IntN(256))
		}
		for k := 1; k < 2*n+3; k++ {
			out := make([]float32, n)
			s := n + k
			minLine(in, out, 1, n, k/2, k, make([]float32, s), make([]float32, s), make([]float32, s))
			for i := range out {
				want := float32(math.Inf(1))
				for j := i - k/2; j <= i-k/2+k-1; j++ {
					if j >= 0 && j < n {
						want = min(want, in[j])
					}
				}
				if out[i] != want {
					t.Fatalf("n %d k %d: out[%d] = %g, want %g", n, k, i, out[i], want)
				}
			}
		}
	}
}

// Min and Max are the minimum and maximum over the square, positions
// outside the plane not counting, with any anchor; rows of one value (as
// masks' empty rows) included.
func TestMinMax(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	p := random(r, 23, 17, 1)
	for y := 0; y < 3; y++ {
		clear(p.Pix[y*23 : (y+1)*23])
	}
	for x := 0; x < 23; x++ {
		p.Pix[10*23+x] = 7
	}
	for _, c := range [][2]int{{0, 1}, {1, 0}, {1, 1}, {2, 1}, {0, 5}, {5, 5}, {20, 19}} {
		before, after := c[0], c[1]
		lo, hi := clone(p), clone(p)
		lo.Min(before, after)
		hi.Max(before, after)
		for y := 0; y < p.H; y++ {
			for x := 0; x < p.W; x++ {
				wlo, whi := float32(math.Inf(1)), float32(math.Inf(-1))
				for yy := y - before; yy <= y+after; yy++ {
					for xx := x - before; xx <= x+after; xx++ {
						if xx >= 0 && yy >= 0 && xx < p.W && yy < p.H {
							wlo, whi = min(wlo, p.Pix[yy*p.W+xx]), max(whi, p.Pix[yy*p.W+xx])
						}
					}
				}
				if lo.Pix[y*p.W+x] != wlo || hi.Pix[y*p.W+x] != whi {
					t.Fatalf("%d before, %d after: (%d,%d) min %g max %g, want %g %g", before, after, x, y, lo.Pix[y*p.W+x], hi.Pix[y*p.W+x], wlo, whi)
				}
			}
		}
	}
}

// Convolve against a direct 2-D sum, with either border.
func TestConvolve(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	w, h := 31, 12
	p := New(w, h, 1)
	for i := range p.Pix {
		if r.IntN(3) > 0 {
			p.Pix[i] = float32(r.IntN(256))
		}
	}
	for y := 0; y < 3; y++ { // zero rows take the shortcut
		clear(p.Pix[y*w : (y+1)*w])
	}
	k := Kernel(5, 2)
	var sum float32
	for _, v := range k {
		sum += v
	}
	if math.Abs(float64(sum)-1) > 1e-6 || k[0] != k[10] || k[5] <= k[4] {
		t.Fatalf("kernel %v", k)
	}
	for _, b := range []Border{Reflect, Clamp} {
		got := clone(p)
		got.Convolve(k, b)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s float64
				for j := -5; j <= 5; j++ {
					for i := -5; i <= 5; i++ {
						s += float64(k[j+5]) * float64(k[i+5]) * float64(p.Pix[b.index(y+j, h)*w+b.index(x+i, w)])
					}
				}
				if math.Abs(s-float64(got.Pix[y*w+x])) > 1e-3 {
					t.Fatalf("border %d: (%d,%d) = %g, want %g", b, x, y, got.Pix[y*w+x], s)
				}
			}
		}
	}
	for _, c := range [][3]int{{-1, 5, 1}, {-3, 5, 3}, {5, 5, 3}, {6, 5, 2}, {0, 1, 0}, {-2, 1, 0}, {2, 3, 2}} {
		if got := Reflect.index(c[0], c[1]); got != c[2] {
			t.Errorf("Reflect.index(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
	for _, c := range [][3]int{{-1, 5, 0}, {-30, 5, 0}, {5, 5, 4}, {9, 5, 4}, {2, 5, 2}, {3, 1, 0}} {
		if got := Clamp.index(c[0], c[1]); got != c[2] {
			t.Errorf("Clamp.index(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

// Gaussian keeps a constant plane and its sum (away from the edges), and
// spreads a point by σ.
func TestGaussian(t *testing.T) {
	p := New(41, 41, 1)
	p.Pix[20*41+20] = 1
	p.Gaussian(2.5, Clamp)
	var sum, v float64
	for y := 0; y < 41; y++ {
		for x := 0; x < 41; x++ {
			s := float64(p.Pix[y*41+x])
			sum += s
			v += s * float64((x-20)*(x-20))
		}
	}
	if math.Abs(sum-1) > 1e-5 || math.Abs(math.Sqrt(v)-2.5) > 0.01 {
		t.Errorf("a point blurred by σ 2.5: sum %g, σ %g", sum, math.Sqrt(v))
	}
	c := New(9, 5, 3)
	for i := range c.Pix {
		c.Pix[i] = 100
	}
	c.Gaussian(3, Clamp)
	for i, s := range c.Pix {
		if math.Abs(float64(s)-100) > 1e-4 {
			t.Fatalf("a constant plane: sample %d is %g", i, s)
		}
	}
	q := New(5, 5, 1)
	q.Pix[12] = 1
	q.Gaussian(0.19, Clamp)
	if q.Pix[12] != 1 || q.Pix[11] != 0 {
		t.Errorf("σ below 0.2 changed the plane: %v", q.Pix)
	}
}

// blurByColumns is the direct form of BoxBlur: three rounds of a
// horizontal then a vertical box pass, each column walked on its own.
func blurByColumns(p Plane, r int) {
	tmp := make([]float32, max(p.W, p.H)+2*r+2)
	for pass := 0; pass < 3; pass++ {
		for y := 0; y < p.H; y++ {
			row := p.Pix[y*p.W : (y+1)*p.W]
			boxLine(row, row, 1, p.W, r, tmp)
		}
		for x := 0; x < p.W; x++ {
			boxLine(p.Pix[x:], p.Pix[x:], p.W, p.H, r, tmp)
		}
	}
}

func TestBoxBlurMatchesDirectForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		w, h  int
		sigma float64
	}{{37, 23, 0.8}, {64, 64, 3}, {5, 90, 6}, {120, 7, 12}, {3, 3, 20}} {
		p := New(c.w, c.h, 1)
		for i := range p.Pix {
			p.Pix[i] = rng.Float32() * 100
		}
		want := clone(p)
		r := max(1, int(math.Round((math.Sqrt(4*c.sigma*c.sigma+1)-1)/2)))
		blurByColumns(want, r)
		p.BoxBlur(c.sigma)
		var worst float64
		for i := range p.Pix {
			worst = math.Max(worst, math.Abs(float64(p.Pix[i]-want.Pix[i])))
		}
		if worst > 1e-3 {
			t.Errorf("%d×%d σ=%g: differs from the direct form by up to %g", c.w, c.h, c.sigma, worst)
		}
	}
}

// Reduce is the mean of each block, partial blocks at the ends included.
func TestReduce(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	p := random(r, 11, 7, 3)
	for _, f := range []int{1, 2, 3, 4, 11, 12} {
		q := p.Reduce(f)
		if q.W != (11+f-1)/f || q.H != (7+f-1)/f || q.C != 3 {
			t.Fatalf("f %d: %d×%d×%d", f, q.W, q.H, q.C)
		}
		for by := 0; by < q.H; by++ {
			for bx := 0; bx < q.W; bx++ {
				for ch := 0; ch < 3; ch++ {
					var s, n float64
					for y := by * f; y < min((by+1)*f, p.H); y++ {
						for x := bx * f; x < min((bx+1)*f, p.W); x++ {
							s += float64(p.Pix[3*(y*p.W+x)+ch])
							n++
						}
					}
					if got := q.Pix[3*(by*q.W+bx)+ch]; math.Abs(float64(got)-s/n) > 1e-4 {
						t.Fatalf("f %d: block (%d,%d) channel %d is %g, want %g", f, bx, by, ch, got, s/n)
					}
				}
			}
		}
	}
}

// Enlarge samples bilinearly at the centre of each enlarged pixel, edges
// clamped; a ramp stays a ramp inside.
func TestEnlarge(t *testing.T) {
	p := New(6, 4, 1)
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			p.Pix[y*6+x] = float32(10*x + y)
		}
	}
	for _, f := range []int{1, 2, 3, 5} {
		w, h := 6*f-1, 4*f
		q := p.Enlarge(w, h, f)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				u := math.Min(math.Max((float64(x)+0.5)/float64(f)-0.5, 0), 5)
				v := math.Min(math.Max((float64(y)+0.5)/float64(f)-0.5, 0), 3)
				if got := q.Pix[y*w+x]; math.Abs(float64(got)-(10*u+v)) > 1e-4 {
					t.Fatalf("f %d: (%d,%d) = %g, want %g", f, x, y, got, 10*u+v)
				}
			}
		}
	}
	if tp := TapAt(0, 1, 4); tp != (Tap{0, 0, 0}) {
		t.Errorf("a one-sample line: %+v", tp)
	}
}

// PyramidDown is the binomial blur, edges repeated, at the even samples.
func TestPyramidDown(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range [][2]int{{16, 9}, {1, 1}, {2, 7}, {9, 4}} {
		p := random(r, c[0], c[1], 1)
		q := p.PyramidDown()
		if q.W != (p.W+1)/2 || q.H != (p.H+1)/2 {
			t.Fatalf("%d×%d: level %d×%d", p.W, p.H, q.W, q.H)
		}
		k := []float64{1, 4, 6, 4, 1}
		for y := 0; y < q.H; y++ {
			for x := 0; x < q.W; x++ {
				var s float64
				for j := -2; j <= 2; j++ {
					for i := -2; i <= 2; i++ {
						s += k[j+2] * k[i+2] / 256 * float64(p.Pix[Clamp.index(2*y+j, p.H)*p.W+Clamp.index(2*x+i, p.W)])
					}
				}
				if got := q.Pix[y*q.W+x]; math.Abs(float64(got)-s) > 1e-3 {
					t.Fatalf("%d×%d: (%d,%d) = %g, want %g", p.W, p.H, x, y, got, s)
				}
			}
		}
	}
}
