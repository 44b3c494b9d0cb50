package mesh

import (
	"image"
	"math"

	"faceswap"
	"faceswap/filter"
	"faceswap/resample"
	"faceswap/swap"
)

// workWidth is the widest face the engine works on at full resolution.
// Its masks, colour and light transfer, skin tests and multi-band blend
// are all smooth at the scale of the face (their widths are fractions of
// it), so for a wider face they are worked out on the region reduced by a
// whole factor k (the face then 128–256 px wide), and only the texture
// finer than k pixels is added at full resolution: the warped source's
// under the swap, the target's own elsewhere. A 700-px face took 380 ms
// at full resolution (one core), nine times three 130-px faces.
const workWidth = 256

// swapReduced is swapOne for a face wider than workWidth: the swap is made
// on the region reduced k times (box average), and the result enlarged
// again (bilinear) with the full resolution's fine detail put back:
//
//	out = up(swapped) + m·detail(warped source) + (1−m)·detail(target)
//
// where detail(x) = x − up(reduce(x)) and m is the source's share in the
// swap's finest band (its blend mask under its alpha), enlarged. Where the
// alpha is 0 that is the target exactly, and those pixels are not written.
// The source's detail is added as lightness alone on a grey target, so a
// grey photo stays grey.
func (e *Engine) swapReduced(dst, src *image.NRGBA, crop *source, p swap.Pair, r image.Rectangle, fw float64, k int, opt swap.Options) swap.Region {
	T, S := p.Target.Mesh, p.Source.Mesh
	w, h := r.Dx(), r.Dy()
	target := resample.FromNRGBA(dst.SubImage(r).(*image.NRGBA))

	// The source warped at full resolution, for its fine detail: beside
	// the reduced swap when a second goroutine is lent (neither reads what
	// the other writes), after it has made the source's copy at the reduced
	// swap's scale, which that swap waits for.
	s := 1 / float64(k)
	var wp warped
	var warpedLow *resample.Image
	var lowCrop *source
	lowReady := make(chan struct{})
	full := func() {
		func() {
			defer close(lowReady)
			lowCrop = crop.reduced(faceWidth(S) / (fw * s))
		}()
		wp = warp(r, T, S, crop.reduced(faceWidth(S)/fw), opt.Interpolation, false)
		fill(wp.img, target, wp.cover)
		warpedLow = reduceBy(wp.img, k)
	}
	wait := func() {}
	if opt.Beside != nil {
		wait = opt.Beside(full)
	} else {
		full()
	}

	// The swap on the reduced region, the target mesh in its pixels.
	lowT := reduceBy(target, k)
	lo := toNRGBA(lowT)
	before := resample.FromNRGBA(lo) // lowT rounded, as the swap sees it
	lp := p
	lp.Target.Mesh = make([]faceswap.Point3, len(T))
	toLow := func(x, y float64) (float64, float64) { return (x - float64(r.Min.X)) * s, (y - float64(r.Min.Y)) * s }
	for i, q := range T {
		x, y := toLow(q.X, q.Y)
		lp.Target.Mesh[i] = faceswap.Point3{X: x, Y: y, Z: q.Z * s}
	}
	for k, c := range p.Target.Irises {
		x, y := toLow(c.X, c.Y)
		lp.Target.Irises[k] = faceswap.Circle{X: x, Y: y, R: c.R * s}
	}
	alone := opt
	alone.Beside = nil
	<-lowReady
	if lowCrop == nil { // (its making panicked: wait raises that below)
		lowCrop = crop
	}
	low, share := e.swapAt(lo, src, lowCrop, lp, lo.Rect, fw*s, alone)
	wait()
	if low.Alpha == nil {
		return swap.Region{}
	}
	after := resample.FromNRGBA(lo)
	grey := isGrey(target)

	// Put together: the alpha written, and the source's share of the fine detail: the
	// blend mask under that alpha (where the target's hair or a kept eye
	// takes the mask to 0, the alpha may still be high)
	alphaLow := &resample.Image{W: lo.Rect.Dx(), H: lo.Rect.Dy(), Pix: make([]float32, 3*lo.Rect.Dx()*lo.Rect.Dy())}
	for i, a := range low.Alpha {
		alphaLow.Pix[3*i] = float32(a) / 255
		alphaLow.Pix[3*i+1] = float32(a) / 255 * min(1, share.v[i])
	}
	alpha := make([]uint8, w*h)
	xs := filter.Taps(w, lo.Rect.Dx(), k)
	lw := lo.Rect.Dx()
	compose := func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			ty := filter.TapAt(y, lo.Rect.Dy(), k)
			row := dst.Pix[(r.Min.Y-dst.Rect.Min.Y+y)*dst.Stride+(r.Min.X-dst.Rect.Min.X)*4:]
			// the four low-resolution rows' offsets and the vertical weight
			r0, r1, fy := ty.I0*lw, ty.I1*lw, ty.F
			for x := 0; x < w; x++ {
				tx := xs[x]
				// bilinear weights of the four neighbours
				w00, w01 := (1-fy)*(1-tx.F), (1-fy)*tx.F
				w10, w11 := fy*(1-tx.F), fy*tx.F
				q00, q01, q10, q11 := 3*(r0+tx.I0), 3*(r0+tx.I1), 3*(r1+tx.I0), 3*(r1+tx.I1)
				at := func(im *resample.Image, c int) float32 {
					return w00*im.Pix[q00+c] + w01*im.Pix[q01+c] + w10*im.Pix[q10+c] + w11*im.Pix[q11+c]
				}
				a := at(alphaLow, 0)
				a8 := uint8(min(1, max(0, a))*255 + 0.5)
				if a8 == 0 {
					continue
				}
				alpha[y*w+x] = a8
				af := float32(a8) / 255
				mf := min(af, max(0, at(alphaLow, 1)))
				o := 3 * (y*w + x)
				var d [3]float32
				for c := 0; c < 3; c++ {
					d[c] = wp.img.Pix[o+c] - at(warpedLow, c)
				}
				if grey {
					l := 0.299*d[0] + 0.587*d[1] + 0.114*d[2]
					d = [3]float32{l, l, l}
				}
				for c := 0; c < 3; c++ {
					v := at(after, c) + mf*d[c] + (1-mf)*(target.Pix[o+c]-at(before, c))
					row[4*x+c] = resample.Clamp8(v)
				}
			}
		}
	}
	// each pixel reads only what is done and writes itself: the lent
	// goroutine takes the lower half
	if opt.Beside != nil {
		wait := opt.Beside(func() { compose(h/2, h) })
		compose(0, h/2)
		wait()
	} else {
		compose(0, h)
	}
	return swap.Region{Bounds: r, Alpha: alpha, Findings: low.Findings}
}

// reduceBy returns im reduced k times by averaging k×k blocks (the last
// row and column of blocks average what they have; filter.Plane.Reduce).
func reduceBy(im *resample.Image, k int) *resample.Image {
	r := rgb(im).Reduce(k)
	return &resample.Image{W: r.W, H: r.H, Pix: r.Pix}
}

// rgb is im as a filter.Plane: the same samples, three channels.
func rgb(im *resample.Image) filter.Plane {
	return filter.Plane{W: im.W, H: im.H, C: 3, Pix: im.Pix}
}

// toNRGBA rounds im to an 8-bit opaque image at the origin.
func toNRGBA(im *resample.Image) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, im.W, im.H))
	for i := 0; i < im.W*im.H; i++ {
		out.Pix[4*i] = resample.Clamp8(im.Pix[3*i])
		out.Pix[4*i+1] = resample.Clamp8(im.Pix[3*i+1])
		out.Pix[4*i+2] = resample.Clamp8(im.Pix[3*i+2])
		out.Pix[4*i+3] = 255
	}
	return out
}

// isGrey reports whether every pixel of im has its three channels within
// two levels of each other (a black-and-white photo, JPEG noise allowed).
func isGrey(im *resample.Image) bool {
	for i := 0; i < len(im.Pix); i += 3 {
		r, g, b := im.Pix[i], im.Pix[i+1], im.Pix[i+2]
		if math.Abs(float64(r-g)) > 2 || math.Abs(float64(g-b)) > 2 || math.Abs(float64(r-b)) > 2 {
			return false
		}
	}
	return true
}
